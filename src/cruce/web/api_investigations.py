"""Investigation cases on the REST API: /api/v1/investigations… (``read`` scope; the case's marking and
the caller's roles decide the rest, as on the pages — ``cruce.investigations.access``).

A case the caller is not a member of is a 404, as if it did not exist. A change the caller's role
does not allow is a 403; a change that breaks a rule of the case (its last lead removed) is a 409.
Records are named through the guard, protected values redacted; notes and tasks come as written.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from cruce.graph import explorer
from cruce.graph.graph import open_graph, view_for
from cruce.graph.present import GuardNamer
from cruce.investigations.access import Desk, NotFound, Opened
from cruce.investigations.attachments import AttachmentError
from cruce.investigations.package import releasable
from cruce.investigations.store import Attachment, CaseError, Investigation, Member, Note, Task
from cruce.reports.briefing import case_briefing, entity_briefing
from cruce.schema.loader import default_schema
from cruce.security import Principal
from cruce.timeline import timeline_of
from cruce.timeline.present import timeline_out
from cruce.web.api import (
    BODY_ERRORS,
    ERRORS,
    NOT_FOUND,
    USERNAME,
    AuditEntryOut,
    Problem,
    Reader,
    Strict,
    Utc,
    _no_unknown_query_parameters,
)
from cruce.web.api_graph_charts import ChartBody
from cruce.web.context import client_address, services_of
from cruce.web.pages_investigations import attachment_response, package_response, report_response

router = APIRouter(
    prefix="/investigations", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)],
    tags=["investigations"],
)  # fmt: skip
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem, "description": "Against a rule of the case."}}
FORBIDDEN_OR_MISSING = {**NOT_FOUND, **CONFLICT}
CaseId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The case's id (32 hex digits).")]
SubId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Username = Annotated[str, Path(min_length=1, max_length=100, pattern=USERNAME)]
Text = Annotated[str, Field(max_length=5000)]
Title = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S")]
EntityId = Annotated[str, Field(min_length=1, max_length=100)]
Marking = Literal["clear", "green", "amber", "red"]
Day = Annotated[
    str,
    Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$", description="YYYY-MM-DD", examples=["2030-01-31"]),
]
REPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "The briefing."}
}
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "The file, as a download."}
}


# -- models -----------------------------------------------------------------------------------------
class MemberOut(BaseModel):
    username: str
    role: Literal["lead", "editor", "reader"]
    added_by: str
    added_at: Utc


class SummaryOut(BaseModel):
    id: str
    title: str
    marking: Marking
    status: Literal["open", "closed"]
    role: Literal["lead", "editor", "reader"] | None = Field(description="Your role in it (none: an admin).")
    created_by: str
    created_at: Utc
    updated_at: Utc


class RecordOut(BaseModel):
    item: str
    id: str
    kind: Literal["entity", "event", "document"]
    schema_: str = Field(alias="schema")
    caption: str
    datasets: list[str]
    added_by: str
    added_at: Utc
    model_config = {"populate_by_name": True}


class SavedOut(BaseModel):
    item: str
    kind: Literal["search", "chart", "view"]
    label: str | None
    ref: str
    nodes: int | None = None
    added_by: str
    added_at: Utc


class InvestigationOut(SummaryOut):
    description: str
    members: list[MemberOut]
    material: bool = Field(description="Whether you may see the case's items, notes and attachments.")
    may_edit: bool
    may_manage: bool
    records: list[RecordOut]
    withheld: int = Field(description="Records of the case in datasets you may not see.")
    saved: list[SavedOut]


class InvestigationIn(Strict):
    title: Title
    description: Text = ""
    marking: Marking = "amber"


class InvestigationChange(Strict):
    title: Title | None = None
    description: Text | None = None
    marking: Marking | None = None
    status: Literal["open", "closed"] | None = None


class MemberIn(Strict):
    role: Literal["lead", "editor", "reader"]


class SearchIn(Strict):
    q: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]
    type: Annotated[str, Field(max_length=100)] | None = None
    dataset: Annotated[str, Field(max_length=200)] | None = None
    flow: Literal["firearms", "drugs", "people"] | None = None
    label: Annotated[str, Field(max_length=200)] | None = None


class ViewIn(Strict):
    path: Annotated[
        str,
        Field(
            max_length=1000,
            pattern=r"^/(firearms|drugs-violence|people/statistics|organizations|graph|search|timeline)"
            r"(/[A-Za-z0-9._~%/-]*)?([?#][^\\]*)?$",
            description="A page of cruce: /firearms, /drugs-violence, /people/statistics, /organizations, /graph…",
        ),
    ]
    label: Annotated[str, Field(max_length=200)] = ""


class ChartIn(Strict):
    name: Annotated[str, Field(max_length=200)] = ""
    chart: ChartBody


class ItemsIn(Strict):
    entities: Annotated[list[EntityId], Field(max_length=1000)] = Field(default_factory=list)
    search: SearchIn | None = None
    view: ViewIn | None = None
    chart: ChartIn | None = None
    saved_chart: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")] | None = Field(
        default=None, description="One of your saved network charts, copied into the case."
    )


class ItemsAdded(BaseModel):
    added: list[str] = Field(description="The ids of the items added.")
    already: int = Field(description="Records that were in the case already.")


class NoteIn(Strict):
    body: Annotated[str, Field(min_length=1, max_length=5000, pattern=r"\S")]


class NoteOut(BaseModel):
    id: str
    body: str
    mentions: list[str]
    author: str
    created_at: Utc


class TaskIn(Strict):
    title: Title
    owner: Annotated[str, Field(max_length=100)] = ""
    due: Day | None = None


class TaskChange(Strict):
    state: Literal["open", "doing", "done"] | None = None
    owner: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    due: Day | None = None


class TaskOut(BaseModel):
    id: str
    title: str
    owner: str
    due: date | None
    state: Literal["open", "doing", "done"]
    created_by: str
    created_at: Utc
    updated_at: Utc


class AttachmentOut(BaseModel):
    id: str
    filename: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: Utc


class NetworkNodeOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    flows: list[str]
    degree: int
    model_config = {"populate_by_name": True}


class NetworkEdgeOut(BaseModel):
    source: str
    target: str
    type: str
    count: int
    first: str | None
    last: str | None
    flows: list[str]
    datasets: list[str]
    records: list[str]


class NetworkOut(BaseModel):
    nodes: list[NetworkNodeOut]
    edges: list[NetworkEdgeOut]


# -- helpers ----------------------------------------------------------------------------------------
def _desk(request: Request, principal: Principal) -> Desk:
    return Desk(services_of(request).view().guard, principal, address=client_address(request))


def _summary(case: Investigation, role: str | None) -> dict[str, Any]:
    return {
        "id": case.id, "title": case.title, "marking": case.marking.value, "status": case.status, "role": role,
        "created_by": case.created_by, "created_at": case.created_at, "updated_at": case.updated_at,
    }  # fmt: skip


def _member(m: Member) -> MemberOut:
    return MemberOut(username=m.username, role=m.role, added_by=m.added_by, added_at=m.added_at)


def _case_out(desk: Desk, opened: Opened) -> InvestigationOut:
    material = desk.material(opened)
    records = [
        RecordOut(item=r.item.id, id=r.item.ref, kind=r.item.kind, schema_=r.entity.schema, caption=r.caption,
                  datasets=list(r.entity.datasets), added_by=r.item.added_by, added_at=r.item.added_at)
        for r in material.records if r.entity is not None
    ]  # fmt: skip
    saved = [
        SavedOut(item=i.id, kind=i.kind, label=i.label, ref=i.ref if i.kind != "chart" else i.id,
                 nodes=len((i.data or {}).get("nodes") or []) if i.kind == "chart" else None, added_by=i.added_by,
                 added_at=i.added_at)
        for i in (*material.searches, *material.charts, *material.views)
    ]  # fmt: skip
    return InvestigationOut(
        **_summary(opened.case, opened.role), description=opened.case.description,
        members=[_member(m) for m in opened.members], material=opened.material, may_edit=opened.edit,
        may_manage=opened.manage, records=records, withheld=material.withheld, saved=saved,
    )  # fmt: skip


def _note(n: Note) -> NoteOut:
    return NoteOut(id=n.id, body=n.body, mentions=list(n.mentions), author=n.author, created_at=n.created_at)


def _task(t: Task) -> TaskOut:
    return TaskOut(id=t.id, title=t.title, owner=t.owner, due=t.due, state=t.state, created_by=t.created_by,
                   created_at=t.created_at, updated_at=t.updated_at)  # fmt: skip


def _attachment(a: Attachment) -> AttachmentOut:
    return AttachmentOut(id=a.id, filename=a.filename, media_type=a.media_type, size=a.size, sha256=a.sha256,
                         uploaded_by=a.uploaded_by, uploaded_at=a.uploaded_at)  # fmt: skip


def _day(text: str | None) -> date | None:
    """A due date; one the calendar does not have (30 February) is a conflict with it (409)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=409, detail="Not a day of the calendar.") from None


