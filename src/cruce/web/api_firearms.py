"""The firearms flow on the REST API, under /api/v1/firearms (``read`` scope).

Each answer is computed over the imports of the datasets the token's user may see
(``cruce.analyses.service``: read once per store state and per set of datasets, each
answer once), with the same filters and rows as ``cruce firearms``. Names of purchasers in the
leads go through ``Guard``, as on ``/entities``.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field, StringConstraints

from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.indicators import dealer_indicators, rules
from cruce.analyses.firearms.leads import lead_detail, lead_out, people_of
from cruce.analyses.firearms.score import (
    DEFAULT_THRESHOLD,
    DEFAULT_WEIGHTS,
    WeightError,
    as_dict,
    parse_weights,
    score_purchasers,
)
from cruce.analyses.service import Analysis, analysis
from cruce.security import Principal
from cruce.security.guard import caption
from cruce.web.api import ERRORS, NOT_FOUND, Reader, _no_unknown_query_parameters
from cruce.web.context import client_address, services_of

router = APIRouter(
    prefix="/firearms", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["firearms"]
)

Cell = str | int | float | bool | None
DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
DateFrom = Annotated[str | None, Query(alias="from", pattern=DAY, description="Recovered on or after (YYYY-MM-DD).")]
DateTo = Annotated[str | None, Query(alias="to", pattern=DAY, description="Recovered on or before (YYYY-MM-DD).")]
Country = Annotated[str | None, Query(max_length=2, description="Country of recovery (ISO code, e.g. MX).")]
State = Annotated[str | None, Query(max_length=6, description="State of recovery (ISO 3166-2, e.g. MX-SON).")]
FirearmType = Annotated[str | None, Query(alias="type", max_length=40, description="Firearm type.")]
Caliber = Annotated[str | None, Query(max_length=40, description="Caliber, as written in the traces.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Threshold = Annotated[float, Query(ge=0, le=1000, description="Lowest score of a lead.")]
WEIGHT = rf"^({'|'.join(DEFAULT_WEIGHTS)})=\d{{1,4}}(\.\d{{1,4}})?$"
Weights = Annotated[
    list[Annotated[str, StringConstraints(pattern=WEIGHT)]],
    Query(max_length=20, description="A rule's weight, as rule=points (0 to 9999)."),
]


class RowsOut(BaseModel):
    filters: dict[str, str] = Field(description="The filters applied.")
    rows: list[dict[str, Cell]]


class TtcOut(RowsOut):
    median_ttc_days: float | None
    median_ttc_years: float | None
    with_ttc: int
    ttc_under_1y_share: float | None
    ttc_under_3y_share: float | None
    groups: list[dict[str, Cell]] = Field(description="Per group, with ?by=.")


class FlagOut(BaseModel):
    indicator: str
    label: str
    count: int
    points: float
    evidence: list[str] = Field(description="The records behind the flag: traces, purchases or people.")


class LeadOut(BaseModel):
    purchaser: str
    name: str | None
    score: float
    flags: list[FlagOut]


class LeadsOut(BaseModel):
    threshold: float
    weights: dict[str, float]
    leads: list[LeadOut]


class RuleOut(BaseModel):
    rule: str
    applies_to: str
    means: str
    source: str
    weight: float | None


def _day(value: str | None) -> date | None:
    """A YYYY-MM-DD bound; a day past the month's end (2021-02-31) is its last day."""
    if not value:
        return None
    year, month, day = (int(part) for part in value.split("-"))
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _filters(
    date_from: DateFrom = None,
    date_to: DateTo = None,
    country: Country = None,
    state: State = None,
    firearm_type: FirearmType = None,
    caliber: Caliber = None,
) -> Filters:
    """The filters every figure takes, from the query (a dependency of each endpoint)."""
    return Filters(_day(date_from), _day(date_to), country, state, firearm_type, caliber)


Filtered = Annotated[Filters, Depends(_filters)]


def _analysis(request: Request, principal: Principal) -> Analysis[FirearmsData]:
    guard = services_of(request).view().guard
    return analysis(guard.store, FirearmsData, guard.visible_imports(principal))


def _cells(rows: list[dict[str, Any]]) -> list[dict[str, Cell]]:
    return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows]


@router.get("/summary", response_model=dict[str, Cell])
def summary_api(
    request: Request,
    principal: Reader,
    f: Filtered,
) -> Any:
    """Headline figures: traces, completion, purchaser reached, time-to-crime, purchaser ≠ possessor."""
    found = _analysis(request, principal).answer(("summary", f), lambda d: figures.summary(d, f))
    return _cells([{k: v for k, v in found.items() if k != "filters"}])[0]


@router.get("/sources", response_model=RowsOut)
def sources_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    by: Literal["state", "dealer"] = "state",
    limit: Limit = 50,
) -> Any:
    """Source states (traces per 100,000 NICS checks too) or source dealers, most traces first."""
    rank = figures.source_states if by == "state" else figures.source_dealers
    rows = _analysis(request, principal).answer(("sources", by, f, limit), lambda d: rank(d, f, limit))
    return {"filters": f.asked(), "rows": _cells(rows)}


@router.get("/recoveries", response_model=RowsOut)
def recoveries_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    limit: Limit = 50,
) -> Any:
    """States of recovery: traces, share, short time-to-crime, share traced to a US purchaser."""
    rows = _analysis(request, principal).answer(
        ("recoveries", f, limit), lambda d: figures.recovery_states(d, f, limit)
    )
    return {"filters": f.asked(), "rows": _cells(rows)}


