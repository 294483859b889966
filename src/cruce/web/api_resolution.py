"""Resolution on the REST API: a pair explained, a record's cluster, the review queue, decisions.

Reading needs the ``read`` scope; deciding (judgements, undo, merge, split) needs the ``read``
scope and the analyst or admin role. A pair is shown only when the token's user may see both of
its records; a record they may not see is a 404, as everywhere in the API. Decisions are audited
with who, the record ids and the decision (never a name).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field

from cruce.resolve.engine import ResolutionError
from cruce.resolve.prepare import TYPES
from cruce.security import Principal
from cruce.web.api import (
    BODY_ERRORS,
    ERRORS,
    NOT_FOUND,
    JobOut,
    Reader,
    Strict,
    Utc,
    _no_unknown_query_parameters,
    job_out,
)
from cruce.web.context import client_address, services_of
from cruce.web.i18n import translator
from cruce.web.views_resolution import ClusterView, DecisionRow, PairView, Resolution, Side, may_decide

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["resolution"])
RecordId = Annotated[str, Field(min_length=1, max_length=64)]
DENIED = "Only analysts and admins decide which records are one entity."
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {422: {"description": "The records cannot be judged together."}}


# -- models -----------------------------------------------------------------------------------
class RecordOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    model_config = {"populate_by_name": True}


class FieldWeightOut(BaseModel):
    comparison: str
    label: str
    level: str
    weight: float


class ComparedOut(BaseModel):
    label: str
    a: list[str]
    b: list[str]
    agree: bool


class PairOut(BaseModel):
    type: str
    a: RecordOut
    b: RecordOut
    probability: float
    match_weight: float = Field(description="The prior weight plus the weight of every field.")
    prior_weight: float
    threshold: float
    distance: float = Field(description="|probability - threshold|: how much a decision would change.")
    blocking_rule: str | None
    stored: bool = Field(description="False when the pair was scored now (below the floor kept from the run).")
    same_cluster: bool
    decision: str | None
    weights: list[FieldWeightOut]
    compared: list[ComparedOut]


class ClusterOut(BaseModel):
    canonical_id: str | None = Field(description="None when the canonical record is one you may not see.")
    type: str
    members: list[RecordOut]
    pairs: list[PairOut]


class ReviewOut(BaseModel):
    limit: int
    offset: int
    more: bool
    pairs: list[PairOut]


class JudgementIn(Strict):
    a: RecordId
    b: RecordId
    decision: Literal["same", "not_same", "unsure"]
    note: Annotated[str | None, Field(max_length=2000)] = None


class MergeIn(Strict):
    other: RecordId
    note: Annotated[str | None, Field(max_length=2000)] = None


class SplitIn(Strict):
    note: Annotated[str | None, Field(max_length=2000)] = None


class DecisionOut(BaseModel):
    id: str = Field(description="The decision's group id (a split's judgements share it); undo takes it.")
    judgement: str
    kind: str
    type: str
    a: RecordOut
    b: RecordOut
    decision: str
    actor: str
    made_at: Utc
    note: str | None
    undone_at: Utc | None
    undone_by: str | None


class DecidedOut(BaseModel):
    id: str | None = Field(description="The decision's group id (None when there was nothing to split).")
    canonical_ids: dict[str, str | None] = Field(description="Each record's canonical id after the decision.")


class UndoneOut(BaseModel):
    id: str
    undone: int


# -- helpers ----------------------------------------------------------------------------------
def _resolution(request: Request, principal: Principal) -> Resolution:
    lang = principal.language if principal.language in ("en", "es") else "en"
    guard = services_of(request).view().guard
    return Resolution(guard, principal, translator(lang), lang, client_address(request))


def _record(side: Side) -> RecordOut:
    return RecordOut(id=side.id, schema_=side.schema, caption=side.caption)


def _pair(p: PairView) -> PairOut:
    return PairOut(
        type=p.entity_type, a=_record(p.a), b=_record(p.b), probability=p.probability, match_weight=p.match_weight,
        prior_weight=p.prior_weight, threshold=p.threshold, distance=p.distance, blocking_rule=p.blocking_rule,
        stored=p.stored, same_cluster=p.same_cluster, decision=p.decision,
        weights=[FieldWeightOut(comparison=c, label=label, level=level, weight=w) for c, label, level, w in p.fields],
        compared=[ComparedOut(label=c.label, a=list(c.left), b=list(c.right), agree=c.agree) for c in p.compared],
    )  # fmt: skip


def _cluster(c: ClusterView) -> ClusterOut:
    return ClusterOut(
        canonical_id=c.canonical_id, type=c.entity_type, members=[_record(m) for m in c.members],
        pairs=[_pair(p) for p in c.pairs],
    )  # fmt: skip


def _decision(d: DecisionRow) -> DecisionOut:
    return DecisionOut(
        id=d.group_id, judgement=d.id, kind=d.kind, type=d.entity_type, a=_record(d.a), b=_record(d.b),
        decision=d.decision, actor=d.actor, made_at=d.made_at, note=d.note, undone_at=d.undone_at,
        undone_by=d.undone_by,
    )  # fmt: skip


def _decider(request: Request, principal: Principal, res: Resolution) -> None:
    if not may_decide(principal):
        res.guard.security.audit.record(
            principal.username, "resolution_decide", target=request.url.path, outcome="denied",
            address=client_address(request),
        )  # fmt: skip
        raise HTTPException(status_code=403, detail=DENIED)


def _audit(request: Request, principal: Principal, res: Resolution, action: str, group: str, **detail: Any) -> None:
    res.guard.security.audit.record(
        principal.username, action, target=group, detail={**detail, "api": True}, address=client_address(request)
    )


def _canonical(res: Resolution, ids: list[str]) -> dict[str, str | None]:
    """Each record's canonical id, when it is a record the principal may see."""
    found = {i: res.review.rs.canonical_of(i) for i in ids}
    seen = res.visible({c[0] for c in found.values() if c})
    return {i: c[0] if c and c[0] in seen else None for i, c in found.items()}


