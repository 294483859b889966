"""Briefings from the flow dashboards: the page's "Briefing" form (/firearms/briefing,
/drugs-violence/briefing, /people/statistics/briefing) and the API
(/api/v1/reports/dashboards/{name}), each for the signed-in reader, in the language chosen for the
report, as PDF or HTML, and each audited (``dashboard_report``).

The filters are the dashboard's own: a briefing says what the page showed with the same filters.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from cruce.people import kanon
from cruce.reports.dashboards import DashboardAsk, dashboard_briefing
from cruce.web.api import ERRORS, Reader, _no_unknown_query_parameters
from cruce.web.api_investigations import REPORT_CONTENT
from cruce.web.context import client_address, page, services_of
from cruce.web.pages_investigations import report_response

pages = APIRouter(include_in_schema=False)
router = APIRouter(
    prefix="/reports", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["reports"]
)

DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
Lang = Annotated[Literal["en", "es"], Query(description="The report's language, whatever yours.")]
Format = Annotated[Literal["pdf", "html"], Query()]
Day = Annotated[str, Query(pattern=f"({DAY})|^$", description="YYYY-MM-DD")]
Text = Annotated[str, Query(max_length=60)]
Year = Annotated[int | None, Query(ge=1900, le=2100)]
K = Annotated[int, Query(ge=2, le=1000, description="Victim statistics: cells below k show as '< k'.")]
Dashboard = Literal["firearms", "drugs-violence", "people"]


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise HTTPException(status_code=422, detail="not a date (YYYY-MM-DD)") from None


def _ask(date_from: str, date_to: str, state: str, type_: str, caliber: str, year: int | None, drug: str,
         k: int) -> DashboardAsk:  # fmt: skip
    return DashboardAsk(
        _day(date_from), _day(date_to), state.strip() or None, type_.strip() or None, caliber.strip() or None, year,
        drug.strip() or None, k,
    )  # fmt: skip


def _page_report(request: Request, name: str, ask: DashboardAsk, lang: str, fmt: str) -> Response:
    ctx = page(request)
    briefing = dashboard_briefing(ctx.guard, ctx.principal, name, ask, lang)
    ctx.audit("dashboard_report", target=name, lang=lang, format=fmt, marking=briefing.marking.value)
    response = report_response(briefing, fmt)
    ctx.finish(response)
    return response


@pages.get("/firearms/briefing")
def firearms_briefing_page(
    request: Request, lang: Lang = "en", format: Format = "pdf", date_from: Annotated[Day, Query(alias="from")] = "",
    date_to: Annotated[Day, Query(alias="to")] = "", state: Text = "", type: Text = "", caliber: Text = "",
) -> Response:  # fmt: skip
    """The firearms dashboard, with its filters, as a briefing."""
    return _page_report(request, "firearms", _ask(date_from, date_to, state, type, caliber, None, "", 10), lang, format)


@pages.get("/drugs-violence/briefing")
def flows_briefing_page(request: Request, lang: Lang = "en", format: Format = "pdf", year: Year = None,
                        drug: Text = "") -> Response:  # fmt: skip
    """The drugs and violence dashboard, for its year and drug, as a briefing."""
    return _page_report(request, "drugs-violence", _ask("", "", "", "", "", year, drug, 10), lang, format)


@pages.get("/people/statistics/briefing")
def people_briefing_page(
    request: Request, lang: Lang = "en", format: Format = "pdf", k: K = kanon.DEFAULT_K
) -> Response:
    """The victim statistics page as a briefing: counts below ``k`` shown as "< k"."""
    return _page_report(request, "people", _ask("", "", "", "", "", None, "", k), lang, format)


@router.get("/dashboards/{name}", response_class=Response, responses=REPORT_CONTENT)
def dashboard_report(
    request: Request, principal: Reader, name: Dashboard, lang: Lang = "en", format: Format = "pdf",
    date_from: Annotated[Day, Query(alias="from", description="Firearms: recovered on or after.")] = "",
    date_to: Annotated[Day, Query(alias="to", description="Firearms: recovered on or before.")] = "",
    state: Annotated[Text, Query(description="Firearms: state of recovery (MX-SON).")] = "",
    type: Annotated[Text, Query(description="Firearms: firearm type.")] = "",
    caliber: Annotated[Text, Query(description="Firearms: caliber.")] = "",
    year: Annotated[Year, Query(description="Drugs and violence: the year of the maps.")] = None,
    drug: Annotated[Text, Query(description="Drugs and violence: one drug.")] = "",
    k: K = kanon.DEFAULT_K,
) -> Response:  # fmt: skip
    """A flow dashboard's figures as a briefing (PDF or HTML) for you, in the language asked; audited."""
    view = services_of(request).view()
    ask = _ask(date_from, date_to, state, type, caliber, year, drug, k)
    briefing = dashboard_briefing(view.guard, principal, name, ask, lang)
    view.security.audit.record(
        principal.username, "dashboard_report", target=name, address=client_address(request),
        detail={"lang": lang, "format": format, "marking": briefing.marking.value, "api": True},
    )  # fmt: skip
    return report_response(briefing, format)
