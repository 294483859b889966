"""The Spark engine: DuckDB-dialect SQL translated to Spark SQL (``cruce.engines.spark_sql``),
tables in and out as Parquet in the session's scratch directory.

A table made by ``CREATE TABLE … AS`` is written to Parquet and read back (a view would be
computed again by every query that reads it); ``arrow`` writes its result to Parquet and reads the
files back, so that a large result never passes through the driver's heap. Spark writes a sorted
result in several files, so ``arrow`` does not promise the query's order (``keeps_order``):
callers that need an order sort what they get. ``rows`` (a figure's few rows) collects in order.

Each engine has a session of its own (``SparkSession.newSession``: its own temporary views and
settings over the one Spark context), so two analyses' tables of one name do not meet.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from cruce.engines.base import Engine
from cruce.engines.spark_session import session
from cruce.engines.spark_sql import to_spark_sql

TOP_K_IN_MEMORY = 100_000


class SparkEngine(Engine):
    """SQL on ``spark`` (a session of this engine's own), scratch files under ``workdir``."""

    name = "spark"
    keeps_order = False

    def __init__(self, spark: Any, workdir: Path) -> None:
        # ORDER BY … LIMIT n keeps the top n in a queue sized n up front: a figure's lifted limit
        # (``cruce.analyses.aggregate.EVERY_ROW``) would fill the heap. Above this, Spark sorts.
        spark.conf.set("spark.sql.execution.topKSortFallbackThreshold", str(TOP_K_IN_MEMORY))
        self.spark = spark
        self.workdir = workdir
        self.attached: set[str] = set()  # stores whose tables are views here (``cruce.engines.store_export``)
        self._numbers = itertools.count()
        self._views: set[str] = set()

    def scratch(self, kind: str, name: str = "") -> Path:
        """A new path under the scratch directory (seen by every executor on a cluster)."""
        return self.workdir / kind / f"{name or kind}-{next(self._numbers)}"

    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def put(self, name: str, table: pa.Table) -> None:
        folder = self.scratch("in", name)
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part-0.parquet")
        self.parquet(name, [folder])

    def parquet(self, name: str, paths: Sequence[Path]) -> None:
        self._view(name, self.spark.read.parquet(*(str(p) for p in paths)))

    def _query(self, sql: str | exp.Expr, params: Sequence[Any] | None) -> Any:
        return self.spark.sql(to_spark_sql(sql), args=list(params) if params else None)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        tree = sqlglot.parse_one(sql, read="duckdb")
        if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW") and isinstance(tree.this, exp.Table):
            frame = self._query(tree.expression, params)
            if tree.kind == "TABLE":  # made once, kept as Parquet
                folder = self.scratch("tables", tree.this.name)
                frame.write.parquet(str(folder))
                frame = self.spark.read.parquet(str(folder))
            self._view(tree.this.name, frame)
        elif isinstance(tree, exp.Drop):
            for table in tree.find_all(exp.Table):
                self.drop(table.name)
        elif isinstance(tree, exp.Set):
            return  # a DuckDB setting (memory, threads): Spark has its own
        else:
            self._query(tree, params).collect()

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        folder = self.scratch("out")
        self._query(sql, params).write.parquet(str(folder))
        try:
            parts = [pq.read_table(f) for f in sorted(folder.glob("*.parquet"))]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return pa.concat_tables(parts) if len(parts) != 1 else parts[0]

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return list(self._query(sql, params).toArrow().to_pylist())

    def drop(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._views.discard(name)

    def close(self) -> None:
        for name in list(self._views):
            self.drop(name)


@contextmanager
def spark_engine(master: str | None = None) -> Iterator[SparkEngine]:
    """A Spark engine on ``master`` (local mode on this machine by default), gone with the block."""
    with session(master) as (spark, workdir):
        engine = SparkEngine(spark.newSession(), workdir)
        try:
            yield engine
        finally:
            engine.close()
