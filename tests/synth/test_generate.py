"""The scenario generator: same seed, same bytes; files in the built-in layouts; truth complete."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from cruce.demo import COLUMNS
from cruce.ingest.mapping import builtin_mappings, load_mapping
from cruce.synth import MANIFEST, SALES_FILE, TRACE_COLUMNS, TRACES_FILE, firearms
from cruce.synth.firearms import generate
from cruce.synth.names import strip_accents


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "s"
    generate(out, scale=3000, seed=11)
    return out


def test_same_seed_and_scale_give_the_same_bytes(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", scale=1500, seed=3)
    generate(tmp_path / "b", scale=1500, seed=3)
    generate(tmp_path / "c", scale=1500, seed=4)
    a, b, c = (_files(tmp_path / x) for x in "abc")
    assert a == b
    assert a[SALES_FILE] != c[SALES_FILE]
    assert a[TRACES_FILE] != c[TRACES_FILE]
    assert first.records == 1500
    assert not (tmp_path / "a" / ".synth-tmp").exists()


def test_sorting_in_small_runs_gives_the_same_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are sorted in bounded runs and merged; the run size must not change a byte."""
    generate(tmp_path / "whole", scale=1500, seed=3)
    monkeypatch.setattr(firearms, "SPILL_ROWS", 97)
    generate(tmp_path / "runs", scale=1500, seed=3)
    assert _files(tmp_path / "whole") == _files(tmp_path / "runs")