def _run(action: Any) -> Any:
    """A desk call, its refusals as HTTP errors."""
    try:
        return action()
    except NotFound:
        raise HTTPException(status_code=404, detail="No such case, item or user, or you may not see it.") from None
    except PermissionError:
        raise HTTPException(status_code=403, detail="Your role in this case does not allow this.") from None
    except CaseError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None


def _material(desk: Desk, case_id: str) -> Opened:
    opened: Opened = _run(lambda: desk.open(case_id, audit=False))
    if not opened.material:
        raise HTTPException(
            status_code=403, detail="At this marking your role does not let you see the case's material."
        )
    return opened


# -- cases ------------------------------------------------------------------------------------------
@router.get("", response_model=list[SummaryOut])
def list_cases(request: Request, principal: Reader) -> list[SummaryOut]:
    """The cases you are a member of (every case for an admin), most recently changed first."""
    return [SummaryOut(**_summary(c, r)) for c, r in _desk(request, principal).visible_cases()]


@router.post("", response_model=InvestigationOut, status_code=201, responses=BODY_ERRORS)
def create_case(request: Request, principal: Reader, body: InvestigationIn) -> InvestigationOut:
    """Open a case; you are its lead. Viewers do not open cases (403)."""
    desk = _desk(request, principal)
    case = _run(lambda: desk.create(body.title, body.description, body.marking))
    return _case_out(desk, desk.open(case.id, audit=False))


