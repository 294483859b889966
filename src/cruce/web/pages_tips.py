"""The public tip form (/tip, no account) and the analysts' triage queue (/tips)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from cruce.people.indicators import highlight, triage
from cruce.schema.model import type_label
from cruce.security import AccountError, Role
from cruce.security.audit import now
from cruce.web.context import CSRF_FIELD, Ctx, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
Long = Annotated[str, Form(max_length=5000)]
HONEYPOT = "website"  # hidden from people by CSS; a script that fills every field fills it


# -- the public form --------------------------------------------------------------------------
@router.get("/tip", response_class=HTMLResponse)
def tip_form(request: Request) -> Response:
    ctx = page(request, signed_in=False)
    return ctx.render("tip_form.html", values={})


@router.post("/tip")
def tip_submit(
    request: Request,
    csrf_token: Csrf = "",
    what: Long = "",
    where: Long = "",
    when: Long = "",
    who: Long = "",
    contact: Annotated[str, Form(max_length=500)] = "",
    website: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    ctx = page(request, signed_in=False)
    ctx.check_csrf(csrf_token)
    values = {"what": what, "where": where, "when": when, "who": who, "contact": contact}
    if website.strip():  # the honeypot: answer as if all went well, keep nothing
        return ctx.redirect("/tip/thanks")
    if not what.strip():
        return ctx.render(
            "tip_form.html", status_code=422, values=values, error=ctx._(_("Please tell us what happened."))
        )
    if not request.app.state.tip_limiter.allow(ctx.address):
        return ctx.render(
            "tip_form.html", status_code=429, values=values,
            error=ctx._(_("Too many tips were sent from here in a short time. Please try again in a few minutes.")),
        )  # fmt: skip
    ctx.security.tips.submit(what=what, where=where, when=when, who=who, contact=contact, language=ctx.lang, now=now())
    return ctx.redirect("/tip/thanks")


@router.get("/tip/thanks", response_class=HTMLResponse)
def tip_thanks(request: Request) -> Response:
    return page(request, signed_in=False).render("tip_thanks.html")


# -- the triage queue -------------------------------------------------------------------------
def _triager(request: Request) -> Ctx:
    ctx = page(request)
    if not ctx.guard.may_triage(ctx.principal):
        raise HTTPException(status_code=403, detail=ctx._(_("Only analysts, caseworkers and admins triage tips.")))
    return ctx


SHOWN = 300  # characters of a tip's text the queue shows


def _scanned(text: str, lang: str) -> dict[str, object]:
    """A tip's triage score and level, and the start of its text with its indicators highlighted."""
    found = triage(text)
    shown = [h for h in found["hits"] if h.end <= SHOWN]
    clipped = highlight(text[:SHOWN], shown, lang) + ("…" if len(text) > SHOWN else "")
    return {"score": found["score"], "level": found["level"], "families": found["families"], "html": Markup(clipped)}  # noqa: S704 — highlight escapes the text


@router.get("/tips", response_class=HTMLResponse)
def queue(request: Request, status: Annotated[str, Query(max_length=20)] = "new") -> Response:
    ctx = _triager(request)
    chosen = status if status in ("new", "triaged") else None
    tips = ctx.security.tips.queue(chosen)
    return ctx.render(
        "tips.html", tips=tips, status=status, scans={t.id: _scanned(t.what, ctx.lang) for t in tips},
        counts={s: ctx.security.tips.count(s) for s in ("new", "triaged")},
    )  # fmt: skip


SUGGESTIONS = 3  # records proposed per mention


def _scanned_in_full(text: str, lang: str) -> dict[str, object]:
    """The whole text of a tip with its indicators highlighted, its score and level."""
    found = triage(text)
    html = highlight(text, found["hits"], lang)
    return {"score": found["score"], "level": found["level"], "html": Markup(html)}  # noqa: S704 — highlight escapes the text


