"""Watchlists: a user watches an entity or a name; incremental linking raises alerts for them.

A watch of kind ``entity`` names a record id and follows that record's canonical entity: when
incremental linking puts another record in the same cluster, the watch's user is alerted, with
the strongest stored match probability between the new record and the entity's other records
(1.0 when an analyst's "same" joined it). A watch of kind ``name`` is a personal name: a person
record that an import brings whose name (or alias) is at least ``threshold`` alike by
``cruce.resolve.normalise.name_similarity`` raises an alert, with that similarity.

Need-to-know: the user is alerted only for a record they may see (a statement in a dataset
``Guard`` lets them see), and a name watch is compared only with the names they may read — a
protected person's name counts only for those whose caseload includes it, so an alert never
reveals that a hidden name exists. Alerts are read back through ``Guard`` too (``Watchlists.view``),
so a protected person's name is redacted for a role that cannot see it, and an alert whose
record the user may no longer see is not shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cruce.i18n import _
from cruce.resolve.store import ResolutionStore
from cruce.security.db import AppDB
from cruce.store.base import Entity, Store, StoreError

if TYPE_CHECKING:
    from cruce.security import Principal
    from cruce.security.guard import Guard

KINDS = ("entity", "name", "flagged", "purchases", "place", "search")
FLAGGED_TARGET = "firearms"  # a watch of every purchaser the firearms leads flag
NAME_THRESHOLD = 0.85
NAME_PROPERTIES = ("name", "alias")
_WATCH_COLUMNS = "id, username, kind, target, threshold, created_at, active"
_ALERT_COLUMNS = (
    "a.id, a.watch_id, a.username, CAST(a.entity_id AS VARCHAR), a.probability, a.import_id, a.created_at, "
    "a.seen_at, w.kind, w.target"
)


class WatchError(StoreError):
    """A watch that cannot be added; the message says why."""


@dataclass(frozen=True)
class Watch:
    id: str
    username: str
    kind: str
    target: str
    threshold: float
    created_at: datetime
    active: bool


@dataclass(frozen=True)
class Alert:
    id: str
    watch_id: str
    username: str
    entity_id: str
    probability: float
    import_id: str | None
    created_at: datetime
    seen_at: datetime | None
    kind: str
    target: str


class Watchlists:
    """The watch and watch_alert tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = AppDB(store)

    # -- watches ---------------------------------------------------------------------------------
    def add(self, username: str, kind: str, target: str, threshold: float | None = None) -> Watch:
        """A watch of a record's entity, of a name, of a place (``place``: a state, a municipality
        in a state, or a municipality's name; see ``watch_match.place_target``), of a saved search's
        words (``search``), of the flagged purchasers (``flagged``: a new
        trace of a purchaser whose firearms score reaches ``threshold``, the leads' threshold when
        none is given) or of a purchaser's purchases (``purchases``: a new multiple sale)."""
        target = FLAGGED_TARGET if kind == "flagged" else target.strip()
        if kind not in KINDS:
            raise WatchError(
                _(
                    "A watch is of an entity, a name, a place, a search, the flagged purchasers or a purchaser's "
                    "purchases."
                )
            )
        if not target:
            raise WatchError(_("Give the record id, the name, the place or the words to watch."))
        if kind in ("place", "search"):
            from cruce.resolve.watch_match import place_target, search_target

            target = place_target(target) if kind == "place" else search_target(target)
        if kind in ("entity", "purchases"):
            try:
                target = str(uuid.UUID(target))
            except ValueError:
                raise WatchError(_("Record ids are UUIDs, like those on the entity pages.")) from None
        if kind == "flagged":
            if threshold is not None and not 0.0 < threshold <= 1000.0:
                raise WatchError(_("The score threshold is a number above 0 and at most 1,000."))
        elif threshold is not None and not 0.0 < threshold <= 1.0:
            raise WatchError(_("The threshold is a number above 0 and at most 1."))
        watch = Watch(
            uuid.uuid4().hex,
            username,
            kind,
            target,
            threshold if threshold is not None else (NAME_THRESHOLD if kind == "name" else 0.0),
            datetime.now(),
            True,
        )
        self.db.execute(
            f"INSERT INTO watch ({_WATCH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (watch.id, username, kind, watch.target, watch.threshold, watch.created_at, True),
        )
        return watch

    def watches(self, username: str | None = None, *, include_inactive: bool = False) -> list[Watch]:
        conditions, params = [], []
        if username is not None:
            conditions.append("username = ?")
            params.append(username)
        if not include_inactive:
            conditions.append("active")
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = self.db.fetch(f"SELECT {_WATCH_COLUMNS} FROM watch {where} ORDER BY created_at, id", params)
        return [_watch(r) for r in rows]

    def remove(self, username: str, watch_id: str) -> bool:
        """Stop a watch of ``username`` (its alerts stay); False if they have no such active watch."""
        found = self.db.one("SELECT id FROM watch WHERE id = ? AND username = ? AND active", (watch_id, username))
        if found is None:
            return False
        self.db.execute("UPDATE watch SET active = FALSE WHERE id = ?", (watch_id,))
        return True

    # -- alerts ----------------------------------------------------------------------------------
    def alerts(self, username: str, *, unseen_only: bool = False, limit: int = 500) -> list[Alert]:
        where = "WHERE a.username = ?" + (" AND a.seen_at IS NULL" if unseen_only else "")
        rows = self.db.fetch(
            f"SELECT {_ALERT_COLUMNS} FROM watch_alert a JOIN watch w ON w.id = a.watch_id {where} "
            "ORDER BY a.created_at DESC, a.id LIMIT ?",
            (username, limit),
        )
        return [_alert(r) for r in rows]

    def mark_seen(self, username: str, alert_ids: Sequence[str] | None = None) -> int:
        """Mark the user's alerts (those given, or all) seen; return how many were unseen."""
        params: list[Any] = [datetime.now(), username]
        sql = "UPDATE watch_alert SET seen_at = ? WHERE username = ? AND seen_at IS NULL"
        if alert_ids is not None:
            if not alert_ids:
                return 0
            sql += f" AND id IN ({', '.join('?' for _ in alert_ids)})"
            params.extend(alert_ids)
        where = sql.split(" WHERE ", 1)[1]
        row = self.db.one(f"SELECT count(*) FROM watch_alert WHERE {where}", params[1:])
        self.db.execute(sql, params)
        return int(row[0]) if row else 0

    def alerted(self, watch_id: str) -> set[str]:
        rows = self.db.fetch("SELECT CAST(entity_id AS VARCHAR) FROM watch_alert WHERE watch_id = ?", (watch_id,))
        return {str(r[0]) for r in rows}

    def write_alerts(self, rows: list[tuple[Watch, str, float, str | None]]) -> None:
        now = datetime.now()
        with self.db.transaction():
            for watch, record, probability, import_id in rows:
                self.db.execute(
                    "INSERT INTO watch_alert (id, watch_id, username, entity_id, probability, import_id, created_at, "
                    "seen_at) VALUES (?, ?, ?, CAST(? AS UUID), ?, ?, ?, NULL)",
                    (uuid.uuid4().hex, watch.id, watch.username, record, probability, import_id, now),
                )

    # -- reading alerts for a person -------------------------------------------------------------
    def view(self, guard: Guard, principal: Principal, *, unseen_only: bool = False) -> list[tuple[Alert, Entity]]:
        """The principal's alerts with each record as ``Guard`` shows it to them (redacted where it
        must be); alerts about records they may no longer see are left out."""
        out = []
        for alert in self.alerts(principal.username, unseen_only=unseen_only):
            entity = guard.entity(principal, alert.entity_id)
            if entity is not None:
                out.append((alert, entity))
        return out


