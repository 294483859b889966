"""The pages: sign-in, the language switch, home, search, entity, export and import."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from cruce.export import write_csv
from cruce.ingest.compile import REASONS
from cruce.ingest.mapping import builtin_mappings
from cruce.jobs import Job
from cruce.schema.model import prop_label, type_label
from cruce.security import Role
from cruce.security.audit import now
from cruce.web.context import (
    CSRF_FIELD,
    IDLE_MINUTES,
    SESSION_COOKIE,
    Ctx,
    page,
    safe_next,
)
from cruce.web.i18n import LANG_COOKIE
from cruce.web.i18n import mark as _
from cruce.web.uploads import UploadError, save_upload
from cruce.web.views import counts_by_flow, entity_view, open_cases

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
SIGNIN_FAILED = _("The user name or the password is wrong.")
LOCKED = _("Too many failed sign-ins: this account is locked for 10 minutes.")


# -- signing in and out -----------------------------------------------------------------------
@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: str = "/") -> Response:
    ctx = page(request, signed_in=False)
    if ctx.session and ctx.session.second_factor_done:
        return ctx.redirect(safe_next(next))
    return ctx.render("signin.html", next=safe_next(next), username="", idle_minutes=IDLE_MINUTES)


@router.post("/signin")
def signin(
    request: Request,
    csrf_token: Csrf = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = page(request, signed_in=False)
    ctx.check_csrf(csrf_token)
    accounts = ctx.security.accounts
    user, outcome = accounts.authenticate(username, password, now=now())
    if user is None:
        ctx.security.audit.record(username.strip().lower()[:200] or "-", "signin", outcome=outcome, address=ctx.address)
        message = LOCKED if outcome == "locked" else SIGNIN_FAILED
        return ctx.render(
            "signin.html", status_code=401, error=ctx._(message), next=safe_next(next), username=username,
            idle_minutes=IDLE_MINUTES,
        )  # fmt: skip
    old = request.cookies.get(SESSION_COOKIE)
    session = ctx.security.sessions.start(user.id, now=now(), second_factor_done=not user.has_totp, replaces=old)
    ctx.security.audit.record(
        user.username, "signin", outcome="ok" if not user.has_totp else "password_ok", address=ctx.address
    )
    ctx.cookies.append((SESSION_COOKIE, session.token, None))
    ctx.cookies.append((LANG_COOKIE, user.language, 365 * 24 * 3600))
    ctx.set_csrf_cookie = False
    if user.has_totp:
        return ctx.redirect(f"/signin/totp?{urlencode({'next': safe_next(next)})}")
    return ctx.redirect(safe_next(next))


@router.get("/signin/totp", response_class=HTMLResponse)
def totp_form(request: Request, next: str = "/") -> Response:
    ctx = page(request, signed_in=False)
    if ctx.session is None:
        return ctx.redirect("/signin")
    return ctx.render("totp.html", next=safe_next(next))


@router.post("/signin/totp")
def totp(
    request: Request,
    csrf_token: Csrf = "",
    code: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = page(request, signed_in=False)
    if ctx.session is None:
        return ctx.redirect("/signin")
    ctx.check_csrf(csrf_token)
    principal = ctx.session.principal
    if not ctx.security.accounts.check_totp(principal.user_id, code, now=now()):
        ctx.audit("signin_totp", outcome="bad")
        return ctx.render("totp.html", status_code=401, error=ctx._(_("The code is wrong.")), next=safe_next(next))
    ctx.security.sessions.complete_second_factor(request.cookies.get(SESSION_COOKIE, ""))
    ctx.audit("signin_totp")
    return ctx.redirect(safe_next(next))


@router.post("/signout")
def signout(request: Request, csrf_token: Csrf = "") -> Response:
    ctx = page(request, signed_in=False)
    if ctx.session is not None:
        ctx.check_csrf(csrf_token)
        ctx.audit("signout")
        ctx.security.sessions.end(request.cookies.get(SESSION_COOKIE, ""))
    response = ctx.redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
def language(
    request: Request,
    csrf_token: Csrf = "",
    lang: Annotated[str, Form(max_length=5)] = "en",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    ctx = page(request, signed_in=False)
    ctx.check_csrf(csrf_token)
    if lang not in ("en", "es"):
        raise HTTPException(status_code=422)
    if ctx.session is not None:
        ctx.security.accounts.set_language(ctx.session.principal.user_id, lang)
    ctx.cookies.append((LANG_COOKIE, lang, 365 * 24 * 3600))
    return ctx.redirect(safe_next(next))


# -- home, search, entity ---------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    ctx = page(request)
    p = ctx.principal
    counts = ctx.guard.counts_by_schema(p)
    types = [(name, type_label(ctx.guard.schema, name, ctx.lang), n) for name, n in counts.items()]
    new_tips = ctx.security.tips.count("new") if ctx.guard.may_triage(p) else None
    return ctx.render(
        "home.html",
        flows=counts_by_flow(counts),
        types=sorted(types, key=lambda t: -t[2]),
        imports=ctx.guard.imports(p, limit=10),
        cases=open_cases(ctx.guard, p),
        new_tips=new_tips,
    )


def _search_types(ctx: Ctx) -> list[tuple[str, str]]:
    return sorted(
        ((t.name, t.label.get(ctx.lang)) for t in ctx.guard.schema.concrete()), key=lambda pair: pair[1].lower()
    )


def place_label(code: str, lang: str) -> str:
    """A country or state code (``MX``, ``MX-SON``) by its name in ``lang``; the code if unknown."""
    from cruce.schema.places import country_name, state_name

    try:
        return state_name(code, lang) if "-" in code else country_name(code, lang)
    except (KeyError, LookupError, ValueError):
        return code


FACET_FILTERS = ("type", "dataset", "flow", "place", "year")


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    q: Annotated[str, Query(max_length=500)] = "",
    type: Annotated[str, Query(max_length=100)] = "",
    dataset: Annotated[str, Query(max_length=200)] = "",
    flow: Annotated[str, Query(max_length=20)] = "",
    place: Annotated[str, Query(max_length=20)] = "",
    year: Annotated[str, Query(max_length=4)] = "",
    date_from: Annotated[str, Query(max_length=10)] = "",
    date_to: Annotated[str, Query(max_length=10)] = "",
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Response:
    ctx = page(request)
    p = ctx.principal
    access = ctx.guard.access(p)  # once: the search and the dataset filter
    limit = 50
    results = None
    if q.strip():
        results = ctx.guard.search(
            p, q, schema=type or None, dataset=dataset or None, flow=flow or None, place=place or None,
            year=year or None, date_from=date_from or None, date_to=date_to or None, limit=limit, offset=offset,
            access=access,
        )  # fmt: skip
        if results.protected:  # a plain search is not audited; one that matched protected values is
            ctx.audit("search", query=q[:200], type=type or None, dataset=dataset or None)
    schema = ctx.guard.schema
    hits = [
        (
            h,
            type_label(schema, h.schema, ctx.lang),
            [(m, prop_label(schema, h.schema, m.prop, ctx.lang)) for m in h.matches],
        )
        for h in (results.hits if results else ())
    ]
    params: dict[str, Any] = {
        "q": q, "type": type, "dataset": dataset, "flow": flow, "place": place, "year": year,
        "date_from": date_from, "date_to": date_to,
    }  # fmt: skip

    def page_url(at: int) -> str:
        return "/search?" + urlencode({**{k: v for k, v in params.items() if v}, "offset": max(0, at)})

    def facet_url(name: str, value: str) -> str:
        """The same search narrowed to ``value`` of a facet (or widened again, with "")."""
        return "/search?" + urlencode({k: v for k, v in {**params, name: value}.items() if v})

    labels = {
        "type": lambda v: type_label(schema, v, ctx.lang),
        "place": lambda v: place_label(v, ctx.lang),
    }
    facets = [
        (name, [(value, labels.get(name, str)(value), n) for value, n in (results.facets.get(name) or {}).items()])
        for name in FACET_FILTERS
        if results is not None
    ]
    return ctx.render(
        "search.html", results=results, hits=hits, types=_search_types(ctx), datasets=sorted(access.visible),
        limit=limit, offset=offset, page_url=page_url, facet_url=facet_url, facets=facets, **params,
    )  # fmt: skip


@router.get("/entity/{entity_id}", response_class=HTMLResponse)
def entity(request: Request, entity_id: str) -> Response:
    ctx = page(request)
    view = entity_view(ctx.guard, ctx.principal, entity_id, ctx.lang, address=ctx.address)
    if view is None:
        raise HTTPException(status_code=404)
    return ctx.render("entity.html", e=view)


@router.get("/export")
def export(
    request: Request,
    type: Annotated[str, Query(max_length=100)],
    dataset: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Every visible record of a type as CSV, redacted as on the pages; the export is audited."""
    ctx = page(request)
    if type not in ctx.guard.schema.types or ctx.guard.schema.types[type].abstract:
        raise HTTPException(status_code=404)
    stype = ctx.guard.schema.types[type]
    buf = io.StringIO()
    # the guard has redacted what this user may not see, so every column can be written
    write_csv(ctx.guard.export_entities(ctx.principal, type, dataset or None, address=ctx.address), stype, buf, True)
    headers = {"Content-Disposition": f'attachment; filename="{type}.csv"'}
    return ctx.finish(Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=headers))


