"""Block purging: a blocking rule's keys held by too many records are not compared on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from cruce.ingest.pipeline import import_file
from cruce.resolve.blocks import DEFAULT_MAX_BLOCK, purge_big_blocks
from cruce.resolve.engine import _compute, resolve
from cruce.resolve.prepare import prepare
from cruce.resolve.store import ResolutionStore
from cruce.store import open_store
from cruce.store.base import Store
from cruce.synth import generate

SAME_NAME = "l.first_surname = r.first_surname AND l.first_given = r.first_given"


def test_the_keys_of_oversized_blocks_are_flagged_and_the_rule_narrowed() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (1, 'garcia', 'jose', 'x'), (2, 'garcia', 'jose', 'y'), "
        "(3, 'garcia', 'jose', 'x'), (4, 'garcia', 'jose', NULL), (5, 'lopez', 'ana', 'x'), (6, 'lopez', 'ana', 'y')) "
        "v(unique_id, first_surname, first_given, second_surname)"
    )
    swapped = "l.first_surname = r.second_surname AND l.second_surname = r.first_surname"
    purge = purge_big_blocks(con, "t", [SAME_NAME, swapped, "l.second_surname = r.second_surname"], limit=3)
    # four records share garcia jose: six pairs not compared on that rule; lopez ana's two are
    [purged] = purge.purged
    assert (purged.rule, purged.keys, purged.records, purged.pairs) == (SAME_NAME, 1, 4, 6)
    # 'x' is held by three records, not more than the limit; no surname pair is held by more
    assert list(purge.narrowed) == [SAME_NAME]
    rule = purge.narrowed[SAME_NAME]
    pairs = con.execute(f"SELECT l.unique_id, r.unique_id FROM t l JOIN t r ON {rule} AND l.unique_id < r.unique_id")
    assert pairs.fetchall() == [(5, 6)]
    settings = {"blocking_rules_to_generate_predictions": [{"blocking_rule": SAME_NAME}],
                "cruce_rule_labels": {SAME_NAME: "surname + given name"}}  # fmt: skip
    narrowed = purge.settings(settings)
    assert narrowed["blocking_rules_to_generate_predictions"][0]["blocking_rule"] == rule
    assert narrowed["cruce_rule_labels"][rule] == "surname + given name"
    assert settings["blocking_rules_to_generate_predictions"][0]["blocking_rule"] == SAME_NAME, "not changed"


def test_a_rule_across_fields_is_narrowed_on_both_sides() -> None:
    """Surnames swapped: five records of (a, b) against two of (b, a) are ten pairs; past a limit
    of three, none is compared on that rule."""
    con = duckdb.connect()
    rows = [(i, "a", "b") for i in range(5)] + [(10 + i, "b", "a") for i in range(2)] + [(20, "c", "d"), (21, "d", "c")]
    con.execute("CREATE TABLE t (unique_id INTEGER, first_surname VARCHAR, second_surname VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    swapped = "l.first_surname = r.second_surname AND l.second_surname = r.first_surname"

    def compared(rule: str) -> set[tuple[int, int]]:
        found = con.execute(f"SELECT l.unique_id, r.unique_id FROM t l JOIN t r ON {rule}").fetchall()
        return {(min(a, b), max(a, b)) for a, b in found}

    assert len(compared(swapped)) == 11
    purge = purge_big_blocks(con, "t", [swapped], limit=3)
    [purged] = purge.purged
    assert (purged.keys, purged.records, purged.pairs) == (2, 5, 10)
    assert compared(purge.narrowed[swapped]) == {(20, 21)}


@pytest.fixture(scope="module")
def store_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = tmp_path_factory.mktemp("scenario")
    generate(scenario, scale=1500, seed=3, flows=["firearms"])
    db = tmp_path_factory.mktemp("blocks") / "store.duckdb"
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(str(db)) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])
    return db


def _pairs(store: Store) -> list[dict[str, str]]:
    rows = ResolutionStore(store).db.fetch(
        "SELECT CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), blocking_rule FROM match_pair WHERE entity_type = ?",
        ("Person",),
    )
    return [{"id_l": str(r[0]), "id_r": str(r[1]), "blocking_rule": str(r[2])} for r in rows]


def _block_sizes(url: str) -> dict[str, int]:
    """Each person record's number of records with the same surname and given name."""
    with open_store(url) as store, _compute(store) as con:
        table, _records = prepare(store, con, "Person")
        rows = con.execute(
            f"SELECT unique_id, count(*) OVER (PARTITION BY first_surname, first_given) FROM {table} "
            "WHERE first_surname IS NOT NULL AND first_given IS NOT NULL"
        ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def test_resolution_passes_by_the_oversized_blocks_and_says_so(
    store_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "store.duckdb"
    shutil.copy(store_copy, db)
    with open_store(str(db)) as store:
        whole = resolve(store, "Person")
        assert whole.purged == [], f"no block of a small scenario holds {DEFAULT_MAX_BLOCK} records"
        before = _pairs(store)
    sizes = _block_sizes(str(db))
    limit = 2
    assert max(sizes.values()) > limit, "the scenario has names shared by more records than the limit"
    monkeypatch.setenv("CRUCE_RESOLVE_MAX_BLOCK", str(limit))
    with open_store(str(db)) as store:
        narrowed = resolve(store, "Person")
        after = _pairs(store)
    by_rule = {p.rule: p for p in narrowed.purged}
    assert "surname + given name" in by_rule
    big = {r for r, n in sizes.items() if n > limit}
    assert by_rule["surname + given name"].records == len(big)
    same_name = [p for p in after if p["blocking_rule"] == "surname + given name"]
    assert same_name, "the rule still compares the records of the small blocks"
    assert not [p for p in same_name if p["id_l"] in big], "no pair of an oversized block is proposed by it"
    assert [p for p in before if p["blocking_rule"] == "surname + given name" and p["id_l"] in big], (
        "without the limit, that rule proposed pairs in those blocks"
    )
    assert len(after) < len(before)
    # the model is stored as trained: its rules are not narrowed
    with open_store(str(db)) as store:
        model = ResolutionStore(store).latest_model("Person")
    assert model is not None
    rules = [r["blocking_rule"] for r in model.settings["blocking_rules_to_generate_predictions"]]
    assert SAME_NAME in rules
    assert not any("cruce_big" in r for r in rules)
