"""Saved network charts on the REST API: POST/GET /api/v1/graph/charts (``read`` scope).

A chart is what the network explorer page arranged (entity ids, positions, pinned and hidden
ones, filters); it belongs to the token's user, who alone lists and opens it (another user's
chart is a 404, as if it did not exist). Saving is audited with the chart's id and size, never
its name or contents. Cases (issue #11) will attach charts to a case.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, BeforeValidator, Field

from cruce.graph.charts import MAX_NAME, Chart, ChartError, Charts, ChartSummary
from cruce.web.api import BODY_ERRORS, ERRORS, NOT_FOUND, Reader, Strict, Utc, _no_unknown_query_parameters
from cruce.web.context import services_of

router = APIRouter(
    prefix="/graph", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["graph"]
)

MAX_CHART_NODES = 20_000
EntityId = Annotated[str, Field(min_length=1, max_length=200)]
Day = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class ChartNode(Strict):
    id: EntityId
    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)
    pinned: bool = False
    hidden: bool = False


def _whole(value: object) -> object:
    """2.0 is the integer 2 in JSON (JSON Schema says so, and clients send it): a strict model
    would refuse it. Anything else is left to the strict check (a string stays refused)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ChartFilters(Strict):
    hidden_types: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=100)] = Field(
        default_factory=list, description="Entity types switched off."
    )
    hidden_relations: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=200)] = Field(
        default_factory=list, description="Link types switched off."
    )
    since: Day | None = None
    until: Day | None = None
    hops: Annotated[int, Field(ge=1, le=3), BeforeValidator(_whole)] = 1
    colour: Literal["type", "flow"] = "type"


class ChartBody(Strict):
    center: EntityId | None = None
    nodes: Annotated[list[ChartNode], Field(max_length=MAX_CHART_NODES)]
    filters: ChartFilters = Field(default_factory=ChartFilters)


class ChartIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME)]
    chart: ChartBody


class ChartSummaryOut(BaseModel):
    id: str
    name: str
    nodes: int
    created_at: Utc


class ChartOut(ChartSummaryOut):
    chart: ChartBody


def summary_out(c: ChartSummary) -> ChartSummaryOut:
    return ChartSummaryOut(id=c.id, name=c.name, nodes=c.nodes, created_at=c.created_at)


def chart_out(c: Chart) -> ChartOut:
    return ChartOut(
        id=c.id, name=c.name, nodes=c.nodes, created_at=c.created_at, chart=ChartBody.model_validate(c.chart)
    )


@router.post("/charts", response_model=ChartSummaryOut, status_code=201, responses=BODY_ERRORS)
def save_chart(request: Request, principal: Reader, body: ChartIn) -> ChartSummaryOut:
    """Save a chart of the network explorer under your name (audited)."""
    view = services_of(request).view()
    try:
        saved = Charts(view.store).save(principal.username, body.name, body.chart.model_dump())
    except ChartError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    view.security.audit.record(
        principal.username, "graph_chart_save", target=saved.id, detail={"nodes": saved.nodes, "api": True}
    )
    return summary_out(saved)


@router.get("/charts", response_model=list[ChartSummaryOut])
def list_charts(request: Request, principal: Reader) -> list[ChartSummaryOut]:
    """Your saved charts, newest first."""
    return [summary_out(c) for c in Charts(services_of(request).view().store).list(principal.username)]


@router.get("/charts/{chart_id}", response_model=ChartOut, responses=NOT_FOUND)
def get_chart(request: Request, principal: Reader, chart_id: str) -> ChartOut:
    """One of your saved charts: ids, positions and filters (names are read again when it is opened)."""
    found = Charts(services_of(request).view().store).get(principal.username, chart_id)
    if found is None:
        raise HTTPException(status_code=404, detail="You have no such chart.")
    return chart_out(found)
