"""The embedded store: one DuckDB file, nothing to install or start.

An import stages its statements in a table of its own inside one transaction, then merges them
into ``statement`` with one set-based step (first occurrence wins, statements already stored only
get a new ``last_seen``). A crash at any point — even ``kill -9`` — leaves the uncommitted
transaction behind, and DuckDB discards it when the file is next opened.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cruce.i18n import _
from cruce.store.base import ImportRecord, StoreError, statement_id_sql
from cruce.store.sql import SqlStore

DEFAULT_MEMORY_LIMIT = "512MB"
COMPUTE_MEMORY_LIMIT = "384MB"


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": os.environ.get("CRUCE_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)
    }
    try:
        return duckdb.connect(path, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreError(
                _("The database {path} is in use by another cruce process; wait for it to finish.").format(path=path)
            ) from exc
        raise StoreError(_("Cannot open the database {path}: {reason}").format(path=path, reason=exc)) from exc
    except duckdb.Error as exc:
        raise StoreError(_("Cannot open the database {path}: {reason}").format(path=path, reason=exc)) from exc


class DuckDBStore(SqlStore):
    """Statements in a single DuckDB file (or in memory for ``:memory:``)."""

    backend = "duckdb"
    statement_id_expr = statement_id_sql("s.dataset", "s.entity_id", "s.prop", "s.value")

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self.url = self.path if self.path == ":memory:" else f"duckdb:{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path)
        self._compute: duckdb.DuckDBPyConnection | None = None
        self.upgraded_from, self.version = self._migrate()

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, list(params)).fetchall()

    def _run_script(self, sql: str) -> None:
        self.con.execute(sql)

    def _has_table(self, name: str) -> bool:
        rows = self._fetch("SELECT 1 FROM information_schema.tables WHERE table_name = ?", (name,))
        return bool(rows)

    def close(self) -> None:
        self.con.close()
        if self._compute is not None:
            self._compute.close()

    def compute(self) -> duckdb.DuckDBPyConnection:
        """A private in-memory connection: batch work stays out of the import's transaction."""
        if self._compute is None:
            self._compute = duckdb.connect(
                ":memory:", config={"memory_limit": COMPUTE_MEMORY_LIMIT, "arrow_lossless_conversion": True}
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
    """One import's transaction on the DuckDB file.

    Each batch's statements go straight into ``statement``, minus those already there: those of
    this import (an entity seen in an earlier batch), and — only when the dataset already had
    data — those of earlier imports, whose ``last_seen`` is then moved forward at commit.
    """

    def __init__(self, store: DuckDBStore, import_id: str, dataset: str) -> None:
        self.store = store
        self.con = store.con
        self.import_id = import_id
        self.dataset = dataset
        self.now = datetime.now()
        self.con.execute("BEGIN TRANSACTION")
        self.dataset_had_data = bool(
            self.con.execute("SELECT 1 FROM statement WHERE dataset = ? LIMIT 1", [dataset]).fetchall()
        )
        if self.dataset_had_data:
            self.con.execute("CREATE OR REPLACE TEMP TABLE cruce_seen (entity_id UUID, prop VARCHAR, value VARCHAR)")
        self._entities = "cruce_import_entities"
        store.compute().execute(f"CREATE OR REPLACE TABLE {self._entities} (entity_id UUID)")

    def add_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> int:
        if self.dataset_had_data:
            self._receive(compute.table(table).to_arrow_table())
            return self._add_to_existing_dataset()
        return self._add_to_new_dataset(compute, table)

    def _receive(self, batch: pa.Table) -> None:
        self.con.register("cruce_incoming", batch)

    def _insert(self, select: str, params: list[object]) -> int:
        try:
            row = self.con.execute(
                "INSERT INTO statement SELECT b.entity_id, b.schema, b.prop, b.value, b.original, ?, ?, "
                f"b.source_row, ?, ? FROM {select}",
                [self.dataset, self.import_id, self.now, self.now, *params],
            ).fetchone()
        finally:
            self.con.unregister("cruce_incoming")
        return int(row[0]) if row else 0

    def _add_to_new_dataset(self, compute: duckdb.DuckDBPyConnection, table: str) -> int:
        """Only entities already met in an earlier batch of this import can repeat a statement.

        The set of this import's entities is kept in the compute connection, outside the
        transaction, so that it costs no undo space.
        """
        compute.execute(
            f"SELECT b.*, b.entity_id IN (SELECT entity_id FROM {self._entities}) AS repeated FROM {table} b"
        )
        self._receive(compute.to_arrow_table())
        compute.execute(
            f"INSERT INTO {self._entities} SELECT DISTINCT entity_id FROM {table} "
            f"EXCEPT SELECT entity_id FROM {self._entities}"
        )
        same = "s.entity_id = b.entity_id AND s.prop = b.prop AND s.value = b.value"
        return self._insert(
            "cruce_incoming b WHERE NOT b.repeated UNION ALL SELECT b.entity_id, b.schema, b.prop, b.value, "
            "b.original, ?, ?, b.source_row, ?, ? FROM cruce_incoming b "
            "ANTI JOIN (SELECT entity_id, prop, value FROM statement WHERE import_id = ? AND entity_id IN "
            "(SELECT entity_id FROM cruce_incoming WHERE repeated)) s ON " + same + " WHERE b.repeated",
            [self.dataset, self.import_id, self.now, self.now, self.import_id],
        )

    def _add_to_existing_dataset(self) -> int:
        """Statements the dataset already has only get a later ``last_seen`` (at commit)."""
        same = "s.entity_id = b.entity_id AND s.prop = b.prop AND s.value = b.value"
        self.con.execute(
            "INSERT INTO cruce_seen SELECT b.entity_id, b.prop, b.value FROM cruce_incoming b "
            f"SEMI JOIN (SELECT entity_id, prop, value FROM statement WHERE dataset = ? AND import_id <> ?) s "
            f"ON {same}",
            [self.dataset, self.import_id],
        )
        return self._insert(
            f"cruce_incoming b ANTI JOIN (SELECT entity_id, prop, value FROM statement WHERE dataset = ?) s ON {same}",
            [self.dataset],
        )

    def add_rejects(self, compute: duckdb.DuckDBPyConnection, select_sql: str) -> int:
        rejects = compute.execute(select_sql).to_arrow_table()
        self.con.register("cruce_incoming_rejects", rejects)
        try:
            self.con.execute(
                "INSERT INTO reject SELECT ?, ?, r.source_row, r.field, r.reason, r.value "
                "FROM cruce_incoming_rejects r",
                [self.import_id, self.dataset],
            )
        finally:
            self.con.unregister("cruce_incoming_rejects")
        return int(rejects.num_rows)

    def commit(self, record: ImportRecord) -> int:
        if self.dataset_had_data:
            self.con.execute(
                "UPDATE statement SET last_seen = ? FROM (SELECT DISTINCT * FROM cruce_seen) AS seen "
                "WHERE statement.dataset = ? AND statement.entity_id = seen.entity_id "
                "AND statement.prop = seen.prop AND statement.value = seen.value",
                [self.now, self.dataset],
            )
            self.con.execute("DROP TABLE cruce_seen")
        row = self.con.execute("SELECT count(*) FROM statement WHERE import_id = ?", [self.import_id]).fetchone()
        added = int(row[0]) if row else 0
        sql, params = self.store._record_import(record, datetime.now(), added)
        self.con.execute(sql, list(params))
        self.con.execute("COMMIT")
        self.store.compute().execute(f"DROP TABLE IF EXISTS {self._entities}")
        return added

    def rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            return
        finally:
            self.store.compute().execute(f"DROP TABLE IF EXISTS {self._entities}")
