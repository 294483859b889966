"""The tamper-evident audit log: who did what, when, from where, and with what outcome.

Every entry's hash covers its own fields and the previous entry's hash, so editing, inserting
or deleting an entry breaks the chain from that point on; ``verify`` finds the first break.
Entries older than the retention period are removed from the start only, and a ``retention``
entry keeps the hash of the last entry removed, so the chain still verifies from there.

Details are structured (JSON) and must never hold a protected value: callers pass entity ids,
property names and queries, not victims' or tipsters' names.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cruce.security.db import AppDB

GENESIS = "0" * 64
DEFAULT_RETENTION_DAYS = 365
_COLUMNS = "seq, logged_at, actor, address, action, target, detail, outcome, prev_hash, hash"


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    address: str | None
    action: str
    target: str | None
    detail: str | None
    outcome: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def now() -> datetime:
    """UTC now, naive (both backends store TIMESTAMP without a zone; every time in cruce is UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(key: bytes, seq: int, at: datetime, actor: str, address: str | None, action: str,
            target: str | None, detail: str | None, outcome: str, prev_hash: str) -> str:  # fmt: skip
    payload = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, address, action, target, detail, outcome, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


class AuditLog:
    """Append and verify; nothing here updates or deletes an entry except retention.

    The hashes are keyed (HMAC-SHA256) with the deployment's secret key, kept outside the
    database: someone who can write to the database but not read the key cannot rebuild a
    consistent chain after editing it.
    """

    def __init__(self, db: AppDB, key: bytes, clock: Callable[[], datetime] = now) -> None:
        self.db = db
        self.key = key
        self.clock = clock

    def record(
        self,
        actor: str,
        action: str,
        *,
        outcome: str = "ok",
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        address: str | None = None,
    ) -> AuditEntry:
        """Append one entry; the chain is extended inside one transaction."""
        text = json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None
        with self.db.transaction():
            if self.db.backend == "postgresql":
                self.db.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
            last = self.db.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            at = self.clock()
            digest = _digest(self.key, seq, at, actor, address, action, target, text, outcome, prev)
            self.db.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, at, actor, address, action, target, text, outcome, prev, digest),
            )
        return AuditEntry(seq, at, actor, address, action, target, text, outcome, prev, digest)

    def entries(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        actor: str | None = None,
        action: str | None = None,
        target: str | None = None,
        action_prefix: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first, optionally for one actor, action or target, or actions starting ``action_prefix``."""
        where: list[str] = []
        params: list[object] = []
        if target:
            where.append("target = ?")
            params.append(target)
        if action_prefix:
            where.append("substr(action, 1, ?) = ?")
            params.extend((len(action_prefix), action_prefix))
        if actor:
            where.append("actor = ?")
            params.append(actor)
        if action:
            where.append("action = ?")
            params.append(action)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.db.fetch(
            f"SELECT {_COLUMNS} FROM audit_log {clause} ORDER BY seq DESC LIMIT ? OFFSET ?", (*params, limit, offset)
        )
        return [AuditEntry(*row) for row in rows]

    def count(self) -> int:
        row = self.db.one("SELECT count(*) FROM audit_log")
        return int(row[0]) if row else 0

    def verify(self) -> Verification:
        """Walk the chain from its start; report the first entry whose hash or link is wrong."""
        prev: str | None = None
        expected_seq: int | None = None
        n = 0
        for row in self.db.fetch(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
            entry = AuditEntry(*row)
            n += 1
            if expected_seq is not None and entry.seq != expected_seq:
                return Verification(False, n, expected_seq, f"entry {expected_seq} is missing")
            if prev is not None and entry.prev_hash != prev:
                return Verification(False, n, entry.seq, "does not follow the previous entry")
            if prev is None and entry.action != "retention" and entry.prev_hash != GENESIS:
                return Verification(False, n, entry.seq, "the first entry does not start the chain")
            digest = _digest(
                self.key, entry.seq, entry.at, entry.actor, entry.address, entry.action, entry.target,
                entry.detail, entry.outcome, entry.prev_hash,
            )  # fmt: skip
            if digest != entry.hash:
                return Verification(False, n, entry.seq, "its content was changed")
            # a retention entry stands for the entries removed before it: the next one links to them
            prev = entry.prev_hash if entry.action == "retention" and n == 1 else entry.hash
            expected_seq = entry.seq + 1
        return Verification(True, n)

    def apply_retention(self, days: int = DEFAULT_RETENTION_DAYS) -> int:
        """Remove entries older than ``days`` from the start of the chain; returns how many."""
        cutoff = self.clock() - timedelta(days=days)
        with self.db.transaction():
            old = self.db.one("SELECT max(seq) FROM audit_log WHERE logged_at < ?", (cutoff,))
            if not old or old[0] is None:
                return 0
            last_seq = int(old[0])
            row = self.db.one("SELECT hash FROM audit_log WHERE seq = ?", (last_seq,))
            removed = self.db.one("SELECT count(*) FROM audit_log WHERE seq <= ?", (last_seq,))
            assert row is not None
            assert removed is not None
            self.db.execute("DELETE FROM audit_log WHERE seq <= ?", (last_seq,))
            at = self.clock()
            detail = json.dumps({"removed": int(removed[0]), "older_than_days": days})
            digest = _digest(self.key, last_seq, at, "system", None, "retention", None, detail, "ok", row[0])
            self.db.execute(
                f"INSERT INTO audit_log ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (last_seq, at, "system", None, "retention", None, detail, "ok", row[0], digest),
            )
        return int(removed[0])
