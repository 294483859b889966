"""Violence and drugs on the REST API, under /api/v1/violence and /api/v1/drugs (``read`` scope):
the figures of ``cruce violence`` and ``cruce drugs``, over the imports of the datasets the
token's user may see, kept per store state (``cruce.analyses.service``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cruce.analyses import drugs, hotspots, violence
from cruce.analyses.service import Analysis, analysis
from cruce.analyses.tables import Tables
from cruce.security import Principal
from cruce.web.api import ERRORS, Reader, _no_unknown_query_parameters
from cruce.web.context import services_of

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["drugs and violence"])

D = TypeVar("D", bound=Tables)
Cell = str | int | float | bool | None
Text = Annotated[str | None, Query(max_length=60)]
Measure = Literal[drugs.MEASURES]  # type: ignore[valid-type]


class RowsOut(BaseModel):
    rows: list[dict[str, Cell]] = Field(description="The figure's rows, as the command line's --json prints them.")


def _analysis(request: Request, principal: Principal, kind: type[D]) -> Analysis[D]:
    guard = services_of(request).view().guard
    return analysis(guard.store, kind, guard.visible_imports(principal))


@router.get("/violence/homicides", response_model=RowsOut)
def homicides_api(request: Request, principal: Reader, state: Text = None, source: Text = None) -> Any:
    """Homicides per state and year from one series (INEGI by default), with the rate per 100,000."""
    series = source or "INEGI"
    rows = _analysis(request, principal, violence.ViolenceData).answer(
        ("homicides", series, state), lambda d: violence.homicides_by_state_year(d, series, state)
    )
    return {"rows": rows}


@router.get("/violence/executions", response_model=RowsOut)
def executions_api(request: Request, principal: Reader) -> Any:
    """The press tallies of drug-war executions, per newspaper and year."""
    return {
        "rows": _analysis(request, principal, violence.ViolenceData).answer(
            ("executions",), violence.executions_by_year
        )
    }


@router.get("/violence/compare", response_model=RowsOut)
def compare_api(
    request: Request,
    principal: Reader,
    first: Annotated[int | None, Query(alias="from", ge=1900, le=2100)] = None,
    last: Annotated[int | None, Query(alias="to", ge=1900, le=2100)] = None,
) -> Any:
    """Per year, each series in its own column (official homicides, each newspaper's executions)."""
    rows = _analysis(request, principal, violence.ViolenceData).answer(
        ("compare", first, last), lambda d: violence.national_side_by_side(d, first, last)
    )
    return {"rows": rows}


@router.get("/violence/change-points", response_model=RowsOut)
def change_points_api(
    request: Request, principal: Reader, penalty: Annotated[float, Query(gt=0, le=1000)] = violence.PENALTY
) -> Any:
    """Where and when violence events changed level, per municipality, with the level before and after."""
    rows = _analysis(request, principal, violence.ViolenceData).answer(
        ("change-points", penalty), lambda d: violence.change_points(d, penalty)
    )
    return {"rows": rows}


DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"


@router.get("/violence/hot-spots", response_model=RowsOut)
def hot_spots_api(
    request: Request,
    principal: Reader,
    first: Annotated[str | None, Query(alias="from", pattern=DAY)] = None,
    last: Annotated[str | None, Query(alias="to", pattern=DAY)] = None,
    period: Annotated[Literal["year", "quarter"] | None, Query(alias="space_time")] = None,
) -> Any:
    """Hot spots of violence events (Getis-Ord Gi* over H3 cells): each cell's events, z, p and
    whether it is hot; with ``space_time``, each cell's course over the years or quarters."""
    held = _analysis(request, principal, hotspots.EventPoints)
    if period is not None:
        return {
            "rows": [
                {**r, "hot_periods": ", ".join(r["hot_periods"])}
                for r in held.answer(("space-time", period), lambda d: hotspots.space_time(d, period))
            ]
        }
    return {"rows": held.answer(("hot-spots", first, last), lambda d: hotspots.hot_spots(d, first, last))}


@router.get("/drugs/seizures", response_model=RowsOut)
def seizures_api(request: Request, principal: Reader, drug: Text = None) -> Any:
    """Seizure events, pounds and kilograms per fiscal year and drug."""
    rows = _analysis(request, principal, drugs.DrugsData).answer(
        ("seizures", drug), lambda d: drugs.seizures_by_fiscal_year(d, drug)
    )
    return {"rows": rows}


@router.get("/drugs/crossings", response_model=RowsOut)
def crossings_api(request: Request, principal: Reader, measure: Text = None) -> Any:
    """Border crossings per port, year and measure."""
    rows = _analysis(request, principal, drugs.DrugsData).answer(
        ("crossings", measure), lambda d: drugs.crossings_by_port_year(d, measure)
    )
    return {"rows": rows}


@router.get("/drugs/rates", response_model=RowsOut)
def rates_api(
    request: Request,
    principal: Reader,
    drug: Text = None,
    measure: Annotated[list[Measure], Query(max_length=12)] = [],  # noqa: B006
) -> Any:
    """Seizures per million crossings per port and year (personal vehicles unless ``measure``), outliers marked."""
    measures = tuple(measure) or drugs.VEHICLES
    rows = _analysis(request, principal, drugs.DrugsData).answer(
        ("rates", drug, measures), lambda d: drugs.seizures_per_crossings(d, drug, measures=measures)
    )
    return {"rows": rows}
