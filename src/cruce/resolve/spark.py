"""Entity resolution on Apache Spark (``cruce resolve --engine spark``): same model, same pairs.

The records are prepared in DuckDB as for a DuckDB run, written to Parquet and read by Spark;
Splink's Spark backend scores them with the same settings (the stored model), and the pairs come
back as Parquet into the same SQL, clustering and storage as a DuckDB run. Stored models are
always kept in DuckDB's SQL: the comparison levels and blocking rules are translated to Spark SQL
with SQLGlot when a Spark run uses them, so a model trained on either engine serves both.

The session (``cruce.engines.spark_session``, shared with the graph build and the flow
aggregations) listens on the loopback interface when the master is local; its scratch directory
(Parquet interchange and Splink's checkpoints) is removed when the run ends. On a cluster, put that
directory on storage every executor can read (``CRUCE_SPARK_DIR``); see docs/deploy/spark.md.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cruce.engines import spark_session
from cruce.engines.spark_session import DEFAULT_MASTER, SparkUnavailableError
from cruce.engines.spark_sql import to_spark_sql
from cruce.resolve.blocks import BlockPurge
from cruce.resolve.engine import ResolutionError, _splink_settings, descriptions, pairs_table, rule_labels
from cruce.resolve.models import PAIR_FLOOR, ModelSpec, quiet_splink, settings_dict, train

__all__ = ["DEFAULT_MASTER", "as_duckdb", "check_available", "run", "spark_settings", "spark_spec", "to_spark_sql"]


def spark_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Splink settings (DuckDB SQL, as stored) rewritten for the Spark backend."""
    out = copy.deepcopy(_splink_settings(settings))
    out["sql_dialect"] = "spark"
    for comparison in out["comparisons"]:
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = to_spark_sql(level["sql_condition"])
    out["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": to_spark_sql(rule["blocking_rule"]), "sql_dialect": "spark"}
        for rule in out.get("blocking_rules_to_generate_predictions", [])
    ]
    return out


def spark_spec(spec: ModelSpec) -> ModelSpec:
    """The training rules of a spec in Spark SQL (the comparisons go through ``spark_settings``)."""
    return replace(
        spec,
        training_blocks=[to_spark_sql(s) for s in spec.training_blocks],
        deterministic=[to_spark_sql(s) for s in spec.deterministic],
    )


def as_duckdb(trained: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """A model trained on Spark, stored with the DuckDB SQL it was built from (levels keep their order)."""
    out = copy.deepcopy(trained)
    out["sql_dialect"] = "duckdb"
    for mine, theirs in zip(out["comparisons"], original["comparisons"], strict=True):
        for level, source in zip(mine["comparison_levels"], theirs["comparison_levels"], strict=True):
            level["sql_condition"] = source["sql_condition"]
    out["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": source["blocking_rule"], "sql_dialect": "duckdb"}
        for rule, source in zip(
            out["blocking_rules_to_generate_predictions"],
            original["blocking_rules_to_generate_predictions"],
            strict=True,
        )
    ]
    return out


# -- the session ---------------------------------------------------------------------------------
def _java() -> str | None:
    return spark_session.java()


def check_available() -> None:
    """Fail early, saying what to install, when pyspark or Java is missing."""
    with _as_resolution_error():
        spark_session.check_available()


@contextmanager
def _as_resolution_error() -> Iterator[None]:
    try:
        yield
    except SparkUnavailableError as exc:
        raise ResolutionError(str(exc)) from exc


@contextmanager
def session(master: str | None = None) -> Iterator[tuple[Any, Path]]:
    """``cruce.engines.spark_session.session``, its errors as a resolution's."""
    with _as_resolution_error(), spark_session.session(master) as opened:
        yield opened


# -- training and scoring ------------------------------------------------------------------------
# Records per partition of Splink's tables and of the shuffles that score them. Splink writes its
# candidate pairs in a sixth of its partition setting and its predictions in all of it; left to its
# default (half of Spark's parallelism, 2 locally) the candidate pairs were written by one task
# on one core and the predictions in two partitions, however many the records.
RECORDS_PER_PARTITION = 20_000


