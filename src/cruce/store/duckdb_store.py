"""The embedded store: one DuckDB file, nothing to install or start.

An import stages its statements in a table of its own inside one transaction, then merges them
into ``statement`` with one set-based step (first occurrence wins, statements already stored only
get a new ``last_seen``). A crash at any point — even ``kill -9`` — leaves the uncommitted
transaction behind, and DuckDB discards it when the file is next opened.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cruce.i18n import _
from cruce.store.base import CommitStep, ImportRecord, StoreError
from cruce.store.lookup import LookupKeeper
from cruce.store.sql import SqlStore

log = logging.getLogger(__name__)
DEFAULT_MEMORY_LIMIT = "256MB"
COMPUTE_MEMORY_LIMIT = "192MB"
IMPORT_MEMORY_LIMIT = "192MB"
REPEATS_PER_SLICE = 4_000_000
INDEX_TABLES = ("entity_ref",)  # the reference index (cruce.search.index)


def _index_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The index tables this store has (none before store version 4)."""
    marks = ", ".join(f"'{t}'" for t in INDEX_TABLES)
    rows = con.execute(f"SELECT table_name FROM information_schema.tables WHERE table_name IN ({marks})").fetchall()
    return sorted(str(r[0]) for r in rows)


@contextlib.contextmanager
def more_memory(store: Any, variable: str, default: str) -> Iterator[None]:
    """More memory for DuckDB during a large read (the ``variable`` setting, else ``default``): the
    store keeps it small for serving and imports (``DEFAULT_MEMORY_LIMIT``), and a million
    entities' facets or purchases would spill to disk. The limit is the instance's: it is put back
    after. PostgreSQL manages its own."""
    if getattr(store, "backend", None) != "duckdb":
        yield
        return
    con = store.con
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    con.execute(f"SET memory_limit = '{os.environ.get(variable, default)}'")
    try:
        yield
    finally:
        if row is not None:
            con.execute(f"SET memory_limit = '{row[0]}'")


