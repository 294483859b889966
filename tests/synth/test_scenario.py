"""The whole scenario: three flows in one folder, one manifest, truth that links them."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

from cruce.ingest.mapping import builtin_mappings
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import FLOWS, MANIFEST, generate
from cruce.synth.firearms import SALES_FILE, TRACES_FILE

SCALE = 3000


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scenario")
    generate(folder, scale=SCALE, seed=2)
    return folder


def test_every_flow_writes_files_its_mappings_import_whole(scenario: Path, tmp_path: Path) -> None:
    manifest = json.loads((scenario / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["flows"] == list(FLOWS)
    paths = [entry["path"] for entry in manifest["files"]]
    assert paths[:2] == [SALES_FILE, TRACES_FILE]
    assert len(paths) > 4  # the drugs and people flows wrote files of their own
    records = sum(entry["rows"] for entry in manifest["files"])
    assert 0.8 * SCALE <= records <= 1.3 * SCALE
    with open_store(str(tmp_path / "s.duckdb")) as store:
        for entry in manifest["files"]:
            assert entry["mapping"] in builtin_mappings()
            result = import_file(store, scenario / entry["path"], entry["mapping"])
            assert result.rows_read == entry["rows"], entry["path"]
            assert result.rows_rejected == 0, (entry["path"], list(store.rejects())[:3])
        counts = store.counts_by_schema()
    for schema in ("FirearmPurchase", "Trace", "DrugSeizure", "ViolenceEvent", "CrossingCount", "TraffickingCase"):
        assert counts.get(schema, 0) > 0, schema


def test_truth_names_every_person_and_links_the_flows(scenario: Path) -> None:
    manifest = json.loads((scenario / MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest["truth"]:
        assert len(_rows(scenario / entry["path"])) == entry["rows"], entry["path"]
    identities = {row["person_id"]: row for row in _rows(scenario / "truth" / "identities.csv")}
    records = _rows(scenario / "truth" / "persons.csv")
    files_of: dict[str, set[str]] = defaultdict(set)
    source_files = {entry["path"] for entry in manifest["files"]}
    for row in records:
        assert row["person_id"] in identities, row
        assert row["file"] in source_files, row
        files_of[row["person_id"]].add(row["file"])
    assert set(files_of) == set(identities)  # everyone has at least one record
    firearms_files = {SALES_FILE, TRACES_FILE}
    crossing = [
        pid
        for pid, row in identities.items()
        if row["kind"] == "trafficker" and files_of[pid] & firearms_files and files_of[pid] - firearms_files
    ]
    assert crossing, "no ring boss turns up outside the firearms flow"


def test_same_seed_same_bytes_across_flows(tmp_path: Path) -> None:
    generate(tmp_path / "a", scale=800, seed=5)
    generate(tmp_path / "b", scale=800, seed=5)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    generate(tmp_path / "c", scale=800, seed=6)
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_flows_can_be_left_out(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale=500, seed=1, flows=["firearms"])
    assert summary.flows == ("firearms",)
    assert [s.path for s in summary.sources] == [SALES_FILE, TRACES_FILE]
    with pytest.raises(ValueError, match="unknown flow"):
        generate(tmp_path / "x", scale=500, flows=["guns"])
