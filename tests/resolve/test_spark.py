"""Resolution on Spark: with the same stored model, ``cruce resolve --engine spark`` (Spark in local
mode) gives DuckDB's clusters and pair probabilities; the DuckDB SQL of the models translates to
Spark SQL and a Spark-trained model is stored back in DuckDB SQL; a missing Java or pyspark is
named. The Spark test skips where Java is absent, and fails there when CRUCE_REQUIRE_SPARK=1 (CI)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from cruce.cli import main
from cruce.i18n import set_language
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import ResolutionError, resolve
from cruce.resolve.models import SPECS, ModelSpec, _optional_person, settings_dict
from cruce.resolve.spark import _shuffle_partitions, as_duckdb, partitions, spark_settings, to_spark_sql
from cruce.resolve.store import ResolutionStore, StoredPair
from cruce.store import open_store
from cruce.synth import generate
from tests.conftest import need_java

# DuckDB-only spellings that must not reach Spark, and what Spark gets instead.
DUCKDB_ONLY = ("jaro_winkler_similarity", "list_has_any", "string_split", "[1]", "&&")


def _all_specs() -> list[ModelSpec]:
    specs = [make() for make in SPECS.values()]
    for spec in specs:
        spec.comparisons += [_optional_person(name) for name in spec.optional]
    return specs


# -- translation (no Spark needed) ----------------------------------------------------------------
def test_every_model_translates_to_spark_sql_and_back() -> None:
    for spec in _all_specs():
        duck = settings_dict(spec)
        spark = spark_settings(duck)
        sqls = [lv["sql_condition"] for c in spark["comparisons"] for lv in c["comparison_levels"]]
        sqls += [r["blocking_rule"] for r in spark["blocking_rules_to_generate_predictions"]]
        for sql in sqls:
            assert not any(word in sql for word in DUCKDB_ONLY), (spec.entity_type, sql)
        assert {r["sql_dialect"] for r in spark["blocking_rules_to_generate_predictions"]} <= {"spark"}
        # a model trained on Spark is stored with the SQL it was built from
        assert as_duckdb(spark, duck)["comparisons"] == duck["comparisons"]
        back = as_duckdb(spark, duck)["blocking_rules_to_generate_predictions"]
        assert [r["blocking_rule"] for r in back] == [r.sql for r in spec.blocking]


def test_translation_of_the_functions_spark_lacks() -> None:
    assert to_spark_sql("jaro_winkler_similarity(a_l, a_r) >= 0.9") == "jaro_winkler(a_l, a_r) >= 0.9"
    assert to_spark_sql("list_has_any(ids_l, ids_r)") == "arrays_overlap(ids_l, ids_r)"
    # DuckDB lists count from 1 and give NULL past the end, like Spark's try_element_at
    assert to_spark_sql("l.ids[1] = r.ids[1]") == "try_element_at(l.ids, 1) = try_element_at(r.ids, 1)"
    assert to_spark_sql("ELSE") == "ELSE"


# -- what to install --------------------------------------------------------------------------------
def test_missing_java_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with open_store(str(tmp_path / "store.duckdb")) as store, pytest.raises(ResolutionError) as err:
        resolve(store, "Person", engine="spark")
    assert "apt-get install openjdk-17-jre-headless" in str(err.value)
    try:
        with pytest.raises(SystemExit) as exc:
            main(["--db", str(tmp_path / "store.duckdb"), "--lang", "es", "resolve", "--engine", "spark"])
    finally:
        set_language("en")
    assert exc.value.code != 0
    out = capsys.readouterr()
    assert "Spark necesita Java 17" in out.out + out.err
    assert "openjdk-17-jre-headless" in out.out + out.err


def test_missing_pyspark_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    with open_store(str(tmp_path / "store.duckdb")) as store, pytest.raises(ResolutionError) as err:
        resolve(store, "Person", engine="spark")
    assert "cruce[spark]" in str(err.value)


def test_unknown_engine_and_stray_master(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open_store(str(tmp_path / "store.duckdb")) as store, pytest.raises(ResolutionError):
        resolve(store, "Person", engine="flink")
    for args in (["--engine", "flink"], ["--spark-master", "local[2]"], ["--incremental", "--engine", "spark"]):
        with pytest.raises(SystemExit) as exc:
            main(["--db", str(tmp_path / "store.duckdb"), "resolve", *args])
        assert exc.value.code == 2, args
    capsys.readouterr()


class _Conf:
    """A Spark session's runtime settings (``spark.conf``), as a dictionary."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def get(self, key: str) -> str:
        return self.values[key]

    def set(self, key: str, value: str) -> None:
        self.values[key] = value


