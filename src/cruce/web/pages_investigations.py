"""The pages of investigation cases: the list (/investigations), one case's workspace
(/investigations/{id}), its forms, its attachments and its briefing report; "Add to case" from the
search results, the entity page and the network explorer.

Not the victim-assistance cases of caseworkers (/cases, ``pages_cases``): an investigation case is
the analysts' shared workspace of issue #11. Every check, read and audit entry is ``Desk``'s
(``cruce.investigations.access``); this module turns its answers into pages, redirects and errors
in the reader's language. Forms post with the session's CSRF token; the explorer's JSON posts carry
it in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, FastAPI, File, Form, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from cruce.graph.charts import ChartError
from cruce.investigations.access import Desk, NotFound, Opened
from cruce.investigations.attachments import AttachmentError, content_disposition
from cruce.investigations.store import CASE_ROLES, TASK_STATES, CaseError
from cruce.reports import render
from cruce.reports.briefing import case_briefing, entity_briefing
from cruce.security import Role
from cruce.web.api import Strict
from cruce.web.api_graph_charts import ChartBody
from cruce.web.context import CSRF_FIELD, Ctx, SignInRequired, page, safe_next
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
CaseId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
ItemId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
Day = Annotated[str, Form(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
Lang = Annotated[str, Query(pattern=r"^(en|es)$")]
Format = Annotated[str, Query(pattern=r"^(html|pdf)$")]
CSRF_HEADER = "x-csrf-token"
MARKINGS = ("clear", "green", "amber", "red")
ROLE_LABELS = {"lead": _("lead"), "editor": _("editor"), "reader": _("reader")}
TASK_LABELS = {"open": _("to do"), "doing": _("under way"), "done": _("done")}
KIND_LABELS = {"entity": _("entity"), "event": _("event"), "document": _("document")}


def install(app: FastAPI) -> None:
    """Add the pages and make ``investigation_choices(ctx)`` available to the search, entity and
    network pages (their "Add to case" controls)."""
    app.include_router(router)
    app.state.templates.globals["investigation_choices"] = investigation_choices


def investigation_choices(ctx: Ctx) -> list[tuple[str, str]]:
    """(id, title) of the open cases the signed-in user may add to."""
    if ctx.session is None:
        return []
    desk = Desk(ctx.guard, ctx.principal, address=ctx.address)
    out = []
    for case, role in desk.visible_cases():
        if case.status != "open":
            continue
        if ctx.principal.role is Role.ADMIN or (role in ("lead", "editor") and ctx.principal.role is not Role.VIEWER):
            out.append((case.id, case.title))
    return out


def _desk(ctx: Ctx) -> Desk:
    return Desk(ctx.guard, ctx.principal, address=ctx.address)


def _opened(ctx: Ctx, case_id: str) -> Opened:
    try:
        return _desk(ctx).open(case_id)
    except NotFound:
        raise HTTPException(
            status_code=404, detail=ctx._(_("No such case, or you are not one of its members."))
        ) from None


def _refused(ctx: Ctx) -> HTTPException:
    return HTTPException(status_code=403, detail=ctx._(_("Your role in this case does not allow this.")))


def _labels(ctx: Ctx) -> dict[str, Any]:
    return {
        "role_labels": {k: ctx._(v) for k, v in ROLE_LABELS.items()},
        "task_labels": {k: ctx._(v) for k, v in TASK_LABELS.items()},
        "kind_labels": {k: ctx._(v) for k, v in KIND_LABELS.items()},
    }


# -- the list ---------------------------------------------------------------------------------------
@router.get("/investigations", response_class=HTMLResponse)
def investigations(request: Request) -> Response:
    """The cases the user is a member of (every case for an admin), and the notes that mention them."""
    return _investigations_page(page(request))


@router.post("/investigations")
def create(
    request: Request,
    csrf_token: Csrf = "",
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    marking: Annotated[str, Form(max_length=10)] = "amber",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    try:
        case = desk.create(title, description, marking)
    except PermissionError:
        raise HTTPException(status_code=403, detail=ctx._(_("Viewers do not open cases."))) from None
    except CaseError as exc:
        return _investigations_page(ctx, 422, ctx._(str(exc)))
    return ctx.redirect(f"/investigations/{case.id}")


# -- one case ---------------------------------------------------------------------------------------
def _case_page(ctx: Ctx, case_id: str, status_code: int = 200, **values: Any) -> Response:
    desk = _desk(ctx)
    opened = _opened(ctx, case_id)
    material = desk.material(opened, ctx.lang)
    return ctx.render(
        "investigation.html", status_code=status_code, o=opened, case=opened.case, mat=material,
        notes=desk.notes(opened), tasks=desk.tasks(opened), attachments=desk.attachments(opened),
        activity=desk.activity(opened, limit=50), markings=MARKINGS, roles=CASE_ROLES,
        task_states=TASK_STATES, today=date.today(), **_labels(ctx), **values,
    )  # fmt: skip


@router.get("/investigations/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: CaseId) -> Response:
    return _case_page(page(request), case_id)


@router.get("/investigations/{case_id}/figures", response_class=HTMLResponse)
def case_figures(request: Request, case_id: CaseId) -> Response:
    """The case's network and timeline: a fragment the case page loads after itself (htmx), or a
    page of its own without script."""
    ctx = page(request)
    desk = _desk(ctx)
    try:
        figures = case_briefing(desk, case_id, ctx.lang)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except PermissionError:
        raise _refused(ctx) from None
    if request.headers.get("hx-request"):
        return ctx.render("_investigation_figures.html", figures=figures)
    return ctx.render("investigation_figures.html", figures=figures, case_id=case_id)


def _act(ctx: Ctx, case_id: str, run: Any, message: str | None = None) -> Response:
    """Run a change; back to the case page, or the page again with the reason it was refused."""
    try:
        run()
    except NotFound:
        return _case_page(
            ctx, case_id, 404, error=ctx._(_("Not found: no such user, item or record that you may see."))
        )
    except PermissionError:
        raise _refused(ctx) from None
    except (CaseError, ChartError) as exc:
        return _case_page(ctx, case_id, 422, error=ctx._(str(exc)))
    return ctx.redirect(f"/investigations/{case_id}" + (f"?done={message}" if message else ""))


@router.post("/investigations/{case_id}/settings")
def settings(
    request: Request,
    case_id: CaseId,
    csrf_token: Csrf = "",
    title: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=5000)] = "",
    marking: Annotated[str, Form(max_length=10)] = "",
    status: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(
        ctx,
        case_id,
        lambda: desk.update(
            case_id, title=title or None, description=description, marking=marking or None, status=status or None
        ),
    )


@router.post("/investigations/{case_id}/members")
def add_member(
    request: Request,
    case_id: CaseId,
    csrf_token: Csrf = "",
    username: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form(max_length=10)] = "reader",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.set_member(case_id, username, role))


@router.post("/investigations/{case_id}/members/{username}/remove")
def remove_member(
    request: Request, case_id: CaseId, username: Annotated[str, Path(max_length=100)], csrf_token: Csrf = ""
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.remove_member(case_id, username))


@router.post("/investigations/{case_id}/items")
def add_items(
    request: Request,
    case_id: CaseId,
    csrf_token: Csrf = "",
    entity: Annotated[list[str] | None, Form(max_length=200)] = None,
    q: Annotated[str, Form(max_length=500)] = "",
    view: Annotated[str, Form(max_length=1000)] = "",
    chart: Annotated[str, Form(max_length=64)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add records (ticked on the search results, or the entity page's one), a saved search, a
    dashboard view or one of your saved charts; back to where the form was (``next``)."""
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    return _add(ctx, case_id, entity or [], q, view, chart, label, next)