def test_output_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """String hashing differs between processes; the files must not."""
    for name, hash_seed in (("x", "1"), ("y", "2")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        cmd = [sys.executable, "-m", "cruce.synth", str(tmp_path / name), "--scale", "800", "--seed", "9"]
        subprocess.run(cmd, check=True, env=env, capture_output=True)
    assert _files(tmp_path / "x") == _files(tmp_path / "y")


def test_too_small_a_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate(tmp_path, scale=10)


def test_files_have_the_layouts_of_their_mappings(scenario: Path) -> None:
    manifest = json.loads((scenario / MANIFEST).read_text(encoding="utf-8"))
    assert [(f["path"], f["mapping"]) for f in manifest["files"]] == [
        (SALES_FILE, "example-firearm-purchases"),
        (TRACES_FILE, "atf-traces"),
    ]
    for entry in manifest["files"]:
        assert entry["mapping"] in builtin_mappings()
        with (scenario / entry["path"]).open(encoding="utf-8", newline="") as fh:
            header, *rows = list(csv.reader(fh))
        assert len(rows) == entry["rows"]
        assert all(len(row) == len(header) for row in rows)
        assert load_mapping(entry["mapping"]).columns() <= set(header)
    sales_header = list(_rows(scenario / SALES_FILE)[0])
    trace_header = list(_rows(scenario / TRACES_FILE)[0])
    assert tuple(sales_header) == COLUMNS
    assert tuple(trace_header) == TRACE_COLUMNS
    assert set(trace_header) == load_mapping("atf-traces").columns()  # exactly what it reads
    assert sum(f["rows"] for f in manifest["files"]) == manifest["scale"] == 3000
    for entry in manifest["truth"]:
        assert len(_rows(scenario / entry["path"])) == entry["rows"]
    traces = _rows(scenario / TRACES_FILE)
    assert all(len(t["recovery_date"]) == 10 and t["recovery_date"][4] == "-" for t in traces)
    assert all(not t["purchase_date"] or t["purchase_date"][4] == "-" for t in traces)


def test_truth_covers_every_record_and_every_id_is_a_record(scenario: Path) -> None:
    sales = _rows(scenario / SALES_FILE)
    traces = _rows(scenario / TRACES_FILE)
    truth = scenario / "truth"
    persons = _rows(truth / "persons.csv")
    identities = {r["person_id"]: r for r in _rows(truth / "identities.csv")}
    rings = _rows(truth / "rings.csv")
    firearms = _rows(truth / "firearms.csv")

    expected = {(SALES_FILE, s["purchase_id"], "buyer") for s in sales}
    for t in traces:
        for role in ("purchaser", "possessor"):
            if t[f"{role}_name"]:
                expected.add((TRACES_FILE, t["trace_number"], role))
    keys = [(p["file"], p["record_key"], p["role"]) for p in persons]
    assert len(keys) == len(set(keys))
    assert set(keys) == expected
    assert {p["person_id"] for p in persons} == set(identities)  # every person has a record

    purchase_ids = [f["purchase_id"] for f in firearms if f["purchase_id"]]
    trace_numbers = [f["trace_number"] for f in firearms if f["trace_number"]]
    assert sorted(purchase_ids) == sorted(s["purchase_id"] for s in sales)
    assert sorted(trace_numbers) == sorted(t["trace_number"] for t in traces)
    assert len({f["firearm_id"] for f in firearms}) == len(firearms)

    ring_ids = {r["ring_id"] for r in rings}
    assert {f["ring_id"] for f in firearms if f["ring_id"]} == ring_ids
    assert {i["ring_id"] for i in identities.values() if i["ring_id"]} == ring_ids
    for ring in rings:
        members = [ring["trafficker_id"], *ring["purchaser_ids"].split(";")]
        assert len(members) >= 3
        assert all(identities[m]["ring_id"] == ring["ring_id"] for m in members)
        assert identities[ring["trafficker_id"]]["kind"] == "trafficker"


def test_people_have_several_noisy_records_across_sources(scenario: Path) -> None:
    truth = scenario / "truth"
    identities = {r["person_id"]: r for r in _rows(truth / "identities.csv")}
    sales = {s["purchase_id"]: s for s in _rows(scenario / SALES_FILE)}
    records: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in _rows(truth / "persons.csv"):
        records[p["person_id"]].append(p)
    both = [pid for pid, recs in records.items() if len({r["file"] for r in recs}) == 2]
    assert len(both) >= 20
    for ring in _rows(truth / "rings.csv"):
        for pid in ring["purchaser_ids"].split(";"):
            bought = [sales[r["record_key"]] for r in records[pid] if r["file"] == SALES_FILE]
            assert bought, pid
            assert {s["dealer_state"] for s in bought} <= set(ring["dealer_states"].split(";"))
    # the same person is not always written the same way
    varied = 0
    for pid, recs in records.items():
        forms = {
            (s["buyer_first"], s["buyer_last"], s["buyer_second_last"], s["buyer_dob"])
            for s in (sales[r["record_key"]] for r in recs if r["file"] == SALES_FILE)
        }
        varied += len(forms) > 1
        assert identities[pid]["given_names"]
    assert varied >= 50


def test_noise_of_every_kind_is_planted(tmp_path: Path) -> None:
    generate(tmp_path, scale=20_000, seed=2)
    identities = {r["person_id"]: r for r in _rows(tmp_path / "truth" / "identities.csv")}
    buyer = {p["record_key"]: p["person_id"] for p in _rows(tmp_path / "truth" / "persons.csv")}
    seen: dict[str, int] = defaultdict(int)
    for s in _rows(tmp_path / SALES_FILE):
        who = identities[buyer[s["purchase_id"]]]
        first, last, second = who["given_names"], who["last_name"], who["second_last_name"]
        dob = who["birth_date"]  # yyyy-mm-dd; the sales file writes mm/dd/yyyy
        if strip_accents(first) != first and s["buyer_first"] == strip_accents(first):
            seen["accents dropped"] += 1
        if s["buyer_last"].isupper() and not last.isupper():
            seen["upper case"] += 1
        if second and (s["buyer_last"], s["buyer_second_last"]) == (second, last) and second != last:
            seen["surnames swapped"] += 1
        if second and not s["buyer_second_last"]:
            seen["second surname missing"] += 1
        if not s["buyer_dob"]:
            seen["date of birth missing"] += 1
        elif s["buyer_dob"] == f"{dob[8:10]}/{dob[5:7]}/{dob[:4]}" and dob[8:10] != dob[5:7]:
            seen["day and month swapped"] += 1
        if s["buyer_first"] in ("Pepe", "Paco", "Chuy", "Lupe", "Beto", "Bob", "Mike"):
            seen["nickname"] += 1
        if " " in first and s["buyer_first"] == first.split(" ")[0]:
            seen["one given name of two"] += 1
        if len(s["buyer_last"]) in (len(last) - 1, len(last) + 1) and s["buyer_last"][:1] == last[:1]:
            seen["typo"] += 1
    for t in _rows(tmp_path / TRACES_FILE):
        if " alias " in t["possessor_name"] or "(a)" in t["possessor_name"]:
            seen["alias"] += 1
        if t["serial_obliterated"] in ("obliterated", "yes", "limado"):
            seen["obliterated serial"] += 1
        if t["serial_obliterated"] in ("partial", "parcial"):
            seen["partial serial"] += 1
        if t["possessor_name"].startswith(("de la ", "De La ", "Dela")) or " de la " in t["possessor_name"]:
            seen["particle"] += 1
    kinds = (
        "accents dropped",
        "upper case",
        "surnames swapped",
        "second surname missing",
        "date of birth missing",
        "day and month swapped",
        "nickname",
        "one given name of two",
        "typo",
        "alias",
        "obliterated serial",
        "partial serial",
        "particle",
    )
    assert {k: seen[k] for k in kinds if seen[k] < 5} == {}