def _mentions(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    """The people, phones and places the tip names, each with the records it may be: the search's
    best hits among the records this reader may see (name variants and typos matched)."""
    from cruce.people.mentions import mentions

    schemas = {"person": "Person", "place": "Location", "phone": None}
    out: list[dict[str, Any]] = []
    for mention in mentions(text):
        found = ctx.guard.search(ctx.principal, mention.value, schema=schemas[mention.kind], limit=SUGGESTIONS)
        out.append({"kind": mention.kind, "text": mention.text, "value": mention.value, "hits": found.hits})
    return out


def _tip_page(ctx: Ctx, tip_id: str, status_code: int = 200, **values: object) -> Response:
    tip = ctx.security.tips.get(tip_id)
    if tip is None:
        raise HTTPException(status_code=404)
    linked = []
    for eid in tip.linked_entities:
        entity = ctx.guard.entity(ctx.principal, eid)
        if entity is not None:
            from cruce.security.guard import caption

            linked.append((eid, caption(entity), type_label(ctx.guard.schema, entity.schema, ctx.lang)))
    return ctx.render(
        "tip_detail.html", status_code=status_code, tip=tip, linked=linked,
        may_read_contact=ctx.guard.may_read_tip_contact(ctx.principal),
        mentions=_mentions(ctx, " ".join(x for x in (tip.what, tip.where, tip.who) if x)),
        scanned=_scanned_in_full(tip.what, ctx.lang),
        mention_kinds={"person": ctx._(_("person")), "phone": ctx._(_("phone")), "place": ctx._(_("place"))},
        **values,
    )  # fmt: skip


@router.get("/tips/{tip_id}", response_class=HTMLResponse)
def tip_detail(request: Request, tip_id: str) -> Response:
    ctx = _triager(request)
    return _tip_page(ctx, tip_id)


@router.post("/tips/{tip_id}/link")
def tip_link(
    request: Request, tip_id: str, csrf_token: Csrf = "", entity_id: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    ctx = _triager(request)
    ctx.check_csrf(csrf_token)
    entity_id = entity_id.strip().rsplit("/", 1)[-1]  # an id or a pasted /entity/ID address
    if ctx.guard.entity(ctx.principal, entity_id) is None:
        return _tip_page(ctx, tip_id, 422, error=ctx._(_("No record you may see has that id.")))
    try:
        ctx.security.tips.link(tip_id, [entity_id])
    except AccountError:
        raise HTTPException(status_code=404) from None
    ctx.audit("tip_link", target=tip_id, entity=entity_id)
    return ctx.redirect(f"/tips/{tip_id}")


@router.post("/tips/{tip_id}/unlink")
def tip_unlink(
    request: Request, tip_id: str, csrf_token: Csrf = "", entity_id: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    ctx = _triager(request)
    ctx.check_csrf(csrf_token)
    try:
        ctx.security.tips.unlink(tip_id, entity_id)
    except AccountError:
        raise HTTPException(status_code=404) from None
    ctx.audit("tip_unlink", target=tip_id, entity=entity_id)
    return ctx.redirect(f"/tips/{tip_id}")


@router.post("/tips/{tip_id}/status")
def tip_status(
    request: Request, tip_id: str, csrf_token: Csrf = "", status: Annotated[str, Form(max_length=20)] = "triaged"
) -> Response:
    ctx = _triager(request)
    ctx.check_csrf(csrf_token)
    try:
        ctx.security.tips.set_status(tip_id, status, by=ctx.principal.username, now=now())
    except AccountError:
        raise HTTPException(status_code=404) from None
    ctx.audit("tip_status", target=tip_id, status=status)
    return ctx.redirect(f"/tips/{tip_id}")


@router.post("/tips/{tip_id}/contact")
def tip_contact(request: Request, tip_id: str, csrf_token: Csrf = "") -> Response:
    """Show the tipster's contact: admins and caseworkers only; every reading is audited."""
    ctx = _triager(request)
    ctx.check_csrf(csrf_token)
    if ctx.security.tips.get(tip_id) is None:
        raise HTTPException(status_code=404)
    try:
        contact = ctx.guard.tip_contact(ctx.principal, tip_id, address=ctx.address)
    except PermissionError:
        raise HTTPException(
            status_code=403, detail=ctx._(_("Only admins and caseworkers may read a tipster's contact."))
        ) from None
    return _tip_page(ctx, tip_id, contact=contact or ctx._(_("No contact was given.")))


@router.post("/tips/{tip_id}/case")
def tip_to_case(request: Request, tip_id: str, csrf_token: Csrf = "") -> Response:
    """Open a victim case from a tip (caseworkers and admins): labelled by the tip's code, handled by
    whoever opens it, its first step a note that says which tip it came from."""
    ctx = _triager(request)
    ctx.check_csrf(csrf_token)
    if ctx.principal.role not in (Role.ADMIN, Role.CASEWORKER):
        raise HTTPException(status_code=403, detail=ctx._(_("Only caseworkers and admins handle victim cases.")))
    tip = ctx.security.tips.get(tip_id)
    if tip is None:
        raise HTTPException(status_code=404)
    at = now()
    case = ctx.security.assistance.open_case(
        label=f"TIP-{tip_id[:8]}", caseworker=ctx.principal.username, by=ctx.principal.username, now=at
    )
    ctx.security.assistance.add_step(
        case.id, kind="note", state="written", on=at.date(), by=ctx.principal.username, now=at,
        note=f"Opened from tip {tip_id}",
    )  # fmt: skip
    ctx.audit("open_case", target=case.id, tip=tip_id)
    return ctx.redirect(f"/cases/{case.id}")
