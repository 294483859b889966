"""The network explorer page (/graph) and the JSON it reads with the session (/graph/data/…).

The REST API takes bearer tokens only, so the page has its own small JSON routes over the same
questions (``cruce.graph.service`` and ``cruce.graph.explorer``), answered exactly as on the API:
on the graph as the signed-in user may see it, every entity and record named through ``Guard``.
Posts (a chart's links, exports, saving a chart) carry the session's CSRF token in the
``X-CSRF-Token`` header. Every label the script shows comes from the page in the reader's
language (a JSON block in the template): the script holds no words of its own.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from cruce.graph import explorer, service
from cruce.graph.charts import ChartError, Charts
from cruce.graph.exchange import EXTENSIONS, MEDIA_TYPES, ExchangeError, select, write
from cruce.graph.graph import LinkGraph, open_graph, view_for
from cruce.graph.model import FLOWS, graph_model, snake
from cruce.graph.present import GuardNamer
from cruce.graph.questions import DEFAULT_MAX_NODES, GraphQuestionError, NotInGraphError
from cruce.store.base import Store
from cruce.web.api import Strict
from cruce.web.api_graph_charts import MAX_CHART_NODES, ChartIn, chart_out, summary_out
from cruce.web.context import Ctx, SignInRequired, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)

MAX_HOPS = 3
LARGE_MAX_NODES = 5_000
"""The most entities one neighbourhood brings to the page; past it the rest is counted by type."""
GROUP_LIMIT = 1_000
CSRF_HEADER = "x-csrf-token"
EXTRA_RELATION_LABELS = {"mentions": _("mentions")}


def _ctx(request: Request) -> Ctx:
    """The page context of a JSON route: a 401, not a redirect to the sign-in page, when signed out."""
    try:
        return page(request)
    except SignInRequired:
        raise HTTPException(status_code=401, detail="Sign in first.") from None


def _graph(ctx: Ctx) -> tuple[Store, LinkGraph, GuardNamer]:
    namer = GuardNamer(ctx.guard, ctx.principal, ctx.address)
    return ctx.view.store, view_for(open_graph(ctx.view.store), namer.access.visible), namer


def _answer(ctx: Ctx, run: Callable[[], Any]) -> Response:
    """The answer as JSON, or the reason it cannot be given (in the reader's language)."""
    try:
        return JSONResponse(run())
    except NotInGraphError:
        return JSONResponse({"detail": ctx._(_("No such entity in the network, or you may not see it."))}, 404)
    except (GraphQuestionError, ExchangeError) as exc:
        return JSONResponse({"detail": ctx._(str(exc))}, 422)


def _post_allowed(ctx: Ctx, request: Request) -> None:
    ctx.check_csrf(request.headers.get(CSRF_HEADER))


# -- labels -------------------------------------------------------------------------------------------
def relation_labels(ctx: Ctx) -> dict[str, str]:
    """Every edge type of the graph model with its label: a relation type's own label, else the
    label of the property it comes from (``purchaser`` of a purchase)."""
    schema = ctx.guard.schema
    out = {name: ctx._(text) for name, text in EXTRA_RELATION_LABELS.items()}
    for stype in schema.types.values():
        for prop_name, prop in stype.properties.items():
            out.setdefault(prop_name, prop.label.get(ctx.lang))
    for name in graph_model().relations:
        out[snake(name)] = schema.types[name].label.get(ctx.lang)
    return out


def type_labels(ctx: Ctx) -> dict[str, str]:
    return {t.name: t.label.get(ctx.lang) for t in ctx.guard.schema.types.values()}


# -- the page -----------------------------------------------------------------------------------------
@router.get("/graph", response_class=HTMLResponse)
def explorer_page(
    request: Request,
    entity: Annotated[str, Query(max_length=200)] = "",
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 1,
    max_nodes: Annotated[int, Query(ge=1, le=LARGE_MAX_NODES)] = DEFAULT_MAX_NODES,
) -> Response:
    ctx = page(request)
    config = {
        "lang": ctx.lang,
        "csrf": ctx.csrf,
        "entity": entity.strip(),
        "hops": hops,
        "maxNodes": max_nodes,
        "defaultMaxNodes": DEFAULT_MAX_NODES,
        "flows": list(FLOWS),
        "types": type_labels(ctx),
        "relations": relation_labels(ctx),
    }
    charts = Charts(ctx.view.store).list(ctx.principal.username)
    return ctx.render("graph.html", config=config, charts=charts, max_hops=MAX_HOPS)


# -- what the page reads ------------------------------------------------------------------------------
@router.get("/graph/data/search")
def find_entities(request: Request, q: Annotated[str, Query(min_length=1, max_length=200)]) -> Response:
    """Entities whose names match, to start the chart from (through the guard, as /search)."""
    ctx = _ctx(request)
    found = ctx.guard.search(ctx.principal, q, limit=10)
    if found.protected:
        ctx.audit("search", query=q[:200], page="graph")
    labels = type_labels(ctx)
    hits = [
        {"id": h.entity_id, "caption": h.caption, "schema": h.schema, "type": labels.get(h.schema, h.schema)}
        for h in found.hits
    ]
    return JSONResponse(hits)


@router.get("/graph/data/neighbourhood/{entity_id}")
def neighbourhood(
    request: Request,
    entity_id: str,
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 1,
    max_nodes: Annotated[int, Query(ge=1, le=LARGE_MAX_NODES)] = DEFAULT_MAX_NODES,
) -> Response:
    """The entities within ``hops`` links, and the count by type of those past ``max_nodes``."""
    ctx = _ctx(request)
    store, g, namer = _graph(ctx)
    return _answer(ctx, lambda: explorer.neighbourhood(store, g, namer, entity_id, hops, service.filters(), max_nodes))


@router.get("/graph/data/group/{entity_id}")
def group(
    request: Request,
    entity_id: str,
    schema: Annotated[str, Query(min_length=1, max_length=100)],
    hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 1,
    max_nodes: Annotated[int, Query(ge=1, le=LARGE_MAX_NODES)] = DEFAULT_MAX_NODES,
    limit: Annotated[int, Query(ge=1, le=GROUP_LIMIT)] = GROUP_LIMIT,
) -> Response:
    """The entities of one type that a neighbourhood left out (a summary node opened)."""
    ctx = _ctx(request)
    store, g, namer = _graph(ctx)
    return _answer(
        ctx,
        lambda: explorer.group(store, g, namer, entity_id, hops, service.filters(), max_nodes, schema, limit),
    )


@router.get("/graph/data/paths")
def paths(
    request: Request,
    source: Annotated[str, Query(alias="from", min_length=1, max_length=200)],
    target: Annotated[str, Query(alias="to", min_length=1, max_length=200)],
    k: Annotated[int, Query(ge=1, le=5)] = 1,
) -> Response:
    """The shortest path(s) between two entities, with the records behind every link."""
    ctx = _ctx(request)
    store, g, namer = _graph(ctx)
    return _answer(ctx, lambda: service.paths(store, g, namer, source, target, k, service.filters(), 6))


class Selection(Strict):
    ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=MAX_CHART_NODES)]


