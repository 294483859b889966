"""Hot spots: on a synth scenario the contested plazas are found in their dispute windows, and no
cell outside a disputed plaza is hot; a cell that heats up late is "emerging"."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from cruce.analyses.hotspots import EventPoints, evaluate_hot_spots, hot_spots, space_time
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import generate


@pytest.fixture(scope="module")
def scenario_and_points(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, EventPoints]:
    out = tmp_path_factory.mktemp("hotspot-scenario")
    generate(out, scale=40000, seed=5, flows=["drugs"])
    db = str(tmp_path_factory.mktemp("hotspot-db") / "store.duckdb")
    with open_store(db) as store:
        import_file(store, out / "violence-events.csv", "acled-events")
        return out, EventPoints.load(store)


def test_contested_plazas_are_hot_in_their_dispute_windows(scenario_and_points: tuple[Path, EventPoints]) -> None:
    scenario, points = scenario_and_points
    found = evaluate_hot_spots(points, scenario)
    assert found["disputes"] >= 5
    assert found["recall"] == 1.0
    assert found["precision"] >= 0.8
    assert found["cell_recall"] > 0.4  # a plaza's main town is hot; its smaller places may not be


def _points(events: list[tuple[str, float, float]]) -> EventPoints:
    table = pa.table({
        "event": [f"E{i}" for i in range(len(events))], "day": [e[0] for e in events],
        "killed": [1.0] * len(events), "geo": [f"{lat},{lon}" for _d, lat, lon in events],
    })  # fmt: skip
    return EventPoints({"events": table})


def test_a_cell_that_heats_up_late_is_emerging() -> None:
    towns = [(31.0 + i * 0.5, -110.0 + (i % 3) * 0.7) for i in range(12)]  # a dozen towns, far apart
    events = [(f"{year}-06-01", lat, lon) for year in range(2015, 2023) for lat, lon in towns]  # one a year each
    late = towns[0]
    events += [(f"{year}-0{m}-01", *late) for year in (2021, 2022) for m in range(1, 10)]  # then many in one
    points = _points(events)
    assert {r["cell"] for r in hot_spots(points, "2021-01-01", "2022-12-31") if r["hot"]} == {
        r["cell"] for r in hot_spots(points) if r["events"] > 8
    }
    course = {r["cell"]: r["course"] for r in space_time(points)}
    assert sorted(course.values()).count("emerging") == 1
    assert set(course.values()) <= {"emerging", "not hot"}
