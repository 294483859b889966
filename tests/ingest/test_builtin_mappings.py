"""Every record-level file of ../shared/data imports with its built-in mapping, used by name.

Each test imports the whole real file into a DuckDB store and checks that every row read was
stored or rejected, that the rejects are exactly the expected rows with their reasons, and a few
values against the file, counted here independently with the csv module.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from cruce import cli
from cruce.i18n import set_language
from cruce.ingest.compile import entity_id
from cruce.ingest.mapping import builtin_mappings
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.store import Store, open_store
from cruce.store.base import Entity
from tests.conftest import shared_data

MAPPINGS = (
    "bts-border-crossings",
    "nics-background-checks",
    "mx-homicides-state-month",
    "ctdc-derived",
    "cbp-drug-seizures",
    "cbp-amo-drug-seizures",
    "unodc-drug-seizures",
    "diegovalle-executions-by-state",
    "diegovalle-executions-by-month",
    "diegovalle-firearm-executions",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(str(tmp_path / "builtin.duckdb")) as opened:
        yield opened


def _rows(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[dict[str, str]]:
    """The file's data rows, read with the csv module (row i of the list is spreadsheet row i + 2)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _import(store: Store, path: Path, mapping: str, rows: list[dict[str, str]]) -> ImportResult:
    result = import_file(store, path, mapping)
    assert result.mapping == mapping
    assert result.rows_read == len(rows)
    assert result.rows_read == result.rows_stored + result.rows_rejected
    return result


def _rejects(store: Store) -> set[tuple[int | None, str | None, str]]:
    return {(r.source_row, r.field, r.reason) for r in store.rejects()}


def _entities(store: Store, schema: str) -> list[Entity]:
    return list(store.iter_entities(schema=schema))


