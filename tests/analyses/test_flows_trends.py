"""The drugs and violence dashboard's figures beyond the totals: trends with their uncertainty,
year-over-year changes, monthly rates, seizures by month, season and mode, and the sources each
figure names — on the real public files, checked against sums computed from the raw rows."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from cruce.analyses import drugs, violence
from cruce.analyses.geo import bundled_states, state_boundaries
from cruce.analyses.service import sources_of
from cruce.security.db import AppDB
from cruce.store import open_store
from tests.analyses.test_flows_real_data import INEGI, _rows, paths, store_with_files  # noqa: F401

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def test_a_trend_says_its_slope_and_the_interval_around_it() -> None:
    rng = random.Random(4)
    points = [(float(x), 100 + 7 * x + rng.gauss(0, 5)) for x in range(20)]
    line = violence.trend(points)
    assert line["slope_low"] < 7 < line["slope_high"]  # the true slope inside its 95 % interval
    assert line["slope_low"] < line["slope"] < line["slope_high"]
    for fitted, x in zip(line["fitted"], range(20), strict=True):
        assert fitted["low"] < 100 + 7 * x < fitted["high"]
    widths = [f["high"] - f["low"] for f in line["fitted"]]
    assert widths[0] > widths[10] < widths[-1]  # least sure at the ends
    noisier = violence.trend([(x, y + rng.gauss(0, 40)) for x, y in points])
    assert noisier["slope_high"] - noisier["slope_low"] > line["slope_high"] - line["slope_low"]
    assert violence.trend(points[:2])["slope"] is None  # two points: no residuals, no interval


def test_national_trends_keep_each_series_and_leave_partial_years_out_of_the_fit(store_with_files: str) -> None:  # noqa: F811
    with open_store(store_with_files) as store:
        data = violence.ViolenceData.load(store)
    trends = {t["series"]: t for t in violence.national_trends(data)}
    assert set(trends) == {"homicide:INEGI", "execution:Reforma", "execution:Milenio"}
    side = violence.national_side_by_side(data)
    for series, t in trends.items():
        assert {y["year"]: y["killed"] for y in t["years"]} == {r["year"]: r[series] for r in side if series in r}
    # the press tallies by month end in March 2010: 2010 is shown, not fitted
    reforma = trends["execution:Reforma"]
    assert [y["whole_year"] for y in reforma["years"] if y["year"] == 2010] == [False]
    assert 2010 not in {f["year"] for f in reforma["fitted"]}
    inegi = trends["homicide:INEGI"]
    assert inegi["slope_low"] > 0  # homicides rose over 2000-2022, beyond doubt
    assert len(inegi["fitted"]) == 23


def test_year_over_year_and_monthly_rates_from_the_raw_file(store_with_files: str, paths: dict[str, Path]) -> None:  # noqa: F811
    by_state_year: dict[tuple[str, int], float] = defaultdict(float)
    monthly: dict[tuple[str, str], tuple[float, float]] = {}
    for row in _rows(paths["homicides"], delimiter="|"):
        by_state_year[row["cve_ent"], int(row["year"])] += float(row["homicides"])
        monthly[row["cve_ent"], f"{row['year']}-{int(row['month']):02d}"] = (
            float(row["homicides"]),
            float(row["pop_est"]),
        )
    with open_store(store_with_files) as store:
        data = violence.ViolenceData.load(store)
    found = {r["state"]: r for r in violence.year_over_year(data, 2010)}
    assert len(found) == 32
    for code, iso in INEGI.items():
        now, before = by_state_year[code, 2010], by_state_year[code, 2009]
        assert found[iso]["change"] == now - before
        assert found[iso]["change_pct"] == pytest.approx(100 * (now - before) / before, abs=0.05)
    changes = [r["change"] for r in violence.year_over_year(data, 2010)]
    assert changes == sorted(changes, reverse=True)  # largest rise first
    months = violence.homicides_by_state_month(data, "MX-CHH", first="2010-01", last="2010-12")
    assert [m["month"] for m in months] == [f"2010-{m:02d}" for m in range(1, 13)]
    for m in months:
        count, population = monthly["08", m["month"]]
        assert m["homicides"] == count
        assert m["annual_rate_per_100k"] == pytest.approx(count * 12 * 100000 / population, abs=0.01)


def test_seizures_by_month_season_and_mode_from_the_raw_file(store_with_files: str, paths: dict[str, Path]) -> None:  # noqa: F811
    per_month: dict[str, float] = defaultdict(float)
    per_mode: dict[str, float] = defaultdict(float)
    for row in _rows(paths["seizures"]):
        month = MONTHS.index(row["Month (abbv)"].strip().title()[:3]) + 1
        year = int(row["FY"]) - (1 if month >= 10 else 0)
        per_month[f"{year}-{month:02d}"] += int(row["Count of Event"])
        per_mode[row["Land Filter"]] += int(row["Count of Event"])
    with open_store(store_with_files) as store:
        data = drugs.DrugsData.load(store)
    found = drugs.seizures_by_month(data)
    assert {r["month"]: r["events"] for r in found} == per_month
    assert not [r for r in found if r["outlier"]]  # CBP's monthly counts are steady
    season = drugs.seasonality(data)
    assert [r["month"] for r in season] == list(range(1, 13))
    assert sum(r["share"] for r in season) == pytest.approx(1.0, abs=0.001)
    assert {r["years"] for r in season} == {
        len({m[:4] for m in per_month if sum(1 for n in per_month if n[:4] == m[:4]) == 12})
    }
    modes = drugs.seizures_by(data, "mode")
    assert sum(r["events"] for r in modes) == sum(per_mode.values())
    assert [r["events"] for r in modes] == sorted((r["events"] for r in modes), reverse=True)
    with pytest.raises(ValueError, match="dimension must be one of"):
        drugs.seizures_by(data, "1; DROP TABLE seizures")


def test_an_unusual_month_is_flagged() -> None:
    rows = [{"month": f"2020-{m:02d}", "events": 100.0 + (m % 3)} for m in range(1, 13)]
    rows[6]["events"] = 400.0
    drugs._mark_outliers(rows, "events", 3.5)
    assert [r["month"] for r in rows if r["outlier"]] == ["2020-07"]


def test_each_figure_names_the_files_it_was_computed_from(store_with_files: str) -> None:  # noqa: F811
    with open_store(store_with_files) as store:
        imports = store.imports()
    violence_files = {Path(s["file"]).name for s in sources_of(imports, ["ViolenceEvent"])}
    assert violence_files == {"executions-bymonth.csv", "mexico-state-month-homicide-rates-2000-2022.csv"}
    crossing_files = {Path(s["file"]).name for s in sources_of(imports, ["CrossingCount"])}
    assert crossing_files == {"border_crossing_entry_data_us_mexico.csv.gz"}
    gone = SimpleNamespace(dataset="d", source_file="f.csv", mapping="/nowhere/mapping.yaml", rows_stored=1,
                           finished_at=datetime.now(UTC))  # fmt: skip
    assert sources_of([gone], ["ViolenceEvent"]) == []  # a mapping file moved away: not claimed


def test_the_maps_are_shipped_and_an_import_takes_the_place_of_a_state(store_with_files: str) -> None:  # noqa: F811
    shipped = bundled_states()["features"]
    if not shipped:
        pytest.skip("the web assets are not built (make assets)")
    codes = [f["properties"]["code"] for f in shipped]
    assert sum(c.startswith("MX-") for c in codes) == 32
    assert sum(c.startswith("US-") for c in codes) == 51
    assert {"MX-CHH", "MX-SON", "US-TX", "US-AZ", "MX-CMX"} <= set(codes)
    assert "Natural Earth" in bundled_states()["attribution"]
    with open_store(store_with_files) as store:
        found = state_boundaries(AppDB(store))
    assert [f["properties"]["code"] for f in found["features"]] == sorted(codes)


def test_port_seizures_per_million_crossings_by_field_office(store_with_files: str, paths: dict[str, Path]) -> None:  # noqa: F811
    """CBP gives its port seizures by field office, BTS its crossings by port: the rate joins them
    through the district of each port's code; computed here again from the raw rows."""
    offices = {"23": "LAREDO FIELD OFFICE", "24": "EL PASO FIELD OFFICE", "25": "SAN DIEGO FIELD OFFICE",
               "26": "TUCSON FIELD OFFICE"}  # fmt: skip
    events: dict[tuple[str, int], int] = defaultdict(int)
    for row in _rows(paths["seizures"]):
        if row["Component"] == "Office of Field Operations" and row["Area of Responsibility"] in offices.values():
            events[row["Area of Responsibility"], int(row["FY"])] += int(row["Count of Event"])
    counts: dict[tuple[str, str], int] = {}
    for row in _rows(paths["crossings"]):
        if row["Measure"] == "Personal Vehicles":
            key = (row["Port Code"], row["Date"])
            counts[key] = max(counts.get(key, 0), int(row["Value"]))
    crossings: dict[tuple[str, int], int] = defaultdict(int)
    for (port, month), value in counts.items():
        number = MONTHS.index(month[:3]) + 1
        crossings[offices[port[:2]], int(month[-4:]) + (1 if number >= 10 else 0)] += value
    with open_store(store_with_files) as store:
        data = drugs.DrugsData.load(store)
    found = {(r["office"], r["fiscal_year"]): r for r in drugs.seizures_per_crossings_by_office(data)}
    assert set(found) == set(events)  # 4 field offices x FY2019-FY2022
    for key, n in events.items():
        assert found[key]["events"] == n
        assert found[key]["crossings"] == crossings[key]
        assert found[key]["events_per_million"] == pytest.approx(n * 1e6 / crossings[key], abs=0.001)
    meth = drugs.seizures_per_crossings_by_office(data, "methamphetamine")
    assert sum(r["events"] for r in meth) < sum(events.values())


