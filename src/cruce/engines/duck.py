"""The default engine: an in-memory DuckDB of the caller's own (nothing to install or start)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cruce.engines.base import Engine


def quoted_path(path: Path | str) -> str:
    """A path as a DuckDB string literal."""
    return "'" + str(path).replace("'", "''") + "'"


class DuckDBEngine(Engine):
    """SQL as written, on ``con`` (a new in-memory database if none is given)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None) -> None:
        self.con = con if con is not None else duckdb.connect()
        self._registered: set[str] = set()

    def put(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)  # no copy: the derived tables made from it are the copies
        self._registered.add(name)

    def parquet(self, name: str, paths: Sequence[Path]) -> None:
        files = ", ".join(quoted_path(p) for p in paths)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet([{files}])")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, list(params) if params else None)

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self.con.execute(sql, list(params) if params else None).to_arrow_table()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """On a cursor of its own, so that any thread may ask (one at a time: ``Tables`` locks); a
        cursor sees the database's tables, not the connection's TEMP ones."""
        cur = self.con.cursor()
        try:
            result = cur.execute(sql, list(params) if params else [])
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        finally:
            cur.close()

    def drop(self, name: str) -> None:
        if name in self._registered:
            self.con.unregister(name)
            self._registered.discard(name)
            return
        kind = self.con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchone()
        if kind is not None:
            self.con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} IF EXISTS {name}")

    def close(self) -> None:
        self.con.close()