# -- import -----------------------------------------------------------------------------------
def _may_import(ctx: Ctx) -> None:
    if ctx.principal.role not in (Role.ADMIN, Role.ANALYST):
        raise HTTPException(status_code=403, detail=ctx._(_("Only analysts and admins can import files.")))


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request) -> Response:
    ctx = page(request)
    _may_import(ctx)
    jobs = request.app.state.jobs.mine(ctx.principal, kind="import", limit=20)
    return ctx.render(
        "import.html",
        mappings=sorted(builtin_mappings()),
        jobs=jobs,
        imports=ctx.guard.imports(ctx.principal, limit=20),
        max_mb=request.app.state.services.settings.max_upload_bytes // (1024 * 1024),
    )


@router.post("/import")
def import_upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    csrf_token: Csrf = "",
    mapping: Annotated[str, Form(max_length=200)] = "",
    dataset: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    ctx = page(request)
    _may_import(ctx)
    ctx.check_csrf(csrf_token)
    settings = request.app.state.services.settings
    if mapping not in builtin_mappings():
        raise HTTPException(status_code=422, detail=ctx._(_("Choose one of the built-in mappings.")))
    dataset = dataset.strip()
    if dataset and not all(c.isalnum() or c in "-_." for c in dataset):
        raise HTTPException(
            status_code=422, detail=ctx._(_("A dataset name has letters, digits, dots, hyphens and underscores only."))
        )
    try:
        path = save_upload(file.file, file.filename, settings.upload_dir, settings.max_upload_bytes)
    except UploadError as exc:
        ctx.audit("upload", outcome="refused", reason=str(exc)[:100])
        detail = ctx._(str(exc)).format(mb=settings.max_upload_bytes // (1024 * 1024))
        raise HTTPException(status_code=exc.status, detail=detail) from None
    job = request.app.state.jobs.start_import(ctx.principal, path, mapping, dataset or None, address=ctx.address)
    return ctx.redirect(f"/import/{job.id}")


def _job(ctx: Ctx, request: Request, job_id: str) -> Job:
    job: Job | None = request.app.state.jobs.get(ctx.principal, job_id)
    if job is None or job.kind != "import":
        raise HTTPException(status_code=404)
    return job


@router.get("/import/{job_id}", response_class=HTMLResponse)
def import_job(request: Request, job_id: str) -> Response:
    ctx = page(request)
    return ctx.render("import_job.html", job=_job(ctx, request, job_id))


@router.get("/import/{job_id}/progress", response_class=HTMLResponse)
def import_progress(request: Request, job_id: str) -> Response:
    ctx = page(request)
    return ctx.render("_job_progress.html", job=_job(ctx, request, job_id))


@router.get("/imports/{import_id}/rejects.csv")
def rejects_csv(request: Request, import_id: str) -> Response:
    """The rejected rows of one import, for the user to fix and import again (an export: audited)."""
    ctx = page(request)
    record = ctx.guard.find_import(ctx.principal, import_id)
    if record is None:
        raise HTTPException(status_code=404)
    ctx.audit("export_rejects", target=import_id, dataset=record.dataset)
    header = [ctx._(h) for h in (_("File"), _("Row"), _("Field"), _("Reason"), _("Value"))]
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for r in ctx.guard.rejects(ctx.principal, import_id=import_id):
        writer.writerow([r.source_file.rsplit("/", 1)[-1], r.source_row or "", r.field or "",
                         ctx._(REASONS.get(r.reason, r.reason)), r.value or ""])  # fmt: skip
    headers = {"Content-Disposition": f'attachment; filename="rejects-{import_id}.csv"'}
    return ctx.finish(Response(buf.getvalue(), media_type="text/csv; charset=utf-8", headers=headers))
