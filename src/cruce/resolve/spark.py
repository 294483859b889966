"""Entity resolution on Apache Spark (``cruce resolve --engine spark``): same model, same pairs.

The records are prepared in DuckDB as for a DuckDB run, written to Parquet and read by Spark;
Splink's Spark backend scores them with the same settings (the stored model), and the pairs come
back as Parquet into the same SQL, clustering and storage as a DuckDB run. Stored models are
always kept in DuckDB's SQL: the comparison levels and blocking rules are translated to Spark SQL
with SQLGlot when a Spark run uses them, so a model trained on either engine serves both.

The session listens on the loopback interface when the master is local; its scratch directory
(Parquet interchange and Splink's checkpoints) is removed when the run ends. On a cluster, put that
directory on storage every executor can read (``CRUCE_SPARK_DIR``); see docs/deploy/spark.md.
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from cruce.i18n import _
from cruce.resolve.engine import ResolutionError, _splink_settings, descriptions, pairs_table, rule_labels
from cruce.resolve.models import PAIR_FLOOR, ModelSpec, quiet_splink, settings_dict, train

DEFAULT_MASTER = "local[2]"
JAVA_HINT = "apt-get install openjdk-17-jre-headless"
PYSPARK_HINT = "pip install 'cruce[spark]'"
# Errors only. Spark prints a "Setting default log level" banner unless the logger of the class
# that starts it (PySpark's gateway) has a level of its own.
QUIET_LOG4J = """\
rootLogger.level = error
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


# -- SQL: DuckDB -> Spark ------------------------------------------------------------------------
def _to_spark_node(node: exp.Expression) -> exp.Expression:
    """The few DuckDB functions the models use whose Spark form differs."""
    if isinstance(node, exp.JarowinklerSimilarity):  # Splink's jar registers it as jaro_winkler
        return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        # DuckDB gives NULL past the end of a list; Spark's try_element_at too (1-based).
        index = node.expressions[0]
        one_based = (
            exp.Literal.number(int(index.this) + 1)
            if isinstance(index, exp.Literal) and not index.is_string
            else exp.Add(this=index.copy(), expression=exp.Literal.number(1))
        )
        return exp.Anonymous(this="try_element_at", expressions=[node.this, one_based])
    return node


def to_spark_sql(sql: str) -> str:
    """A DuckDB condition (comparison level or blocking rule) in Spark SQL."""
    if sql.strip().upper() == "ELSE":
        return sql
    tree = sqlglot.parse_one(sql, read="duckdb").transform(_to_spark_node)
    return tree.sql(dialect="spark", normalize_functions="lower")


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
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def check_available() -> None:
    """Fail early, saying what to install, when pyspark or Java is missing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyspark 4.3 warns that it does not fully support pandas 3
            import pyspark  # noqa: F401
    except ImportError:
        raise ResolutionError(_("Spark needs the pyspark package: {hint}").format(hint=PYSPARK_HINT)) from None
    if _java() is None:
        raise ResolutionError(_("Spark needs Java 17: {hint}").format(hint=JAVA_HINT))


def _is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[")


def _config(master: str, workdir: Path) -> dict[str, str]:
    from splink.backends.spark import similarity_jar_location

    log4j = workdir / "log4j2.properties"
    log4j.write_text(QUIET_LOG4J, encoding="utf-8")
    conf = {
        "spark.master": master,
        "spark.app.name": "cruce-resolve",
        "spark.jars": similarity_jar_location(),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": os.environ.get("CRUCE_SPARK_DRIVER_MEMORY", "1g"),
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j}",
        "spark.local.dir": str(workdir / "local"),
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.sql.session.timeZone": "UTC",
        # DuckDB's semantics (NULL, not an error, past the end of a list or on a bad cast)
        "spark.sql.ansi.enabled": "false",
    }
    if _is_local(master):
        conf |= {
            # The JIT's first tier only: a local run is short, and C2 compiling Spark's generated
            # code doubled the CPU time of a 500-record run.
            "spark.driver.extraJavaOptions": conf["spark.driver.extraJavaOptions"] + " -XX:TieredStopAtLevel=1",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.shuffle.partitions": "4",  # the default 200 is for clusters; tiny tasks dominate locally
            "spark.default.parallelism": "4",
        }
    return conf


@contextmanager
def session(master: str | None = None) -> Iterator[tuple[Any, Path]]:
    """A Spark session and its scratch directory, both gone when the block ends (a session the
    caller already had active is used, and left running)."""
    check_available()
    master = master or DEFAULT_MASTER
    workdir = Path(tempfile.mkdtemp(prefix="cruce-spark-", dir=os.environ.get("CRUCE_SPARK_DIR")))
    spark, active = None, None
    try:
        spark, active = _start(master, workdir)
        spark.sparkContext.setCheckpointDir(str(workdir / "checkpoints"))
        yield spark, workdir
    finally:
        if spark is not None and active is None:
            spark.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _start(master: str, workdir: Path) -> tuple[Any, Any]:
    """(session, the session that was already active or None)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            return active, active
        builder = SparkSession.builder
        for key, value in _config(master, workdir).items():
            builder = builder.config(key, value)
        before = os.environ.get("SPARK_LOCAL_IP")
        if _is_local(master):
            os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # read by the JVM at launch: stay on loopback
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: most often no Java, or one older than 17
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ResolutionError(
                _("Spark did not start ({error}). Spark needs Java 17: {hint}").format(error=first, hint=JAVA_HINT)
            ) from exc
        finally:
            if before is None:
                os.environ.pop("SPARK_LOCAL_IP", None)
            else:
                os.environ["SPARK_LOCAL_IP"] = before
    spark.sparkContext.setLogLevel("ERROR")
    return spark, None


# -- training and scoring ------------------------------------------------------------------------
def _linker(spark: Any, records: Any, settings: dict[str, Any]) -> Any:
    from splink import Linker
    from splink.backends.spark import SparkAPI

    quiet_splink()
    db_api = SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]
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


def run(
    con: duckdb.DuckDBPyConnection,
    table: str,
    spec: ModelSpec,
    settings: dict[str, Any] | None,
    master: str | None = None,
) -> tuple[dict[str, Any], pa.Table]:
    """Score the prepared ``table`` on Spark with the stored ``settings``, or train a model first
    when there are none; the (possibly new) settings, in DuckDB SQL, and the pairs as
    ``engine._score`` gives them."""
    with session(master) as (spark, workdir):
        source = workdir / "records.parquet"
        con.execute(f"COPY {table} TO '{_quoted(source)}' (FORMAT parquet)")
        records = spark.read.parquet(str(source))
        if settings is None:
            original = settings_dict(spec)
            linker = _linker(spark, records, spark_settings(original))
            train(linker, spark_spec(spec))
            settings = as_duckdb(linker.misc.save_model_to_json(), original)
            settings["cruce_rule_labels"] = rule_labels(spec)
            settings["cruce_descriptions"] = descriptions(spec)
        else:
            linker = _linker(spark, records, spark_settings(settings))
        predictions = linker.inference.predict(threshold_match_probability=PAIR_FLOOR, warning_mode="never")
        out = workdir / "pairs"
        spark.table(predictions.physical_name).select(*_kept_columns(settings)).write.parquet(str(out))
        pairs = pairs_table(con, f"read_parquet('{_quoted(out)}/*.parquet')", settings)
    return settings, pairs