# -- raising alerts ---------------------------------------------------------------------------------
def alert_for(store: Store, results: Sequence[Any]) -> dict[str, int]:
    """Alerts for the records incremental linking touched (``IncrementResult``s); count per type."""
    watchlists = Watchlists(store)
    watches = watchlists.watches()
    touched = [r for r in results if r.touched]
    if not watches or not touched:
        return {}
    guard = guard_for(store)
    rs = ResolutionStore(store)
    checker = AlertChecker(store, guard)
    counts: dict[str, int] = {}
    rows: list[tuple[Watch, str, float, str | None]] = []
    for watch in watches:
        principal = checker.principal(watch.username)
        if principal is None:
            continue
        done = watchlists.alerted(watch.id)
        if watch.kind == "entity":
            found = rs.canonical_of(watch.target)
            if found is None:
                continue
            canonical, entity_type = found
            for result in touched:
                if result.entity_type != entity_type:
                    continue
                for record, (cluster, import_id) in result.touched.items():
                    if cluster != canonical or record == watch.target or record in done:
                        continue
                    if not checker.visible(principal, record):
                        continue
                    rows.append((watch, record, _strength(rs, record, canonical), import_id))
                    counts[entity_type] = counts.get(entity_type, 0) + 1
        elif watch.kind == "name":
            wanted = _parse(watch.target)
            for result in touched:
                if result.entity_type != "Person":
                    continue
                for record, (_cluster, import_id) in result.touched.items():
                    if record in done:
                        continue
                    names = checker.readable_names(principal, record)
                    best = max((_similarity(wanted, n) for n in names), default=0.0)
                    if best >= watch.threshold:
                        rows.append((watch, record, round(best, 4), import_id))
                        counts["Person"] = counts.get("Person", 0) + 1
    if rows:
        watchlists.write_alerts(rows)
    return counts