def _index(entities: list[Entity], *props: str) -> dict[tuple[str | None, ...], Entity]:
    """Entities by the first value of each of ``props``; the tuples must be unique."""
    index = {tuple(e.first(p) for p in props): e for e in entities}
    assert len(index) == len(entities), f"{props} do not identify the entities"
    return index


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run ``cruce ARGS`` in-process on a wide console; return its standard output."""
    monkeypatch.setattr(cli, "console", Console(width=250))
    code = 0
    try:
        cli.main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_every_mapping_is_listed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(MAPPINGS) <= set(builtin_mappings())
    out = _cli(monkeypatch, capsys, "mappings")
    for name in MAPPINGS:
        assert name in out
    assert "Cruces por la frontera" in out  # descriptions are bilingual


def test_bts_border_crossings(store: Store) -> None:
    path = shared_data("border_crossing", "border_crossing_entry_data_us_mexico.csv.gz")
    rows = _rows(path)
    result = _import(store, path, "bts-border-crossings", rows)
    assert result.rows_rejected == 0
    assert _rejects(store) == set()

    ports = _index(_entities(store, "Location"), "port_code")
    assert set(ports) == {(r["Port Code"],) for r in rows}
    nogales = ports["2604",]
    assert nogales.properties == {
        "name": ["Nogales"],
        "location_type": ["port_of_entry"],
        "port_code": ["2604"],
        "state": ["US-AZ"],
        "country": ["US"],
        "geo": ["31.332839,-110.942516"],  # the WKT Point, not the rounded Latitude/Longitude
    }
    assert ports["2402",].first("geo") == "31.764363,-106.451188"  # El Paso

    # 94k counts: look the few checked here up by the id their key gives, rather than list them all.
    keys = Counter((r["Port Code"], r["Date"], r["Measure"]) for r in rows)
    assert store.counts_by_schema()["CrossingCount"] == len(keys)  # a repeated port, month and measure is one count

    def count(port: str, month: str, measure: str) -> Entity:
        found = store.entity(entity_id("bts-border-crossings", "crossing_count", port, month, measure))
        assert found is not None
        return found

    el_paso = count("2402", "Jan 2024", "Pedestrians")
    assert el_paso.properties == {
        "port": [ports["2402",].id],
        "measure": ["pedestrians"],
        "value": ["331187"],
        "period": ["2024-01"],
        "date": ["2024-01"],
        "state": ["US-TX"],
        "country": ["US"],
    }
    assert count("2604", "Jan 2024", "Pedestrians").properties["value"] == ["228757"]
    assert count("2401", "Jan 2024", "Personal Vehicle Passengers").properties["value"] == ["521714"]
    assert count("2301", "Jan 1996", "Trucks").first("period") == "1996-01"
    # The file gives Sasabe two values for one month and measure: both are kept, side by side.
    sasabe = count("2606", "Feb 2021", "Bus Passengers")
    assert {s.value: s.source_row for s in sasabe.statements if s.prop == "value"} == {"0": 5241, "2175": 8770}


TERRITORIES = {"Guam", "Mariana Islands", "Virgin Islands"}


def test_nics_background_checks(store: Store) -> None:
    path = shared_data("nics_background_checks", "nics-firearm-background-checks.csv")
    rows = _rows(path)
    result = _import(store, path, "nics-background-checks", rows)
    rejected_rows = {i + 2 for i, r in enumerate(rows) if r["state"] in TERRITORIES}
    assert len(rejected_rows) == 3 * 299
    assert result.rows_rejected == len(rejected_rows)
    assert _rejects(store) == {(row, "state → checks.state", "invalid_state") for row in rejected_rows}

    checks = _index(_entities(store, "BackgroundCheckCount"), "state", "period")
    assert len(checks) == result.rows_stored
    assert len({state for state, _ in checks}) == 52  # 50 states, DC and Puerto Rico
    texas = checks["US-TX", "2023-09"]
    expected = next(r for r in rows if r["state"] == "Texas" and r["month"] == "2023-09")
    assert texas.first("total") == expected["totals"] == "123482"
    assert texas.first("handgun") == expected["handgun"] == "46450"
    assert texas.first("long_gun") == "35984"
    assert texas.first("multiple") == "2742"
    assert texas.first("permit") == "23479"
    assert texas.first("date") == "2023-09"
    assert texas.first("country") == "US"
    assert checks["US-TX", "2020-03"].first("total") == "274211"
    # An empty cell is no value, not zero.
    first = checks["US-AL", "1998-11"]
    assert "permit_recheck" not in first.properties


def test_mx_homicides_state_month(store: Store) -> None:
    path = shared_data("mexico_homicide_rates", "mexico-state-month-homicide-rates-2000-2022.csv")
    rows = _rows(path, delimiter="|")
    result = _import(store, path, "mx-homicides-state-month", rows)
    assert result.rows_rejected == 0

    events = _index(_entities(store, "ViolenceEvent"), "state", "date")
    assert len(events) == len(rows)
    assert len({state for state, _ in events}) == 32
    chihuahua = events["MX-CHH", "2010-10"]
    assert chihuahua.properties["killed"] == ["681"]
    assert chihuahua.first("population") == "3406473.6423604456"
    assert chihuahua.first("rate_per_100k") == "235.54322106469064"
    assert chihuahua.first("violence_type") == "homicide"
    assert chihuahua.first("reported_by") == "INEGI"
    assert chihuahua.first("country") == "MX"
    assert events["MX-AGU", "2000-03"].first("killed") == "1"
    assert events["MX-ZAC", "2022-12"]  # the last state and month
    total = sum(int(e.first("killed") or 0) for e in events.values())
    assert total == sum(int(r["homicides"]) for r in rows)


def test_ctdc_derived(store: Store) -> None:
    path = shared_data("ctdc_trafficking_derived", "trafficking_cleaned.csv")
    rows = _rows(path)
    result = _import(store, path, "ctdc-derived", rows)
    assert result.rows_rejected == 0

    cases = _entities(store, "TraffickingCase")
    # Most rows have an identical twin (k-anonymised data); keyed by row, each stays a victim.
    assert len({tuple(r.values()) for r in rows}) < len(rows) // 5
    assert len(cases) == len(rows)

    citizenship = Counter(e.first("citizenship") for e in cases)
    assert citizenship[None] == sum(r["citizenship"] == "0" for r in rows)  # 0 = unknown
    assert citizenship["MX"] == sum(r["citizenship"] == "MX" for r in rows) == 19
    assert citizenship["US"] == sum(r["citizenship"] == "US" for r in rows)
    assert Counter(e.first("exploitation_type") for e in cases) == {
        "sexual_exploitation": 11908,
        "forced_labour": 2240,
        "other": 76,
        "forced_marriage": 75,
    }
    assert Counter(e.first("is_forced_labour") for e in cases) == {"no": 11923, "yes": 2315, "unknown": 61}
    assert Counter(e.first("recruiter_relation") for e in cases)["unknown"] == 8283
    assert Counter(e.first("age_band") for e in cases)["age_9_17"] == 4942
    assert Counter(e.first("year_of_registration") for e in cases)["2018"] == 3954
    first = next(e for e in cases if e.statements[0].source_row == 2)
    assert first.properties == {
        "year_of_registration": ["2012"],
        "data_source": ["case_management"],
        "gender": ["female"],
        "citizenship": ["LK"],
        "is_forced_labour": ["yes"],
        "control_category": ["threats"],
        "recruiter_relation": ["other"],
        "exploitation_type": ["forced_labour"],
        "labour_type": ["domestic_work"],
        "age_band": ["age_30_38"],
    }


def _check_fiscal_dates(seizures: list[Entity]) -> None:
    """October to December belong to the calendar year before the fiscal year."""
    for e in seizures:
        year, month = (int(x) for x in (e.first("date") or "").split("-"))
        fiscal_year = int(e.first("fiscal_year") or 0)
        assert year == (fiscal_year - 1 if month >= 10 else fiscal_year), e.properties


def test_cbp_drug_seizures(store: Store) -> None:
    path = shared_data("cbp_drug_seizures", "nationwide-drugs-fy19-fy22.csv")
    rows = _rows(path)
    result = _import(store, path, "cbp-drug-seizures", rows)
    assert result.rows_rejected == 0

    seizures = _entities(store, "DrugSeizure")
    assert len(seizures) == len(rows)
    _check_fiscal_dates(seizures)
    months = {f"{y}-{m:02d}" for y in range(2018, 2023) for m in range(1, 13)}
    assert {e.first("date") for e in seizures} == {m for m in months if "2018-10" <= m <= "2022-09"}  # FY2019–FY2022
    events = sum(int(e.first("event_count") or 0) for e in seizures)
    assert events == sum(int(r["Count of Event"]) for r in rows)
    assert Counter(e.first("component") for e in seizures) == {
        "office_of_field_operations": 6984,
        "border_patrol": 3108,
    }
    index = _index(seizures, "date", "area_of_responsibility", "drug", "mode")
    tucson = index["2021-10", "TUCSON FIELD OFFICE", "fentanyl", "land"]  # FY2022 OCT
    assert tucson.properties == {
        "date": ["2021-10"],
        "fiscal_year": ["2022"],
        "component": ["office_of_field_operations"],
        "region": ["southwest_border"],
        "mode": ["land"],
        "area_of_responsibility": ["TUCSON FIELD OFFICE"],
        "drug": ["fentanyl"],
        "event_count": ["13"],
        "quantity": ["138.5328856993452 lb"],
        "country": ["US"],
    }
    assert index["2020-10", "TUCSON FIELD OFFICE", "fentanyl", "land"].first("event_count") == "25"  # FY2021 OCT


def test_cbp_amo_drug_seizures(store: Store) -> None:
    path = shared_data("cbp_drug_seizures", "amo-drug-seizures-fy19-fy22.csv")
    rows = _rows(path)
    result = _import(store, path, "cbp-amo-drug-seizures", rows)
    assert result.rows_rejected == 0

    seizures = _entities(store, "DrugSeizure")
    assert len(seizures) == len(rows)
    _check_fiscal_dates(seizures)
    assert {e.first("component") for e in seizures} == {"air_and_marine_operations"}
    assert Counter(e.first("drug") for e in seizures) == {
        "cocaine": 524,
        "methamphetamine": 412,
        "marijuana": 358,
        "fentanyl": 254,
        "heroin": 224,
    }
    index = _index(seizures, "date", "area_of_responsibility", "drug", "region", "mode")
    tucson = index["2019-04", "Tucson Air Branch", "fentanyl", "southwest_border", "land"]
    assert tucson.first("event_count") == "1"
    assert tucson.first("quantity") == "0.51 lb"
    pounds = sum(float((e.first("quantity") or "0 lb").split()[0]) for e in seizures)
    assert pounds == pytest.approx(sum(float(r["Sum Qty (lbs)"]) for r in rows))


def test_unodc_drug_seizures(store: Store) -> None:
    path = shared_data("unodc_drug_seizures", "drug_seizures_annual_1970s_unodc.csv.gz")
    rows = _rows(path)
    result = _import(store, path, "unodc-drug-seizures", rows)
    assert result.rows_rejected == 0

    seizures = _entities(store, "DrugSeizure")
    assert len(seizures) == len(rows)  # keyed by row: identical rows are not merged
    by_row = {e.statements[0].source_row: e for e in seizures}
    assert len(by_row) == len(rows)
    uncoded = {"ANT", "KKK", "NULL"}  # Netherlands Antilles, Kosovo, and USSR/Serbia and Montenegro
    for i, r in enumerate(rows):
        e = by_row[i + 2]
        assert (e.first("country") is None) == (r["ISO Code"] in uncoded), r
        assert e.first("drug_name") == r["Drug"]
        assert e.first("date") == r["Year"]
        if r["KG Equivalent"] == "NULL":
            assert "quantity" not in e.properties, r
        else:
            assert float((e.first("quantity") or "").removesuffix(" kg")) == float(r["KG Equivalent"]), r
    assert sum(e.first("country") is None for e in seizures) == 458
    assert sum(e.first("country") == "MX" for e in seizures) == 537
    assert "drug" in by_row[2].properties

    mexico_1981 = [e for e in seizures if e.first("country") == "MX" and e.first("date") == "1981"]
    marijuana = [
        e for e in mexico_1981 if e.first("drug") == "marijuana" and e.first("drug_name") == "Marijuana (herb)"
    ]
    assert [e.properties["quantity"] for e in marijuana] == [["156881 kg"]]
    assert marijuana[0].first("name") == "Mexico · Marijuana (herb) · 1981"
    poppy = next(e for e in mexico_1981 if e.first("drug_name") == "Poppy seed")
    assert (poppy.first("drug"), poppy.first("quantity")) == ("opium_poppy", "37 kg")
    ussr = next(e for e in seizures if (e.first("name") or "").startswith("USSR"))
    assert ussr.first("country") is None
    # Three Swedish amphetamine figures for 1971 are parts of one total: all three are kept.
    sweden = [
        e
        for e in seizures
        if e.first("country") == "SE" and e.first("date") == "1971" and e.first("drug") == "amphetamine"
    ]
    assert sorted(e.first("quantity") or "" for e in sweden) == ["0.300000012 kg", "2 kg", "2.112297 kg"]


def test_diegovalle_executions_by_state(store: Store) -> None:
    path = shared_data("mexico_drugwar_diegovalle", "executions-bystate.csv")
    rows = _rows(path, encoding="latin-1")
    result = _import(store, path, "diegovalle-executions-by-state", rows)
    total_row = next(i + 2 for i, r in enumerate(rows) if r["State"] == "TOTAL")
    assert result.rows_rejected == 1
    assert _rejects(store) == {
        (total_row, f"State → {paper}.state", "invalid_state") for paper in ("milenio", "universal", "reforma")
    }

    events = _index(_entities(store, "ViolenceEvent"), "state", "reported_by")
    states = [r for r in rows if r["State"] != "TOTAL"]
    filled = sum(bool(r[column]) for r in states for column in ("Milenio", "Universal", "Reforma"))
    assert len(events) == filled == 3 * 32 - 6  # an empty cell (no figure) gives no event
    assert {e.first("date") for e in events.values()} == {"2009"}
    assert {e.first("violence_type") for e in events.values()} == {"execution"}
    assert events["MX-CHH", "Milenio"].first("killed") == "3637"
    assert events["MX-CHH", "El Universal"].first("killed") == "3250"
    assert events["MX-CHH", "Reforma"].first("killed") == "2082"
    assert events["MX-NLE", "Reforma"].first("killed") == "99"  # "Nuevo León", read as Latin-1
    assert events["MX-MEX", "Milenio"].first("killed") == "227"  # "México" is the state here
    assert events["MX-CMX", "Reforma"].first("killed") == "173"  # "Distrito Federal"
    assert ("MX-BCS", "El Universal") not in events
    assert events["MX-BCS", "Milenio"].first("killed") == "4"
    assert events["MX-YUC", "Reforma"].first("killed") == "0"  # a zero is a figure
    # Each newspaper's states add up to the file's own state rows; the TOTAL row (rejected) is the
    # newspapers' published national figure, which for Milenio and El Universal is not that sum.
    sums: dict[str, tuple[int, int]] = {}
    for column, paper in (("Milenio", "Milenio"), ("Universal", "El Universal"), ("Reforma", "Reforma")):
        killed = sum(int(e.first("killed") or 0) for (_, who), e in events.items() if who == paper)
        assert killed == sum(int(r[column] or 0) for r in states)
        sums[column] = (killed, int(rows[total_row - 2][column]))
    assert sums == {"Milenio": (8276, 8281), "Universal": (7694, 7724), "Reforma": (6587, 6587)}


def test_diegovalle_executions_by_month(store: Store) -> None:
    path = shared_data("mexico_drugwar_diegovalle", "executions-bymonth.csv")
    rows = _rows(path)
    result = _import(store, path, "diegovalle-executions-by-month", rows)
    assert result.rows_rejected == 0

    events = _index(_entities(store, "ViolenceEvent"), "date", "reported_by")
    assert len(events) == 2 * len(rows) - 1  # Reforma has no figure for March 2010
    assert events["2007-01", "Reforma"].first("killed") == "234"
    assert events["2007-01", "Milenio"].first("killed") == "204"
    assert events["2010-03", "Milenio"].first("killed") == "1130"
    assert ("2010-03", "Reforma") not in events
    milenio_2009 = sum(
        int(e.first("killed") or 0)
        for (d, who), e in events.items()
        if who == "Milenio" and (d or "").startswith("2009")
    )
    assert milenio_2009 == 8281  # Milenio's 2009 total in executions-bystate.csv


def test_diegovalle_firearm_executions(store: Store) -> None:
    path = shared_data("mexico_drugwar_diegovalle", "firearm-executions.csv")
    rows = _rows(path)
    result = _import(store, path, "diegovalle-firearm-executions", rows)
    assert result.rows_rejected == 0

    events = _index(_entities(store, "ViolenceEvent"), "date", "reported_by")
    sources = {
        "Firearm.Homicides": "INEGI",
        "Renglones": "Renglones (Moloeznik)",
        "Reforma": "Reforma",
        "Milenio": "Milenio",
    }
    expected = {(r["Year"], who): r[column] for r in rows for column, who in sources.items() if r[column]}
    assert {key: e.first("killed") for key, e in events.items()} == expected  # one event per figure
    assert len(expected) == 24
    inegi = events["2008", "INEGI"]
    assert inegi.first("killed") == "8572"
    assert inegi.first("firearm_used") == "yes"
    assert inegi.first("violence_type") == "homicide"
    assert inegi.first("population") == "106682518"
    assert events["2001", "Renglones (Moloeznik)"].first("killed") == "1080"
    assert events["2009", "Reforma"].first("killed") == "6587"
    milenio = events["2009", "Milenio"]
    assert (milenio.first("killed"), milenio.first("violence_type")) == ("8281", "execution")
    assert milenio.first("population") == "107550697"
    assert "firearm_used" not in milenio.properties


def test_import_by_name_on_the_command_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = shared_data("mexico_drugwar_diegovalle", "executions-bystate.csv")
    db = str(tmp_path / "cli.duckdb")
    out = _cli(monkeypatch, capsys, "--db", db, "import", str(path), "--mapping", "diegovalle-executions-by-state")
    assert "diegovalle-executions-by-state" in out
    assert "diegovalle-executions" in out  # the mapping's dataset
    with open_store(db) as store:
        assert [(i.rows_read, i.rows_stored, i.rows_rejected) for i in store.imports()] == [(33, 32, 1)]
