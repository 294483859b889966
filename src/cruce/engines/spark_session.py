"""The Spark session cruce runs its heavy steps on: started once, on loopback in local mode, quiet.

Resolution (``cruce.resolve.spark``), the graph build and the flow aggregations
(``cruce.engines.spark``) all take their session from ``session``. It listens on the loopback
interface when the master is local; its scratch directory (Parquet interchange, checkpoints) is
removed when the block ends. On a cluster, put that directory on storage every executor can read
(``CRUCE_SPARK_DIR``); see docs/deploy/spark.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from cruce.i18n import _
from cruce.store.base import StoreError

DEFAULT_MASTER = "local[2]"
JVM_EXIT_S = 30  # seconds a local JVM is given to exit once its session has stopped
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


class SparkUnavailableError(StoreError):
    """Spark cannot run here (no pyspark, no Java, or the JVM did not start); the message says
    what to install."""


def java() -> str | None:
    """The ``java`` Spark would start (``JAVA_HOME`` first), or None."""
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
        raise SparkUnavailableError(_("Spark needs the pyspark package: {hint}").format(hint=PYSPARK_HINT)) from None
    if java() is None:
        raise SparkUnavailableError(_("Spark needs Java 17: {hint}").format(hint=JAVA_HINT))


def is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[")


def _config(master: str, workdir: Path) -> dict[str, str]:
    from splink.backends.spark import similarity_jar_location

    log4j = workdir / "log4j2.properties"
    log4j.write_text(QUIET_LOG4J, encoding="utf-8")
    conf = {
        "spark.master": master,
        "spark.app.name": "cruce",
        "spark.jars": similarity_jar_location(),  # Splink's Jaro-Winkler and other similarities
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
    if is_local(master):
        if os.environ.get("CRUCE_SPARK_JIT", "quick") != "full":
            # The JIT's first tier only: a local run is mostly short, and C2 compiling Spark's
            # generated code doubled the CPU time of a 500-record run. CRUCE_SPARK_JIT=full keeps
            # both tiers, for long runs over millions of records.
            conf["spark.driver.extraJavaOptions"] += " -XX:TieredStopAtLevel=1"
        conf |= {
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
        try:
            if spark is not None and active is None:
                _stop(spark, master)
        finally:  # a JVM that died (out of memory) cannot be stopped: its files go all the same
            shutil.rmtree(workdir, ignore_errors=True)


def _stop(spark: Any, master: str) -> None:
    """Stop a session cruce started. In local mode its JVM goes too, even one that died (out of
    memory): stopping that one fails, and the failure would hide the error that ended the run."""
    if not is_local(master):
        spark.stop()
        _forget_local_dirs()
        return
    with suppress(Exception):
        spark.stop()
    _end_local_jvm()


def _forget_local_dirs() -> None:
    """Spark keeps the first session's ``spark.local.dir`` for the JVM's life: a second session in
    this process would make it again inside a scratch directory already removed, and leave it
    behind (with a cluster master; a local session's JVM ends with it). Forget it (best effort:
    a JVM that is gone has nothing to forget)."""
    try:
        from pyspark import SparkContext

        jvm = SparkContext._jvm
        if jvm is not None:
            getattr(getattr(jvm.org.apache.spark.util, "Utils$"), "MODULE$").clearLocalRootDirs()
    except Exception:  # noqa: S110 - nothing to do when the JVM is gone
        pass


def _end_local_jvm() -> None:
    """Let the JVM of a local session exit, giving its heap back (gigabytes on a long run), so
    that what follows in this process — resolution's clustering in DuckDB — does not hold both.
    The JVM waits on its standard input and exits when that closes; a later session starts one
    anew."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    if gateway is None or proc is None or proc.stdin is None:
        return
    with suppress(Exception):  # a JVM already gone has nothing to shut down
        gateway.shutdown()
    proc.stdin.close()
    try:
        proc.wait(timeout=JVM_EXIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    SparkContext._gateway = None
    SparkContext._jvm = None
    # what a stop that failed (on a dead JVM) left behind, or the next session would look it up
    SparkContext._active_spark_context = None
    SparkSession._instantiatedSession = None
    SparkSession._activeSession = None


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
        if is_local(master):
            os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # read by the JVM at launch: stay on loopback
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: most often no Java, or one older than 17
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SparkUnavailableError(
                _("Spark did not start ({error}). Spark needs Java 17: {hint}").format(error=first, hint=JAVA_HINT)
            ) from exc
        finally:
            if before is None:
                os.environ.pop("SPARK_LOCAL_IP", None)
            else:
                os.environ["SPARK_LOCAL_IP"] = before
    spark.sparkContext.setLogLevel("ERROR")
    return spark, None
