"""Incremental linking gives the clusters of a full re-run: a synth scenario imported in two parts
(the gun-shop sales, then the traces), resolved after the first and linked incrementally after the
second, against a full re-run with the same model on everything; with an analyst's decisions;
on both backends; and through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cruce.cli import main
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import judge, resolve
from cruce.resolve.incremental import link_imports, link_new
from cruce.resolve.store import ResolutionStore
from cruce.security.db import AppDB
from cruce.store import Store, open_store
from cruce.synth import generate


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    generate(out, scale=1500, seed=3, flows=["firearms"])
    return out


def _files(scenario: Path) -> list[tuple[Path, str]]:
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    return [(scenario / e["path"], e["mapping"]) for e in manifest["files"]]


def _partition(clusters: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for record, canonical in clusters.items():
        groups.setdefault(canonical, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def _pairs(store: Store) -> set[tuple[str, str, float, str]]:
    rows = AppDB(store).fetch(
        "SELECT CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), probability, blocking_rule FROM match_pair "
        "WHERE entity_type = 'Person'"
    )
    return {(str(r[0]), str(r[1]), round(float(r[2]), 12), str(r[3])) for r in rows}


def test_incremental_equals_full(scenario: Path, store: Store) -> None:
    (first, first_mapping), (second, second_mapping) = _files(scenario)
    import_file(store, first, first_mapping)
    full = resolve(store, "Person")
    assert full.trained
    rs = ResolutionStore(store)
    before = rs.clusters("Person")

    later = import_file(store, second, second_mapping)
    [result] = link_imports(store, [later.import_id], types=["Person"])
    assert result.skipped is None
    assert result.new_records > 0
    assert result.pairs_added > 0
    assert result.joined > 0  # traces name people who bought at the gun shops
    assert result.new_records == result.joined + result.started
    new = set(rs.clusters("Person")) - set(before)
    assert len(new) == result.new_records
    # the traces also add statements to records the sales brought: those are re-scored
    assert set(result.touched) == new | {r for r in result.touched if r in before}
    assert len(result.touched) == result.new_records + result.changed_records
    incremental = rs.clusters("Person")
    incremental_pairs = _pairs(store)
    assert len(incremental) == len(before) + result.new_records

    again = resolve(store, "Person")  # the full re-run, with the same (stored) model
    assert not again.trained
    assert again.model_version == full.model_version
    assert _partition(rs.clusters("Person")) == _partition(incremental)
    assert rs.clusters("Person") == incremental  # canonical ids too (the smallest record id)
    assert _pairs(store) == incremental_pairs
    assert again.clusters == result.clusters


def test_incremental_respects_decisions(scenario: Path, tmp_path: Path) -> None:
    (first, first_mapping), (second, second_mapping) = _files(scenario)
    with open_store(str(tmp_path / "store.duckdb")) as store:
        import_file(store, first, first_mapping)
        resolve(store, "Person")
        rs = ResolutionStore(store)
        import_file(store, second, second_mapping)
        # an analyst keeps a new record apart from the entity the model would put it in
        [result] = link_imports(store, types=["Person"])
        clusters = rs.clusters("Person")
        joined = next(r for r in sorted(result.touched) if sum(1 for c in clusters.values() if c == clusters[r]) > 1)
        other = next(m for m in sorted(clusters) if clusters[m] == clusters[joined] and m != joined)
        judge(store, joined, other, "not_same", "ana")
        after_judgement = rs.clusters("Person")
        assert after_judgement[joined] != after_judgement[other]
        # nothing new: incremental linking changes nothing and keeps the decision
        [nothing] = link_imports(store, types=["Person"])
        assert nothing.new_records == 0
        assert nothing.run_id is None
        assert rs.clusters("Person") == after_judgement
        resolve(store, "Person")
        assert rs.clusters("Person") == after_judgement


def test_unresolved_type_is_skipped(scenario: Path, tmp_path: Path) -> None:
    (first, first_mapping), _second = _files(scenario)
    with open_store(str(tmp_path / "store.duckdb")) as store:
        import_file(store, first, first_mapping)
        result = link_new(store, "Firearm")
        assert result.skipped
        assert result.run_id is None
        assert link_imports(store) == []  # no type resolved yet


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_incremental_and_import_resolve(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (first, first_mapping), (second, second_mapping) = _files(scenario)
    db = str(tmp_path / "store.duckdb")
    assert _cli("--db", db, "import", str(first), "--mapping", first_mapping) == 0
    assert _cli("--db", db, "resolve", "--incremental") == 0
    assert "No entity type is resolved yet" in capsys.readouterr().out
    assert _cli("--db", db, "resolve") == 0
    assert _cli("--db", db, "import", str(second), "--mapping", second_mapping, "--resolve") == 0
    out = capsys.readouterr().out
    assert "Person" in out
    assert "joined" in out
    with open_store(db) as store:
        incremental = ResolutionStore(store).clusters("Person")
    assert _cli("--db", db, "resolve") == 0
    with open_store(db) as store:
        assert ResolutionStore(store).clusters("Person") == incremental