@router.post("/investigations/items")
def add_items_to_chosen(
    request: Request,
    csrf_token: Csrf = "",
    case: Annotated[str, Form(max_length=32, pattern=r"^([0-9a-f]{32})?$")] = "",
    entity: Annotated[list[str] | None, Form(max_length=200)] = None,
    q: Annotated[str, Form(max_length=500)] = "",
    save_search: Annotated[str, Form(max_length=5)] = "",
    label: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """The "Add to case" forms of the search results and the entity page: the case is chosen in the form."""
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    if not case:
        raise HTTPException(status_code=422, detail=ctx._(_("Choose a case first.")))
    return _add(ctx, case, entity or [], q if save_search else "", "", "", label, next)


def _add(
    ctx: Ctx, case_id: str, entities: list[str], q: str, view: str, chart: str, label: str, next_url: str
) -> Response:
    desk = _desk(ctx)
    filters = dict(parse_qsl(urlsplit(next_url).query)) if next_url.startswith("/search") else {}
    added = 0
    try:
        if entities:
            new, _already = desk.add_records(case_id, entities)
            added += len(new)
        if q.strip():
            desk.add_search(case_id, q, filters, label or None)
            added += 1
        if view.strip():
            desk.add_view(case_id, view, label)
            added += 1
        if chart.strip():
            desk.add_saved_chart(case_id, chart.strip())
            added += 1
    except NotFound:
        raise HTTPException(
            status_code=404, detail=ctx._(_("Not found: no such case, or a record you may not see."))
        ) from None
    except PermissionError:
        raise _refused(ctx) from None
    except CaseError as exc:
        raise HTTPException(status_code=422, detail=ctx._(str(exc))) from None
    target = safe_next(next_url) if next_url else f"/investigations/{case_id}"
    sep = "&" if "?" in target else "?"
    return ctx.redirect(f"{target}{sep}added={added}&into={case_id}")


@router.post("/investigations/{case_id}/items/{item_id}/remove")
def remove_item(request: Request, case_id: CaseId, item_id: ItemId, csrf_token: Csrf = "") -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.remove_item(case_id, item_id))


