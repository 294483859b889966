"""The drugs and violence figures reproduce the real files of ../shared/data: the press tallies of
executions by newspaper and year, homicides by state and year, CBP seizures by fiscal year and drug
(with UNODC's yearly national totals in the same store, kept out of the border's figures), and
crossings per port, year and measure — each against sums computed here from the raw file."""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from cruce.analyses import drugs, violence
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from tests.conftest import shared_data

FILES = {
    "executions": ("mexico_drugwar_diegovalle/executions-bymonth.csv", "diegovalle-executions-by-month"),
    "homicides": ("mexico_homicide_rates/mexico-state-month-homicide-rates-2000-2022.csv", "mx-homicides-state-month"),
    "seizures": ("cbp_drug_seizures/nationwide-drugs-fy19-fy22.csv", "cbp-drug-seizures"),
    "crossings": ("border_crossing/border_crossing_entry_data_us_mexico.csv.gz", "bts-border-crossings"),
    # national yearly totals, dated by year alone: in the store beside CBP's, never in its figures
    "unodc": ("unodc_drug_seizures/drug_seizures_annual_1970s_unodc.csv.gz", "unodc-drug-seizures"),
}
# INEGI state codes of a few states, and their ISO 3166-2 codes
INEGI = {"01": "MX-AGU", "08": "MX-CHH", "09": "MX-CMX", "12": "MX-GRO", "26": "MX-SON", "28": "MX-TAM"}


def _rows(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:  # type: ignore[operator]
        return list(csv.DictReader(fh, delimiter=delimiter))


@pytest.fixture(scope="module")
def paths() -> dict[str, Path]:
    return {name: shared_data(path) for name, (path, _mapping) in FILES.items()}


@pytest.fixture(scope="module")
def store_with_files(paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("flows") / "store.duckdb")
    with open_store(db) as store:
        for name, (_path, mapping) in FILES.items():
            assert import_file(store, paths[name], mapping).rows_rejected == 0
    return db


def test_execution_tallies_by_newspaper_and_year(store_with_files: str, paths: dict[str, Path]) -> None:
    expected: Counter[tuple[str, int]] = Counter()
    for row in _rows(paths["executions"]):
        for paper in ("Reforma", "Milenio"):
            if row[paper].strip():
                expected[paper, int(row["Year"])] += int(row[paper])
    with open_store(store_with_files) as store:
        data = violence.ViolenceData.load(store)
    found = {(r["source"], r["year"]): r["executions"] for r in violence.executions_by_year(data)}
    assert found == expected
    assert {k: v for k, v in found.items() if k[1] in (2007, 2008)} == {
        k: v for k, v in expected.items() if k[1] in (2007, 2008)
    }
    side = {r["year"]: r for r in violence.national_side_by_side(data, 2007, 2008)}
    assert side[2008]["execution:Reforma"] == expected["Reforma", 2008]  # kept apart, never merged
    assert side[2008]["execution:Milenio"] == expected["Milenio", 2008]


def test_homicides_by_state_and_year(store_with_files: str, paths: dict[str, Path]) -> None:
    expected: dict[tuple[str, int], float] = defaultdict(float)
    for row in _rows(paths["homicides"], delimiter="|"):
        expected[row["cve_ent"], int(row["year"])] += float(row["homicides"])
    with open_store(store_with_files) as store:
        data = violence.ViolenceData.load(store)
    found = violence.homicides_by_state_year(data)
    assert len(found) == len(expected)  # 32 states × 23 years
    for code, iso in INEGI.items():
        mine = {r["year"]: r["homicides"] for r in found if r["state"] == iso}
        assert mine == {year: total for (c, year), total in expected.items() if c == code}, iso
    by_year: dict[int, float] = defaultdict(float)
    for (_code, year), total in expected.items():
        by_year[year] += total
    for year, total in by_year.items():
        assert sum(r["homicides"] for r in found if r["year"] == year) == pytest.approx(total)


def _code(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def test_cbp_seizures_by_fiscal_year_and_drug(store_with_files: str, paths: dict[str, Path]) -> None:
    events: Counter[tuple[int, str]] = Counter()
    pounds: dict[tuple[int, str], float] = defaultdict(float)
    for row in _rows(paths["seizures"]):
        key = (int(row["FY"]), row["Drug Type"])
        events[key] += int(row["Count of Event"])
        pounds[key] += float(row["Sum Qty (lbs)"])
    with open_store(store_with_files) as store:
        data = drugs.DrugsData.load(store)
    found = drugs.seizures_by_fiscal_year(data)
    for year in sorted({y for y, _d in events}):
        mine = [r for r in found if r["fiscal_year"] == year]
        assert sum(r["events"] for r in mine) == sum(n for (y, _d), n in events.items() if y == year)
        assert sum(r["pounds"] for r in mine) == pytest.approx(sum(p for (y, _d), p in pounds.items() if y == year))
    meth = {r["fiscal_year"]: r for r in found if r["drug"] == "methamphetamine"}
    for year in meth:
        assert meth[year]["events"] == events[year, "Methamphetamine"]
        assert meth[year]["pounds"] == pytest.approx(pounds[year, "Methamphetamine"], abs=0.001)  # to the ounce
        assert meth[year]["kilograms"] == pytest.approx(pounds[year, "Methamphetamine"] * 0.45359237, abs=0.001)


def test_crossings_per_port_year_and_measure(store_with_files: str, paths: dict[str, Path]) -> None:
    """One count per port, month and measure: the file repeats six rows exactly (counted once) and
    gives one count twice with two values (Sasabe, bus passengers, February 2021: 0 and 2,175),
    where the larger is taken; both values stay in the store with their rows."""
    counts: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    for row in _rows(paths["crossings"]):
        counts[row["Port Code"], row["Date"], _code(row["Measure"])].add(int(row["Value"]))
    assert [k for k, v in counts.items() if len(v) > 1] == [("2606", "Feb 2021", "bus_passengers")]
    expected: Counter[tuple[str, int, str]] = Counter()
    for (port, month, measure), values in counts.items():
        expected[port, int(month[-4:]), measure] += max(values)
    with open_store(store_with_files) as store:
        data = drugs.DrugsData.load(store)
    found = {(r["port_code"], r["year"], r["measure"]): r["crossings"] for r in drugs.crossings_by_port_year(data)}
    assert found == expected


def test_both_backends_read_the_same_figures(store_url: str, paths: dict[str, Path], store_with_files: str) -> None:
    with open_store(store_url) as store:
        for name in ("executions", "seizures"):
            import_file(store, paths[name], FILES[name][1])
        theirs = violence.ViolenceData.load(store), drugs.DrugsData.load(store)
    with open_store(store_with_files) as store:
        ours = violence.ViolenceData.load(store), drugs.DrugsData.load(store)
    assert violence.executions_by_year(theirs[0]) == violence.executions_by_year(ours[0])
    assert drugs.seizures_by_fiscal_year(theirs[1]) == drugs.seizures_by_fiscal_year(ours[1])
