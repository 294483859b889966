"""Watchlists on the REST API: a user's watches (entities and names) and the alerts later imports raise.

Everything needs the ``read`` scope and concerns the token's own user only. Watching an entity
needs a record id the user may see (404 otherwise, as everywhere in the API). Alerts are read
through ``Guard``: an alert about a record the user may no longer see is left out, and a
protected person's name is redacted for a role that cannot see it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from cruce.resolve.watch import Alert, Watch, WatchError, Watchlists
from cruce.security import caption
from cruce.store.base import Entity
from cruce.web.api import BODY_ERRORS, ERRORS, NOT_FOUND, Reader, Strict, Utc, _no_unknown_query_parameters
from cruce.web.context import services_of

router = APIRouter(responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)], tags=["watchlists"])


class WatchIn(Strict):
    kind: Literal["entity", "name", "flagged", "purchases", "place", "search"] = Field(
        description="entity: a record's entity; name: a personal name; flagged: every purchaser the firearms "
        "leads flag (their new traces); purchases: a purchaser's new multiple sales (a record id); place: a state "
        "(MX-SON, Sonora), a municipality in a state (MX-SON:Nogales) or a municipality's name; search: a saved "
        "search's words (new records with all of them)."
    )
    target: Annotated[
        str,
        Field(
            min_length=1,
            max_length=500,
            description="A record id, a personal name, a place or a search's words (flagged: any text).",
        ),
    ]
    threshold: Annotated[
        float | None, Field(gt=0.0, le=1.0, description="How alike a name must be (0.85 if not given).")
    ] = None
    min_score: Annotated[
        float | None, Field(gt=0.0, le=1000.0, description="flagged: the lowest risk score (the leads' if not given).")
    ] = None


class WatchOut(BaseModel):
    id: str
    kind: str
    target: str
    threshold: float
    created_at: Utc
    active: bool


class AlertRecordOut(BaseModel):
    id: str
    schema_: str = Field(alias="schema")
    caption: str
    model_config = {"populate_by_name": True}


class AlertOut(BaseModel):
    id: str
    watch_id: str
    kind: str
    watched: str = Field(description="The watched record id or name.")
    record: AlertRecordOut
    probability: float = Field(
        description="Match probability (entity), name similarity (name), 1 for a place or a search."
    )
    import_id: str | None
    created_at: Utc
    seen_at: Utc | None


class DigestOut(BaseModel):
    period: str
    language: str = Field(description="The user's language, the digest's.")
    since: Utc = Field(description="The end of the previous digest of this period (or the period's start).")
    until: Utc
    matches: list[AlertOut] = Field(description="The alerts raised since then, oldest first.")


class SeenIn(Strict):
    ids: Annotated[list[str] | None, Field(max_length=1000, description="The alerts to mark; all if absent.")] = None


class SeenOut(BaseModel):
    marked: int


def _watch(w: Watch) -> WatchOut:
    return WatchOut(
        id=w.id, kind=w.kind, target=w.target, threshold=w.threshold, created_at=w.created_at, active=w.active
    )


def _alert(a: Alert, entity: Entity) -> AlertOut:
    return AlertOut(
        id=a.id, watch_id=a.watch_id, kind=a.kind, watched=a.target,
        record=AlertRecordOut(id=entity.id, schema_=entity.schema, caption=caption(entity)),
        probability=a.probability, import_id=a.import_id, created_at=a.created_at, seen_at=a.seen_at,
    )  # fmt: skip


@router.get("/watches", response_model=list[WatchOut])
def watches(request: Request, principal: Reader) -> list[WatchOut]:
    """Your watches in force."""
    view = services_of(request).view()
    return [_watch(w) for w in Watchlists(view.store).watches(principal.username)]


@router.post("/watches", response_model=WatchOut, status_code=201, responses={**NOT_FOUND, **BODY_ERRORS})
def add_watch(request: Request, principal: Reader, body: WatchIn) -> WatchOut:
    """Watch an entity (by the id of a record you may see), a name, the flagged purchasers, or a
    purchaser's purchases."""
    view = services_of(request).view()
    if body.kind in ("entity", "purchases") and view.guard.entity(principal, body.target.strip()) is None:
        raise HTTPException(status_code=404, detail="No such entity, or you may not see it.")
    level = body.min_score if body.kind == "flagged" else body.threshold
    try:
        watch = Watchlists(view.store).add(principal.username, body.kind, body.target, level)
    except WatchError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    view.security.audit.record(
        principal.username, "watch_add", target=watch.id, detail={"kind": body.kind, "api": True}
    )
    return _watch(watch)


@router.delete("/watches/{watch_id}", status_code=204, responses=NOT_FOUND)
def remove_watch(request: Request, principal: Reader, watch_id: str) -> Response:
    """Stop one of your watches (its alerts stay)."""
    view = services_of(request).view()
    if not Watchlists(view.store).remove(principal.username, watch_id):
        raise HTTPException(status_code=404, detail="You have no such watch in force.")
    view.security.audit.record(principal.username, "watch_remove", target=watch_id, detail={"api": True})
    return Response(status_code=204)


@router.get("/alerts", response_model=list[AlertOut])
def alerts(
    request: Request,
    principal: Reader,
    unseen: Annotated[bool, Query(description="Only the alerts not yet seen.")] = False,
) -> list[AlertOut]:
    """Your alerts, newest first, each record as you may see it."""
    view = services_of(request).view()
    return [_alert(a, e) for a, e in Watchlists(view.store).view(view.guard, principal, unseen_only=unseen)]


@router.post("/alerts/seen", response_model=SeenOut, responses=BODY_ERRORS)
def mark_seen(request: Request, principal: Reader, body: SeenIn) -> SeenOut:
    """Mark your alerts seen (those listed, or all)."""
    view = services_of(request).view()
    return SeenOut(marked=Watchlists(view.store).mark_seen(principal.username, body.ids))


@router.get("/digest", response_model=DigestOut)
def digest(
    request: Request,
    principal: Reader,
    period: Annotated[Literal["daily", "weekly"], Query(description="daily or weekly.")] = "daily",
) -> DigestOut:
    """What your next digest of the period holds: the matches of your watches since your previous
    digest (made by ``cruce watch digest``), each record as you may see it. Records nothing."""
    from cruce.resolve.digest import collect

    view = services_of(request).view()
    made = collect(view.store, view.guard, principal, period)
    return DigestOut(
        period=made.period,
        language=made.lang,
        since=made.since,
        until=made.until,
        matches=[_alert(i.alert, i.entity) for i in made.items],
    )