def test_spark_scoring_spreads_over_partitions_by_record_count() -> None:
    """Splink writes its candidate pairs in a sixth of the partitions it is given: a million
    records keep both local cores busy, and the partitions grow with the records."""
    assert partitions(500, 4) == 4  # a small run keeps Spark's parallelism
    assert -(-partitions(1_000_000, 4) // 6) >= 4
    assert partitions(10_000_000, 4) == 10 * partitions(1_000_000, 4)

    conf = _Conf(**{"spark.sql.shuffle.partitions": "4"})
    session = type("Session", (), {"conf": conf})()
    with _shuffle_partitions(session, partitions(1_000_000, 4)):
        assert int(conf.get("spark.sql.shuffle.partitions")) == partitions(1_000_000, 4)
    assert conf.get("spark.sql.shuffle.partitions") == "4"  # the session is left as it was
    with _shuffle_partitions(session, 2):
        assert conf.get("spark.sql.shuffle.partitions") == "4"  # never fewer than it had


# -- Spark in local mode ------------------------------------------------------------------------------
MAX_BLOCK = "3"  # records a blocking key may hold (cruce.resolve.blocks): a few blocks passed by


@pytest.fixture(scope="module")
def duckdb_resolved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few hundred people (all flows, so aliases and identifiers are compared too), resolved on DuckDB."""
    scenario = tmp_path_factory.mktemp("scenario")
    generate(scenario, scale=600, seed=5)
    db = tmp_path_factory.mktemp("spark") / "store.duckdb"
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(str(db)) as store, pytest.MonkeyPatch.context() as patch:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])
        patch.setenv("CRUCE_RESOLVE_MAX_BLOCK", MAX_BLOCK)  # some blocks passed by, on both engines
        result = resolve(store, "Person")
    assert result.trained
    assert result.records >= 300
    assert result.purged
    return db


def _partition(clusters: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, canonical in clusters.items():
        groups.setdefault(canonical, set()).add(record)
    return {frozenset(members) for members in groups.values()}


def _state(db: Path) -> tuple[set[frozenset[str]], dict[tuple[str, str], StoredPair | None], int]:
    with open_store(str(db)) as store:
        rs = ResolutionStore(store)
        ids = rs.pairs_table("Person").select(["id_l", "id_r"]).to_pylist()
        pairs = {(p["id_l"], p["id_r"]): rs.pair(p["id_l"], p["id_r"]) for p in ids}
        run = rs.current_run("Person")
        assert run is not None
        return _partition(rs.clusters("Person")), pairs, run.model_version


@pytest.mark.slow
def test_spark_gives_the_clusters_of_duckdb(
    duckdb_resolved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One Spark run (its start-up costs seconds), through the command line, with the stored model."""
    need_java()
    with open_store(str(duckdb_resolved)) as store:
        model = ResolutionStore(store).latest_model("Person")
    assert model is not None
    used = json.dumps(model.settings)
    # the model uses what has to be translated, so the comparison below covers it
    assert all(word in used for word in ("jaro_winkler_similarity", "list_has_any", "[1]"))
    db = tmp_path / "spark.duckdb"
    shutil.copy(duckdb_resolved, db)

    monkeypatch.setenv("CRUCE_RESOLVE_MAX_BLOCK", MAX_BLOCK)
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), "resolve", "--engine", "spark", "--spark-master", "local[2]"])
    out = capsys.readouterr().out
    assert exc.value.code == 0, out
    assert "Spark (local[2])" in out
    assert "trained now" not in out
    assert "were not compared on it" in out

    partition, pairs, version = _state(duckdb_resolved)
    spark_partition, spark_pairs, spark_version = _state(db)
    assert spark_version == version == model.version
    assert spark_partition == partition
    assert any(len(group) > 1 for group in partition)
    assert spark_pairs.keys() == pairs.keys()
    for key, pair in pairs.items():
        other = spark_pairs[key]
        assert pair is not None
        assert other is not None
        assert abs(other.probability - pair.probability) <= 1e-6, key
        assert abs(other.match_weight - pair.match_weight) <= 1e-6, key
        assert other.blocking_rule == pair.blocking_rule, key
        assert other.weights == pair.weights, key
