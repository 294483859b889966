"""Change points on a synth scenario: the plaza disputes it planted are found as rises of violence
in the plaza's municipalities, within a month of their start; few rises match no dispute."""

from __future__ import annotations

from pathlib import Path

import pytest

from cruce.analyses.violence import PENALTY, ViolenceData, change_points, evaluate_escalations
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import generate

SCALE, SEED = 40000, 5  # not the scenario the penalty was chosen on (seed 1)


@pytest.fixture(scope="module")
def scenario_and_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ViolenceData]:
    out = tmp_path_factory.mktemp("violence-scenario")
    generate(out, scale=SCALE, seed=SEED, flows=["drugs"])
    db = str(tmp_path_factory.mktemp("violence-db") / "store.duckdb")
    with open_store(db) as store:
        import_file(store, out / "violence-events.csv", "acled-events")
        return out, ViolenceData.load(store)


def test_planted_escalations_are_found_within_a_month(scenario_and_data: tuple[Path, ViolenceData]) -> None:
    scenario, data = scenario_and_data
    found = evaluate_escalations(data, scenario)
    assert found["disputes"] >= 5
    assert found["recall"] == 1.0, [f for f in found["found"] if not f["found"]]
    assert found["precision"] >= 0.7
    # a lower penalty finds more rises, of which fewer are disputes: the penalty is the trade-off
    loose = evaluate_escalations(data, scenario, penalty=PENALTY / 10)
    assert loose["rises"] > found["rises"]
    assert loose["precision"] < found["precision"]


def test_a_change_point_says_the_level_before_and_after(scenario_and_data: tuple[Path, ViolenceData]) -> None:
    _scenario, data = scenario_and_data
    for point in change_points(data):
        assert (point["after"] > point["before"]) == (point["direction"] == "up")
        assert len(point["month"]) == 7
