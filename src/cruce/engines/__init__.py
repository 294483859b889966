"""Where cruce's set-based steps run: DuckDB in this process (the default), or Apache Spark.

The graph build (``cruce.graph.build``) and the flow aggregations (``cruce.analyses.aggregate``)
are written once, in DuckDB's SQL, against ``Engine``; ``SparkEngine`` translates each statement
to Spark SQL with SQLGlot and moves tables in and out as Parquet. Record linkage on Spark
(``cruce.resolve.spark``) shares the session set-up (``cruce.engines.spark_session``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cruce.engines.base import ENGINES, Engine
from cruce.engines.duck import DuckDBEngine

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "open_engine"]


@contextmanager
def open_engine(name: str = "duckdb", spark_master: str | None = None) -> Iterator[Engine]:
    """An engine for one run: a fresh in-memory DuckDB, or a Spark session (``spark_master``,
    local mode by default) started now and stopped after."""
    if name not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
    if name == "spark":
        from cruce.engines.spark import spark_engine

        with spark_engine(spark_master) as engine:
            yield engine
        return
    duck = DuckDBEngine()
    try:
        yield duck
    finally:
        duck.close()
