"""Seizures per million crossings on a synth scenario: each port and year's rate as computed here
from the two raw files; the seizure rows without a port do not count; outliers are marked."""

from __future__ import annotations

import csv
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from cruce.analyses.drugs import VEHICLES, DrugsData, seizures_per_crossings
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import generate


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def scenario_and_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DrugsData]:
    out = tmp_path_factory.mktemp("drugs-scenario")
    generate(out, scale=40000, seed=5, flows=["drugs"])
    db = str(tmp_path_factory.mktemp("drugs-db") / "store.duckdb")
    with open_store(db) as store:
        import_file(store, out / "drug-seizures.csv", "drug-seizures")
        import_file(store, out / "border-crossings.csv", "bts-border-crossings")
        return out, DrugsData.load(store)


def test_seizures_per_million_crossings_per_port_and_year(scenario_and_data: tuple[Path, DrugsData]) -> None:
    scenario, data = scenario_and_data
    by_month: Counter[tuple[str, str]] = Counter()  # (port, YYYY-MM) -> seizures
    with (scenario / "drug-seizures.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["port"].strip():
                day = row["date"] if "-" in row["date"] else "-".join(reversed(row["date"].split("/")))
                by_month[_fold(row["port"].strip()), day[:7]] += 1
    counted: Counter[tuple[str, str]] = Counter()
    months = {m: f"{i:02d}" for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                                     "oct", "nov", "dec"), 1)}  # fmt: skip
    with (scenario / "border-crossings.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Measure"].lower().replace(" ", "_") in VEHICLES:
                month = f"{row['Date'][-4:]}-{months[row['Date'][:3].lower()]}"
                counted[_fold(row["Port Name"]), month] += int(row["Value"])
    seized: Counter[tuple[str, int]] = Counter()  # over the counted months within the seizures' span
    crossed: Counter[tuple[str, int]] = Counter()
    first, last = min(m for _p, m in by_month), max(m for _p, m in by_month)
    ports = {p for p, _m in by_month}
    for (port, month), n in counted.items():
        if port in ports and first <= month <= last and n:
            seized[port, int(month[:4])] += by_month[port, month]
            crossed[port, int(month[:4])] += n
    rows = seizures_per_crossings(data)
    assert rows
    for row in rows:
        key = (_fold(row["port_name"]), row["year"])
        assert row["events"] == seized[key]
        assert row["crossings"] == crossed[key]
        assert row["events_per_million"] == pytest.approx(seized[key] * 1e6 / crossed[key], abs=0.001)
    assert {(_fold(r["port_name"]), r["year"]) for r in rows} == set(seized)
    assert all((r["deviations"] > 3.5) == r["outlier"] for r in rows)