def _unprocessable(exc: ResolutionError) -> HTTPException:
    return HTTPException(status_code=422, detail=str(exc))


# -- reading ----------------------------------------------------------------------------------
@router.get("/resolution/explain", response_model=PairOut, responses=NOT_FOUND)
def explain(
    request: Request,
    principal: Reader,
    a: Annotated[str, Query(max_length=64, description="Id of the first record.")],
    b: Annotated[str, Query(max_length=64, description="Id of the second record.")],
) -> PairOut:
    """Why two records are (or are not) one entity: probability, blocking rule, weight of each field."""
    res = _resolution(request, principal)
    try:
        pair = res.explain(a, b)
    except ResolutionError as exc:
        raise _unprocessable(exc) from None
    if pair is None:
        raise HTTPException(status_code=404, detail="No such records, or you may not see both.")
    return _pair(pair)


@router.get("/entities/{entity_id}/cluster", response_model=ClusterOut, responses=NOT_FOUND)
def cluster(request: Request, principal: Reader, entity_id: str) -> ClusterOut:
    """The record's entity: its canonical id, the members you may see, and the pairs among them explained."""
    res = _resolution(request, principal)
    found = res.cluster(entity_id, all_pairs=True)
    if found is None:
        if entity_id not in res.visible([entity_id]):
            raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")
        raise HTTPException(status_code=404, detail="The record was never resolved.")
    return _cluster(found)


