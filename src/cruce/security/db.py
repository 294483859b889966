"""One small SQL door to the application tables (users, sessions, audit, tips) for both backends.

The statement store has its own read and import paths; the security tables need only plain
parameterised statements. Queries are written with ``?`` placeholders (DuckDB's) and turned
into ``%s`` for psycopg. A lock serialises use of the store's connection, which neither driver
lets several threads share; on DuckDB a second lock, shared by every ``AppDB`` of the same database
in this process, serialises writes, so that the web server's threads (each with its own
connection) do not make DuckDB's optimistic transactions conflict on a session or the end of the
audit chain.

PostgreSQL has no such lock: its own row and table locks order the writes (the audit chain takes
``LOCK TABLE audit_log``), and a lock in one process could not order the writes of the other
worker processes anyway. Held there, it made every write of a worker wait for any long
transaction of that worker: the search postings' load (3.4 s at 20,000 records, measured: an
audit entry written meanwhile took 3.4 s instead of 5 ms) or an import's search catch-up.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import pyarrow as pa

from cruce.store.base import Store

_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock(url: str) -> threading.RLock:
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(url, threading.RLock())


class AppDB:
    """Parameterised statements and transactions on the store's own connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.backend: str = store.backend
        self._lock = threading.RLock()
        self._write: AbstractContextManager[Any] = (
            nullcontext() if self.backend == "postgresql" else _write_lock(store.url)
        )
        self._depth = 0

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.backend == "postgresql" else sql

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self.backend == "postgresql":
                with self.store.conn.cursor() as cur:  # type: ignore[attr-defined]
                    cur.execute(self._sql(sql), list(params))
                    return list(cur.fetchall()) if cur.description else []
            cur = self.store.con.execute(sql, list(params))  # type: ignore[attr-defined]
            return list(cur.fetchall()) if cur.description else []

    def arrow(self, sql: str, params: Sequence[Any] = ()) -> pa.Table:
        """A query's rows as columns; on DuckDB made by DuckDB, without a Python object per value
        (the interpreter this process's requests share stays free)."""
        with self._lock:
            if self.backend == "postgresql":
                with self.store.conn.cursor() as cur:  # type: ignore[attr-defined]
                    cur.execute(self._sql(sql), list(params))
                    names = [c.name for c in cur.description or ()]
                    rows = cur.fetchall()
                return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})
            return self.store.con.execute(sql, list(params)).to_arrow_table()  # type: ignore[attr-defined]

    def duckdb_cursor(self) -> Any:
        """A new DuckDB connection to the same database, for another thread to use alone (the
        store's own connection is shared by this object's callers)."""
        with self._lock:
            return self.store.con.cursor()  # type: ignore[attr-defined]

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        rows = self.fetch(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._write:
            self.fetch(sql, params)

    def write(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A write whose rows come back (``UPDATE … RETURNING``), serialised like ``execute``."""
        with self._write:
            return self.fetch(sql, params)

    @contextmanager
    def transaction(self, *, own_tables: bool = False) -> Iterator[AppDB]:
        """All or nothing; nested calls join the outer transaction.

        ``own_tables``: the transaction writes only tables that no other writer of this process
        touches (the search index, whose writers take a lock of their own), so it cannot conflict
        with theirs and does not hold them back: a search catch-up once held every tip, watch and
        audit entry of a server for a second and more after an import (load test, issue #10).
        """
        with nullcontext() if own_tables else self._write, self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._begin()
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._end("ROLLBACK")
                raise
            self._depth = 0
            self._end("COMMIT")

    def _begin(self) -> None:
        if self.backend == "postgresql":
            self.store.conn.execute("BEGIN")  # type: ignore[attr-defined]
        else:
            self.store.con.execute("BEGIN TRANSACTION")  # type: ignore[attr-defined]

    def _end(self, verb: str) -> None:
        if self.backend == "postgresql":
            self.store.conn.execute(verb)  # type: ignore[attr-defined]
        else:
            self.store.con.execute(verb)  # type: ignore[attr-defined]
