"""Every entity's statements by its id, in a SQLite file beside a DuckDB store: reads by key.

DuckDB keeps no index on ``statement.entity_id`` (an ART index made each import 2.5 times slower
to write), so reading one entity scans the whole table: tens of milliseconds at a few hundred
thousand statements, and the entity page and every page of search hits read entities. PostgreSQL
has its B-tree and needs none of this.

The lookup (``<database>.lookup.sqlite``, a table keyed by entity id, WITHOUT ROWID) holds each
entity's statement rows as one JSON value, made by DuckDB (``to_json``). It is brought up to date
import by import, like the search terms and the graph's stage: ``catch_up`` reads the entities
that finished imports not yet in it touched (a statement added, or seen again), all their rows,
in one joined scan, and replaces them — so an update after an import costs in proportion to what
the import touched, plus one scan. It records which imports it holds; the store reads from it only
when those are exactly the finished imports, and otherwise scans as before, so a stale or missing
lookup costs speed, never a wrong answer. Imports are all or nothing and never change afterwards
(a killed one leaves no ``import_run`` row), which is what makes "the set of imports it holds" a
complete description of its content.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1
BATCH = 5_000
Row = tuple[Any, ...]  # as SqlStore._read_statements reads them: sid, eid, schema, prop, value, original,
# source_row, import_no, last_import_no


class EntityLookup:
    """The lookup file of one DuckDB store, shared by the store's thread views."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write = threading.Lock()
        self._held: frozenset[int] | None = None  # the imports the file holds, once read
        self.last_catch_up_seconds: float | None = None

    # -- connections ----------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")
            con.executescript(
                "CREATE TABLE IF NOT EXISTS entity (id BLOB PRIMARY KEY, rows TEXT NOT NULL) WITHOUT ROWID;"
                "CREATE TABLE IF NOT EXISTS held (import_no INTEGER PRIMARY KEY);"
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            )
            found = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if found is None or int(found[0]) != FORMAT:
                con.executescript("BEGIN; DELETE FROM entity; DELETE FROM held; COMMIT;")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
            self._local.con = con
        return con

    def held(self) -> frozenset[int]:
        if self._held is None:
            self._held = frozenset(int(r[0]) for r in self._connection().execute("SELECT import_no FROM held"))
        return self._held

    def current(self, finished: frozenset[int]) -> bool:
        """Whether the lookup holds exactly the finished imports (and so every visible statement)."""
        try:
            return self.held() == finished
        except sqlite3.Error:
            return False

    # -- reading --------------------------------------------------------------------------------
    def rows(self, entity_ids: Sequence[str]) -> list[Row]:
        """The statement rows of these entities (canonical UUID strings), as the store's scan gives them."""
        return self._rows(self._connection(), entity_ids)

    def rows_as_of(self, entity_ids: Sequence[str]) -> tuple[frozenset[int], list[Row]]:
        """The imports the file holds and these entities' rows, read in one transaction (a catch-up
        committing between the two would have them disagree)."""
        con = self._connection()
        con.execute("BEGIN")
        try:
            held = frozenset(int(r[0]) for r in con.execute("SELECT import_no FROM held"))
            return held, self._rows(con, entity_ids)
        finally:
            con.execute("COMMIT")

    @staticmethod
    def _rows(con: sqlite3.Connection, entity_ids: Sequence[str]) -> list[Row]:
        out: list[Row] = []
        for start in range(0, len(entity_ids), 500):
            chunk = entity_ids[start : start + 500]
            keys = [uuid.UUID(e).bytes for e in chunk]
            marks = ",".join("?" for _ in keys)
            for key, text in con.execute(f"SELECT id, rows FROM entity WHERE id IN ({marks})", keys):
                eid = str(uuid.UUID(bytes=key))
                out.extend((None, eid, *row) for row in json.loads(text))
        return out

    # -- keeping it up to date --------------------------------------------------------------------
    def catch_up(self, duck: Any, finished: frozenset[int]) -> int:
        """Bring the lookup up to the finished imports, reading from the DuckDB connection ``duck``;
        returns the entities written. Stale content (an import it holds that the store lacks) makes
        it start again from nothing."""
        with self._write:
            started = time.perf_counter()
            self._held = None
            try:
                held = self.held()
            except sqlite3.DatabaseError:  # not a lookup file (damaged): made again from nothing
                self._discard_file()
                held = self.held()
            con = self._connection()
            if held - finished:
                con.executescript("BEGIN; DELETE FROM entity; DELETE FROM held; COMMIT;")
                held = frozenset()
            new = sorted(finished - held)
            if not new:
                return 0
            written = self._write_entities(duck, con, new, first=not held)
            self._held = None
            self.last_catch_up_seconds = time.perf_counter() - started
            return written

    def _write_entities(self, duck: Any, con: sqlite3.Connection, new: list[int], first: bool) -> int:
        """Every entity the new imports touched (all of them the first time), slice by slice of the
        entity id space: the store's DuckDB works within a few hundred megabytes, shared with the
        readers, and grouping ten million statements at once would take it all. One SQLite
        transaction for the whole: readers see the lookup before or after, never half."""
        cur = duck.cursor()
        try:
            row = cur.execute("SELECT count(*) FROM statement").fetchone()
            slices = _slices(int(row[0]) if row else 0)
            written = 0
            con.execute("BEGIN")
            try:
                for lo, hi in _ranges(slices):
                    cur.execute(_slice_sql(new, first, lo, hi))
                    while batch := cur.fetchmany(BATCH):
                        con.executemany("INSERT OR REPLACE INTO entity VALUES (?, ?)", batch)
                        written += len(batch)
                con.executemany("INSERT OR IGNORE INTO held VALUES (?)", [(n,) for n in new])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return written
        finally:
            cur.close()

    def _discard_file(self) -> None:
        log.warning("entity lookup %s is damaged: made again", self.path.name)
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