@router.get("/resolution/review", response_model=ReviewOut)
def review(
    request: Request,
    principal: Reader,
    type: Annotated[Literal[TYPES] | None, Query(description="Only pairs of this type.")] = None,  # type: ignore[valid-type]
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ReviewOut:
    """Pairs not yet judged, nearest the threshold first (|probability - threshold| ascending)."""
    pairs, more = _resolution(request, principal).queue(type, limit=limit, offset=offset)
    return ReviewOut(limit=limit, offset=offset, more=more, pairs=[_pair(p) for p in pairs])


@router.get("/resolution/decisions", response_model=list[DecisionOut])
def decisions(
    request: Request,
    principal: Reader,
    all: Annotated[bool, Query(description="Also the decisions undone.")] = False,
) -> list[DecisionOut]:
    """Decisions about records you may see, newest first (one row per judged pair)."""
    return [_decision(d) for d in _resolution(request, principal).decisions(include_undone=all)]


# -- deciding ---------------------------------------------------------------------------------
@router.post(
    "/resolution/judgements", response_model=DecidedOut, status_code=201,
    responses={**NOT_FOUND, **BODY_ERRORS, **UNPROCESSABLE},
)  # fmt: skip
def add_judgement(request: Request, principal: Reader, judgement: JudgementIn) -> DecidedOut:
    """Record that two records are the same, not the same, or that it is unclear; the clusters follow."""
    res = _resolution(request, principal)
    _decider(request, principal, res)
    try:
        group = res.judge(judgement.a, judgement.b, judgement.decision, judgement.note)
    except ResolutionError as exc:
        raise _unprocessable(exc) from None
    if group is None:
        raise HTTPException(status_code=404, detail="No such records, or you may not see both.")
    _audit(request, principal, res, "resolution_judge", group, a=judgement.a, b=judgement.b,
           decision=judgement.decision)  # fmt: skip
    return DecidedOut(id=group, canonical_ids=_canonical(res, [judgement.a, judgement.b]))


@router.post("/resolution/decisions/{decision_id}/undo", response_model=UndoneOut, responses=NOT_FOUND)
def undo_decision(request: Request, principal: Reader, decision_id: str) -> UndoneOut:
    """Undo a decision in force (all of it, for a split); the clusters are worked out again without it."""
    res = _resolution(request, principal)
    _decider(request, principal, res)
    undone = res.undo(decision_id)
    if undone is None:
        raise HTTPException(status_code=404, detail="No decision in force with that id that you may see.")
    _audit(request, principal, res, "resolution_undo", decision_id, judgements=len(undone))
    return UndoneOut(id=decision_id, undone=len(undone))


@router.post(
    "/entities/{entity_id}/merge", response_model=DecidedOut, status_code=201,
    responses={**NOT_FOUND, **BODY_ERRORS, **UNPROCESSABLE},
)  # fmt: skip
def merge(request: Request, principal: Reader, entity_id: str, body: MergeIn) -> DecidedOut:
    """Merge the record's entity with another record's: the two are judged the same."""
    res = _resolution(request, principal)
    _decider(request, principal, res)
    try:
        group = res.judge(entity_id, body.other, "same", body.note)
    except ResolutionError as exc:
        raise _unprocessable(exc) from None
    if group is None:
        raise HTTPException(status_code=404, detail="No such records, or you may not see both.")
    _audit(request, principal, res, "resolution_merge", group, a=entity_id, b=body.other, decision="same")
    return DecidedOut(id=group, canonical_ids=_canonical(res, [entity_id, body.other]))


@router.post(
    "/entities/{entity_id}/split", response_model=DecidedOut, status_code=201,
    responses={**NOT_FOUND, **BODY_ERRORS, **UNPROCESSABLE},
)  # fmt: skip
def split(request: Request, principal: Reader, entity_id: str, body: SplitIn) -> DecidedOut:
    """Take the record out of its entity: it is judged not the same as each other member."""
    res = _resolution(request, principal)
    _decider(request, principal, res)
    try:
        visible, group = res.split(entity_id, body.note)
    except ResolutionError as exc:
        raise _unprocessable(exc) from None
    if not visible:
        raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")
    if group is not None:
        _audit(request, principal, res, "resolution_split", group, record=entity_id, decision="not_same")
    return DecidedOut(id=group, canonical_ids=_canonical(res, [entity_id]))


# -- runs -------------------------------------------------------------------------------------
class RunIn(Strict):
    type: Annotated[str, Field(min_length=1, max_length=100, json_schema_extra={"enum": list(TYPES)})]
    retrain: bool = Field(default=False, description="Train a new version of the model instead of reusing the last.")
    threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Match probability; the model's if absent."
    )


@router.post("/resolution/runs", response_model=JobOut, status_code=202, responses={**BODY_ERRORS, **UNPROCESSABLE})
def start_run(request: Request, principal: Reader, body: RunIn) -> JobOut:
    """Resolve every record of a type in the background; follow it at ``/jobs/{id}``."""
    res = _resolution(request, principal)
    _decider(request, principal, res)
    if body.type not in TYPES:
        raise HTTPException(status_code=422, detail=f"Unknown type; choose among {', '.join(TYPES)}.")
    job = request.app.state.jobs.start_resolution(
        principal, body.type, retrain=body.retrain, threshold=body.threshold, address=client_address(request)
    )
    return job_out(job)