def partitions(records: int, parallelism: int) -> int:
    """How many partitions a run over ``records`` records spreads its work over (Splink's
    ``num_partitions_on_repartition``, and the least number of shuffle partitions)."""
    return max(parallelism, math.ceil(records / RECORDS_PER_PARTITION))


@contextmanager
def _shuffle_partitions(spark: Any, count: int) -> Iterator[None]:
    """Spark's shuffles (Splink's blocking joins) in at least ``count`` partitions while the
    block runs; adaptive execution merges the ones that come out small."""
    key = "spark.sql.shuffle.partitions"
    before = spark.conf.get(key)
    spark.conf.set(key, str(max(count, int(before))))
    try:
        yield
    finally:
        spark.conf.set(key, before)


def _linker(spark: Any, records: Any, settings: dict[str, Any], spread: int) -> Any:
    from splink import Linker
    from splink.backends.spark import SparkAPI

    quiet_splink()
    db_api = SparkAPI(spark_session=spark, num_partitions_on_repartition=spread)  # type: ignore[no-untyped-call]
    return Linker(db_api.register(records), settings, log_level=None)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _kept_columns(settings: dict[str, Any]) -> list[str]:
    names = [c["output_column_name"] for c in settings["comparisons"]]
    return [
        "unique_id_l",
        "unique_id_r",
        "match_probability",
        "match_weight",
        "match_key",
        *(f"mw_{n}" for n in names),
        *(f"gamma_{n}" for n in names),
    ]


def _score(
    spark: Any,
    records: Any,
    spec: ModelSpec,
    settings: dict[str, Any] | None,
    purge: BlockPurge,
    spread: int,
    out: Path,
) -> dict[str, Any]:
    """Score ``records`` (training a model first when there is none), the pairs written to
    ``out`` as Parquet; the settings scored with, in DuckDB SQL."""
    if settings is None:
        original = settings_dict(spec)
        linker = _linker(spark, records, spark_settings(original), spread)
        train(linker, spark_spec(spec))
        settings = as_duckdb(linker.misc.save_model_to_json(), original)
        settings["cruce_rule_labels"] = rule_labels(spec)
        settings["cruce_descriptions"] = descriptions(spec)
        if purge.narrowed:
            linker = _linker(spark, records, spark_settings(purge.settings(settings)), spread)
    else:
        linker = _linker(spark, records, spark_settings(purge.settings(settings)), spread)
    predictions = linker.inference.predict(threshold_match_probability=PAIR_FLOOR, warning_mode="never")
    spark.table(predictions.physical_name).select(*_kept_columns(settings)).write.parquet(str(out))
    return settings


def run(
    con: duckdb.DuckDBPyConnection,
    table: str,
    records: int,
    spec: ModelSpec,
    settings: dict[str, Any] | None,
    master: str | None = None,
    purge: BlockPurge | None = None,
) -> tuple[dict[str, Any], pa.Table]:
    """Score the prepared ``table`` (``records`` rows) on Spark with the stored ``settings``, or
    train a model first when there are none; the (possibly new) settings, in DuckDB SQL, and the pairs as
    ``engine._score`` gives them. ``purge``: the oversized blocks the rules pass by when scoring
    (flagged in ``table`` before it is written for Spark)."""
    purge = purge or BlockPurge()
    with tempfile.TemporaryDirectory(prefix="cruce-pairs-", dir=os.environ.get("CRUCE_SPARK_DIR")) as kept:
        out = Path(kept) / "pairs"
        with session(master) as (spark, workdir):
            source = workdir / "records.parquet"
            con.execute(f"COPY {table} TO '{_quoted(source)}' (FORMAT parquet)")
            spread = partitions(records, spark.sparkContext.defaultParallelism)
            with _shuffle_partitions(spark, spread):
                settings = _score(spark, spark.read.parquet(str(source)), spec, settings, purge, spread, out)
        # read once the session (in local mode, its JVM and heap) is gone: the two never held at once
        pairs = pairs_table(con, f"read_parquet('{_quoted(out)}/*.parquet')", settings)
    return settings, pairs