@router.get("/{case_id}", response_model=InvestigationOut, responses=NOT_FOUND)
def get_case(request: Request, principal: Reader, case_id: CaseId) -> InvestigationOut:
    """A case with its members and what it gathers, records named through the guard (audited)."""
    desk = _desk(request, principal)
    return _case_out(desk, _run(lambda: desk.open(case_id)))


@router.patch("/{case_id}", response_model=InvestigationOut, responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS})
def change_case(request: Request, principal: Reader, case_id: CaseId, change: InvestigationChange) -> InvestigationOut:
    """Change the title, description, marking or status (the case's leads and admins)."""
    desk = _desk(request, principal)
    _run(lambda: desk.update(case_id, **change.model_dump()))
    return _case_out(desk, desk.open(case_id, audit=False))


@router.put(
    "/{case_id}/members/{username}", response_model=MemberOut, responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS}
)
def set_member(request: Request, principal: Reader, case_id: CaseId, username: Username, body: MemberIn) -> MemberOut:
    """Add a member or change their role (leads and admins); a case keeps at least one lead (409)."""
    desk = _desk(request, principal)
    return _member(_run(lambda: desk.set_member(case_id, username, body.role)))


@router.delete("/{case_id}/members/{username}", status_code=204, responses=FORBIDDEN_OR_MISSING)
def remove_member(request: Request, principal: Reader, case_id: CaseId, username: Username) -> Response:
    desk = _desk(request, principal)
    _run(lambda: desk.remove_member(case_id, username))
    return Response(status_code=204)


# -- items ------------------------------------------------------------------------------------------
@router.post("/{case_id}/items", response_model=ItemsAdded, status_code=201,
             responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS})  # fmt: skip
def add_items(request: Request, principal: Reader, case_id: CaseId, body: ItemsIn) -> ItemsAdded:
    """Add records you may see (by id), a saved search, a dashboard view, a chart, or one of your saved charts."""
    desk = _desk(request, principal)

    def run() -> ItemsAdded:
        added: list[str] = []
        already = 0
        if body.entities:
            items, already = desk.add_records(case_id, body.entities)
            added += [i.id for i in items]
        if body.search is not None:
            s = body.search
            filters = {k: v for k, v in (("type", s.type), ("dataset", s.dataset), ("flow", s.flow)) if v}
            added.append(desk.add_search(case_id, s.q, filters, s.label).id)
        if body.view is not None:
            added.append(desk.add_view(case_id, body.view.path, body.view.label).id)
        if body.chart is not None:
            added.append(desk.add_chart(case_id, body.chart.name, body.chart.chart.model_dump()).id)
        if body.saved_chart is not None:
            added.append(desk.add_saved_chart(case_id, body.saved_chart).id)
        if not added and not already:
            desk.open(case_id, audit=False)  # a 404 for a case you may not open, even with nothing to add
        return ItemsAdded(added=added, already=already)

    result: ItemsAdded = _run(run)
    return result


