"""A local Spark session gives back what it held when it ends: its scratch directory and its
JVM (the heap of a long run, gigabytes, must not stay beside the DuckDB work that follows it,
such as resolution's clustering). Skips where Java is absent, fails there when
CRUCE_REQUIRE_SPARK=1 (CI)."""

from __future__ import annotations

import pytest
from py4j.protocol import Py4JError  # type: ignore[import-untyped]

from cruce.engines.spark_session import session
from tests.conftest import need_java


def test_a_local_session_ends_its_jvm_and_a_later_one_starts_anew() -> None:
    need_java()
    from pyspark import SparkContext

    with session("local[1]") as (spark, workdir):
        jvm = SparkContext._gateway.proc  # type: ignore[union-attr]
        assert spark.range(3).count() == 3
        assert jvm.poll() is None
        assert workdir.exists()
    assert jvm.poll() is not None, "the session's JVM is still running"
    assert not workdir.exists()

    with session("local[1]") as (spark, _):
        assert spark.range(2).count() == 2
        assert SparkContext._gateway.proc is not jvm  # type: ignore[union-attr]


def test_a_session_whose_jvm_died_leaves_the_next_one_a_jvm_of_its_own() -> None:
    """A JVM killed mid-run (the kernel's OOM killer): the session fails, the next one works."""
    need_java()
    from pyspark import SparkContext

    with pytest.raises((Py4JError, ConnectionError)), session("local[1]") as (spark, _):  # noqa: PT012 - the kill is inside
        assert spark.range(3).count() == 3
        dead = SparkContext._gateway.proc  # type: ignore[union-attr]
        dead.kill()
        dead.wait()
        spark.range(3).count()
    with session("local[1]") as (spark, _):
        assert spark.range(2).count() == 2
