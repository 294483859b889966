"""The law and its enforcement on the REST API, under /api/v1/legal (``read`` scope): the answers of
``cruce legal`` (``cruce.legal.questions``), over the imports of the datasets the token's user may
see, kept per store state (``cruce.analyses.service``). Every row names the records and the
sources it came from."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cruce.analyses.service import Analysis, analysis
from cruce.legal import claims, flows, questions
from cruce.legal.records import LegalData
from cruce.security import Principal
from cruce.web.api import ERRORS, Reader, _no_unknown_query_parameters
from cruce.web.context import services_of

router = APIRouter(
    prefix="/legal",
    responses=ERRORS,
    dependencies=[Depends(_no_unknown_query_parameters)],
    tags=["law and enforcement"],
)

KindName = Literal[questions.KINDS]  # type: ignore[valid-type]
MeasureName = Literal[questions.MEASURES]  # type: ignore[valid-type]
LevelName = Literal["federal", "state"]
FlowName = Literal["people", "drugs", "firearms"]
CountryCode = Annotated[Literal["US", "MX"] | None, Query(description="Only this country.")]
JURISDICTION = r"^(US|MX)(-[A-Z]{2,3})?$"
Place = Annotated[
    str | None,
    Query(max_length=6, pattern=JURISDICTION, description="A state code (US-TX, MX-CHH), or US or MX for federal."),
]
DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


class RowsOut(BaseModel):
    rows: list[dict[str, Any]] = Field(description="The answer's rows, as the command line's --json prints them.")


class FundingOut(BaseModel):
    programs: list[dict[str, Any]] = Field(description="Each program with its amount, period and sources.")
    by_year: list[dict[str, Any]] = Field(
        description="Per year and program, the amount spread evenly over the program's period (split_evenly)."
    )
    totals: list[dict[str, Any]] = Field(description="The total per currency (never added across currencies).")


class BesideOut(BaseModel):
    jurisdiction: str
    events: list[dict[str, Any]] = Field(description="Enacted, in force, amended, repealed: in date order.")
    counts: list[dict[str, Any]] = Field(description="Yearly counts of the flows there (year, series, value).")
    laws_by_year: list[dict[str, Any]] = Field(description="The laws in force at the end of each year of the counts.")


def _day(text: str) -> date:
    """A day of the pattern; a day past its month's end (2023-02-31) is the month's last day."""
    year, month, day = (int(part) for part in text.split("-"))
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _held(request: Request, principal: Principal) -> Analysis[LegalData]:
    guard = services_of(request).view().guard
    return analysis(guard.store, LegalData, guard.visible_imports(principal))


@router.get("/laws", response_model=RowsOut)
def laws_api(
    request: Request,
    principal: Reader,
    kind: KindName | None = None,
    country: CountryCode = None,
    level: LevelName | None = None,
    jurisdiction: Place = None,
) -> Any:
    """The law records, by jurisdiction and date of entry into force."""
    found = _held(request, principal).answer(
        ("laws", kind, country, level, jurisdiction), lambda d: questions.laws(d, kind, country, level, jurisdiction)
    )
    return {"rows": found}


@router.get("/in-force", response_model=RowsOut)
def in_force_api(
    request: Request,
    principal: Reader,
    kind: KindName,
    on: Annotated[
        str | None,
        Query(pattern=DAY, description="The day (YYYY-MM-DD; a day past the month's end is its last); default: today."),
    ] = None,
    country: CountryCode = None,
    level: LevelName | None = None,
) -> Any:
    """The jurisdictions with a law of ``kind`` in force on a day, and since when."""
    day = _day(on) if on else date.today()
    found = _held(request, principal).answer(
        ("in-force", kind, day, country, level), lambda d: questions.in_force(d, kind, day, country, level)
    )
    return {"rows": found}


@router.get("/by-year", response_model=RowsOut)
def by_year_api(
    request: Request,
    principal: Reader,
    kind: KindName,
    first: Annotated[int | None, Query(alias="from", ge=1800, le=2100)] = None,
    last: Annotated[int | None, Query(alias="to", ge=1800, le=2100)] = None,
    country: CountryCode = None,
    level: LevelName = "state",
) -> Any:
    """Per year, how many jurisdictions had a law of ``kind`` in force on 31 December, and which
    (no rows when ``from`` is after ``to``)."""
    found = _held(request, principal).answer(
        ("by-year", kind, first, last, country, level),
        lambda d: questions.in_force_by_year(d, kind, first, last, country, level),
    )
    return {"rows": found}


@router.get("/timeline", response_model=BesideOut)
def timeline_api(
    request: Request,
    principal: Reader,
    jurisdiction: Annotated[
        str, Query(max_length=6, pattern=JURISDICTION, description="A state code (US-TX, MX-CHH), or US or MX.")
    ],
    kind: KindName | None = None,
) -> Any:
    """A jurisdiction's legal events beside the yearly counts of the flows there."""
    guard = services_of(request).view().guard
    counts = flows.kept_counts(guard.store, jurisdiction, guard.visible_imports(principal))
    return questions.beside(_held(request, principal).data, jurisdiction, counts, kind)


@router.get("/outcomes", response_model=RowsOut)
def outcomes_api(
    request: Request,
    principal: Reader,
    jurisdiction: Place = None,
    country: CountryCode = None,
    flow: FlowName | None = None,
    measure: MeasureName | None = None,
) -> Any:
    """The enforcement outcome records, each with its source."""
    found = _held(request, principal).answer(
        ("outcomes", jurisdiction, country, flow, measure),
        lambda d: questions.outcomes(d, jurisdiction, country, flow, measure),
    )
    return {"rows": found}


@router.get("/before-after", response_model=RowsOut)
def before_after_api(
    request: Request,
    principal: Reader,
    kind: KindName,
    measure: MeasureName | None = None,
    jurisdiction: Place = None,
    flow: FlowName | None = None,
) -> Any:
    """For each law of ``kind``, the yearly outcomes of its jurisdiction and flow before, in and after
    the year it came into force."""
    found = _held(request, principal).answer(
        ("before-after", kind, measure, jurisdiction, flow),
        lambda d: questions.before_after(d, kind, measure, jurisdiction, flow),
    )
    return {"rows": found}


@router.get("/funding", response_model=FundingOut)
def funding_api(
    request: Request,
    principal: Reader,
    jurisdiction: Place = None,
    flow: FlowName | None = None,
) -> Any:
    """Programs and their funding over time."""
    return _held(request, principal).answer(
        ("funding", jurisdiction, flow), lambda d: questions.funding(d, jurisdiction, flow)
    )


@router.get("/check", response_model=RowsOut)
def check_api(request: Request, principal: Reader) -> Any:
    """Each published claim of the seed beside what cruce computes from the records."""
    shipped = claims.load_claims()
    return {"rows": _held(request, principal).answer(("check",), lambda d: claims.check(d, shipped))}
