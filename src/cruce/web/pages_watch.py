"""Watchlists on the pages: /alerts lists the signed-in user's alerts and watches, with forms to
watch an entity, a name, a place or a search, stop a watch and mark alerts seen (CSRF on each
form); /digest shows what the user's next digest holds.

Alerts are read through ``Guard`` (``Watchlists.view``): an alert about a record the user may no
longer see is left out, and protected people's names are redacted as on every page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from cruce.resolve.watch import KINDS, NAME_THRESHOLD, WatchError, Watchlists
from cruce.security import caption
from cruce.web.context import CSRF_FIELD, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request) -> Response:
    ctx = page(request)
    watchlists = Watchlists(ctx.view.store)
    rows = [(a, e, caption(e)) for a, e in watchlists.view(ctx.guard, ctx.principal)]
    return ctx.render(
        "alerts.html",
        rows=rows,
        unseen=sum(1 for a, _e, _c in rows if a.seen_at is None),
        watches=watchlists.watches(ctx.principal.username),
        name_threshold=NAME_THRESHOLD,
    )


@router.post("/watches")
def add_watch(
    request: Request,
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    target: Annotated[str, Form(max_length=500)] = "",
    threshold: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    if kind not in KINDS:
        raise HTTPException(
            status_code=422,
            detail=ctx._(
                _(
                    "A watch is of an entity, a name, a place, a search, the flagged purchasers or a purchaser's "
                    "purchases."
                )
            ),
        )
    if kind in ("entity", "purchases") and ctx.guard.entity(ctx.principal, target.strip()) is None:
        raise HTTPException(status_code=404)
    try:
        level = float(threshold) if threshold.strip() else None
    except ValueError:
        raise HTTPException(
            status_code=422,
            detail=ctx._(_("The threshold is a number above 0 and at most 1.")),  # or a score
        ) from None
    if kind in ("flagged", "place", "search"):
        level = None  # the leads' own threshold: the form's threshold is a name's likeness
    try:
        watch = Watchlists(ctx.view.store).add(ctx.principal.username, kind, target, level)
    except WatchError as exc:
        raise HTTPException(status_code=422, detail=ctx._(str(exc))) from None
    ctx.audit("watch_add", target=watch.id, kind=kind)
    return ctx.redirect("/alerts")


@router.post("/watches/{watch_id}/remove")
def remove_watch(request: Request, watch_id: str, csrf_token: Csrf = "") -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    if not Watchlists(ctx.view.store).remove(ctx.principal.username, watch_id):
        raise HTTPException(status_code=404)
    ctx.audit("watch_remove", target=watch_id)
    return ctx.redirect("/alerts")


@router.post("/alerts/seen")
def mark_seen(request: Request, csrf_token: Csrf = "", alert: Annotated[str, Form(max_length=64)] = "") -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    Watchlists(ctx.view.store).mark_seen(ctx.principal.username, [alert] if alert else None)
    return ctx.redirect("/alerts")


@router.get("/digest", response_class=HTMLResponse)
def digest_page(request: Request, period: str = "daily") -> Response:
    """What the user's next digest holds (the matches since their previous one); records nothing."""
    from cruce.resolve.digest import PERIOD_LABELS, PERIODS, collect

    ctx = page(request)
    if period not in PERIODS:
        raise HTTPException(status_code=422, detail=ctx._(_("The period is daily or weekly.")))
    made = collect(ctx.view.store, ctx.guard, ctx.principal, period)
    return ctx.render("digest.html", digest=made, title=ctx._(PERIOD_LABELS[period]), periods=list(PERIODS))
