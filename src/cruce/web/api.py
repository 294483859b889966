"""The REST API under /api/v1: bearer tokens (``cruce users token``), scoped, every read through ``Guard``.

Scopes: ``read`` for reading, ``import`` for uploading files, ``triage`` for the tip queue,
``admin`` for users, markings and the audit log (and the role must allow it as well).
"""

from __future__ import annotations

import secrets
import typing
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cruce.ingest.compile import REASONS
from cruce.ingest.mapping import builtin_mappings
from cruce.jobs import Job
from cruce.security import REDACTED, AccountError, Marking, Principal, Role, Scope
from cruce.security.audit import now
from cruce.security.guard import caption
from cruce.web.context import client_address, services_of
from cruce.web.services import View
from cruce.web.uploads import UploadError, save_upload
from cruce.web.views import counts_by_flow, entity_view

bearer = HTTPBearer(auto_error=False, description="An API token made with `cruce users token USER`.")


class Problem(BaseModel):
    detail: Any


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No valid API token."},
    403: {"model": Problem, "description": "The token's scope or its user's role does not allow this."},
    422: {"model": Problem, "description": "Invalid parameters."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Not found, or not visible."}}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "Malformed request body."}}


def _no_unknown_query_parameters(request: Request) -> None:
    """A query parameter the endpoint does not know is an error (422), not silently ignored; so is
    a single-valued one given twice (which one was meant?)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    single: set[str] = set()
    todo = [dependant]
    while todo:
        current = todo.pop()
        for param in current.query_params:
            known.add(param.alias)
            if not _is_sequence(param.field_info.annotation):
                single.add(param.alias)
        todo.extend(current.dependencies)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise HTTPException(status_code=422, detail=f"Unknown query parameters: {', '.join(unknown)}")
    repeated = sorted(name for name in single if len(request.query_params.getlist(name)) > 1)
    if repeated:
        raise HTTPException(status_code=422, detail=f"Query parameters given more than once: {', '.join(repeated)}")


def _is_sequence(annotation: Any) -> bool:
    """A list (or a list or None) annotation: a parameter that may be repeated."""
    if typing.get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_sequence(arg) for arg in typing.get_args(annotation) if arg is not type(None))


router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)])


def _utc(value: datetime) -> datetime:
    """Times are stored as naive UTC; the API says so (RFC 3339 with Z)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Utc = Annotated[datetime, AfterValidator(_utc)]

Id = Annotated[str, Field(min_length=1, max_length=200)]


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None, scope: Scope) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise HTTPException(status_code=401, detail="An API token is required.", headers={"WWW-Authenticate": "Bearer"})
    principal = services_of(request).view().security.accounts.principal_for_token(credentials.credentials, now=now())
    if principal is None:
        raise HTTPException(
            status_code=401, detail="The API token is not valid.", headers={"WWW-Authenticate": "Bearer"}
        )
    if scope not in principal.scopes:
        raise HTTPException(status_code=403, detail=f"The token lacks the {scope.value} scope.")
    return principal


def _scoped(scope: Scope) -> Any:
    def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
    ) -> Principal:
        return _principal(request, credentials, scope)

    return Depends(dependency)


Reader = Annotated[Principal, _scoped(Scope.READ)]
Importer = Annotated[Principal, _scoped(Scope.IMPORT)]
Triager = Annotated[Principal, _scoped(Scope.TRIAGE)]
Admin = Annotated[Principal, _scoped(Scope.ADMIN)]


def _view(request: Request) -> View:
    return services_of(request).view()


def _lang(request: Request, principal: Principal) -> str:
    return principal.language if principal.language in ("en", "es") else "en"


def _require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise HTTPException(status_code=403, detail="Your role does not allow this.")


