"""A small scenario through the real import path: nothing rejected, the planted structure found."""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from pathlib import Path

from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import MANIFEST
from cruce.synth.firearms import generate


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_small_scenario_imports_whole_and_shows_its_rings(tmp_path: Path) -> None:
    summary = generate(tmp_path, scale=600, seed=1)
    manifest = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    truth = tmp_path / "truth"
    firearms = _rows(truth / "firearms.csv")
    rings = _rows(truth / "rings.csv")
    assert summary.rings == len(rings) >= 3
    with open_store(":memory:") as store:
        for entry in manifest["files"]:
            result = import_file(store, tmp_path / entry["path"], entry["mapping"])
            assert result.rows_read == result.rows_stored == entry["rows"], entry["path"]
            assert result.rows_rejected == 0
        assert list(store.rejects()) == []
        counts = store.counts_by_schema()
        assert counts["Trace"] == sum(1 for f in firearms if f["trace_number"]) == summary.files["traces.csv"]
        assert counts["FirearmRecovery"] == counts["Trace"]

        dealer_state = {}
        for org in store.iter_entities(schema="Organization"):
            dealer_state[org.id] = org.first("ffl_number")
        purchases = {}
        for p in store.iter_entities(schema="FirearmPurchase"):
            number = p.first("transaction_number")
            if number:
                purchases[number] = (p.first("state"), p.first("dealer"))
        ttc = {}
        for t in store.iter_entities(schema="Trace"):
            days = t.first("time_to_crime_days")
            if days is not None:
                ttc[t.first("trace_number")] = float(days)

    ring_states: dict[str, set[str]] = defaultdict(set)
    ring_ttc: list[float] = []
    other_ttc: list[float] = []
    for f in firearms:
        if f["ring_id"] and f["purchase_id"]:
            state, dealer = purchases[f["purchase_id"]]
            assert dealer in dealer_state
            ring_states[f["ring_id"]].add(state or "")
        if f["trace_number"] in ttc:
            (ring_ttc if f["ring_id"] else other_ttc).append(ttc[f["trace_number"]])
    for ring in rings:
        # each ring buys at dealers of one or two (neighbouring) states, as the truth says
        assert 1 <= len(ring_states[ring["ring_id"]]) <= 2
        assert ring_states[ring["ring_id"]] == {f"US-{s}" for s in ring["dealer_states"].split(";")}
    assert ring_ttc
    assert other_ttc
    assert statistics.median(ring_ttc) < 365 < statistics.median(other_ttc)
