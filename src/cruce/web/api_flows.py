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


def _rows(request: Request, principal: Principal, kind: type[D], key: tuple[Any, ...], compute: Any) -> Any:
    """``{"rows": compute(data)}`` over the analysis the principal may see, kept under ``key``."""
    return {"rows": _analysis(request, principal, kind).answer(key, compute)}


def _analysis(request: Request, principal: Principal, kind: type[D]) -> Analysis[D]:
    guard = services_of(request).view().guard
    return analysis(guard.store, kind, guard.visible_imports(principal))


@router.get("/violence/homicides", response_model=RowsOut)
def homicides_api(request: Request, principal: Reader, state: Text = None, source: Text = None) -> Any:
    """Homicides per state and year from one series (INEGI by default), with the rate per 100,000."""
    series = source or "INEGI"
    return _rows(
        request,
        principal,
        violence.ViolenceData,
        ("homicides", series, state),
        lambda d: violence.homicides_by_state_year(d, series, state),
    )


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
    return _rows(
        request,
        principal,
        violence.ViolenceData,
        ("compare", first, last),
        lambda d: violence.national_side_by_side(d, first, last),
    )


@router.get("/violence/change-points", response_model=RowsOut)
def change_points_api(
    request: Request, principal: Reader, penalty: Annotated[float, Query(gt=0, le=1000)] = violence.PENALTY
) -> Any:
    """Where and when violence events changed level, per municipality, with the level before and after."""
    return _rows(
        request,
        principal,
        violence.ViolenceData,
        ("change-points", penalty),
        lambda d: violence.change_points(d, penalty),
    )


DAY = r"^[12]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$"
MONTH = r"^[12]\d{3}-(0[1-9]|1[0-2])$"
Year = Annotated[int, Query(ge=1901, le=2100)]
Dimension = Literal[drugs.DIMENSIONS]  # type: ignore[valid-type]


@router.get("/violence/months", response_model=RowsOut)
def months_api(
    request: Request,
    principal: Reader,
    state: Annotated[str, Query(max_length=10, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")],
    source: Text = None,
    first: Annotated[str | None, Query(alias="from", pattern=MONTH)] = None,
    last: Annotated[str | None, Query(alias="to", pattern=MONTH)] = None,
) -> Any:
    """One state's homicides per month from one series (INEGI by default), with the annual rate per 100,000."""
    series = source or "INEGI"
    return _rows(
        request,
        principal,
        violence.ViolenceData,
        ("months", state, series, first, last),
        lambda d: violence.homicides_by_state_month(d, state, series, first, last),
    )


@router.get("/violence/yoy", response_model=RowsOut)
def yoy_api(request: Request, principal: Reader, year: Year, source: Text = None) -> Any:
    """Each state's homicides in ``year`` against the year before, largest rise first."""
    series = source or "INEGI"
    return _rows(
        request,
        principal,
        violence.ViolenceData,
        ("yoy", year, series),
        lambda d: violence.year_over_year(d, year, series),
    )


@router.get("/violence/trends", response_model=RowsOut)
def trends_api(
    request: Request,
    principal: Reader,
    first: Annotated[int | None, Query(alias="from", ge=1900, le=2100)] = None,
    last: Annotated[int | None, Query(alias="to", ge=1900, le=2100)] = None,
) -> Any:
    """Per series and year: the count, whether the year is whole, the linear trend there and its
    95 % interval, and the series' slope per year (each series fitted on its own whole years)."""
    trends = _analysis(request, principal, violence.ViolenceData).answer(
        ("trends", first, last), lambda d: violence.national_trends(d, first, last)
    )
    return {"rows": violence.trend_rows(trends)}


@router.get("/violence/municipalities", response_model=RowsOut)
def municipalities_api(
    request: Request, principal: Reader, year: Annotated[int | None, Query(ge=1900, le=2100)] = None
) -> Any:
    """Violence records and their dead per municipality (event data), in one year or all."""
    return _rows(
        request, principal, violence.ViolenceData, ("municipalities", year), lambda d: violence.by_municipality(d, year)
    )


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
    return _rows(
        request, principal, drugs.DrugsData, ("seizures", drug), lambda d: drugs.seizures_by_fiscal_year(d, drug)
    )


@router.get("/drugs/crossings", response_model=RowsOut)
def crossings_api(request: Request, principal: Reader, measure: Text = None) -> Any:
    """Border crossings per port, year and measure."""
    return _rows(
        request, principal, drugs.DrugsData, ("crossings", measure), lambda d: drugs.crossings_by_port_year(d, measure)
    )


@router.get("/drugs/months", response_model=RowsOut)
def drug_months_api(request: Request, principal: Reader, drug: Text = None) -> Any:
    """Seizure events and weight per month, each month's robust deviation and whether it is unusual."""
    return _rows(request, principal, drugs.DrugsData, ("months", drug), lambda d: drugs.seizures_by_month(d, drug))


@router.get("/drugs/seasonality", response_model=RowsOut)
def seasonality_api(request: Request, principal: Reader, drug: Text = None) -> Any:
    """Each calendar month's share of a year's seizure events, over the years covered in full."""
    return _rows(request, principal, drugs.DrugsData, ("seasonality", drug), lambda d: drugs.seasonality(d, drug))


@router.get("/drugs/by/{dimension}", response_model=RowsOut)
def seizures_by_api(request: Request, principal: Reader, dimension: Dimension, drug: Text = None) -> Any:
    """Seizure events and weight by mode, concealment, component, region, area (sector or field
    office), port or drug, largest first."""
    return _rows(
        request, principal, drugs.DrugsData, ("by", dimension, drug), lambda d: drugs.seizures_by(d, dimension, drug)
    )


@router.get("/drugs/rates", response_model=RowsOut)
def rates_api(
    request: Request,
    principal: Reader,
    drug: Text = None,
    measure: Annotated[list[Measure], Query(max_length=12)] = [],  # noqa: B006
) -> Any:
    """Seizures per million crossings per port and year (personal vehicles unless ``measure``), outliers marked."""
    measures = tuple(measure) or drugs.VEHICLES
    return _rows(
        request,
        principal,
        drugs.DrugsData,
        ("rates", drug, measures),
        lambda d: drugs.seizures_per_crossings(d, drug, measures=measures),
    )


@router.get("/drugs/office-rates", response_model=RowsOut)
def office_rates_api(
    request: Request,
    principal: Reader,
    drug: Text = None,
    measure: Annotated[list[Measure], Query(max_length=12)] = [],  # noqa: B006
) -> Any:
    """CBP's port-of-entry seizures per million crossings at the ports of each southwest field
    office and fiscal year (personal vehicles unless ``measure``), outliers marked."""
    measures = tuple(measure) or drugs.VEHICLES
    return _rows(
        request,
        principal,
        drugs.DrugsData,
        ("office-rates", drug, measures),
        lambda d: drugs.seizures_per_crossings_by_office(d, drug, measures=measures),
    )
