"""Network questions on the REST API, under /api/v1/graph (``read`` scope).

Each answer is worked out on the graph as the token's user may see it: only the edges with a
record in a dataset they may see (``cruce.graph.graph.view_for``), and every entity and record
named goes through ``Guard`` (``cruce.graph.present.GuardNamer``): what they may not see is left
out, and a protected person's name is redacted for a role that may not read it, as on
``/entities``. The graph is rebuilt first when the store changed since its snapshot.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from cruce.graph import service
from cruce.graph.graph import LinkGraph, describe, open_graph, view_for
from cruce.graph.present import GuardNamer
from cruce.graph.questions import DEFAULT_MAX_NODES, MAX_PATH_LENGTH, MAX_PATHS, GraphQuestionError, NotInGraphError
from cruce.security import Principal
from cruce.store.base import Store
from cruce.web.api import ERRORS, NOT_FOUND, Reader, _no_unknown_query_parameters
from cruce.web.context import client_address, services_of

router = APIRouter(
    prefix="/graph", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["graph"]
)

Types = Annotated[list[str], Query(max_length=30, description="Node types to walk through and return.")]
Relations = Annotated[list[str], Query(max_length=30, description="Edge types to follow.")]
Since = Annotated[date | None, Query(description="Start of the time window (YYYY-MM-DD).")]
Until = Annotated[date | None, Query(description="End of the time window (YYYY-MM-DD).")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Method = Annotated[Literal["leiden", "leidenalg", "components"], Query()]
Resolution = Annotated[float, Query(gt=0, le=100, description="Leiden resolution: higher, smaller communities.")]


class NodeOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    flows: list[str]
    degree: int
    model_config = {"populate_by_name": True}


class EvidenceOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    dataset: str
    file: str
    row: int | None
    model_config = {"populate_by_name": True}


class EdgeOut(BaseModel):
    source: str
    target: str
    type: str
    count: int = Field(description="How many records make this link.")
    first: str | None
    last: str | None
    flows: list[str]
    datasets: list[str]
    records: list[str]
    evidence: list[EvidenceOut] | None = None


class NeighbourOut(NodeOut):
    distance: int


class NeighbourhoodOut(BaseModel):
    center: str
    nodes: list[NeighbourOut]
    edges: list[EdgeOut]
    by_type: dict[str, int]
    reached: int
    truncated: bool


class PathOut(BaseModel):
    length: int
    nodes: list[NodeOut]
    edges: list[EdgeOut]


class CommunityOut(BaseModel):
    id: int
    size: int
    by_type: dict[str, int]
    people: int
    firearms: int
    dealers: int
    places: int
    organizations: int
    events: int
    flows: list[str]
    top: list[NodeOut]


class CommunitiesOut(BaseModel):
    method: str
    communities: int
    items: list[CommunityOut]


class ScoredOut(NodeOut):
    score: float


class BridgeOut(NodeOut):
    community: int
    reaches: list[int]
    edges_across: int


class CrossFlowOut(NodeOut):
    flow_count: float


class GrowerOut(NodeOut):
    new_edges: float


class GrowthOut(BaseModel):
    since: str
    until: str
    nodes_since: int
    edges_since: int
    nodes_until: int
    edges_until: int
    new_nodes: int
    new_edges: int
    new_edges_by_type: dict[str, int]
    components_until: int
    largest_component_until: int
    undated_edges: int
    top: list[GrowerOut]


class GraphInfoOut(BaseModel):
    nodes: int
    edges: int
    built_at: float
    build_seconds: float
    fingerprint: str
    datasets: list[str]


def _graph(request: Request, principal: Principal) -> tuple[Store, LinkGraph, GuardNamer]:
    view = services_of(request).view()
    state = open_graph(view.store)
    namer = GuardNamer(view.guard, principal, client_address(request))
    return view.store, view_for(state, namer.access.visible), namer


def _answer(run: Any) -> Any:
    try:
        return run()
    except NotInGraphError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except GraphQuestionError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None


@router.get("", response_model=GraphInfoOut)
def info(request: Request, principal: Reader) -> Any:
    """The size of the graph (as the user may see it) and when it was built."""
    _store, g, namer = _graph(request, principal)
    out = describe(g)
    out["datasets"] = [d for d in out["datasets"] if d in namer.access.visible]  # not the names of the others
    out["nodes"] = int((~g.hidden).sum())
    return out


@router.get("/neighbourhood/{entity_id}", response_model=NeighbourhoodOut, responses=NOT_FOUND)
def neighbourhood(
    request: Request,
    principal: Reader,
    entity_id: str,
    hops: Annotated[int, Query(ge=1, le=6)] = 2,
    type: Types = [],  # noqa: B006 - FastAPI reads the default, it is never changed
    relation: Relations = [],  # noqa: B006
    since: Since = None,
    until: Until = None,
    max_nodes: Annotated[int, Query(ge=1, le=20_000)] = DEFAULT_MAX_NODES,
) -> Any:
    """Entities within ``hops`` links of an entity, nearest first, with the links among them."""
    store, g, namer = _graph(request, principal)
    return _answer(
        lambda: service.neighbourhood(
            store, g, namer, entity_id, hops, service.filters(type, relation, since, until), max_nodes
        )
    )


@router.get("/paths", response_model=list[PathOut], responses=NOT_FOUND)
def paths(
    request: Request,
    principal: Reader,
    source: Annotated[str, Query(alias="from", min_length=1, max_length=200)],
    target: Annotated[str, Query(alias="to", min_length=1, max_length=200)],
    k: Annotated[int, Query(ge=1, le=MAX_PATHS)] = 1,
    max_length: Annotated[int, Query(ge=1, le=MAX_PATH_LENGTH)] = MAX_PATH_LENGTH,
    type: Types = [],  # noqa: B006
    relation: Relations = [],  # noqa: B006
    since: Since = None,
    until: Until = None,
) -> Any:
    """The shortest path (or the ``k`` shortest) between two entities, with the records behind every link."""
    store, g, namer = _graph(request, principal)
    return _answer(
        lambda: service.paths(
            store, g, namer, source, target, k, service.filters(type, relation, since, until), max_length
        )
    )


@router.get("/communities", response_model=CommunitiesOut)
def communities(
    request: Request,
    principal: Reader,
    method: Method = "leiden",
    resolution: Resolution = 1.0,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 42,
    min_size: Annotated[int, Query(ge=1)] = 3,
    limit: Limit = 20,
) -> Any:
    """Communities (Leiden) or connected components, the largest first, each summarised."""
    _store, g, namer = _graph(request, principal)
    return _answer(lambda: service.communities(g, namer, method, resolution, seed, min_size, limit))


@router.get("/key-players", response_model=list[ScoredOut])
def key_players(
    request: Request,
    principal: Reader,
    measure: Annotated[Literal["degree", "betweenness", "pagerank"], Query()] = "pagerank",
    type: Types = [],  # noqa: B006
    limit: Limit = 20,
) -> Any:
    """Entities ranked by degree, betweenness (brokers; estimated from samples on big graphs) or PageRank."""
    _store, g, namer = _graph(request, principal)
    return _answer(lambda: service.key_players(g, namer, measure, type, limit))


@router.get("/bridges", response_model=list[BridgeOut])
def bridges(
    request: Request,
    principal: Reader,
    method: Method = "leiden",
    resolution: Resolution = 1.0,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 42,
    type: Types = [],  # noqa: B006
    limit: Limit = 20,
) -> Any:
    """Entities whose links reach into the most other communities."""
    _store, g, namer = _graph(request, principal)
    return _answer(lambda: service.bridges(g, namer, method, resolution, seed, type, limit))


@router.get("/cross-flow", response_model=list[CrossFlowOut])
def cross_flow(
    request: Request,
    principal: Reader,
    type: Types = [],  # noqa: B006
    min_flows: Annotated[int, Query(ge=1, le=3)] = 2,
    limit: Limit = 50,
) -> Any:
    """Entities with records or links in more than one flow (firearms, drugs, people)."""
    _store, g, namer = _graph(request, principal)
    return _answer(lambda: service.cross_flow(g, namer, type, min_flows, limit))


@router.get("/growth", response_model=GrowthOut)
def growth(
    request: Request,
    principal: Reader,
    since: Annotated[date, Query()],
    until: Annotated[date, Query()],
    type: Types = [],  # noqa: B006
    limit: Limit = 10,
) -> Any:
    """How the network grew between two dates: sizes then and now, new links by type, who gained most."""
    _store, g, namer = _graph(request, principal)
    return _answer(lambda: service.growth(g, namer, since, until, type, limit))
