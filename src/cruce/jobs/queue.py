"""The job table: enqueue, claim, report, finish; and the jobs whose process died, found again.

Every server process (several Uvicorn workers on PostgreSQL, one on DuckDB) talks to the same
``job`` table. A claim is one ``UPDATE … RETURNING`` of the oldest queued job; on PostgreSQL its
row is chosen with ``FOR UPDATE SKIP LOCKED``, so two processes claiming at once take two jobs,
never one twice. The process running a job stamps ``heartbeat_at``; a running job whose heartbeat
is older than the stale limit belonged to a process that died, and is queued again (the work is
idempotent: an import is all or nothing and finds its own finished attempt) until it has used its
attempts, then failed with the reason. Every write names the worker that holds the job, so a
process that lost its job (declared dead while it was only slow) cannot overwrite what another
one does with it.

Messages kept in the table are English text that the pages translate for their reader.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cruce.i18n import mark as _
from cruce.security.audit import now
from cruce.security.db import AppDB
from cruce.store.base import Store

KINDS = ("import", "resolve")
STATES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running")
DEFAULT_ATTEMPTS = 3

# Messages the queue writes itself (English; the pages translate them).
RESUMED = _("Resumed: the server stopped while this job ran.")
GAVE_UP = _(
    "The server stopped each time this job ran; it was not tried again. Start it again once the cause is fixed."
)
CANCELLED = _("Cancelled.")
CANCEL_ASKED = _("Cancelling…")
RELEASED = _("Waiting: the server was stopped; the job starts again with the server.")

_COLUMNS = (
    "id, kind, owner, params, state, progress_done, progress_total, message, result, error, created_at, "
    "started_at, heartbeat_at, finished_at, attempts, max_attempts, worker, cancel_requested"
)


@dataclass(frozen=True)
class Job:
    """One row of the job table."""

    id: str
    kind: str
    owner: str
    params: dict[str, Any]
    state: str
    done: int
    total: int
    message: str | None
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    attempts: int
    max_attempts: int
    worker: str | None
    cancel_requested: bool

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total:
            return 0
        return max(0, min(99, int(100 * self.done / self.total)))

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def label(self) -> str:
        """What the job is about, without a name from the data: the file, or the type resolved."""
        return str(self.params.get("file") or self.params.get("type") or self.kind)


def _job(row: Sequence[Any]) -> Job:
    return Job(
        id=str(row[0]), kind=str(row[1]), owner=str(row[2]), params=json.loads(row[3]), state=str(row[4]),
        done=int(row[5]), total=int(row[6]), message=row[7], result=json.loads(row[8]) if row[8] else None,
        error=row[9], created_at=row[10], started_at=row[11], heartbeat_at=row[12], finished_at=row[13],
        attempts=int(row[14]), max_attempts=int(row[15]), worker=row[16], cancel_requested=bool(row[17]),
    )  # fmt: skip


def new_job_id() -> str:
    return secrets.token_hex(8)


class JobQueue:
    """The job table of one store, through one connection (each thread or process its own)."""

    def __init__(self, store: Store) -> None:
        self.db = AppDB(store)
        self.backend = store.backend

    def _write(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A write whose rows come back. On DuckDB it takes the process's write lock, like every
        write to the application tables (optimistic transactions must not overlap); PostgreSQL
        locks the row itself, and a heartbeat must not wait there behind a long transaction."""
        if self.backend == "duckdb":
            return self.db.write(sql, params)
        return self.db.fetch(sql, params)

    # -- asking for work -------------------------------------------------------------------------
    def enqueue(self, kind: str, owner: str, params: dict[str, Any], *, max_attempts: int = DEFAULT_ATTEMPTS) -> Job:
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        job_id = new_job_id()
        self._write(
            "INSERT INTO job (id, kind, owner, params, state, created_at, max_attempts) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
            (job_id, kind, owner, json.dumps(params, ensure_ascii=False), now(), max(1, max_attempts)),
        )
        job = self.get(job_id)
        assert job is not None
        return job

    def get(self, job_id: str) -> Job | None:
        row = self.db.one(f"SELECT {_COLUMNS} FROM job WHERE id = ?", (job_id,))
        return _job(row) if row else None

    def visible(self, job_id: str, username: str, is_admin: bool) -> Job | None:
        """The job, if ``username`` started it or is an admin; else None (as if it did not exist)."""
        job = self.get(job_id)
        if job is None or (job.owner != username and not is_admin):
            return None
        return job

    def jobs(
        self,
        *,
        owner: str | None = None,
        states: Sequence[str] = (),
        kind: str | None = None,
        limit: int = 50,
    ) -> list[Job]:
        """Jobs, newest first."""
        where: list[str] = []
        params: list[Any] = []
        if owner is not None:
            where.append("owner = ?")
            params.append(owner)
        if states:
            where.append(f"state IN ({', '.join('?' for _ in states)})")
            params.extend(states)
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self.db.fetch(
            f"SELECT {_COLUMNS} FROM job {clause}ORDER BY created_at DESC, id LIMIT ?", (*params, max(1, limit))
        )
        return [_job(r) for r in rows]

    def cancel(self, job_id: str) -> Job | None:
        """A queued job is cancelled at once; a running one is asked to stop at its next report.
        A finished job is left as it is. Returns the job as it is now."""
        at = now()
        self._write(
            "UPDATE job SET state = 'cancelled', finished_at = ?, message = ? WHERE id = ? AND state = 'queued'",
            (at, CANCELLED, job_id),
        )
        self._write(
            "UPDATE job SET cancel_requested = TRUE, message = ? WHERE id = ? AND state = 'running'",
            (CANCEL_ASKED, job_id),
        )
        return self.get(job_id)

    # -- doing the work --------------------------------------------------------------------------
    def claim(self, worker: str, kinds: Sequence[str] = KINDS) -> Job | None:
        """Take the oldest queued job of ``kinds`` for ``worker``; None when there is none."""
        marks = ", ".join("?" for _ in kinds)
        lock = " FOR UPDATE SKIP LOCKED" if self.backend == "postgresql" else ""
        at = now()
        rows = self._write(
            "UPDATE job SET state = 'running', worker = ?, started_at = ?, heartbeat_at = ?, "
            "attempts = attempts + 1, cancel_requested = FALSE "
            f"WHERE state = 'queued' AND id = (SELECT id FROM job WHERE state = 'queued' AND kind IN ({marks}) "
            f"ORDER BY created_at, id LIMIT 1{lock}) RETURNING {_COLUMNS}",
            (worker, at, at, *kinds),
        )
        return _job(rows[0]) if rows else None

    def report(self, job_id: str, worker: str, done: int, total: int, message: str | None) -> bool | None:
        """Progress (and a heartbeat). Returns whether a cancel was asked for, or None when the job
        is no longer this worker's."""
        rows = self._write(
            "UPDATE job SET progress_done = ?, progress_total = ?, message = ?, heartbeat_at = ? "
            "WHERE id = ? AND worker = ? AND state = 'running' RETURNING cancel_requested",
            (done, total, message, now(), job_id, worker),
        )
        return bool(rows[0][0]) if rows else None

    def heartbeat(self, job_id: str, worker: str) -> bool | None:
        """Say the worker is alive. Returns whether a cancel was asked for, or None when the job is
        no longer this worker's."""
        rows = self._write(
            "UPDATE job SET heartbeat_at = ? WHERE id = ? AND worker = ? AND state = 'running' "
            "RETURNING cancel_requested",
            (now(), job_id, worker),
        )
        return bool(rows[0][0]) if rows else None

    def finish(self, job_id: str, worker: str, result: dict[str, Any], message: str | None = None) -> bool:
        return self._end(job_id, worker, "done", message=message, result=result)

    def fail(self, job_id: str, worker: str, error: str) -> bool:
        return self._end(job_id, worker, "failed", error=error)

    def cancelled(self, job_id: str, worker: str) -> bool:
        return self._end(job_id, worker, "cancelled", message=CANCELLED)

    def _end(
        self,
        job_id: str,
        worker: str,
        state: str,
        *,
        message: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        rows = self._write(
            "UPDATE job SET state = ?, finished_at = ?, heartbeat_at = ?, message = ?, result = ?, error = ? "
            "WHERE id = ? AND worker = ? AND state = 'running' RETURNING id",
            (state, now(), now(), message, json.dumps(result, ensure_ascii=False) if result is not None else None,
             error, job_id, worker),
        )  # fmt: skip
        return bool(rows)

    def release(self, job_id: str, worker: str) -> bool:
        """Put a job this worker stops on purpose (the server shutting down) back in the queue,
        without counting the attempt."""
        rows = self._write(
            "UPDATE job SET state = 'queued', worker = NULL, message = ?, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
            "WHERE id = ? AND worker = ? AND state = 'running' RETURNING id",
            (RELEASED, job_id, worker),
        )
        return bool(rows)

    # -- old jobs --------------------------------------------------------------------------------
    def prune(self, keep_days: float) -> int:
        """Delete the jobs that ended (done, failed, cancelled) more than ``keep_days`` ago; the
        audit log keeps who started and cancelled what. Returns how many were deleted."""
        cutoff = now() - timedelta(days=keep_days)
        rows = self._write(
            "DELETE FROM job WHERE state IN ('done', 'failed', 'cancelled') AND finished_at < ? RETURNING id",
            (cutoff,),
        )
        return len(rows)

    # -- jobs whose process died ----------------------------------------------------------------
    def recover(self, stale_seconds: float | None) -> dict[str, list[str]]:
        """Queue again (or fail, or cancel) the running jobs whose heartbeat is older than
        ``stale_seconds`` — every running job with ``None`` (DuckDB at start-up: no other
        process can hold the file, so whatever was running died). Returns the ids by outcome."""
        where = "state = 'running'"
        params: list[Any] = []
        if stale_seconds is not None:
            where += " AND (heartbeat_at IS NULL OR heartbeat_at < ?)"
            params.append(now() - timedelta(seconds=stale_seconds))
        at = now()
        outcomes = {
            "cancelled": self._write(
                f"UPDATE job SET state = 'cancelled', finished_at = ?, message = ?, worker = NULL "
                f"WHERE {where} AND cancel_requested RETURNING id",
                (at, CANCELLED, *params),
            ),
            "failed": self._write(
                f"UPDATE job SET state = 'failed', finished_at = ?, error = ?, message = NULL, worker = NULL "
                f"WHERE {where} AND attempts >= max_attempts RETURNING id",
                (at, GAVE_UP, *params),
            ),
            "queued": self._write(
                f"UPDATE job SET state = 'queued', message = ?, worker = NULL WHERE {where} RETURNING id",
                (RESUMED, *params),
            ),
        }
        return {state: sorted(str(r[0]) for r in rows) for state, rows in outcomes.items()}