STATEMENTS_PER_SLICE = 300_000


def _slices(statements: int) -> int:
    """A power of two, up to 256, so that a slice holds about ``STATEMENTS_PER_SLICE`` statements."""
    slices = 1
    while slices < 256 and statements > slices * STATEMENTS_PER_SLICE:
        slices *= 2
    return slices


def _ranges(slices: int) -> list[tuple[str, str]]:
    """The entity id space cut into ``slices`` ranges by the first two hex digits."""
    step = 256 // slices
    return [
        (f"{i:02x}000000-0000-0000-0000-000000000000", f"{i + step - 1:02x}ffffff-ffff-ffff-ffff-ffffffffffff")
        for i in range(0, 256, step)
    ]


def _slice_sql(new: list[int], first: bool, lo: str, hi: str) -> str:
    """The statement rows, grouped by entity, of one slice: of every entity the first time, else
    of the entities the new imports added a statement to or saw again."""
    in_slice = f"entity_id BETWEEN CAST('{lo}' AS UUID) AND CAST('{hi}' AS UUID)"
    listed = ", ".join(str(int(n)) for n in new)
    touched = (
        "" if first else
        f"AND s.entity_id IN (SELECT entity_id FROM statement WHERE {in_slice} "
        f"AND (import_no IN ({listed}) OR last_import_no IN ({listed})))"
    )  # fmt: skip
    # The key as SQLite stores it (the id's 16 bytes) and the rows as JSON, both made by DuckDB:
    # converted in Python, row by row, they held the server's interpreter for seconds after each
    # import, and every request waited its turn (load test, issue #10).
    return (
        "SELECT unhex(replace(CAST(s.entity_id AS VARCHAR), '-', '')), CAST(to_json(list(json_array("
        "p.schema, p.prop, s.value, s.original, s.source_row, s.import_no, s.last_import_no))) AS VARCHAR) "
        "FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE s.{in_slice} AND s.import_no IN (SELECT no FROM import_run) {touched} GROUP BY s.entity_id"
    )


class LookupKeeper:
    """The lookup of one opened store and the background thread that brings it up to date.

    The store's thread views (copies of the store) share it; only the store that made it (its
    ``owner``) stops the thread when closed.
    """

    def __init__(self, path: Path, owner: Any = None) -> None:
        self.lookup = EntityLookup(path)
        self.owner = owner
        self._thread: threading.Thread | None = None
        self._cursor: Any = None
        self._guard = threading.Lock()
        self._stopped = False

    def rows(
        self, store: Any, ids: Sequence[str], finished: frozenset[int], datasets: dict[int, str] | None = None
    ) -> list[Row] | None:
        """The rows from the lookup, or None when it is not up to date (a catch-up is started).

        With ``datasets`` (each finished import's dataset), a lookup that lacks only imports into
        datasets it holds nothing of is read all the same, and the rows of those imports are read
        from the store alone (``newer_rows``: the few row groups they wrote, not the whole
        table). Such imports only add statements, so the two together are what a scan gives;
        an import into a dataset the lookup holds marks that dataset's statements seen again,
        and then the store is scanned. After an import every entity read once scanned the whole
        table until the lookup had caught up, seconds of a loaded server (load test, issue #10)."""
        if self.lookup.current(finished):
            try:
                return self.lookup.rows(list(ids))
            except sqlite3.Error as exc:  # a damaged file: scan, and the next catch-up starts again
                log.warning("entity lookup unreadable, scanning instead: %s", type(exc).__name__)
                return None
        self.start(store, finished)
        if datasets is None:
            return None
        try:
            held, rows = self.lookup.rows_as_of(list(ids))
        except sqlite3.Error:
            return None
        newer = finished - held
        if not held or held - finished or {datasets[n] for n in newer} & {datasets[n] for n in held}:
            return None
        added: list[Row] = store.newer_rows(ids, newer)
        return rows + added

    def start(self, store: Any, finished: frozenset[int]) -> None:
        """Catch up in a background thread (one at a time)."""
        with self._guard:
            if self._stopped or (self._thread is not None and self._thread.is_alive()):
                return
            self._cursor = store.con.cursor()
            self._thread = threading.Thread(
                target=self._run, args=(self._cursor, finished), name="cruce-lookup", daemon=True
            )
            self._thread.start()

    def _run(self, cursor: Any, finished: frozenset[int]) -> None:
        try:
            written = self.lookup.catch_up(cursor, finished)
            log.info("entity lookup: %d entities written in %.1f s", written, self.lookup.last_catch_up_seconds or 0)
        except Exception as exc:  # the store scans meanwhile; the next stale read tries again
            if not self._stopped:
                log.warning("entity lookup catch-up failed: %s", type(exc).__name__)
        finally:
            cursor.close()

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        with self._guard:
            self._stopped = True
            thread, cursor = self._thread, self._cursor
        if thread is not None and thread.is_alive():
            try:
                cursor.interrupt()
            except Exception:  # already finished or closed
                log.debug("lookup cursor already closed")
            thread.join(10)
        self.lookup.close()
