"""Timelines on the API (GET /api/v1/entities/{id}/timeline) and the pages (/entity/{id}/timeline, and
the panel of the entity page), read through ``Guard`` for the user asking (``cruce.timeline``).

``install(app)`` adds both and makes ``timeline_panel(ctx, id)`` available to the entity page's
template, which reads the page's own query string (``type``, ``flow``, ``since``, ``until``), so
the filters work without script; with htmx the panel is swapped in place.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from cruce.security import Principal
from cruce.timeline import Filters, PartialDate, entity_timeline
from cruce.timeline.present import timeline_out
from cruce.web.api import ERRORS, NOT_FOUND, Reader, _no_unknown_query_parameters
from cruce.web.context import Ctx, client_address, page, services_of
from cruce.web.views import TimelineView, timeline_view

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["read"])
pages = APIRouter(include_in_schema=False)

DATE_PATTERN = r"^[1-9]\d{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"
Flow = Literal["firearms", "drugs", "people", "shared"]


class PartyOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    role: str
    role_label: str
    subject: bool = Field(description="One of the records whose timeline this is.")
    model_config = {"populate_by_name": True}


class SourceOut(BaseModel):
    dataset: str
    file: str
    row: int | None
    import_id: str


class OtherDateOut(BaseModel):
    property: str
    label: str
    date: str
    precision: str
    when: str


class ItemOut(BaseModel):
    id: str
    kind: Literal["event", "relation", "mention", "milestone"]
    type: str
    type_label: str
    label: str
    caption: str
    date: str | None = Field(description="As the source gives it: YYYY, YYYY-MM, YYYY-MM-DD or a date and time.")
    end: str | None
    precision: Literal["year", "month", "day", "time"] | None
    when: str = Field(description="The date in the user's language, at its precision.")
    flows: list[str]
    roles: list[str]
    place: str | None
    property: str | None = Field(description="A milestone's date property (birth_date, founded_date...).")
    parties: list[PartyOut]
    sources: list[SourceOut]
    other_dates: list[OtherDateOut]


class TypeOut(BaseModel):
    type: str
    label: str


class TimelineOut(BaseModel):
    subject: str
    caption: str
    canonical: str | None
    members: list[str] = Field(description="The records whose events these are (the resolved entity's you may see).")
    clustered: bool
    items: list[ItemOut] = Field(description="Dated items, in order.")
    undated: list[ItemOut] = Field(description="Items without a date (a date range does not apply to them).")
    types: list[TypeOut] = Field(description="The types found, before the filters (the choices to offer).")
    flows: list[str]
    left_out: int = Field(
        0, description="Linked records not read: a timeline reads at most 5,000, the most recently imported."
    )


def _date(value: str | None, name: str) -> PartialDate | None:
    parsed = PartialDate.bound(value)
    if value and parsed is None:
        raise HTTPException(status_code=422, detail=f"{name}: not a date (YYYY, YYYY-MM or YYYY-MM-DD).")
    return parsed


@router.get("/entities/{entity_id}/timeline", response_model=TimelineOut, responses=NOT_FOUND)
def entity_timeline_api(
    request: Request,
    principal: Reader,
    entity_id: str,
    type: Annotated[list[str], Query(max_length=50, description="Only these types (repeat).")] = [],  # noqa: B006
    flow: Annotated[list[Flow], Query(max_length=4, description="Only these flows (repeat).")] = [],  # noqa: B006
    since: Annotated[str | None, Query(pattern=DATE_PATTERN, description="From this date.")] = None,
    until: Annotated[str | None, Query(pattern=DATE_PATTERN, description="Up to this date.")] = None,
    cluster: Annotated[bool, Query(description="With the resolved entity's other records.")] = True,
    lang: Annotated[Literal["en", "es"] | None, Query(description="Labels and dates; default: yours.")] = None,
) -> Any:
    """An entity's events in order (purchases, recoveries, crossings, seizures, recruitments, tips), with provenance."""
    view = services_of(request).view()
    language = lang or (principal.language if principal.language in ("en", "es") else "en")
    filters = Filters(frozenset(type), frozenset(flow), _date(since, "since"), _date(until, "until"))
    tl = entity_timeline(
        view.guard, principal, entity_id, lang=language, filters=filters, cluster=cluster,
        address=client_address(request),
    )  # fmt: skip
    if tl is None:
        raise HTTPException(status_code=404, detail="No such entity, or not visible.")
    return timeline_out(tl, language)


def timeline_panel(ctx: Ctx, entity_id: str) -> TimelineView | None:
    """The timeline of the entity page, with the filters of the page's query string (a template global)."""
    return _view(ctx, entity_id)


def _view(ctx: Ctx, entity_id: str) -> TimelineView | None:
    params = {k: ctx.request.query_params.getlist(k) for k in ("type", "flow", "since", "until")}
    principal: Principal = ctx.principal
    return timeline_view(ctx.guard, principal, entity_id, ctx.lang, ctx._, params, address=ctx.address)


@pages.get("/entity/{entity_id}/timeline", response_class=HTMLResponse)
def timeline_page(request: Request, entity_id: str) -> Response:
    """The full timeline; to htmx (the entity page's filters) only the panel."""
    ctx = page(request)
    tv = _view(ctx, entity_id)
    if tv is None:
        raise HTTPException(status_code=404)
    if request.headers.get("HX-Request") == "true":
        return ctx.render("_timeline.html", tv=tv, full=False)
    return ctx.render("timeline.html", tv=tv, full=True)


def install(app: FastAPI, api_prefix: str) -> None:
    """Add the API route, the page, and the entity page's ``timeline_panel``."""
    app.include_router(router, prefix=api_prefix)
    app.include_router(pages)
    app.state.templates.globals["timeline_panel"] = timeline_panel
