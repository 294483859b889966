"""The network questions that answer with a ranked list rather than a picture (/graph/questions):
key players, bridges between communities, cross-flow entities, communities and growth between
two dates — the same answers as ``cruce graph …`` and ``/api/v1/graph/…`` (``cruce.graph.service``),
on the graph as the signed-in user may see it, every entity named through ``Guard``.

A plain GET form per question, so an answer is a link an analyst can keep or send; each entity
opens on its page or in the network explorer.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.graph import service
from cruce.graph.graph import open_graph, view_for
from cruce.graph.model import FLOWS
from cruce.graph.present import GuardNamer
from cruce.graph.questions import GraphQuestionError
from cruce.web.context import Ctx, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)

Question = Literal["key-players", "bridges", "cross-flow", "communities", "growth"]
QUESTIONS: dict[str, str] = {
    "key-players": _("Key players"),
    "bridges": _("Bridges between communities"),
    "cross-flow": _("Across flows"),
    "communities": _("Communities"),
    "growth": _("Growth between two dates"),
}
MEASURES = {"pagerank": _("PageRank"), "betweenness": _("Betweenness (brokers)"), "degree": _("Degree (links)")}
FLOW_LABELS = {"firearms": _("firearms"), "drugs": _("drugs"), "people": _("people")}
LIMIT = 25


def _answer(ctx: Ctx, question: str, params: dict[str, Any]) -> Any:
    """The question's answer on the reader's view of the graph (None when it was not asked)."""
    namer = GuardNamer(ctx.guard, ctx.principal, ctx.address)
    g = view_for(open_graph(ctx.view.store), namer.access.visible)
    types = [params["type"]] if params["type"] else []
    if question == "key-players":
        return service.key_players(g, namer, params["measure"], types, LIMIT)
    if question == "bridges":
        return service.bridges(g, namer, "leiden", params["resolution"], 42, types, LIMIT)
    if question == "cross-flow":
        return service.cross_flow(g, namer, types, params["min_flows"], LIMIT)
    if question == "communities":
        return service.communities(g, namer, "leiden", params["resolution"], 42, 3, LIMIT)
    if params["since"] is None or params["until"] is None:
        return None
    return service.growth(g, namer, params["since"], params["until"], types, LIMIT)


@router.get("/graph/questions", response_class=HTMLResponse)
def questions_page(
    request: Request,
    q: Question = "key-players",
    measure: Literal["pagerank", "betweenness", "degree"] = "pagerank",
    type: Annotated[str, Query(max_length=60)] = "",
    min_flows: Annotated[int, Query(ge=2, le=3)] = 2,
    resolution: Annotated[float, Query(gt=0, le=10)] = 1.0,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    ctx = page(request)
    params = {
        "measure": measure, "type": type.strip(), "min_flows": min_flows, "resolution": resolution,
        "since": since, "until": until,
    }  # fmt: skip
    error = None
    try:
        answer = _answer(ctx, q, params)
    except GraphQuestionError as exc:
        answer, error = None, ctx._(str(exc))
    types = sorted(
        ((t.name, t.label.get(ctx.lang)) for t in ctx.guard.schema.concrete() if t.kind != "relation"),
        key=lambda pair: pair[1].lower(),
    )
    return ctx.render(
        "graph_questions.html",
        question=q, questions=QUESTIONS, measures=MEASURES, params=params, answer=answer, error=error,
        types=types, type_labels=dict(types), flows=FLOWS, flow_labels=FLOW_LABELS,
    )  # fmt: skip
