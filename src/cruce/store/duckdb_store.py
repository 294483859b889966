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
from collections.abc import Iterable, Iterator, Sequence
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
IMPORT_MEMORY_LIMIT = "128MB"
INDEX_TABLES = ("entity_ref",)  # the reference index (cruce.search.index)
ROW_GROUP_ROWS = 122_880  # DuckDB's row group size


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
            datasets = {n: str(row[1]) for n, row in imports.items()}
            rows = self._lookup.rows(self, ids, frozenset(imports), datasets)
            if rows is not None:
                return rows
        return super()._statement_rows(ids, imports)

    def newer_rows(self, ids: Sequence[str], imports: Iterable[int]) -> list[tuple[Any, ...]]:
        """The statement rows of these entities from ``imports`` alone, as ``_statement_rows`` reads
        them: imports are appended in turn, so DuckDB reads only their row groups."""
        numbers = ", ".join(str(int(n)) for n in sorted(imports)) or "NULL"
        marks = ",".join("CAST(? AS UUID)" for _ in ids)
        return self._fetch(
            "SELECT NULL, CAST(s.entity_id AS VARCHAR), p.schema, p.prop, s.value, s.original, s.source_row, "
            f"s.import_no, s.last_import_no FROM statement s JOIN property p ON p.prop_id = s.prop_id "
            f"WHERE s.import_no IN ({numbers}) AND s.entity_id IN ({marks})",
            list(ids),
        )

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

    Into a new dataset, each batch's reference index rows (``cruce.search.index``; made with the
    batch from its ``target`` and ``protected`` columns) are written with it, like its statements,
    under the pending import's number: readers take index rows of finished imports only, except
    that a protected reference counts at once (more is protected, never less). Each batch's
    ``entity_ref`` rows are sorted by target, for zone maps (ADR 0004). ``indexes_batches`` says
    so; otherwise the index is written at commit (ADR 0003).
    """

    _entities = "cruce_import_entities"
    _held = "cruce_held_statements"
    _held_refs = "cruce_held_references"
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
        self._added = 0  # statements written so far (the count the commit reports)
        self._carried: dict[str, pa.Table] = {}  # rows after the last whole row group, by table
        self._insert_sql = {
            "statement": "INSERT INTO statement SELECT b.entity_id, b.prop_id, b.value, b.original, b.source_row, "
            f"{self.number}, {self.number} FROM cruce_incoming_rows b",
            "entity_ref": f"INSERT INTO entity_ref SELECT r.target, r.entity_id, {self.number}, r.prop_id, r.protected "
            "FROM cruce_incoming_rows r",
        }
        self._batches = 0
        self._held_rows = 0
        if self.earlier_imports:
            self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_seen (entity_id UUID, prop_id INTEGER, value VARCHAR)")
        else:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {self._entities} (entity_id UUID, fp UBIGINT);"
                f"CREATE OR REPLACE TEMP TABLE {self._held} (entity_id UUID, prop_id INTEGER, value VARCHAR, "
                "original VARCHAR, source_row BIGINT, batch INTEGER);"
                f"CREATE OR REPLACE TEMP TABLE {self._held_refs} (entity_id UUID, prop_id INTEGER, protected BOOLEAN)"
            )

    def _in_dataset(self) -> str:
        return "import_no IN (" + ", ".join(str(n) for n in self.earlier_imports) + ")"

    def prepare_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
        """The batch as Arrow (``table`` may be a view: it is read once), without the property's
        name (``prop_id`` stands for it here). Into a new dataset, each entity's fingerprint and
        the batch's reference rows are made here too (the writing thread is the busier), and the
        index columns are then left out of the statements (a third less memory in flight)."""
        if self.earlier_imports:
            return compute.execute(
                f"SELECT entity_id, prop_id, value, original, source_row FROM {table}"
            ).to_arrow_table()
        index = ", target, protected" if self.indexes_batches else ""
        prepared = compute.execute(
            f"SELECT entity_id, prop_id, value, original, source_row{index} FROM {table}"
        ).to_arrow_table()
        compute.register("cruce_prepared", prepared)
        try:
            fingerprints = compute.execute(
                "SELECT entity_id, hash(sum(hash(prop_id, value))) AS fp FROM cruce_prepared GROUP BY entity_id"
            ).to_arrow_table()
            if self.indexes_batches:  # sorted here too, for the zone maps (ADR 0004)
                refs = compute.execute(
                    "SELECT target, entity_id, prop_id, protected FROM cruce_prepared WHERE target IS NOT NULL "
                    "ORDER BY target"
                ).to_arrow_table()
        finally:
            compute.unregister("cruce_prepared")
        if self.indexes_batches:
            prepared = prepared.drop_columns(["target", "protected"])
            self._refs[id(prepared)] = refs
        self._fingerprints[id(prepared)] = fingerprints
        return prepared

    def add_statements(self, prepared: pa.Table) -> int:
        if not self.earlier_imports:
            return self._add_to_new_dataset(prepared)
        self.con.register("cruce_incoming", prepared)
        try:
            return self._add_to_existing_dataset()
        finally:
            self.con.execute("DROP VIEW IF EXISTS cruce_incoming")
            self.con.execute("DROP TABLE IF EXISTS cruce_incoming_batch")

    def _add_to_new_dataset(self, prepared: pa.Table) -> int:
        """Write the batch, less the entities an earlier batch already wrote.

        An entity met in an earlier batch with exactly the same statements (the same sum of
        their hashes; a dealer's, a buyer's on a second sale) is left out here. One met with other
        statements than at first is held back (a few entities: 12 in 300,000 sales), and at
        commit its held statements that are not already written are added. So repeats are
        never written, and nothing is deleted (a delete would also make the close compact the
        table; ADR 0003). Runs in the writing thread; every join is built on this batch's
        entities (the import's, which grow, are only scanned).
        """
        self._batches += 1
        self.con.register("cruce_fingerprints", self._fingerprints.pop(id(prepared)))
        try:
            self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_batch_entities AS SELECT * FROM cruce_fingerprints")
        finally:
            self.con.unregister("cruce_fingerprints")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE cruce_batch_repeats AS SELECT b.entity_id, b.fp = e.fp AS same "
            f"FROM {self._entities} e JOIN cruce_batch_entities b ON b.entity_id = e.entity_id"
        )
        self.con.execute(
            f"INSERT INTO {self._entities} SELECT entity_id, fp FROM cruce_batch_entities "
            "ANTI JOIN cruce_batch_repeats USING (entity_id)"
        )
        refs = self._refs.pop(id(prepared), None)
        row = self.con.execute("SELECT count(*), count(*) FILTER (WHERE NOT same) FROM cruce_batch_repeats").fetchone()
        repeats, changed = (int(row[0]), int(row[1])) if row else (0, 0)
        batch = {"statement": prepared, "entity_ref": refs}
        if repeats:  # the batch less those entities (and the changed ones aside), one scan for each table
            masks = "b.entity_id NOT IN (SELECT entity_id FROM cruce_batch_repeats)"
            if changed:
                masks += ", b.entity_id IN (SELECT entity_id FROM cruce_batch_repeats WHERE NOT same)"
            held: dict[str, pa.Table] = {}
            for table, rows in batch.items():
                if rows is None:
                    continue
                self.con.register("cruce_incoming_rows", rows)
                try:
                    mask = self.con.execute(f"SELECT {masks} FROM cruce_incoming_rows b").to_arrow_table()
                finally:
                    self.con.unregister("cruce_incoming_rows")
                if changed:
                    held[table] = rows.filter(mask.column(1))
                batch[table] = rows.filter(mask.column(0))
            if held:
                self._hold(held)
        return self._write(batch)

    def _hold(self, held: dict[str, pa.Table]) -> None:
        """Keep the statements of the batch's changed entities (see ``_add_to_new_dataset``) aside,
        and which of their properties have reference index rows."""
        sql = {
            "statement": f"INSERT INTO {self._held} SELECT h.entity_id, h.prop_id, h.value, h.original, "
            f"h.source_row, {self._batches} FROM cruce_incoming_held h",
            "entity_ref": f"INSERT INTO {self._held_refs} SELECT DISTINCT h.entity_id, h.prop_id, h.protected "
            "FROM cruce_incoming_held h",
        }
        for table, rows in held.items():
            self.con.register("cruce_incoming_held", rows)
            try:
                row = self.con.execute(sql[table]).fetchone()
            finally:
                self.con.unregister("cruce_incoming_held")
            if table == "statement":
                self._held_rows += int(row[0]) if row else 0

    def _write(self, batch: dict[str, pa.Table | None], final: bool = False) -> int:
        """Write a new dataset's batch (statements, and reference rows sorted where they were
        prepared) in one transaction; return the statements written.

        Only whole row groups are written, and the rest is carried into the next batch (``final``:
        all of it). DuckDB writes each large insert as row groups of its own, so every batch would
        leave a part-filled one behind, and the checkpoint at close would merge (read and write
        again) those of ``entity_ref``: a third of a second per million sales (ADR 0003)."""
        self.con.execute("BEGIN TRANSACTION")
        written = 0
        for table, sql in self._insert_sql.items():
            rows = self._whole_row_groups(table, batch.get(table), final)
            if rows is None:
                continue
            self.con.register("cruce_incoming_rows", rows)
            try:
                row = self.con.execute(sql).fetchone()
            finally:
                self.con.unregister("cruce_incoming_rows")
            if table == "statement":
                written = int(row[0]) if row else 0
        self.con.execute("COMMIT")
        self._added += written
        return written

    def _whole_row_groups(self, table: str, rows: pa.Table | None, final: bool) -> pa.Table | None:
        """The rows carried from the last batch and ``rows``, less the rows after the last whole
        row group, which are carried (copied: a slice would keep the whole batch in memory)."""
        parts = [t for t in (self._carried.pop(table, None), rows) if t is not None]
        if not parts:
            return None
        rows = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        whole = len(rows) if final else len(rows) // ROW_GROUP_ROWS * ROW_GROUP_ROWS
        if whole < len(rows):
            rest = rows.slice(whole)
            self._carried[table] = pa.Table.from_arrays(
                [pa.concat_arrays(column.chunks) for column in rest.columns], schema=rest.schema
            )
        return rows.slice(0, whole)

    def _insert(self, select: str) -> int:
        """The batch's statements (an existing dataset's: ``select`` leaves out those it has)."""
        self.con.execute("BEGIN TRANSACTION")
        row = self.con.execute(
            "INSERT INTO statement SELECT b.entity_id, b.prop_id, b.value, b.original, b.source_row, "
            f"{self.number}, {self.number} FROM {select}"
        ).fetchone()
        self.con.execute("COMMIT")
        written = int(row[0]) if row else 0
        self._added += written
        return written

    def _remove_repeats(self) -> None:
        """Add the held statements of changed entities, each once (from the first batch that had
        it), less those already written, with their reference index rows. Runs in the commit's
        transaction: a few entities' statements in the usual import; the join with ``statement``
        only reads this import's rows of those entities."""
        if self.earlier_imports or not self._held_rows:
            return
        yours = f"import_no = {self.number} AND entity_id IN (SELECT entity_id FROM {self._held})"
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE cruce_added AS SELECT h.* FROM "
            f"(SELECT * FROM {self._held} QUALIFY row_number() OVER "
            "(PARTITION BY entity_id, prop_id, value ORDER BY batch) = 1) h "
            f"ANTI JOIN (SELECT entity_id, prop_id, value FROM statement WHERE {yours}) s "
            "ON s.entity_id = h.entity_id AND s.prop_id = h.prop_id AND s.value = h.value"
        )
        try:
            row = self.con.execute(
                "INSERT INTO statement SELECT entity_id, prop_id, value, original, source_row, "
                f"{self.number}, {self.number} FROM cruce_added ORDER BY batch, source_row"
            ).fetchone()
            self._added += int(row[0]) if row else 0
            if self.indexes_batches:  # a statement's reference is its value, as the batch's were made
                self.con.execute(
                    f"INSERT INTO entity_ref SELECT * FROM (SELECT TRY_CAST(a.value AS UUID) AS target, a.entity_id, "
                    f"{self.number}, a.prop_id, r.protected FROM cruce_added a "
                    f"JOIN (SELECT DISTINCT * FROM {self._held_refs}) r USING (entity_id, prop_id)) "
                    "WHERE target IS NOT NULL ORDER BY target"
                )
        finally:
            self.con.execute("DROP TABLE IF EXISTS cruce_added")

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
        if self._carried:  # the last rows of the last batch
            self._write({}, final=True)
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
        added = self._added
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
            f"DROP TABLE IF EXISTS {self._entities}; DROP TABLE IF EXISTS {self._held}; "
            f"DROP TABLE IF EXISTS {self._held_refs}; "
            "DROP TABLE IF EXISTS cruce_batch_entities; DROP TABLE IF EXISTS cruce_batch_repeats; "
            "DROP TABLE IF EXISTS cruce_added"
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
