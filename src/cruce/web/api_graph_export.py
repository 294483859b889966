"""GET /api/v1/graph/export: the graph, a neighbourhood or a community as a file for other tools.

The selection is worked out on the graph as the token's user may see it and named through the
guard, exactly as the network questions (``cruce.web.api_graph``): nodes they may not see are
left out with their links, protected people's names are redacted for roles that may not read
them. An export is a disclosure: each one is recorded in the audit log (format, selection and
counts, never names).
"""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from cruce.graph.exchange import EXTENSIONS, MEDIA_TYPES, ExchangeError, export
from cruce.graph.graph import open_graph, view_for
from cruce.graph.present import GuardNamer
from cruce.graph.questions import GraphQuestionError, NotInGraphError
from cruce.web.api import ERRORS, NOT_FOUND, Reader, _no_unknown_query_parameters
from cruce.web.context import client_address, services_of

router = APIRouter(
    prefix="/graph", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["graph"]
)

MAX_EXPORT_NODES = 100_000
"""The largest selection one request writes; a bigger graph is exported from the command line."""


@router.get(
    "/export",
    responses={
        **NOT_FOUND,
        200: {"content": {t: {} for t in sorted(set(MEDIA_TYPES.values()))}, "description": "The file."},
    },
    response_class=Response,
)
def export_graph(
    request: Request,
    principal: Reader,
    format: Annotated[Literal["graphml", "gexf", "cytoscape", "csv", "ftm", "i2"], Query()] = "graphml",
    entity: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this entity's neighbourhood.")
    ] = None,
    hops: Annotated[int, Query(ge=1, le=6)] = 2,
    community: Annotated[
        int | None, Query(ge=0, description="Only this community (numbered as in /communities).")
    ] = None,
    method: Annotated[Literal["leiden", "leidenalg", "components"], Query()] = "leiden",
    resolution: Annotated[float, Query(gt=0, le=100)] = 1.0,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 42,
    part: Annotated[Literal["edges", "nodes"], Query(description="CSV: the edge list or the node list.")] = "edges",
) -> Any:
    """The selection as GraphML, GEXF, Cytoscape.js JSON, CSV, FollowTheMoney JSON Lines or i2 ANB CSV; audited."""
    view = services_of(request).view()
    address = client_address(request)
    namer = GuardNamer(view.guard, principal, address)
    g = view_for(open_graph(view.store), namer.access.visible)
    out = io.StringIO()
    try:
        done = export(view.store, g, namer, format, out, entity=entity, hops=hops, community=community,
                      method=method, resolution=resolution, seed=seed, max_nodes=MAX_EXPORT_NODES,
                      nodes_csv=part == "nodes")  # fmt: skip
    except NotInGraphError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except (GraphQuestionError, ExchangeError) as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    view.security.audit.record(
        principal.username, "graph_export", target=done.selection, address=address,
        detail={"format": format, "part": part, "nodes": done.nodes, "edges": done.edges, "api": True},
    )  # fmt: skip
    name = f"cruce-graph{'-nodes' if part == 'nodes' and format == 'csv' else ''}.{EXTENSIONS[format]}"
    return Response(
        out.getvalue(), media_type=f"{MEDIA_TYPES[format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