@router.post("/investigations/{case_id}/notes")
def add_note(
    request: Request, case_id: CaseId, csrf_token: Csrf = "", body: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.add_note(case_id, body))


@router.post("/investigations/{case_id}/tasks")
def add_task(
    request: Request,
    case_id: CaseId,
    csrf_token: Csrf = "",
    title: Annotated[str, Form(max_length=200)] = "",
    owner: Annotated[str, Form(max_length=100)] = "",
    due: Day = "",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.add_task(case_id, title, owner, date.fromisoformat(due) if due else None))


@router.post("/investigations/{case_id}/tasks/{task_id}")
def update_task(
    request: Request,
    case_id: CaseId,
    task_id: ItemId,
    csrf_token: Csrf = "",
    state: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    return _act(ctx, case_id, lambda: desk.update_task(case_id, task_id, state=state or None))


@router.post("/investigations/import")
def import_package_page(
    request: Request, package: Annotated[UploadFile, File()], csrf_token: Csrf = ""
) -> Response:  # fmt: skip
    """A case package from another cruce (``cruce investigations export`` or the case page's
    *Package*), uploaded: every hash checked before anything is written, then opened as a new case
    you lead (a package imported before opens its case again, adding nothing)."""
    from cruce.investigations.package import PackageError, import_package

    ctx = page(request)
    ctx.check_csrf(csrf_token)
    desk = _desk(ctx)
    settings = ctx.services.settings
    with tempfile.TemporaryDirectory(prefix="cruce-package-upload-") as folder:
        path = FilePath(folder) / "package.zip"
        try:
            _save_package(package, path, settings.max_upload_bytes)
            done = import_package(desk, path)
        except PackageError as exc:
            return _investigations_page(ctx, 422, str(exc))  # names the file and the reason
        except _TooLargeError:
            text = ctx._(_("The file is larger than this server accepts ({mb} MB)."))
            return _investigations_page(ctx, 413, text.format(mb=settings.max_upload_bytes // (1024 * 1024)))
        except PermissionError:
            raise _refused(ctx) from None
    return ctx.redirect(f"/investigations/{done.case.id}?imported={'new' if done.new else 'again'}")


class _TooLargeError(ValueError):
    """An upload over the server's limit."""


def _save_package(upload: UploadFile, target: FilePath, max_bytes: int) -> None:
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise _TooLargeError
            out.write(chunk)


def _investigations_page(ctx: Ctx, status: int = 200, error: str | None = None) -> Response:
    """The list of cases (with an error above it, when a form was refused)."""
    desk = _desk(ctx)
    return ctx.render(
        "investigations.html", status_code=status, cases=desk.visible_cases(), mentions=desk.mentions()[:20],
        markings=MARKINGS, may_create=ctx.principal.role is not Role.VIEWER, error=error, **_labels(ctx),
    )  # fmt: skip


@router.post("/investigations/{case_id}/attachments")
def attach(request: Request, case_id: CaseId, file: Annotated[UploadFile, File()], csrf_token: Csrf = "") -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    settings = ctx.services.settings
    desk = _desk(ctx)
    try:
        desk.attach(case_id, file.file, file.filename, settings.upload_dir, settings.max_upload_bytes)
    except AttachmentError as exc:
        text = ctx._(str(exc)).format(mb=settings.max_upload_bytes // (1024 * 1024))
        return _case_page(ctx, case_id, exc.status, error=text)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except PermissionError:
        raise _refused(ctx) from None
    return ctx.redirect(f"/investigations/{case_id}#attachments")


@router.get("/investigations/{case_id}/attachments/{attachment_id}")
def download(request: Request, case_id: CaseId, attachment_id: ItemId) -> Response:
    """An attachment, as a download only: never shown inline, never sniffed, in a sandbox."""
    ctx = page(request)
    try:
        attachment, path = _desk(ctx).attachment_file(case_id, attachment_id, ctx.services.settings.upload_dir)
    except NotFound:
        raise HTTPException(status_code=404) from None
    return ctx.finish(attachment_response(path.read_bytes(), attachment.media_type, attachment.filename))


ATTACHMENT_POLICY = "sandbox; default-src 'none'; frame-ancestors 'none'"
"""An attachment opened anyway (a browser told to show it) runs nothing and loads nothing."""


def attachment_response(content: bytes, media_type: str, filename: str) -> Response:
    """A download only: ``attachment``, never sniffed, in a sandbox."""
    headers = {
        "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": ATTACHMENT_POLICY,
        "Cache-Control": "no-store",
    }
    return Response(content, media_type=media_type, headers=headers)


# -- reports ----------------------------------------------------------------------------------------
@router.get("/investigations/{case_id}/report")
def case_report(request: Request, case_id: CaseId, lang: Lang = "en", format: Format = "pdf") -> Response:
    """The case's briefing in the language chosen for it (not the page's), as HTML or PDF (audited)."""
    ctx = page(request)
    desk = _desk(ctx)
    try:
        briefing = case_briefing(desk, case_id, lang)
    except NotFound:
        raise HTTPException(status_code=404) from None
    except PermissionError:
        raise _refused(ctx) from None
    desk.audit("report", case_id, lang=lang, format=format, marking=briefing.marking.value)
    return ctx.finish(report_response(briefing, format))


@router.get("/entity/{entity_id}/report")
def entity_report(
    request: Request, entity_id: Annotated[str, Path(max_length=64)], lang: Lang = "en", format: Format = "pdf"
) -> Response:
    ctx = page(request)
    briefing = entity_briefing(ctx.guard, ctx.principal, entity_id, lang, address=ctx.address)
    if briefing is None:
        raise HTTPException(status_code=404)
    ctx.audit("entity_report", target=entity_id, lang=lang, format=format, marking=briefing.marking.value)
    return ctx.finish(report_response(briefing, format))


@router.get("/investigations/{case_id}/package")
def case_package(request: Request, case_id: CaseId, lang: Lang = "en", format: Format = "pdf") -> Response:
    """The case as a package for another cruce (no protected value released from the page; audited)."""
    ctx = page(request)
    desk = _desk(ctx)
    try:
        response = package_response(desk, case_id, lang, format, ())
    except NotFound:
        raise HTTPException(status_code=404) from None
    except PermissionError:
        raise _refused(ctx) from None
    return ctx.finish(response)


def package_response(desk: Desk, case_id: str, lang: str, fmt: str, release: Iterable[str]) -> Response:
    """The package as a download (``PackageError``, ``NotFound`` and ``PermissionError`` as ``export_case``)."""
    import tempfile

    from cruce.investigations.package import export_case

    with tempfile.TemporaryDirectory(prefix="cruce-package-") as folder:
        out = FilePath(folder) / "package.zip"
        done = export_case(desk, case_id, out, lang=lang, fmt=fmt, release=release)
        data = out.read_bytes()
    name = f"case-{done.package_id[:12]}.zip"
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})  # fmt: skip


def report_response(briefing: Any, fmt: str) -> Response:
    return Response(
        render.render(briefing, fmt), media_type=render.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{render.filename(briefing, fmt)}"'},
    )  # fmt: skip


# -- the network explorer's JSON --------------------------------------------------------------------
class ExplorerAdd(Strict):
    ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=5000)] = Field(
        default_factory=list
    )
    name: Annotated[str, Field(max_length=200)] = ""
    chart: ChartBody | None = None


@router.post("/investigations/{case_id}/explorer")
def add_from_explorer(request: Request, case_id: CaseId, body: ExplorerAdd) -> Response:
    """The explorer's selected entities (``ids``) and/or the whole chart (``chart``) added to a case."""
    try:
        ctx = page(request)
    except SignInRequired:
        raise HTTPException(status_code=401, detail="Sign in first.") from None
    ctx.check_csrf(request.headers.get(CSRF_HEADER))
    desk = _desk(ctx)
    try:
        added, already = desk.add_records(case_id, body.ids) if body.ids else ([], 0)
        chart = desk.add_chart(case_id, body.name, body.chart.model_dump()) if body.chart is not None else None
    except NotFound:
        return JSONResponse({"detail": ctx._(_("Not found: no such case, or a record you may not see."))}, 404)
    except PermissionError:
        return JSONResponse({"detail": ctx._(_("Your role in this case does not allow this."))}, 403)
    except CaseError as exc:
        return JSONResponse({"detail": ctx._(str(exc))}, 422)
    return JSONResponse({"added": len(added), "already": already, "chart": chart.id if chart else None}, 201)