@router.delete("/{case_id}/items/{item_id}", status_code=204, responses=FORBIDDEN_OR_MISSING)
def remove_item(request: Request, principal: Reader, case_id: CaseId, item_id: SubId) -> Response:
    desk = _desk(request, principal)
    _run(lambda: desk.remove_item(case_id, item_id))
    return Response(status_code=204)


# -- notes, tasks -----------------------------------------------------------------------------------
@router.get("/{case_id}/notes", response_model=list[NoteOut], responses=NOT_FOUND)
def notes(request: Request, principal: Reader, case_id: CaseId) -> list[NoteOut]:
    desk = _desk(request, principal)
    return [_note(n) for n in desk.notes(_material(desk, case_id))]


@router.post("/{case_id}/notes", response_model=NoteOut, status_code=201,
             responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS})  # fmt: skip
def add_note(request: Request, principal: Reader, case_id: CaseId, body: NoteIn) -> NoteOut:
    """A note; @name mentions a member (listed on their Investigations page)."""
    desk = _desk(request, principal)
    return _note(_run(lambda: desk.add_note(case_id, body.body)))


@router.get("/{case_id}/tasks", response_model=list[TaskOut], responses=NOT_FOUND)
def tasks(request: Request, principal: Reader, case_id: CaseId) -> list[TaskOut]:
    desk = _desk(request, principal)
    return [_task(t) for t in desk.tasks(_run(lambda: desk.open(case_id, audit=False)))]


@router.post("/{case_id}/tasks", response_model=TaskOut, status_code=201,
             responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS})  # fmt: skip
def add_task(request: Request, principal: Reader, case_id: CaseId, body: TaskIn) -> TaskOut:
    """A task for a member of the case (you, when no owner is given)."""
    desk = _desk(request, principal)
    due = _day(body.due)
    return _task(_run(lambda: desk.add_task(case_id, body.title, body.owner, due)))


@router.patch("/{case_id}/tasks/{task_id}", response_model=TaskOut, responses={**FORBIDDEN_OR_MISSING, **BODY_ERRORS})
def change_task(request: Request, principal: Reader, case_id: CaseId, task_id: SubId, body: TaskChange) -> TaskOut:
    """Move a task on, reassign it or change its due date (editors, and the task's owner)."""
    desk = _desk(request, principal)
    due = _day(body.due)
    return _task(_run(lambda: desk.update_task(case_id, task_id, state=body.state, owner=body.owner, due=due)))


# -- attachments ------------------------------------------------------------------------------------
@router.get("/{case_id}/attachments", response_model=list[AttachmentOut], responses=NOT_FOUND)
def attachments(request: Request, principal: Reader, case_id: CaseId) -> list[AttachmentOut]:
    desk = _desk(request, principal)
    return [_attachment(a) for a in desk.attachments(_material(desk, case_id))]


