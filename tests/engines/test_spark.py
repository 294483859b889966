"""The heavy steps on Spark (local mode) give DuckDB's tables, on one small three-flow synth scenario:
the graph's nodes and edges (``cruce graph build --engine spark``) and every store-wide flow figure
(``cruce flows aggregate --engine spark``), from a DuckDB store and from a PostgreSQL one. One
Spark session serves the module (starting one costs seconds). The Spark tests skip where Java is
absent, and fail there when CRUCE_REQUIRE_SPARK=1 (CI)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cruce.analyses.aggregate import NAMES, compute
from cruce.cli import main
from cruce.engines.spark_session import session
from cruce.engines.spark_sql import to_spark_sql
from cruce.graph.build import build, cache_dir, load
from cruce.i18n import set_language
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import resolve
from cruce.store import open_store
from cruce.synth import generate
from tests.conftest import drop_pg_schema, need_java, pg_url_or_skip

SCALE, SEED = 3000, 3


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Exit status, standard output and error of ``cruce args``."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def _import(scenario: Path, url: str) -> None:
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(url) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])


# -- no Spark needed ----------------------------------------------------------------------------------
def test_what_spark_spells_otherwise() -> None:
    # DuckDB's list slices include both ends; Spark's slice takes a start and a length
    assert to_spark_sql("SELECT l[1:20], l[3:], l[1] FROM t") == (
        "SELECT slice(l, 1, 20), slice(l, 3, size(l)), try_element_at(l, 1) FROM t"
    )
    # Spark has no unsigned integers: the same 64 bits in a BIGINT
    assert to_spark_sql("SELECT CAST(1 AS UBIGINT) << 63") == "SELECT shiftleft(CAST(1 AS BIGINT), 63)"
    # Spark reads '2021' and '2021-02' as dates, DuckDB does not: only a whole date is cast
    assert to_spark_sql("SELECT TRY_CAST(x AS DATE) FROM t") == (
        "SELECT if(x RLIKE '^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$', TRY_CAST(x AS DATE), NULL) FROM t"
    )
    assert "datediff(DAY, a, b)" in to_spark_sql("SELECT date_diff('day', a, b) FROM t")


def test_engine_options_are_checked_and_a_missing_java_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "store.duckdb")
    for args in (
        ["graph", "build", "--spark-master", "local[2]"],
        ["flows", "aggregate", "--out", str(tmp_path / "out"), "--spark-master", "local[2]"],
        ["flows", "aggregate", "--out", str(tmp_path / "out"), "--engine", "flink"],
        ["flows", "aggregate", "--out", str(tmp_path / "out"), "--only", "no_such_figure"],
    ):
        code, _out, _err = _cli(capsys, "--db", db, *args)
        assert code == 2, args
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    try:
        out_dir = str(tmp_path / "x")
        for args in (
            ["graph", "build", "--engine", "spark"],
            ["flows", "aggregate", "--engine", "spark", "--out", out_dir],
        ):
            code, out, err = _cli(capsys, "--db", db, "--lang", "es", *args)
            assert code == 2, args
            assert "Spark necesita Java 17" in out + err, out + err
            assert "openjdk-17-jre-headless" in out + err
    finally:
        set_language("en")
    assert not (tmp_path / "x").exists()


# -- Spark in local mode ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spark-scenario")
    generate(out, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def resolved_db(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The three flows imported and people and guns resolved, so that clusters shape the tables."""
    db = tmp_path_factory.mktemp("spark-db") / "store.duckdb"
    _import(scenario, str(db))
    with open_store(str(db)) as store:
        for entity_type in ("Person", "Firearm"):
            resolve(store, entity_type)
    return db


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local Spark session for the module: every run below reuses it."""
    need_java()
    with session("local[2]") as (started, _workdir):
        yield started


def test_graph_on_spark_is_duckdbs(
    spark: Any, resolved_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(resolved_db, db)
    code, out, err = _cli(capsys, "--db", str(db), "graph", "build", "--engine", "spark", "--force", "--json")
    assert code == 0, out + err
    info = json.loads(out)
    assert info["rebuilt"] is True
    assert info["engine"] == "Spark (local[2])"
    with open_store(str(db)) as store:
        ours = load(cache_dir(store))
        duck = build(store, tmp_path / "duckdb-graph")
    assert ours is not None
    assert ours.nodes.schema == duck.nodes.schema
    assert ours.edges.schema == duck.edges.schema
    assert ours.nodes.equals(duck.nodes)
    assert ours.edges.equals(duck.edges)
    assert ours.datasets == duck.datasets
    # what the comparison covers: merged entities, parallel records made one edge, every flow
    assert max(ours.nodes["records"].to_pylist()) > 1
    assert max(ours.edges["count"].to_pylist()) > 1
    assert set(ours.edges["flows"].to_pylist()) >= {1, 2, 4}
    assert info["nodes"] == duck.nodes.num_rows > 1000


def test_flow_figures_on_spark_are_duckdbs(
    spark: Any, resolved_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for engine in ("duckdb", "spark"):
        code, out, err = _cli(
            capsys, "--db", str(resolved_db), "flows", "aggregate", "--engine", engine, "--out", str(tmp_path / engine)
        )
        assert code == 0, out + err
    assert "Spark (local[2])" in err
    meta = json.loads((tmp_path / "spark" / "aggregates.json").read_text(encoding="utf-8"))
    assert meta["engine"] == "spark"
    assert set(meta["aggregations"]) == set(NAMES)
    for name in NAMES:
        ours, duck = (
            pq.read_table(tmp_path / "spark" / f"{name}.parquet"),
            pq.read_table(tmp_path / "duckdb" / f"{name}.parquet"),
        )
        assert duck.num_rows > 0, name
        assert ours.schema == duck.schema, name
        assert ours.equals(duck), name


@pytest.mark.postgres
def test_a_postgresql_store_on_spark(spark: Any, scenario: Path, tmp_path: Path) -> None:
    """The store's tables leave PostgreSQL for Spark as Parquet (streamed through COPY): the same
    figures and graph as DuckDB's engine reading the same store."""
    url = pg_url_or_skip()
    try:
        _import(scenario, url)
        with open_store(url) as store:
            duck, ours = compute(store, "duckdb"), compute(store, "spark")
            duck_graph = build(store, tmp_path / "duckdb-graph")
            spark_graph = build(store, tmp_path / "spark-graph", engine="spark")
    finally:
        drop_pg_schema(url)
    assert [c.name for c in ours.computed] == list(NAMES)
    for mine, theirs in zip(ours.computed, duck.computed, strict=True):
        assert theirs.rows, theirs.name
        assert mine.rows == theirs.rows, mine.name
    assert spark_graph.nodes.equals(duck_graph.nodes)
    assert spark_graph.edges.equals(duck_graph.edges)