class Communities(Selection):
    method: Literal["leiden", "components"] = "leiden"


@router.post("/graph/data/among")
def among(request: Request, body: Selection) -> Response:
    """The entities given (those the user may see) and the links among them: a saved chart reopened."""
    ctx = _ctx(request)
    _post_allowed(ctx, request)
    _store, g, namer = _graph(ctx)
    return _answer(ctx, lambda: explorer.among(g, namer, body.ids))


@router.post("/graph/data/communities")
def communities(request: Request, body: Communities) -> Response:
    """The community (Leiden, or connected component) of each entity given, and each one's size."""
    ctx = _ctx(request)
    _post_allowed(ctx, request)
    _store, g, namer = _graph(ctx)

    def run() -> dict[str, Any]:
        from cruce.graph.questions import partition

        membership = partition(g, body.method)
        out = explorer.among(g, namer, body.ids, membership)
        sizes: dict[int, int] = {}
        for c in set(out["membership"].values()):
            sizes[c] = int((membership == c).sum())
        return {"membership": out["membership"], "sizes": {str(c): n for c, n in sizes.items()}}

    return _answer(ctx, run)


class ExportIn(Selection):
    format: Literal["graphml", "gexf", "cytoscape", "csv", "i2"] = "graphml"


@router.post("/graph/data/export")
def export_chart(request: Request, body: ExportIn) -> Response:
    """The entities on the chart and the links among them as a file for other tools (audited, as
    the API's export)."""
    ctx = _ctx(request)
    _post_allowed(ctx, request)
    _store, g, namer = _graph(ctx)
    nodes = explorer.indices(g, body.ids)
    out = io.StringIO()
    sel = select(g, nodes, namer, graph_model().undirected, f"chart of {len(nodes)} entities")
    write(sel, body.format, out)
    ctx.audit(
        "graph_export", target=sel.described, format=body.format, nodes=len(sel.nodes), edges=len(sel.edges),
        page="graph",
    )  # fmt: skip
    return Response(
        out.getvalue(), media_type=f"{MEDIA_TYPES[body.format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="cruce-chart.{EXTENSIONS[body.format]}"'},
    )  # fmt: skip


# -- saved charts -------------------------------------------------------------------------------------
@router.get("/graph/data/charts")
def list_charts(request: Request) -> Response:
    ctx = _ctx(request)
    found = Charts(ctx.view.store).list(ctx.principal.username)
    return JSONResponse([summary_out(c).model_dump(mode="json") for c in found])


@router.post("/graph/data/charts")
def save_chart(request: Request, body: ChartIn) -> Response:
    """Save the chart under the user's name; audited with its id and size (never its contents)."""
    ctx = _ctx(request)
    _post_allowed(ctx, request)
    try:
        saved = Charts(ctx.view.store).save(ctx.principal.username, body.name, body.chart.model_dump())
    except ChartError as exc:
        return JSONResponse({"detail": ctx._(str(exc))}, 422)
    ctx.audit("graph_chart_save", target=saved.id, nodes=saved.nodes)
    return JSONResponse(summary_out(saved).model_dump(mode="json"), 201)


@router.get("/graph/data/charts/{chart_id}")
def open_chart(request: Request, chart_id: str) -> Response:
    ctx = _ctx(request)
    found = Charts(ctx.view.store).get(ctx.principal.username, chart_id)
    if found is None:
        return JSONResponse({"detail": ctx._(_("You have no such chart."))}, 404)
    return JSONResponse(chart_out(found).model_dump(mode="json"))