class StoreInUseError(StoreError):
    """Another process holds the DuckDB file (a running ``cruce serve``, an import)."""


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("CRUCE_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    }
    try:
        return duckdb.connect(path, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreInUseError(
                _("The database {path} is in use by another cruce process; wait for it to finish.").format(path=path)
            ) from exc
        raise StoreError(_("Cannot open the database {path}: {reason}").format(path=path, reason=exc)) from exc
    except duckdb.Error as exc:
        raise StoreError(_("Cannot open the database {path}: {reason}").format(path=path, reason=exc)) from exc


class DuckDBStore(SqlStore):
    """Statements in a single DuckDB file (or in memory for ``:memory:``)."""

    backend = "duckdb"

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.url = self.path if self.path == ":memory:" else f"duckdb:{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path)
        self._init_cache()
        self._lookup = LookupKeeper(Path(self.path + ".lookup.sqlite"), self) if self.path != ":memory:" else None
        self._compute: duckdb.DuckDBPyConnection | None = None
        self.upgraded_from, self.version = self._migrate()
        self.interrupted_imports = self._remove_interrupted_imports()
        if self.path != ":memory:":  # a killed import's spilled batches: we hold the database lock
            shutil.rmtree(self.path + ".compute.tmp", ignore_errors=True)

    def _spill_directory(self) -> Path:
        """Where the compute connection may spill: beside the database (so a killed import's
        leftovers are found and removed at the next open), or a fresh temporary folder for
        ``:memory:``. Never ``<database>.tmp``: that is DuckDB's own spill folder for the database
        file, and two instances spilling into one folder overwrite each other's files (reads
        came back short, and the process crashed, on imports of a million rows)."""
        if self.path == ":memory:":
            return Path(tempfile.mkdtemp(prefix="cruce-"))
        spill = Path(self.path + ".compute.tmp")
        shutil.rmtree(spill, ignore_errors=True)  # we hold the database lock: nobody else uses it
        return spill

    def _remove_interrupted_imports(self) -> list[str]:
        """Delete what imports that never finished (crash, kill -9, a full disk) left behind; return
        their ids.

        When that cannot be written (the disk is still full, the file is read-only) it is left for
        the next open: no reader sees a pending import's rows, so the store opens all the same.
        """
        pending = self.con.execute("SELECT no, id FROM import_pending").fetchall()
        if not pending:
            return []
        numbers = ", ".join(str(int(r[0])) for r in pending)
        try:
            self.con.execute("BEGIN TRANSACTION")
            for table in ("statement", "reject", *_index_tables(self.con)):
                self.con.execute(f"DELETE FROM {table} WHERE import_no IN ({numbers})")
            self.con.execute(f"DELETE FROM import_pending WHERE no IN ({numbers})")
            self.con.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            log.warning("%s: the rows of %d interrupted import(s) stay until the next open: %s", self.path,
                        len(pending), exc)  # fmt: skip
            return []
        return [str(r[1]) for r in pending]

    def statement_count(self) -> int:
        row = self.con.execute(
            "SELECT count(*) FROM statement WHERE import_no NOT IN (SELECT no FROM import_pending)"
        ).fetchone()
        return int(row[0]) if row else 0

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def _run_script(self, sql: str) -> None:
        self.con.execute(sql)

    def _has_table(self, name: str) -> bool:
        rows = self._fetch("SELECT 1 FROM information_schema.tables WHERE table_name = ?", (name,))
        return bool(rows)

    def close(self) -> None:
        if self._lookup is not None and self._lookup.owner is self:
            self._lookup.stop()
        self.con.close()
        if self._compute is not None:
            self._compute.close()
            shutil.rmtree(self._spill, ignore_errors=True)

    def _statement_rows(self, ids: list[str], imports: dict[int, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """From the lookup file when it holds every finished import; else a scan (and the lookup is
        brought up to date in the background for the next reads)."""
        if self._lookup is not None:
            rows = self._lookup.rows(self, ids, frozenset(imports))
            if rows is not None:
                return rows
        return super()._statement_rows(ids, imports)

    def refresh_lookup(self) -> int:
        """Bring the lookup file up to date now (after an import, at start-up); entities written."""
        if self._lookup is None:
            return 0
        finished = frozenset(int(r[0]) for r in self._fetch("SELECT no FROM import_run"))
        return self._lookup.lookup.catch_up(self.con, finished)

    def compute(self) -> duckdb.DuckDBPyConnection:
        """A private in-memory connection: batch work stays out of the import's transaction."""
        if self._compute is None:
            self._spill = self._spill_directory()
            self._compute = duckdb.connect(
                ":memory:",
                config={
                    "memory_limit": COMPUTE_MEMORY_LIMIT,
                    # Batches are small: one thread wastes no time coordinating, and the import
                    # writes on the other core meanwhile (ADR 0003).
                    "threads": 1,
                    "temp_directory": str(self._spill),
                    "arrow_lossless_conversion": True,
                },
            )
        return self._compute

    def begin_import(self, import_id: str, dataset: str) -> DuckDBImportWriter:
        return DuckDBImportWriter(self, import_id, dataset)

    def size_bytes(self) -> int | None:
        if self.path == ":memory:":
            return None
        wal = Path(self.path + ".wal")
        return Path(self.path).stat().st_size + (wal.stat().st_size if wal.exists() else 0)


class DuckDBImportWriter:
    """One import into the DuckDB file, invisible until it is complete.

    The import is first registered as pending; each batch is then committed on its own (so
    memory stays bounded whatever the file size), and the import's row in ``import_run`` —
    which makes its statements visible — is written last, in one transaction with everything
    else the import changes. If the process dies before that, the next open removes the
    pending import's rows.

    Each batch's statements go straight into ``statement``, minus those already there: those of
    this import (an entity seen in an earlier batch), and — only when the dataset already had
    data — those of earlier imports, whose ``last_import_no`` is then moved forward at commit.

    Into a new dataset, each batch's reference index rows (``cruce.search.index``; the batch carries
    its ``target`` and ``protected`` columns) are written with it, like its statements,
    under the pending import's number: readers take index rows of finished imports only, except
    that a protected reference counts at once (more is protected, never less). Each batch's
    ``entity_ref`` rows are sorted by target, for zone maps (ADR 0004). ``indexes_batches`` says
    so; otherwise the index is written at commit (ADR 0003).
    """

    _entities = "cruce_import_entities"
    _changed = "cruce_changed_entities"
    _same = "s.entity_id = b.entity_id AND s.prop_id = b.prop_id AND s.value = b.value"

    def __init__(self, store: DuckDBStore, import_id: str, dataset: str) -> None:
        self.store = store
        self.con = store.con
        self.import_id = import_id
        self.dataset = dataset
        self.number = store.next_number("import_no_seq")
        # Each batch is written by one thread (the other core computes the next batch): several
        # threads appending one batch cost half as much CPU again and fill row groups less well.
        # Text is compressed with FSST without first trying a dictionary too: a quarter less
        # time for a file about 6% larger (ADR 0003).
        self.con.execute("SET threads = 1")
        self.con.execute("SET force_compression = 'fsst'")
        # Less of the store's cache while prepared batches are in flight (peak RSS, ADR 0003);
        # what is written can be evicted, it is in the file.
        self._lowered = "CRUCE_DUCKDB_MEMORY" not in os.environ  # a limit the user chose stays
        if self._lowered:
            self.con.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
        self.con.execute("INSERT INTO import_pending VALUES (?, ?, ?, now())", [self.number, import_id, dataset])
        earlier = self.con.execute("SELECT no FROM import_run WHERE dataset = ?", [dataset]).fetchall()
        self.earlier_imports = [int(r[0]) for r in earlier]
        self.indexes_batches = not self.earlier_imports and len(_index_tables(self.con)) == len(INDEX_TABLES)
        self._fingerprints: dict[int, pa.Table] = {}  # made with each prepared batch, by its id
        self._refs: dict[int, pa.Table] = {}  # the batch's reference rows sorted by target, likewise
        if self.earlier_imports:
            self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_seen (entity_id UUID, prop_id INTEGER, value VARCHAR)")
        else:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self._entities} (entity_id UUID, fp UBIGINT);"
                f"CREATE OR REPLACE TEMP TABLE {self._changed} (entity_id UUID)"
            )

    def _in_dataset(self) -> str:
        return "import_no IN (" + ", ".join(str(n) for n in self.earlier_imports) + ")"

    def prepare_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
        """The batch as Arrow (``table`` may be a view: it is read once), without the property's
        name (``prop_id`` stands for it here), with its index columns when they are written per batch."""
        index = ", target, protected" if self.indexes_batches else ""
        prepared = compute.execute(
            f"SELECT entity_id, prop_id, value, original, source_row{index} FROM {table}"
        ).to_arrow_table()
        if not self.earlier_imports:  # each entity's fingerprint, here: the writing thread is the busier
            compute.register("cruce_prepared", prepared)
            try:
                self._fingerprints[id(prepared)] = compute.execute(
                    "SELECT entity_id, hash(sum(hash(prop_id, value))) AS fp FROM cruce_prepared GROUP BY entity_id"
                ).to_arrow_table()
                if self.indexes_batches:  # sorted here too, for the zone maps (ADR 0004)
                    self._refs[id(prepared)] = compute.execute(
                        "SELECT target, entity_id, prop_id, protected FROM cruce_prepared WHERE target IS NOT NULL "
                        "ORDER BY target"
                    ).to_arrow_table()
            finally:
                compute.unregister("cruce_prepared")
        return prepared

    def add_statements(self, prepared: pa.Table) -> int:
        self.con.register("cruce_incoming", prepared)
        try:
            if self.earlier_imports:
                return self._add_to_existing_dataset()
            return self._add_to_new_dataset(prepared)
        finally:
            if self.earlier_imports:
                self.con.execute("DROP VIEW IF EXISTS cruce_incoming")
                self.con.execute("DROP TABLE IF EXISTS cruce_incoming_batch")
            else:
                self.con.unregister("cruce_incoming")

    def _add_to_new_dataset(self, prepared: pa.Table) -> int:
        """Write the batch, less the entities whose statements an earlier batch already wrote.

        An entity met in an earlier batch with exactly the same statements (the same sum of
        their hashes; a dealer's, a buyer's on a second sale) is left out here; one with other
        statements than at first is written and noted, and its repeated statements are removed
        at commit (a few entities: 12 in 300,000 sales). So repeats are mostly never written,
        and the commit does not delete millions of rows (ADR 0003). Runs in the writing thread;
        every join is built on this batch's entities (the import's, which grow, are only scanned).
        """
        self.con.register("cruce_fingerprints", self._fingerprints.pop(id(prepared)))
        try:
            self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_batch_entities AS SELECT * FROM cruce_fingerprints")
        finally:
            self.con.unregister("cruce_fingerprints")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE cruce_batch_repeats AS SELECT b.entity_id, b.fp = e.fp AS same "
            f"FROM {self._entities} e JOIN cruce_batch_entities b ON b.entity_id = e.entity_id"
        )
        self.con.execute(f"INSERT INTO {self._changed} SELECT entity_id FROM cruce_batch_repeats WHERE NOT same")
        self.con.execute(
            f"INSERT INTO {self._entities} SELECT entity_id, fp FROM cruce_batch_entities "
            "ANTI JOIN cruce_batch_repeats USING (entity_id)"
        )
        refs = self._refs.pop(id(prepared), None)
        row = self.con.execute("SELECT count(*) FROM cruce_batch_repeats WHERE same").fetchone()
        if row and row[0]:  # the batch less those entities, filtered once for each table it goes to
            kept = "SELECT b.entity_id NOT IN (SELECT entity_id FROM cruce_batch_repeats WHERE same) FROM "
            keep = self.con.execute(kept + "cruce_incoming b").to_arrow_table()
            self.con.unregister("cruce_incoming")
            self.con.register("cruce_incoming", prepared.filter(keep.column(0)))
            if refs is not None:
                self.con.register("cruce_incoming_refs", refs)
                try:
                    keep = self.con.execute(kept + "cruce_incoming_refs b").to_arrow_table()
                finally:
                    self.con.unregister("cruce_incoming_refs")
                refs = refs.filter(keep.column(0))
        if refs is None:
            return self._insert("cruce_incoming b")
        self.con.register("cruce_incoming_refs", refs)
        try:
            return self._insert("cruce_incoming b", refs="cruce_incoming_refs")
        finally:
            self.con.unregister("cruce_incoming_refs")

    def _insert(self, select: str, refs: str | None = None) -> int:
        """The batch's statements, and its reference rows: from ``refs`` (the batch's own, sorted by
        target where it was prepared) or else from ``select``, sorted here."""
        self.con.execute("BEGIN TRANSACTION")
        row = self.con.execute(
            "INSERT INTO statement SELECT b.entity_id, b.prop_id, b.value, b.original, b.source_row, "
            f"{self.number}, {self.number} FROM {select}"
        ).fetchone()
        if refs is not None:
            self.con.execute(
                f"INSERT INTO entity_ref SELECT r.target, r.entity_id, {self.number}, r.prop_id, r.protected "
                f"FROM {refs} r"
            )
        elif self.indexes_batches:
            self.con.execute(
                f"INSERT INTO entity_ref SELECT b.target, b.entity_id, {self.number}, b.prop_id, b.protected "
                f"FROM {select} WHERE b.target IS NOT NULL ORDER BY b.target"
            )
        self.con.execute("COMMIT")
        return int(row[0]) if row else 0

    def _remove_repeats(self) -> None:
        """Delete the later copies of the statements that changed entities (see
        ``_add_to_new_dataset``) repeated, and make their index rows again from what is left.

        Done in up to 16 slices of the entity id space (about ``REPEATS_PER_SLICE`` statements
        each), so that memory stays bounded however big the import; hash(value) keeps each group
        small (two values of one property of one entity would have to collide in 64 bits).
        """
        if self.earlier_imports:
            return
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE cruce_repeated AS SELECT DISTINCT entity_id FROM {self._changed}"
        )
        try:
            row = self.con.execute("SELECT count(*) FROM cruce_repeated").fetchone()
            if not row or not row[0]:
                return
            yours = f"import_no = {self.number} AND entity_id IN (SELECT entity_id FROM cruce_repeated)"
            row = self.con.execute(f"SELECT count(*) FROM statement WHERE {yours}").fetchone()
            slices = 1
            while slices < 16 and (int(row[0]) if row else 0) > slices * REPEATS_PER_SLICE:
                slices *= 2
            hexdigits = "0123456789abcdef"
            for i in range(slices):
                first, last = hexdigits[i * 16 // slices], hexdigits[(i + 1) * 16 // slices - 1]
                mine = (
                    f"{yours} AND entity_id >= CAST('{first}0000000-0000-0000-0000-000000000000' AS UUID) "
                    f"AND entity_id <= CAST('{last}fffffff-ffff-ffff-ffff-ffffffffffff' AS UUID)"
                )
                self.con.execute(
                    f"DELETE FROM statement WHERE {mine} AND rowid NOT IN "
                    f"(SELECT min(rowid) FROM statement WHERE {mine} GROUP BY entity_id, prop_id, hash(value))"
                )
            if self.indexes_batches:
                self._reindex(yours)
        finally:
            self.con.execute("DROP TABLE IF EXISTS cruce_repeated")

    def _reindex(self, yours: str) -> None:
        """The index rows of the changed entities, again from their remaining statements (the
        property's protection is the one their rows had)."""
        for table, made in (("entity_ref", "TRY_CAST(s.value AS UUID) AS target"),):
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE cruce_reindex AS "
                f"SELECT DISTINCT entity_id, prop_id, protected FROM {table} WHERE {yours}"
            )
            self.con.execute(f"DELETE FROM {table} WHERE {yours}")
            column = made.rsplit(" AS ", 1)[1]
            self.con.execute(
                f"INSERT INTO {table} (entity_id, import_no, prop_id, protected, {column}) "
                f"SELECT * FROM (SELECT s.entity_id, {self.number}, s.prop_id, r.protected, {made} FROM statement s "
                "JOIN cruce_reindex r ON r.entity_id = s.entity_id AND r.prop_id = s.prop_id "
                f"WHERE s.import_no = {self.number}) WHERE {column} IS NOT NULL"
            )
        self.con.execute("DROP TABLE cruce_reindex")

    def _add_to_existing_dataset(self) -> int:
        """Statements the dataset already has are not added again; they are marked seen (at commit).

        The batch is copied into a table first: DuckDB 1.5 pushes the join's filter into the Arrow
        scan of the batch, which it cannot do for a UUID column ("Unimplemented type UUID for Arrow
        Filter Pushdown") when the dataset holds few statements."""
        self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_incoming_batch AS SELECT * FROM cruce_incoming")
        self.con.unregister("cruce_incoming")
        self.con.execute("CREATE OR REPLACE TEMP VIEW cruce_incoming AS SELECT * FROM cruce_incoming_batch")
        self.con.execute(
            "INSERT INTO cruce_seen SELECT b.entity_id, b.prop_id, b.value FROM cruce_incoming b "
            f"SEMI JOIN (SELECT entity_id, prop_id, value FROM statement WHERE {self._in_dataset()}) s "
            f"ON {self._same}"
        )
        return self._insert(
            "cruce_incoming b ANTI JOIN (SELECT entity_id, prop_id, value FROM statement "
            f"WHERE {self._in_dataset()} OR import_no = {self.number}) s ON {self._same}"
        )

    def add_rejects(self, rejects: pa.Table) -> int:
        self.con.register("cruce_incoming_rejects", rejects)
        try:
            self.con.execute(
                f"INSERT INTO reject SELECT {self.number}, r.source_row, r.field, r.reason, r.value "
                "FROM cruce_incoming_rejects r"
            )
        finally:
            self.con.unregister("cruce_incoming_rejects")
        return int(rejects.num_rows)

    def _reset_settings(self) -> None:
        self.con.execute("RESET threads")
        self.con.execute("RESET force_compression")
        if self._lowered:
            self.con.execute(f"SET memory_limit = '{DEFAULT_MEMORY_LIMIT}'")

    def commit(self, record: ImportRecord, steps: Sequence[CommitStep] = ()) -> int:
        self._reset_settings()
        self.con.execute("BEGIN TRANSACTION")
        self._remove_repeats()
        if self.earlier_imports:
            self.con.execute(
                f"UPDATE statement SET last_import_no = {self.number} "
                "FROM (SELECT DISTINCT * FROM cruce_seen) AS seen "
                f"WHERE statement.{self._in_dataset()} AND statement.entity_id = seen.entity_id "
                "AND statement.prop_id = seen.prop_id AND statement.value = seen.value"
            )
            self.con.execute("DROP TABLE cruce_seen")
        row = self.con.execute(f"SELECT count(*) FROM statement WHERE import_no = {self.number}").fetchone()
        added = int(row[0]) if row else 0
        sql, params = self.store._record_import(record, self.number, datetime.now(), added)
        self.con.execute(sql, list(params))
        for step in steps:
            for statement in step(self.number):
                self.con.execute(statement)
        self.con.execute(f"DELETE FROM import_pending WHERE no = {self.number}")
        self.con.execute("COMMIT")
        self._drop_tracking()
        return added

    def _drop_tracking(self) -> None:
        self.con.execute(
            f"DROP TABLE IF EXISTS {self._entities}; DROP TABLE IF EXISTS {self._changed}; "
            "DROP TABLE IF EXISTS cruce_batch_entities; DROP TABLE IF EXISTS cruce_batch_repeats; "
            "DROP TABLE IF EXISTS cruce_repeated"
        )

    def rollback(self) -> None:
        """Undo everything this import wrote. If that fails too, the import stays pending and the
        next open removes it, so the error the user sees is the one that stopped the import."""
        with contextlib.suppress(duckdb.Error):  # no transaction may be open
            self.con.execute("ROLLBACK")
        with contextlib.suppress(duckdb.Error):
            self._reset_settings()
        try:
            self.con.execute("BEGIN TRANSACTION")
            for table in ("statement", "reject", *_index_tables(self.con)):
                self.con.execute(f"DELETE FROM {table} WHERE import_no = {self.number}")
            self.con.execute(f"DELETE FROM import_pending WHERE no = {self.number}")
            self.con.execute("COMMIT")
            self.con.execute("DROP TABLE IF EXISTS cruce_seen")
            self._drop_tracking()
        except duckdb.Error:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