def test_imported_municipal_shapes_are_served_for_the_maps(tmp_path: Path) -> None:
    from cruce.analyses.geo import municipal_boundaries, municipality_code
    from cruce.ingest.pipeline import import_file
    from tests.conftest import shared_data

    shapes = shared_data("geo_mexico/municipios_26_Sonora.json.gz")
    with open_store(str(tmp_path / "store.duckdb")) as store:
        import_file(store, shapes, "geo-mexico-municipalities")
        found = municipal_boundaries(AppDB(store))["features"]
    assert len(found) == 69  # Sonora's 69 features in the file
    assert {f["geometry"]["type"] for f in found} <= {"Polygon", "MultiPolygon"}  # collections flattened
    codes = {f["properties"]["code"] for f in found}
    assert municipality_code("MX-SON", "Agua Prieta") in codes  # as violence.by_municipality keys its rows
    assert all(code.startswith("MX-SON:") for code in codes)


def test_a_geometry_collection_becomes_a_multipolygon_the_maps_can_draw() -> None:
    from cruce.analyses.geo import _polygonal

    square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
    island = [[[2, 2], [3, 2], [3, 3], [2, 2]]]
    collection = {"type": "GeometryCollection", "geometries": [
        {"type": "Polygon", "coordinates": square},
        {"type": "MultiPolygon", "coordinates": [island]},
        {"type": "LineString", "coordinates": [[0, 0], [5, 5]]},
    ]}  # fmt: skip
    flat = _polygonal(collection)
    assert flat["type"] == "MultiPolygon"
    assert len(flat["coordinates"]) == 2  # the two polygons; the line is no area
    assert _polygonal({"type": "Polygon", "coordinates": square}) == {"type": "Polygon", "coordinates": square}
