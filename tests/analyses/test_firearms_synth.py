"""The firearms analyses on a synth scenario: the leads find the planted rings, and the figures
reproduce the published ATF trace shares the scenario is calibrated to (``../shared/data``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.evaluate import evaluate
from cruce.analyses.firearms.score import score_purchasers
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import resolve
from cruce.store import open_store
from cruce.synth import generate
from cruce.synth.calibration import published_figures
from tests.conftest import shared_data

SCALE, SEED = 20000, 1
TOLERANCE = 3.0  # percentage points: a 20,000-record scenario has about 2,400 traces


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("firearms-scenario")
    generate(out, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def data(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirearmsData]:
    db = tmp_path_factory.mktemp("firearms-db") / "store.duckdb"
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(str(db)) as store:
        for entry in manifest["files"]:
            if entry["mapping"] in ("example-firearm-purchases", "atf-traces"):
                import_file(store, scenario / entry["path"], entry["mapping"])
        for entity_type in ("Person", "Firearm"):
            resolve(store, entity_type)
        loaded = FirearmsData.load(store)
    try:
        yield loaded
    finally:
        loaded.close()


def test_leads_find_the_rings_better_than_time_to_crime_alone(data: FirearmsData, scenario: Path) -> None:
    found = evaluate(data, scenario)
    assert found["ring_members_among_purchasers"] >= 40
    assert found["precision"] >= 0.75, found
    assert found["recall"] >= 0.85, found
    assert found["f1"] > found["baseline"]["f1"]
    assert found["precision_at_50"] > found["baseline"]["precision_at_50"]


def test_every_lead_explains_its_score_with_records(data: FirearmsData) -> None:
    traces = {r["trace"] for r in figures.traces(data, Filters(), limit=100000)}
    purchases = {r["purchase"] for r in data.rows("SELECT purchase FROM purchases")}
    people = {r["p"] for r in data.rows("SELECT purchaser AS p FROM purchases UNION SELECT purchaser FROM traces")}
    for lead in score_purchasers(data, limit=100):
        assert lead.score == pytest.approx(sum(f.points for f in lead.flags))
        for flag in lead.flags:
            assert 0 < flag.count <= len(flag.evidence)  # guns counted, records named (a sale and its trace)
            assert set(flag.evidence) <= traces | purchases | people, flag


def test_the_figures_reproduce_the_published_trace_shares(data: FirearmsData) -> None:
    folder = shared_data("atf_mexico_traces")  # skips when ../shared/data is absent
    published, _states = published_figures(folder)
    states = {r["state"]: r for r in figures.source_states(data, Filters())}
    for state in ("TX", "AZ", "CA"):
        ours = 100 * states[f"US-{state}"]["share"]
        assert ours == pytest.approx(published[f"source_state_pct.{state}"], abs=TOLERANCE), state
    border = 100 * sum(states[f"US-{s}"]["share"] for s in ("TX", "AZ", "CA", "NM"))
    assert border == pytest.approx(published["southwest_border_pct"], abs=TOLERANCE)
    types: Counter[str] = Counter()
    for row in figures.types_over_time(data, Filters()):
        kind = row["type"] if row["type"] in ("pistol", "rifle", "revolver", "shotgun") else "other"
        types[kind] += row["traces"]
    total = sum(types.values())
    for kind, count in types.items():
        assert 100 * count / total == pytest.approx(published[f"type_pct.{kind}"], abs=TOLERANCE), kind
    summary = figures.summary(data, Filters())
    three_years_or_more = 100 * (1 - summary["ttc_under_3y_share"])
    expected = 100 * published["ttc_3y_or_more_2006_2010"] / published["ttc_traced_2006_2010"]
    assert three_years_or_more == pytest.approx(expected, abs=TOLERANCE)
    assert 100 * summary["completed_share"] == pytest.approx(published["traced_to_us_retailer_pct_2016"], abs=TOLERANCE)
