"""Resolution on the pages: the review queue (/resolution/review), a pair explained, the decisions
with undo, and merge and split from an entity's page (which shows the record's cluster).

Everyone signed in reads what ``Guard`` lets them see; analysts and admins decide. Every decision
is audited with who, the record ids and the decision (never a name).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.resolve.engine import ResolutionError
from cruce.resolve.prepare import TYPES
from cruce.resolve.store import DECISIONS
from cruce.web.context import CSRF_FIELD, Ctx, page, safe_next
from cruce.web.i18n import mark as _
from cruce.web.views_resolution import ClusterView, Resolution, may_decide

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
RecordId = Annotated[str, Form(max_length=64)]
Note = Annotated[str, Form(max_length=2000)]
Next = Annotated[str, Form(max_length=2000)]
PAGE_SIZE = 20
ONLY_DECIDERS = _("Only analysts and admins decide which records are one entity.")


def resolution(ctx: Ctx) -> Resolution:
    return Resolution(ctx.guard, ctx.principal, ctx._, ctx.lang, ctx.address)


def _decider(request: Request, csrf_token: str) -> Ctx:
    ctx = page(request)
    if not may_decide(ctx.principal):
        ctx.audit("resolution_decide", target=request.url.path, outcome="denied")
        raise HTTPException(status_code=403, detail=ctx._(ONLY_DECIDERS))
    ctx.check_csrf(csrf_token)
    return ctx


def _refused(ctx: Ctx, exc: ResolutionError) -> HTTPException:
    return HTTPException(status_code=422, detail=ctx._(str(exc)))


def cluster_for(ctx: Ctx, entity_id: str) -> ClusterView | None:
    """The cluster panel of an entity page (a template global: the entity route stays as it is)."""
    try:
        return resolution(ctx).cluster(entity_id)
    except ResolutionError:
        return None


def install(app: FastAPI) -> None:
    """Add the pages and make ``resolution_cluster(ctx, id)`` available to the entity page."""
    app.include_router(router)
    app.state.templates.globals["resolution_cluster"] = cluster_for


# -- the review queue -------------------------------------------------------------------------
@router.get("/resolution/review", response_class=HTMLResponse)
def review(
    request: Request,
    type: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    ctx = page(request)
    chosen = type if type in TYPES else None
    pairs, more = resolution(ctx).queue(chosen, limit=PAGE_SIZE, offset=offset)
    return ctx.render(
        "resolution_review.html", pairs=pairs, more=more, offset=offset, limit=PAGE_SIZE, type=chosen or "",
        types=TYPES, may_decide=may_decide(ctx.principal),
    )  # fmt: skip


@router.get("/resolution/explain", response_class=HTMLResponse)
def explain(
    request: Request, a: Annotated[str, Query(max_length=64)], b: Annotated[str, Query(max_length=64)]
) -> Response:
    ctx = page(request)
    try:
        pair = resolution(ctx).explain(a, b)
    except ResolutionError as exc:
        raise _refused(ctx, exc) from None
    if pair is None:
        raise HTTPException(status_code=404)
    return ctx.render("resolution_explain.html", pair=pair, may_decide=may_decide(ctx.principal))


# -- decisions --------------------------------------------------------------------------------
def audit_decision(ctx: Ctx, action: str, group: str | None, **detail: Any) -> None:
    ctx.audit(action, target=group, **detail)


@router.post("/resolution/judgements")
def decide(
    request: Request,
    csrf_token: Csrf = "",
    a: RecordId = "",
    b: RecordId = "",
    decision: Annotated[str, Form(max_length=20)] = "",
    note: Note = "",
    next: Next = "/resolution/review",
) -> Response:
    ctx = _decider(request, csrf_token)
    if decision not in DECISIONS:
        raise HTTPException(status_code=422, detail=ctx._(_("Choose same, not the same or unsure.")))
    try:
        group = resolution(ctx).judge(a, b, decision, note.strip() or None)
    except ResolutionError as exc:
        raise _refused(ctx, exc) from None
    if group is None:
        raise HTTPException(status_code=404)
    audit_decision(ctx, "resolution_judge", group, a=a, b=b, decision=decision)
    return ctx.redirect(safe_next(next))


@router.get("/resolution/decisions", response_class=HTMLResponse)
def decisions(request: Request, all: Annotated[bool, Query()] = False) -> Response:
    ctx = page(request)
    rows = resolution(ctx).decisions(include_undone=all)
    return ctx.render("resolution_decisions.html", rows=rows, all=all, may_decide=may_decide(ctx.principal))


@router.post("/resolution/decisions/{group}/undo")
def undo(request: Request, group: str, csrf_token: Csrf = "", next: Next = "/resolution/decisions") -> Response:
    ctx = _decider(request, csrf_token)
    undone = resolution(ctx).undo(group)
    if undone is None:
        raise HTTPException(status_code=404)
    audit_decision(ctx, "resolution_undo", group, judgements=len(undone))
    return ctx.redirect(safe_next(next))


@router.post("/resolution/merge")
def merge(
    request: Request, csrf_token: Csrf = "", record: RecordId = "", other: RecordId = "", note: Note = ""
) -> Response:
    ctx = _decider(request, csrf_token)
    other = other.strip()
    try:
        group = resolution(ctx).judge(record, other, "same", note.strip() or None)
    except ResolutionError as exc:
        raise _refused(ctx, exc) from None
    if group is None:
        raise HTTPException(status_code=404)
    audit_decision(ctx, "resolution_merge", group, a=record, b=other, decision="same")
    return ctx.redirect(f"/entity/{record}")


@router.post("/resolution/split")
def split(request: Request, csrf_token: Csrf = "", record: RecordId = "", note: Note = "") -> Response:
    ctx = _decider(request, csrf_token)
    try:
        visible, group = resolution(ctx).split(record, note.strip() or None)
    except ResolutionError as exc:
        raise _refused(ctx, exc) from None
    if not visible:
        raise HTTPException(status_code=404)
    if group is not None:
        audit_decision(ctx, "resolution_split", group, record=record, decision="not_same")
    return ctx.redirect(f"/entity/{record}")


# -- runs -------------------------------------------------------------------------------------
@router.get("/resolution/runs", response_class=HTMLResponse)
def runs(request: Request) -> Response:
    """Each type's current run, and a form to start a new one in the background (deciders)."""
    ctx = page(request)
    if not may_decide(ctx.principal):
        raise HTTPException(status_code=403, detail=ctx._(ONLY_DECIDERS))
    from cruce.resolve.store import ResolutionStore

    rs = ResolutionStore(ctx.view.store)
    current = {t: rs.current_run(t) for t in TYPES}
    jobs = request.app.state.jobs.mine(ctx.principal, kind="resolve", limit=20)
    return ctx.render("resolution_runs.html", types=TYPES, current=current, jobs=jobs)


@router.post("/resolution/runs")
def start_run(
    request: Request,
    csrf_token: Csrf = "",
    type: Annotated[str, Form(max_length=100)] = "",
    retrain: Annotated[bool, Form()] = False,
) -> Response:
    """Resolve every record of a type as a background job; its page shows the progress."""
    ctx = _decider(request, csrf_token)
    if type not in TYPES:
        raise HTTPException(status_code=422, detail=ctx._(_("Choose a type to resolve.")))
    job = request.app.state.jobs.start_resolution(
        ctx.principal, type, retrain=retrain, threshold=None, address=ctx.address
    )
    return ctx.redirect(f"/jobs/{job.id}")