@router.get("/ttc", response_model=TtcOut)
def ttc_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    by: Literal["source_state", "dealer", "type", "caliber"] | None = None,
    limit: Limit = 20,
) -> Any:
    """Time-to-crime in bands, median, shares under one and three years (per group with ?by=)."""
    found = _analysis(request, principal).answer(
        ("ttc", by, f, limit), lambda d: figures.time_to_crime(d, f, by, limit)
    )
    return {
        "filters": f.asked(),
        "rows": found["bands"],
        "groups": _cells(found.get("groups", [])),
        **{
            k: found[k]
            for k in ("median_ttc_days", "median_ttc_years", "with_ttc", "ttc_under_1y_share", "ttc_under_3y_share")
        },
    }


@router.get("/completion", response_model=RowsOut)
def completion_api(
    request: Request,
    principal: Reader,
    f: Filtered,
) -> Any:
    """Trace results, and the reasons traces were not completed."""
    rows = _analysis(request, principal).answer(("completion", f), lambda d: figures.completion(d, f))
    return {"filters": f.asked(), "rows": _cells(rows)}


@router.get("/types", response_model=RowsOut)
def types_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    what: Literal["type", "caliber"] = "type",
) -> Any:
    """Traces by year of recovery and firearm type (or caliber), with each one's share of its year."""
    rows = _analysis(request, principal).answer(("types", what, f), lambda d: figures.types_over_time(d, f, what))
    return {"filters": f.asked(), "rows": _cells(rows)}


@router.get("/corridors", response_model=RowsOut)
def corridors_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    limit: Limit = 100,
) -> Any:
    """US state of purchase → state of recovery: traces, share, median time-to-crime."""
    rows = _analysis(request, principal).answer(("corridors", f, limit), lambda d: figures.corridors(d, f, limit))
    return {"filters": f.asked(), "rows": _cells(rows)}


@router.get("/traces", response_model=RowsOut)
def traces_api(
    request: Request,
    principal: Reader,
    f: Filtered,
    source_state: Annotated[str | None, Query(max_length=6, description="US state of purchase.")] = None,
    dealer: Annotated[str | None, Query(max_length=40, description="Dealer licence (FFL).")] = None,
    status: Annotated[str | None, Query(max_length=60, description="Trace result.")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="Year of recovery.")] = None,
    purchaser: Annotated[str | None, Query(max_length=40, description="Purchaser (entity id).")] = None,
    limit: Limit = 100,
) -> Any:
    """The trace records behind a figure: its filters and a row's keys."""
    keys = {"source_state": source_state, "dealer_ffl": dealer, "status": status, "year": year, "purchaser": purchaser}
    found = figures.traces(_analysis(request, principal).data, f, limit, **keys)  # read each time: many shapes
    return {"filters": {**f.asked(), **{k: str(v) for k, v in keys.items() if v is not None}}, "rows": _cells(found)}


@router.get("/leads", response_model=LeadsOut)
def leads_api(
    request: Request,
    principal: Reader,
    threshold: Threshold = DEFAULT_THRESHOLD,
    weight: Weights = [],  # noqa: B006
    limit: Limit = 50,
) -> Any:
    """Purchasers ranked by their risk score, each flag with its count, points and records."""
    try:
        weights = parse_weights(weight)
    except WeightError as exc:
        raise HTTPException(status_code=422, detail=f"weight: no such rule or not a number: {exc}") from None
    leads = _analysis(request, principal).answer(
        ("leads", tuple(sorted(weights.items())), threshold, limit),
        lambda d: score_purchasers(d, weights, threshold=threshold, limit=limit),
    )
    guard = services_of(request).view().guard
    shown = guard.entities_by_id(principal, [lead.purchaser for lead in leads], address=client_address(request))
    return {
        "threshold": threshold,
        "weights": {name: w for name, (w, _cap) in weights.items()},
        "leads": [
            {**as_dict(lead), "name": caption(shown[lead.purchaser]) if lead.purchaser in shown else None}
            for lead in leads
        ],
    }


class LinkedOut(BaseModel):
    purchaser: str
    name: str | None
    score: float
    through: list[str] = Field(description="The flags that link them: recovered_together, bought_beside_flagged…")


class LeadDetailOut(LeadOut):
    purchases: list[dict[str, Cell]]
    traces: list[dict[str, Cell]] = Field(description="Their traced guns: where and when each was recovered.")
    linked: list[LinkedOut]


@router.get("/leads/{purchaser}", response_model=LeadDetailOut, responses=NOT_FOUND)
def lead_api(request: Request, principal: Reader, purchaser: Annotated[str, Path(max_length=40)]) -> Any:
    """One purchaser in full: score and flags, purchases, traced guns, and the purchasers linked by a flag."""
    found = _analysis(request, principal).answer(("lead", purchaser), lambda d: lead_detail(d, purchaser))
    if found is None:
        raise HTTPException(status_code=404, detail="No such purchaser among what you may see.")
    guard = services_of(request).view().guard
    shown = guard.entities_by_id(principal, people_of(found), address=client_address(request))
    return lead_out(found, {i: caption(e) for i, e in shown.items()})


@router.get("/indicators", response_model=list[RuleOut])
def indicators_api(principal: Reader) -> Any:
    """The indicator rules, each with what it means, its source and its default weight."""
    weights = parse_weights(None)
    return [
        {
            "rule": r.name,
            "applies_to": r.subject,
            "means": r.label,
            "source": r.source,
            "weight": weights[r.name][0] if r.name in weights else None,
        }
        for r in rules()
    ]


@router.get("/dealers", response_model=RowsOut)
def dealers_api(request: Request, principal: Reader) -> Any:
    """Dealers with several short time-to-crime traces, well above the dealers' rate."""
    rows = _analysis(request, principal).answer(("dealers",), dealer_indicators)
    return {"filters": {}, "rows": [{**r, "evidence": len(r["evidence"])} for r in rows]}
