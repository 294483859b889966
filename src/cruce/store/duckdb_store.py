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

from cruce.i18n import _
from cruce.store.base import ImportRecord, StoreError, statement_id_sql
from cruce.store.sql import SqlStore

DEFAULT_MEMORY_LIMIT = "1GB"


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    config = {"memory_limit": os.environ.get("CRUCE_DUCKDB_MEMORY", DEFAULT_MEMORY_LIMIT)}
    try:
        return duckdb.connect(path, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreError(
                _("The database {path} is in use by another cruce process; wait for it to finish.").format(
                    path=path
                )
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

    def compute(self) -> duckdb.DuckDBPyConnection:
        return self.con

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
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE cruce_seen (entity_id UUID, prop VARCHAR, value VARCHAR)"
            )

    def add_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> int:
        assert compute is self.con, "the DuckDB store computes in its own connection"
        if self.dataset_had_data:
            return self._add_to_existing_dataset(table)
        return self._add_to_new_dataset(table)

    def _insert(self, select: str, params: list[object]) -> int:
        row = self.con.execute(
            "INSERT INTO statement SELECT b.entity_id, b.schema, b.prop, b.value, b.original, ?, ?, "
            f"b.source_row, ?, ? FROM {select}",
            [self.dataset, self.import_id, self.now, self.now, *params],
        ).fetchone()
        return int(row[0]) if row else 0

    def _add_to_new_dataset(self, table: str) -> int:
        """Only entities already met in an earlier batch of this import can repeat a statement."""
        con = self.con
        con.execute(
            "CREATE TEMP TABLE IF NOT EXISTS cruce_import_entities (entity_id UUID);"
            "CREATE OR REPLACE TEMP TABLE cruce_repeat AS "
            f"SELECT DISTINCT entity_id FROM {table} SEMI JOIN cruce_import_entities USING (entity_id)"
        )
        added = self._insert(f"{table} b ANTI JOIN cruce_repeat r USING (entity_id)", [])
        added += self._insert(
            f"{table} b SEMI JOIN cruce_repeat r USING (entity_id) ANTI JOIN "
            "(SELECT entity_id, prop, value FROM statement WHERE import_id = ? "
            " AND entity_id IN (SELECT entity_id FROM cruce_repeat)) s "
            "ON s.entity_id = b.entity_id AND s.prop = b.prop AND s.value = b.value",
            [self.import_id],
        )
        con.execute(
            "INSERT INTO cruce_import_entities "
            f"SELECT DISTINCT entity_id FROM {table} ANTI JOIN cruce_repeat USING (entity_id)"
        )
        return added

    def _add_to_existing_dataset(self, table: str) -> int:
        """Statements the dataset already has only get a later ``last_seen`` (at commit)."""
        same = "s.entity_id = b.entity_id AND s.prop = b.prop AND s.value = b.value"
        self.con.execute(
            f"INSERT INTO cruce_seen SELECT b.entity_id, b.prop, b.value FROM {table} b "
            f"SEMI JOIN (SELECT entity_id, prop, value FROM statement WHERE dataset = ? AND import_id <> ?) s "
            f"ON {same}",
            [self.dataset, self.import_id],
        )
        return self._insert(
            f"{table} b ANTI JOIN (SELECT entity_id, prop, value FROM statement WHERE dataset = ?) s ON {same}",
            [self.dataset],
        )

    def add_rejects(self, compute: duckdb.DuckDBPyConnection, select_sql: str) -> int:
        assert compute is self.con, "the DuckDB store computes in its own connection"
        row = self.con.execute(
            f"INSERT INTO reject SELECT ?, ?, r.source_row, r.field, r.reason, r.value FROM ({select_sql}) r",
            [self.import_id, self.dataset],
        ).fetchone()
        return int(row[0]) if row else 0

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
        self.con.execute("DROP TABLE IF EXISTS cruce_import_entities; DROP TABLE IF EXISTS cruce_repeat")
        self.con.execute("COMMIT")
        return added

    def rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            return