def guard_for(store: Store) -> Guard:
    from cruce.schema.loader import default_schema
    from cruce.security.guard import Guard, Security

    return Guard(store, Security(store), default_schema())


def _strength(rs: ResolutionStore, record: str, canonical: str) -> float:
    """The strongest stored match probability between ``record`` and another member of its entity."""
    members = set(rs.members(canonical)) - {record}
    rows = rs.db.fetch(
        "SELECT CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), probability FROM match_pair "
        "WHERE id_l = CAST(? AS UUID) OR id_r = CAST(? AS UUID)",
        (record, record),
    )
    best = [float(p) for a, b, p in rows if (str(b) if str(a) == record else str(a)) in members]
    return round(max(best), 4) if best else 1.0  # joined by an analyst's "same"


def _parse(name: str) -> Any:
    from cruce.resolve.normalise import parse_person_name

    return parse_person_name(name)


def _similarity(wanted: Any, name: str) -> float:
    from cruce.resolve.normalise import name_similarity

    return float(name_similarity(wanted, _parse(name)))


class AlertChecker:
    """Who may see what, for the watches' users: ``Guard``'s access, worked out once per user."""

    def __init__(self, store: Store, guard: Guard) -> None:
        self.store = store
        self.guard = guard
        self._principals: dict[str, Principal | None] = {}
        self._access: dict[str, Any] = {}
        self._entities: dict[str, Entity | None] = {}

    def principal(self, username: str) -> Principal | None:
        if username not in self._principals:
            user = self.guard.security.accounts.find(username)
            self._principals[username] = None if user is None or user.disabled else user.principal()
        return self._principals[username]

    def _entity(self, record: str) -> Entity | None:
        if record not in self._entities:
            self._entities[record] = self.store.entity(record)
        return self._entities[record]

    def access(self, principal: Principal) -> Any:
        if principal.username not in self._access:
            self._access[principal.username] = self.guard.access(principal)
        return self._access[principal.username]

    def visible(self, principal: Principal, record: str) -> bool:
        entity = self._entity(record)
        visible = self.access(principal).visible
        return entity is not None and any(st.dataset in visible for st in entity.statements)

    def readable(self, principal: Principal, record: str) -> list[Any]:
        """The record's statements the principal may read unredacted (as ``Guard.entity`` would show them)."""
        from cruce.security.policy import NON_IDENTIFYING

        entity = self._entity(record)
        if entity is None:
            return []
        access = self.access(principal)
        person_protected = self.guard._is_protected_person(record)
        out = []
        for st in entity.statements:
            if st.dataset not in access.visible:
                continue
            protected = (st.schema, st.prop) in self.guard._protected or (
                person_protected and st.prop not in NON_IDENTIFYING
            )
            if protected and st.dataset not in access.caseload:
                continue
            out.append(st)
        return out

    def readable_names(self, principal: Principal, record: str) -> list[str]:
        """The record's names the principal may read unredacted (as ``Guard.entity`` would show them)."""
        names: list[str] = []
        parts: dict[str, str] = {}
        for st in self.readable(principal, record):
            if st.prop in NAME_PROPERTIES:
                names.append(st.value)
            elif st.prop in ("first_name", "last_name", "second_last_name"):
                parts.setdefault(st.prop, st.value)
        if parts.get("first_name") or parts.get("last_name"):
            names.append(" ".join(parts[p] for p in ("first_name", "last_name", "second_last_name") if parts.get(p)))
        return names


def _watch(row: Iterable[Any]) -> Watch:
    r = list(row)
    return Watch(str(r[0]), str(r[1]), str(r[2]), str(r[3]), float(r[4]), r[5], bool(r[6]))


def _alert(row: Iterable[Any]) -> Alert:
    r = list(row)
    return Alert(
        str(r[0]),
        str(r[1]),
        str(r[2]),
        str(r[3]),
        float(r[4]),
        str(r[5]) if r[5] is not None else None,
        r[6],
        r[7],
        str(r[8]),
        str(r[9]),
    )