@router.post(
    "/{case_id}/attachments", response_model=AttachmentOut, status_code=201,
    responses={
        **FORBIDDEN_OR_MISSING, **BODY_ERRORS, 413: {"model": Problem, "description": "File too large."},
        415: {"model": Problem, "description": "Not a kind of file a case accepts, or not what its name says."},
    },
)  # fmt: skip
def attach(
    request: Request,
    principal: Reader,
    case_id: CaseId,
    file: Annotated[UploadFile, File(description="PDF, PNG, JPEG, GIF, WebP, text, CSV, DOCX, XLSX or PPTX")],
) -> AttachmentOut:
    """Attach a file: its type is found from its bytes and must match its name; it is kept under a
    random name and only ever served back as a download."""
    desk = _desk(request, principal)
    settings = services_of(request).settings
    try:
        saved = _run(lambda: desk.attach(case_id, file.file, file.filename, settings.upload_dir,
                                         settings.max_upload_bytes))  # fmt: skip
    except AttachmentError as exc:
        raise HTTPException(
            status_code=exc.status, detail=str(exc).format(mb=settings.max_upload_bytes // (1024 * 1024))
        ) from None
    return _attachment(saved)


@router.get("/{case_id}/attachments/{attachment_id}", response_class=Response, responses={**DOWNLOAD, **NOT_FOUND})
def download(request: Request, principal: Reader, case_id: CaseId, attachment_id: SubId) -> Response:
    """The file as a download (``Content-Disposition: attachment``, ``nosniff``, a sandbox); audited."""
    desk = _desk(request, principal)
    settings = services_of(request).settings
    attachment, path = _run(lambda: desk.attachment_file(case_id, attachment_id, settings.upload_dir))
    return attachment_response(path.read_bytes(), attachment.media_type, attachment.filename)


# -- timeline, network, activity, report ------------------------------------------------------------
@router.get("/{case_id}/timeline", responses=NOT_FOUND)
def timeline(
    request: Request, principal: Reader, case_id: CaseId, lang: Annotated[Literal["en", "es"], Query()] = "en"
) -> dict[str, Any]:
    """The events of the case's records in order (the shape of ``/entities/{id}/timeline``)."""
    desk = _desk(request, principal)
    opened = _material(desk, case_id)
    ids = desk.record_ids(opened)
    tl = timeline_of(desk.guard, principal, ids, lang=lang, address=desk.address) if ids else None
    if tl is None:
        return {"items": [], "undated": []}
    return timeline_out(tl, lang)


@router.get("/{case_id}/network", response_model=NetworkOut, responses=NOT_FOUND)
def network(request: Request, principal: Reader, case_id: CaseId) -> Any:
    """The case's records that are in the network (as you may see it) and the links among them."""
    desk = _desk(request, principal)
    opened = _material(desk, case_id)
    namer = GuardNamer(desk.guard, principal, desk.address)
    g = view_for(open_graph(desk.guard.store), namer.access.visible)
    return explorer.among(g, namer, desk.record_ids(opened))


@router.get("/{case_id}/activity", response_model=list[AuditEntryOut], responses=NOT_FOUND)
def activity(
    request: Request, principal: Reader, case_id: CaseId, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[AuditEntryOut]:
    """The case's history from the audit log, newest first."""
    desk = _desk(request, principal)
    opened = _material(desk, case_id)
    return [
        AuditEntryOut(seq=e.seq, at=e.at, actor=e.actor, address=e.address, action=e.action, target=e.target,
                      detail=e.detail, outcome=e.outcome)
        for e in desk.activity(opened, limit=limit)
    ]  # fmt: skip


@router.get("/{case_id}/report", response_class=Response, responses={**REPORT_CONTENT, **NOT_FOUND})
def report(
    request: Request,
    principal: Reader,
    case_id: CaseId,
    lang: Annotated[Literal["en", "es"], Query(description="The report's language, whatever yours.")] = "en",
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    """The case's briefing as PDF or HTML (audited), with the marking on every page."""
    desk = _desk(request, principal)
    briefing = _run(lambda: case_briefing(desk, case_id, lang))
    desk.audit("report", case_id, lang=lang, format=format, marking=briefing.marking.value, api=True)
    return report_response(briefing, format)


PACKAGE_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "The case package (a ZIP file)."},
    422: {"model": Problem, "description": "A property to release that is not a protected one."},
}
PROTECTED_NAMES = sorted(releasable(default_schema()))
PropertyName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$", json_schema_extra={"enum": PROTECTED_NAMES})
]


@router.get("/{case_id}/package", response_class=Response, responses={**PACKAGE_CONTENT, **NOT_FOUND})
def package(
    request: Request,
    principal: Reader,
    case_id: CaseId,
    lang: Annotated[Literal["en", "es"], Query(description="The briefing's language, whatever yours.")] = "en",
    format: Annotated[Literal["pdf", "html"], Query(description="The briefing's format.")] = "pdf",
    release: Annotated[
        list[PropertyName] | None,
        Query(max_length=20, description="Protected properties to release (only values you may see); audited."),
    ] = None,
) -> Response:
    """The case as a package for another cruce: FtM entities with their sources, the briefing, a manifest
    with SHA-256 hashes (``cruce investigations import``). Protected values only when released."""
    from cruce.investigations.package import PackageError

    desk = _desk(request, principal)
    try:
        response: Response = _run(lambda: package_response(desk, case_id, lang, format, release or ()))
    except PackageError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    return response


entity_router = APIRouter(
    responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["investigations"]
)


@entity_router.get("/entities/{entity_id}/report", response_class=Response, responses={**REPORT_CONTENT, **NOT_FOUND})
def entity_report(
    request: Request,
    principal: Reader,
    entity_id: Annotated[str, Path(max_length=100)],
    lang: Annotated[Literal["en", "es"], Query()] = "en",
    format: Annotated[Literal["pdf", "html"], Query()] = "pdf",
) -> Response:
    """An entity's briefing (its values with their sources, its neighbourhood, timeline and places); audited."""
    view = services_of(request).view()
    briefing = entity_briefing(view.guard, principal, entity_id, lang, address=client_address(request))
    if briefing is None:
        raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")
    view.security.audit.record(
        principal.username, "entity_report", target=entity_id, address=client_address(request),
        detail={"lang": lang, "format": format, "marking": briefing.marking.value, "api": True},
    )  # fmt: skip
    return report_response(briefing, format)