# -- models -----------------------------------------------------------------------------------
class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class MatchOut(BaseModel):
    word: str = Field(description="The query word, folded.")
    term: str = Field(description="The word of the value it matched, folded.")
    property: str
    value: str = Field(description="The value as the caller may see it (protected values redacted).")
    rule: Literal["exact", "stem", "variant", "fuzzy", "prefix"] = Field(
        description="exact word; same Spanish or English stem (free text); name variant (nickname, particle); "
        "typo; beginning of an identifier."
    )


class Hit(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    matched_property: str
    matched_value: str
    datasets: list[str]
    score: int = Field(description="Sum over the words matched of the rule's weight times the word's rarity.")
    matches: list[MatchOut] = Field(description="The best match of each query word the entity matched.")
    model_config = ConfigDict(populate_by_name=True)


class SearchOut(BaseModel):
    query: str
    total: int
    limit: int
    offset: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = Field(
        description="Hits in all, by type, dataset, flow, place (country or state code) and year."
    )


class ValueOut(BaseModel):
    property: str
    label: str
    value: str
    display: str
    redacted: bool
    entity: str | None = Field(description="The entity this value points at, if any.")
    dataset: str
    file: str
    row: int
    import_id: str
    imported_at: Utc


class RelatedOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    property: str
    direction: Literal["in", "out", "self"]
    date: str | None
    model_config = ConfigDict(populate_by_name=True)


class EntityOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    datasets: list[str]
    values: list[ValueOut]
    related: list[RelatedOut]
    timeline: list[RelatedOut]
    model_config = ConfigDict(populate_by_name=True)


class ReferenceOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    property: str
    caption: str
    model_config = ConfigDict(populate_by_name=True)


class CountsOut(BaseModel):
    by_type: dict[str, int]
    by_flow: dict[str, int]


class ImportOut(BaseModel):
    id: str
    dataset: str
    file: str
    mapping: str
    started_at: Utc
    finished_at: Utc | None
    rows_read: int
    rows_stored: int
    rows_rejected: int
    statements_added: int


class RejectOut(BaseModel):
    import_id: str
    dataset: str
    file: str
    row: int | None
    field: str | None
    reason: str
    reason_code: str
    value: str | None


class JobOut(BaseModel):
    id: str
    kind: Literal["import", "resolve"]
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    message: str | None = Field(description="What the job is doing now (English).")
    percent: int
    done: int = Field(description="Progress: bytes read of an import, steps of a resolution run.")
    total: int
    attempts: int = Field(description="Runs so far: more than 1 when the server stopped during one and it resumed.")
    created_at: Utc
    finished_at: Utc | None
    file: str | None = Field(description="An import's file.")
    mapping: str | None
    import_id: str | None
    dataset: str | None
    rows_stored: int | None
    rows_rejected: int | None
    type: str | None = Field(description="A resolution run's type.")
    clusters: int | None
    error: str | None
    result: dict[str, Any] | None = Field(description="Everything the finished job reports.")


class DatasetOut(BaseModel):
    name: str
    entities: int
    imports: int
    rejects: int
    marking: str
    groups: list[str]


class PolicyIn(Strict):
    marking: Literal["clear", "green", "amber", "red"]
    groups: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)


class TipOut(BaseModel):
    id: str
    received_at: Utc
    language: str
    what: str
    where: str | None
    when: str | None
    who: str | None
    has_contact: bool
    status: str
    linked_entities: list[str]
    triaged_by: str | None


class TriageIn(Strict):
    status: Literal["new", "triaged"] | None = None
    link: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)


class ContactOut(BaseModel):
    contact: str | None


class UserOut(BaseModel):
    username: str
    display_name: str
    role: str
    groups: list[str]
    language: str
    disabled: bool
    has_totp: bool


USERNAME = r"^[A-Za-z0-9._-]*[A-Za-z0-9][A-Za-z0-9._-]*$"  # a letter or digit at least (as accounts.add)


class UserIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=100, pattern=USERNAME)]
    role: Literal["admin", "analyst", "caseworker", "viewer"]
    display_name: Annotated[str, Field(max_length=200)] = ""
    groups: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)


class UserCreated(BaseModel):
    user: UserOut
    password: str = Field(description="The first password, shown only in this answer.")


class UserChange(Strict):
    """What an admin may change about another user."""

    role: Literal["admin", "analyst", "caseworker", "viewer"] | None = None
    groups: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(default=None, max_length=50)
    disabled: bool | None = None


class MeChange(Strict):
    """What users may change about themselves: their language, nothing else."""

    language: Literal["en", "es"]


class AuditEntryOut(BaseModel):
    seq: int
    at: Utc
    actor: str
    address: str | None
    action: str
    target: str | None
    detail: str | None
    outcome: str


class VerificationOut(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


def _user_out(user: Any) -> UserOut:
    return UserOut(
        username=user.username, display_name=user.display_name, role=user.role.value, groups=sorted(user.groups),
        language=user.language, disabled=user.disabled, has_totp=user.has_totp,
    )  # fmt: skip


def _tip_out(tip: Any) -> TipOut:
    return TipOut(
        id=tip.id, received_at=tip.received_at, language=tip.language, what=tip.what, where=tip.where,
        when=tip.when, who=tip.who, has_contact=tip.has_contact, status=tip.status,
        linked_entities=list(tip.linked_entities), triaged_by=tip.triaged_by,
    )  # fmt: skip


def job_out(job: Job) -> JobOut:
    r = job.result or {}
    p = job.params
    return JobOut(
        id=job.id, kind=job.kind, state=job.state, message=job.message, percent=job.percent,
        done=job.done, total=job.total, attempts=job.attempts, created_at=job.created_at,
        finished_at=job.finished_at, file=p.get("file"), mapping=p.get("mapping"), import_id=r.get("import_id"),
        dataset=r.get("dataset", p.get("dataset")), rows_stored=r.get("rows_stored"),
        rows_rejected=r.get("rows_rejected"), type=p.get("type"), clusters=r.get("clusters"), error=job.error,
        result=job.result,
    )  # fmt: skip


# -- reading ----------------------------------------------------------------------------------
@router.get("/search", response_model=SearchOut, tags=["read"])
def search(
    request: Request,
    principal: Reader,
    q: Annotated[str, Query(max_length=500, description="Words to find, accents and case aside.")],
    type: Annotated[str | None, Query(max_length=100)] = None,
    dataset: Annotated[str | None, Query(max_length=200)] = None,
    flow: Annotated[str | None, Query(max_length=20, description="firearms, drugs or people")] = None,
    place: Annotated[str | None, Query(max_length=20, description="Country or state code: MX, MX-SON")] = None,
    year: Annotated[str | None, Query(max_length=4, description="YYYY")] = None,
    date_from: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> SearchOut:
    """Entities matching the words, best first, each match explained, with facet counts of all hits."""
    view = _view(request)
    results = view.guard.search(
        principal, q, schema=type, dataset=dataset, flow=flow, place=place, year=year, date_from=date_from,
        date_to=date_to, limit=limit, offset=offset,
    )  # fmt: skip
    if results.protected:  # a plain search is not audited; one that matched protected values is
        view.security.audit.record(
            principal.username, "search", detail={"query": q[:200], "api": True}, address=client_address(request)
        )
    hits = [
        Hit(id=h.entity_id, schema_=h.schema, caption=h.caption, matched_property=h.matched_property,
            matched_value=h.matched_value, datasets=list(h.datasets), score=h.score,
            matches=[MatchOut(word=m.word, term=m.term, property=m.prop, value=m.value, rule=m.rule)
                     for m in h.matches])
        for h in results.hits
    ]  # fmt: skip
    return SearchOut(query=q, total=results.total, limit=limit, offset=offset, hits=hits, facets=results.facets)


@router.get("/entities/{entity_id}", response_model=EntityOut, responses=NOT_FOUND, tags=["read"])
def entity(request: Request, principal: Reader, entity_id: str) -> EntityOut:
    """An entity with every visible value and its provenance (dataset, file, row, import, date)."""
    view = _view(request)
    e = entity_view(view.guard, principal, entity_id, _lang(request, principal), address=client_address(request))
    if e is None:
        raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")

    def related(r: Any) -> RelatedOut:
        return RelatedOut(id=r.entity_id, schema_=r.schema, caption=r.caption, property=r.prop,
                          direction=r.direction, date=r.date)  # fmt: skip

    return EntityOut(
        id=e.id, schema_=e.schema, caption=e.caption, datasets=list(e.datasets),
        values=[
            ValueOut(property=r.prop, label=r.label, value=r.value, display=r.display, redacted=r.redacted,
                     entity=r.link, dataset=r.dataset, file=r.source_file, row=r.source_row, import_id=r.import_id,
                     imported_at=r.imported_at)
            for r in e.rows
        ],
        related=[related(r) for r in e.related], timeline=[related(r) for r in e.timeline],
    )  # fmt: skip


@router.get("/entities/{entity_id}/references", response_model=list[ReferenceOut], responses=NOT_FOUND, tags=["read"])
def references(request: Request, principal: Reader, entity_id: str) -> list[ReferenceOut]:
    view = _view(request)
    if view.guard.entity(principal, entity_id, address=client_address(request)) is None:
        raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")
    return [
        ReferenceOut(id=r.entity_id, schema_=r.schema, property=r.prop, caption=r.caption)
        for r in view.guard.references(principal, entity_id)
    ]


@router.get("/counts", response_model=CountsOut, tags=["read"])
def counts(request: Request, principal: Reader) -> CountsOut:
    by_type = _view(request).guard.counts_by_schema(principal)
    return CountsOut(by_type=by_type, by_flow=counts_by_flow(by_type))


@router.get("/datasets", response_model=list[DatasetOut], tags=["read"])
def datasets(request: Request, principal: Reader) -> list[DatasetOut]:
    guard = _view(request).guard
    policies = guard.policies()
    return [
        DatasetOut(name=d.name, entities=d.entities, imports=d.imports, rejects=d.rejects,
                   marking=policies[d.name].marking.value, groups=sorted(policies[d.name].groups))
        for d in guard.datasets(principal)
    ]  # fmt: skip


@router.get("/export/{type_name}", response_model=list[EntityOut], responses=NOT_FOUND, tags=["read"])
def export(
    request: Request, principal: Reader, type_name: str, dataset: Annotated[str | None, Query(max_length=200)] = None
) -> list[EntityOut]:
    """Every visible entity of a type, redacted as everywhere else (values without provenance); audited."""
    view = _view(request)
    stype = view.guard.schema.types.get(type_name)
    if stype is None or stype.abstract:
        raise HTTPException(status_code=404, detail="No such type.")
    out = []
    for e in view.guard.export_entities(principal, type_name, dataset, address=client_address(request)):
        values = [
            ValueOut(property=st.prop, label=st.prop, value=st.value, display=st.value,
                     redacted=st.value == REDACTED, entity=None, dataset=st.dataset,
                     file=st.source_file.rsplit("/", 1)[-1], row=int(st.source_row or 0), import_id=st.import_id,
                     imported_at=st.first_seen)
            for st in e.statements
        ]  # fmt: skip
        out.append(
            EntityOut(
                id=e.id,
                schema_=e.schema,
                caption=caption(e),
                datasets=e.datasets,
                values=values,
                related=[],
                timeline=[],
            )
        )
    return out


@router.get("/imports", response_model=list[ImportOut], tags=["imports"])
def imports(
    request: Request,
    principal: Reader,
    dataset: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[ImportOut]:
    return [
        ImportOut(id=r.id, dataset=r.dataset, file=r.source_file.rsplit("/", 1)[-1], mapping=r.mapping,
                  started_at=r.started_at, finished_at=r.finished_at, rows_read=r.rows_read, rows_stored=r.rows_stored,
                  rows_rejected=r.rows_rejected, statements_added=r.statements_added)
        for r in _view(request).guard.imports(principal, dataset, limit)
    ]  # fmt: skip


@router.get("/rejects", response_model=list[RejectOut], tags=["imports"])
def rejects(
    request: Request,
    principal: Reader,
    dataset: Annotated[str | None, Query(max_length=200)] = None,
    import_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[RejectOut]:
    out: list[RejectOut] = []
    from cruce.web.i18n import translator

    tr = translator(_lang(request, principal))
    for r in _view(request).guard.rejects(principal, dataset=dataset, import_id=import_id):
        out.append(
            RejectOut(import_id=r.import_id, dataset=r.dataset, file=r.source_file.rsplit("/", 1)[-1], row=r.source_row,
                      field=r.field, reason=tr(REASONS.get(r.reason, r.reason)), reason_code=r.reason, value=r.value)
        )  # fmt: skip
        if len(out) >= limit:
            break
    return out


@router.post(
    "/imports",
    response_model=JobOut,
    status_code=202,
    responses={
        **BODY_ERRORS,
        413: {"model": Problem, "description": "File too large."},
        415: {"model": Problem, "description": "Not a file type cruce imports."},
    },
    tags=["imports"],
)
def upload(
    request: Request,
    principal: Importer,
    file: Annotated[UploadFile, File(description="CSV, TSV, XLSX, JSON, JSONL or Parquet (optionally .gz)")],
    mapping: Annotated[
        str,
        Form(
            min_length=1,
            max_length=200,
            description="A built-in mapping (see `cruce mappings`).",
            json_schema_extra={"enum": sorted(builtin_mappings())},
        ),
    ],
    dataset: Annotated[str, Form(max_length=200, pattern=r"^[A-Za-z0-9._-]*$")] = "",
) -> JobOut:
    """Upload a file and import it in the background; poll ``/jobs/{id}`` for progress."""
    _require_role(principal, Role.ADMIN, Role.ANALYST)
    if mapping not in builtin_mappings():
        raise HTTPException(status_code=422, detail="Unknown mapping; use one of the built-in mappings.")
    services = services_of(request)
    settings = services.settings
    try:
        path = save_upload(file.file, file.filename, settings.upload_dir, settings.max_upload_bytes)
    except UploadError as exc:
        services.view().security.audit.record(
            principal.username, "upload", outcome="refused", address=client_address(request)
        )
        raise HTTPException(
            status_code=exc.status, detail=str(exc).format(mb=settings.max_upload_bytes // (1024 * 1024))
        ) from None
    job = request.app.state.jobs.start_import(
        principal, path, mapping, dataset or None, address=client_address(request)
    )
    return job_out(job)


# -- background jobs --------------------------------------------------------------------------
JobId = Annotated[str, FastPath(max_length=64)]


@router.get("/jobs", response_model=list[JobOut], tags=["jobs"])
def jobs(
    request: Request,
    principal: Reader,
    kind: Annotated[Literal["import", "resolve"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobOut]:
    """Your background jobs (imports, resolution runs), newest first."""
    return [job_out(j) for j in request.app.state.jobs.mine(principal, kind=kind, limit=limit)]


@router.get("/jobs/{job_id}", response_model=JobOut, responses=NOT_FOUND, tags=["jobs"])
def job(request: Request, principal: Reader, job_id: JobId) -> JobOut:
    """Progress and outcome of one of your jobs (an admin's: anyone's)."""
    found = request.app.state.jobs.get(principal, job_id)
    if found is None:
        raise HTTPException(status_code=404, detail="No such job.")
    return job_out(found)


@router.post("/jobs/{job_id}/cancel", response_model=JobOut, responses=NOT_FOUND, tags=["jobs"])
def cancel_job(request: Request, principal: Reader, job_id: JobId) -> JobOut:
    """Cancel a job: a waiting one at once, a running one at its next progress report (nothing of
    it is kept). A finished job stays as it is."""
    found = request.app.state.jobs.cancel(principal, job_id)
    if found is None:
        raise HTTPException(status_code=404, detail="No such job.")
    _view(request).security.audit.record(
        principal.username, "job_cancel", target=found.id, detail={"kind": found.kind},
        address=client_address(request),
    )  # fmt: skip
    return job_out(found)


# -- tips -------------------------------------------------------------------------------------
def _triager(principal: Principal) -> None:
    _require_role(principal, Role.ADMIN, Role.ANALYST, Role.CASEWORKER)


@router.get("/tips", response_model=list[TipOut], tags=["tips"])
def tips(
    request: Request,
    principal: Triager,
    status: Annotated[Literal["new", "triaged"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TipOut]:
    _triager(principal)
    return [_tip_out(t) for t in _view(request).security.tips.queue(status, limit=limit, offset=offset)]


@router.post("/tips/{tip_id}", response_model=TipOut, responses={**NOT_FOUND, **BODY_ERRORS}, tags=["tips"])
def triage(request: Request, principal: Triager, tip_id: str, change: TriageIn) -> TipOut:
    """Link a tip to entities (that you may see) and/or set its status."""
    _triager(principal)
    view = _view(request)
    tips = view.security.tips
    if tips.get(tip_id) is None:
        raise HTTPException(status_code=404, detail="No such tip.")
    for eid in change.link:
        if view.guard.entity(principal, eid) is None:
            raise HTTPException(status_code=404, detail=f"No entity you may see has the id {eid}.")
    if change.link:
        tips.link(tip_id, change.link)
    if change.status:
        tips.set_status(tip_id, change.status, by=principal.username, now=now())
    view.security.audit.record(
        principal.username, "tip_triage", target=tip_id, detail={"status": change.status, "link": change.link},
        address=client_address(request),
    )  # fmt: skip
    tip = tips.get(tip_id)
    assert tip is not None
    return _tip_out(tip)


@router.get("/tips/{tip_id}/contact", response_model=ContactOut, responses=NOT_FOUND, tags=["tips"])
def tip_contact(request: Request, principal: Triager, tip_id: str) -> ContactOut:
    """The tipster's contact, decrypted: admins and caseworkers only; audited."""
    view = _view(request)
    if view.security.tips.get(tip_id) is None:
        raise HTTPException(status_code=404, detail="No such tip.")
    try:
        return ContactOut(contact=view.guard.tip_contact(principal, tip_id, address=client_address(request)))
    except PermissionError:
        raise HTTPException(status_code=403, detail="Only admins and caseworkers may read a contact.") from None


# -- me, users, markings, audit ---------------------------------------------------------------
@router.get("/me", response_model=UserOut, tags=["account"])
def me(request: Request, principal: Reader) -> UserOut:
    user = _view(request).security.accounts.get(principal.user_id)
    assert user is not None
    return _user_out(user)


@router.patch("/me", response_model=UserOut, responses=BODY_ERRORS, tags=["account"])
def change_me(request: Request, principal: Reader, change: MeChange) -> UserOut:
    """Change your own language. Role, groups and the rest are an admin's to change."""
    accounts = _view(request).security.accounts
    accounts.set_language(principal.user_id, change.language)
    user = accounts.get(principal.user_id)
    assert user is not None
    return _user_out(user)


def _admin(principal: Principal) -> None:
    _require_role(principal, Role.ADMIN)


@router.get("/users", response_model=list[UserOut], tags=["admin"])
def users(request: Request, principal: Admin) -> list[UserOut]:
    _admin(principal)
    return [_user_out(u) for u in _view(request).security.accounts.all()]


CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": Problem, "description": "Already exists."}}


@router.post(
    "/users", response_model=UserCreated, status_code=201, responses={**BODY_ERRORS, **CONFLICT}, tags=["admin"]
)
def add_user(request: Request, principal: Admin, new: UserIn) -> UserCreated:
    _admin(principal)
    view = _view(request)
    if view.security.accounts.find(new.username) is not None:
        raise HTTPException(status_code=409, detail=f"The user {new.username.lower()} already exists.")
    password = secrets.token_urlsafe(12)
    try:
        user = view.security.accounts.add(
            new.username, password, new.role, display_name=new.display_name, groups=set(new.groups), now=now()
        )
    except AccountError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    view.security.audit.record(
        principal.username, "user_add", target=user.username, detail={"role": user.role.value, "api": True},
        address=client_address(request),
    )  # fmt: skip
    return UserCreated(user=_user_out(user), password=password)


@router.patch("/users/{username}", response_model=UserOut, responses={**NOT_FOUND, **BODY_ERRORS}, tags=["admin"])
def change_user(request: Request, principal: Admin, username: str, change: UserChange) -> UserOut:
    _admin(principal)
    view = _view(request)
    accounts = view.security.accounts
    if accounts.find(username) is None:
        raise HTTPException(status_code=404, detail="No such user.")
    if username.strip().lower() == principal.username and (change.role is not None or change.disabled):
        raise HTTPException(status_code=403, detail="You cannot change your own role or disable yourself.")
    if change.role is not None:
        accounts.set_role(username, change.role)
    if change.groups is not None:
        accounts.set_groups(username, change.groups)
    if change.disabled is not None:
        accounts.set_disabled(username, change.disabled)
    view.security.audit.record(
        principal.username, "user_change", target=username, detail=change.model_dump(exclude_none=True),
        address=client_address(request),
    )  # fmt: skip
    user = accounts.find(username)
    assert user is not None
    return _user_out(user)


@router.put(
    "/datasets/{dataset}/policy", response_model=DatasetOut, responses={**NOT_FOUND, **BODY_ERRORS}, tags=["admin"]
)
def set_policy(request: Request, principal: Admin, dataset: str, policy: PolicyIn) -> DatasetOut:
    _admin(principal)
    view = _view(request)
    found = next((d for d in view.guard.datasets(principal) if d.name == dataset), None)
    if found is None:
        raise HTTPException(status_code=404, detail="No such dataset.")
    saved = view.security.policies.set(dataset, Marking(policy.marking), policy.groups, now=now())
    view.security.audit.record(
        principal.username, "dataset_mark", target=dataset,
        detail={"marking": saved.marking.value, "groups": sorted(saved.groups)}, address=client_address(request),
    )  # fmt: skip
    return DatasetOut(name=found.name, entities=found.entities, imports=found.imports, rejects=found.rejects,
                      marking=saved.marking.value, groups=sorted(saved.groups))  # fmt: skip


@router.get("/audit", response_model=list[AuditEntryOut], tags=["admin"])
def audit(
    request: Request,
    principal: Admin,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditEntryOut]:
    _admin(principal)
    entries = _view(request).security.audit.entries(limit=limit, offset=offset, actor=actor, action=action)
    return [
        AuditEntryOut(seq=e.seq, at=e.at, actor=e.actor, address=e.address, action=e.action, target=e.target,
                      detail=e.detail, outcome=e.outcome)
        for e in entries
    ]  # fmt: skip


@router.get("/audit/verify", response_model=VerificationOut, tags=["admin"])
def audit_verify(request: Request, principal: Admin) -> VerificationOut:
    _admin(principal)
    result = _view(request).security.audit.verify()
    return VerificationOut(
        ok=result.ok, entries=result.entries, first_bad_seq=result.first_bad_seq, reason=result.reason
    )
