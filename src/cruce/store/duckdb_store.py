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
from cruce.store.base import REJECT_COLUMNS, STATEMENT_COLUMNS, ImportRecord, StoreError
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
    """One import's transaction on the DuckDB file."""

    def __init__(self, store: DuckDBStore, import_id: str, dataset: str) -> None:
        self.store = store
        self.con = store.con
        self.import_id = import_id
        self.dataset = dataset
        self._stage = "stage_" + import_id.replace("-", "_")
        self._rejects = "rejects_" + import_id.replace("-", "_")
        self.con.execute("BEGIN TRANSACTION")
        self.con.execute(
            f"CREATE TABLE {self._stage} (id UUID, entity_id UUID, schema VARCHAR, prop VARCHAR, "
            "value VARCHAR, original VARCHAR, source_row BIGINT)"
        )
        self.con.execute(
            f"CREATE TABLE {self._rejects} (source_row BIGINT, field VARCHAR, reason VARCHAR, value VARCHAR)"
        )

    def stage_statements(self, compute: duckdb.DuckDBPyConnection, select_sql: str) -> int:
        assert compute is self.con, "the DuckDB store computes in its own connection"
        cols = ", ".join(STATEMENT_COLUMNS)
        row = self.con.execute(f"INSERT INTO {self._stage} ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def stage_rejects(self, compute: duckdb.DuckDBPyConnection, select_sql: str) -> int:
        assert compute is self.con, "the DuckDB store computes in its own connection"
        cols = ", ".join(REJECT_COLUMNS)
        row = self.con.execute(f"INSERT INTO {self._rejects} ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def commit(self, record: ImportRecord) -> int:
        now = record.started_at
        if self.store.statement_count():
            self.con.execute(
                f"UPDATE statement SET last_seen = ? FROM (SELECT DISTINCT id FROM {self._stage}) AS staged "
                "WHERE statement.id = staged.id",
                [now],
            )
        row = self.con.execute(
            f"""
            INSERT INTO statement
            SELECT id, entity_id, schema, prop, value, original, ?, ?, source_row, ?, ?
            FROM {self._stage}
            WHERE rowid IN (SELECT arg_min(rowid, source_row) FROM {self._stage} GROUP BY id)
              AND id NOT IN (SELECT id FROM statement)
            """,
            [self.dataset, self.import_id, now, now],
        ).fetchone()
        added = int(row[0]) if row else 0
        self.con.execute(
            f"INSERT INTO reject SELECT ?, ?, source_row, field, reason, value FROM {self._rejects}",
            [self.import_id, self.dataset],
        )
        sql, params = self.store._record_import(record, datetime.now(), added)
        self.con.execute(sql, list(params))
        self._drop_stage()
        self.con.execute("COMMIT")
        return added

    def _drop_stage(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self._stage}")
        self.con.execute(f"DROP TABLE IF EXISTS {self._rejects}")

    def rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            return
