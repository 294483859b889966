"""The firearms analyses on small hand-made records: each rule, each figure, on both backends."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.score import WeightError, parse_weights, score_purchasers
from cruce.demo import COLUMNS
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth.firearms import TRACE_COLUMNS
from tests.conftest import shared_data

# Ana buys two Glocks on Friday 2021-03-05 and Thursday 2021-03-11 (five business days: one
# multiple sale), and two AK rifles in Texas on one day; Bea buys two pistols a week apart
# (Friday to Friday: six business days, no multiple sale) and two 5.56 rifles in Florida (not a
# border state: no rifle rule); Cruz buys one .22 rifle in Texas, twice (not over .22).
BUYERS = {"Ana": ("Ana", "Ruiz", "Soto", "01/02/1990", "F"), "Bea": ("Bea", "Lara", "", "05/06/1985", "F"),
          "Cruz": ("Cruz", "Paz", "", "07/08/1970", "M")}  # fmt: skip
SHOPS = {"F1": ("F1", "Shop One", "TX"), "F2": ("F2", "Shop Two", "FL")}
GUNS = {"glock": ("Glock", "19", "9mm", "pistol"), "ak": ("Romarm/Cugir", "WASR-10", "7.62x39mm", "rifle"),
        "ar": ("Colt", "LE6920", "5.56mm", "rifle"), "22": ("Ruger", "10/22", ".22 LR", "rifle")}  # fmt: skip
SALES = [
    (sale, day, *BUYERS[buyer], *SHOPS[shop], serial, *GUNS[gun])
    for sale, day, buyer, shop, serial, gun in [
        ("S1", "03/05/2021", "Ana", "F1", "G1", "glock"),
        ("S2", "03/11/2021", "Ana", "F1", "G2", "glock"),
        ("S3", "04/01/2021", "Ana", "F1", "A1", "ak"),
        ("S4", "04/01/2021", "Ana", "F1", "A2", "ak"),
        ("S5", "03/05/2021", "Bea", "F2", "G3", "glock"),
        ("S6", "03/12/2021", "Bea", "F2", "G4", "glock"),
        ("S7", "05/03/2021", "Bea", "F2", "R1", "ar"),
        ("S8", "05/03/2021", "Bea", "F2", "R2", "ar"),
        ("S9", "06/01/2021", "Cruz", "F1", "C1", "22"),
        ("S10", "06/02/2021", "Cruz", "F1", "C2", "22"),
    ]
]
# Two guns bought in Texas recovered together in Sonora within a year (one purchaser, another
# possessor), one bought in Arizona in 2005 recovered in 2021 in Sinaloa, one untraceable.
TRACES = [
    {"trace_number": "T1", "serial_number": "A1", "serial_obliterated": "no", "manufacturer": "Romarm/Cugir",
     "model": "WASR-10", "caliber": "7.62x39mm", "firearm_type": "rifle", "recovery_date": "2021-09-01",
     "recovery_city": "Nogales", "recovery_state": "Sonora", "recovery_country": "MX", "possessor_name": "Dario Leon",
     "trace_status": "completed", "dealer_ffl": "F1", "dealer_name": "Shop One", "dealer_state": "TX",
     "purchase_date": "2021-04-01", "purchaser_name": "Ana Ruiz Soto", "purchaser_dob": "1990-01-02"},
    {"trace_number": "T2", "serial_number": "A2", "serial_obliterated": "no", "manufacturer": "Romarm/Cugir",
     "model": "WASR-10", "caliber": "7.62x39mm", "firearm_type": "rifle", "recovery_date": "2021-09-01",
     "recovery_city": "Nogales", "recovery_state": "Sonora", "recovery_country": "MX", "possessor_name": "Dario Leon",
     "trace_status": "completed", "dealer_ffl": "F1", "dealer_name": "Shop One", "dealer_state": "TX",
     "purchase_date": "2021-04-01", "purchaser_name": "Eva Mora", "purchaser_dob": "1992-03-04"},
    {"trace_number": "T3", "serial_number": "X9", "serial_obliterated": "no", "manufacturer": "Smith & Wesson",
     "model": "686", "caliber": ".357 Magnum", "firearm_type": "revolver", "recovery_date": "2021-02-01",
     "recovery_city": "Culiacán", "recovery_state": "Sinaloa", "recovery_country": "MX",
     "trace_status": "completed", "dealer_ffl": "F3", "dealer_name": "Shop Three", "dealer_state": "AZ",
     "purchase_date": "2005-01-01", "purchaser_name": "Gil Ortiz", "purchaser_dob": "1960-01-01"},
    {"trace_number": "T4", "serial_number": "", "serial_obliterated": "yes", "manufacturer": "Colt", "model": "M4",
     "caliber": "5.56mm", "firearm_type": "rifle", "recovery_date": "2022-01-15", "recovery_city": "Reynosa",
     "recovery_state": "Tamaulipas", "recovery_country": "MX", "trace_status": "not_completed_obliterated"},
]  # fmt: skip


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(header))
        out.writeheader()
        for row in rows:
            out.writerow({k: row.get(k, "") for k in header})
    return path


@pytest.fixture
def data(store_url: str, tmp_path: Path) -> Iterator[FirearmsData]:
    sales = [dict(zip(COLUMNS, (*row, "500", "N"), strict=True)) for row in SALES]
    with open_store(store_url) as store:
        import_file(store, _write(tmp_path / "sales.csv", COLUMNS, sales), "example-firearm-purchases")
        import_file(store, _write(tmp_path / "traces.csv", TRACE_COLUMNS, TRACES), "atf-traces")
        loaded = FirearmsData.load(store)
    try:
        yield loaded
    finally:
        loaded.close()


def _flags(data: FirearmsData) -> dict[str, dict[str, int]]:
    """Each purchaser's name (from the purchases or the traces) -> indicator -> count."""
    names = {r["purchaser"]: r["name"] for r in data.rows(
        "SELECT purchaser, min(transaction) AS name FROM purchases GROUP BY purchaser")}  # fmt: skip
    sale_of = {sale[0]: f"{sale[2]}" for sale in SALES}
    out: dict[str, dict[str, int]] = {}
    for lead in score_purchasers(data):
        who = sale_of.get(names.get(lead.purchaser, ""), lead.purchaser)
        out[who] = {f.indicator: f.count for f in lead.flags}
    return out


def test_multiple_sales_follow_the_five_business_day_rules(data: FirearmsData) -> None:
    flags = _flags(data)
    assert flags["Ana"]["multiple_handguns"] == 2  # Friday and the Thursday after: five business days
    assert flags["Ana"]["multiple_rifles"] == 2  # two AK rifles in Texas
    assert "multiple_handguns" not in flags.get("Bea", {})  # Friday to Friday: six business days
    assert "multiple_rifles" not in flags.get("Bea", {})  # Florida is not a border state
    assert "Cruz" not in flags  # .22 rifles are outside the rifle rule, and nothing else


def test_trace_rules_name_the_traces_behind_them(data: FirearmsData) -> None:
    leads = {lead.purchaser: lead for lead in score_purchasers(data)}
    by_trace = {r["trace_number"]: r for r in figures.traces(data, Filters())}
    ana_in_t1 = by_trace["T1"]["purchaser"]  # the trace's purchaser record (not resolved to her sales here)
    flags = {f.indicator: f for f in leads[ana_in_t1].flags}
    assert flags["short_ttc"].evidence == (by_trace["T1"]["trace"],)
    assert flags["purchaser_not_possessor"].count == 1
    assert flags["recovered_abroad"].count == 1
    assert flags["recovered_together"].evidence == (by_trace["T2"]["purchaser"],)  # Eva's gun, same day and town
    gil = by_trace["T3"]["purchaser"]
    assert "short_ttc" not in {f.indicator for f in leads[gil].flags}  # sixteen years
    assert leads[ana_in_t1].score == sum(f.points for f in leads[ana_in_t1].flags)


def test_weights_are_the_analysts(data: FirearmsData) -> None:
    default = {lead.purchaser: lead.score for lead in score_purchasers(data)}
    heavier = {lead.purchaser: lead.score for lead in score_purchasers(data, parse_weights(["short_ttc=100"]))}
    assert any(heavier[p] > default[p] for p in default)
    zero = score_purchasers(data, parse_weights([f"{name}=0" for name in parse_weights(None)]))
    assert all(lead.score == 0 for lead in zero)
    with pytest.raises(WeightError):
        parse_weights(["no_such_rule=3"])
    with pytest.raises(WeightError):
        parse_weights(["short_ttc=many"])


def test_figures_and_the_records_behind_them(data: FirearmsData) -> None:
    everything = figures.summary(data, Filters())
    assert everything["traces"] == 4
    assert everything["completed_share"] == 0.75
    assert (everything["ttc_under_3y"], everything["with_ttc"]) == (2, 3)
    assert everything["obliterated"] == 1
    states = {r["state"]: r for r in figures.source_states(data, Filters())}
    assert (states["US-TX"]["traces"], states["US-TX"]["share"]) == (2, round(2 / 3, 4))
    rows = figures.traces(data, Filters(), source_state="US-TX")
    assert sorted(r["trace_number"] for r in rows) == ["T1", "T2"]
    sonora = Filters(recovery_state="MX-SON")
    assert figures.summary(data, sonora)["traces"] == 2
    assert {(r["source_state"], r["recovery_state"]) for r in figures.corridors(data, Filters())} == {
        ("US-TX", "MX-SON"), ("US-AZ", "MX-SIN")}  # fmt: skip
    assert {r["status"]: r["traces"] for r in figures.completion(data, Filters())} == {
        "completed": 3, "not_completed_obliterated": 1}  # fmt: skip
    bands = {b["band"]: b["traces"] for b in figures.time_to_crime(data, Filters())["bands"]}
    assert (bands["< 1"], bands["10-20"]) == (2, 1)
    rifles = Filters(firearm_type="rifle")
    assert figures.summary(data, rifles)["traces"] == 3
    later = Filters(date_from=date(2021, 6, 1))
    assert figures.summary(data, later)["traces"] == 3


def test_source_states_are_rated_per_100000_background_checks(tmp_path: Path) -> None:
    """The rate uses the FBI NICS checks of each state over the years the traced guns were bought."""
    nics = shared_data("nics_background_checks", "nics-firearm-background-checks.csv")
    with open_store(str(tmp_path / "s.duckdb")) as store:
        import_file(store, _write(tmp_path / "traces.csv", TRACE_COLUMNS, TRACES), "atf-traces")
        import_file(store, nics, "nics-background-checks")
        data = FirearmsData.load(store)
    try:
        states = {r["state"]: r for r in figures.source_states(data, Filters())}
    finally:
        data.close()
    with nics.open(encoding="utf-8", newline="") as fh:
        texas = sum(float(r["totals"]) for r in csv.DictReader(fh)
                    if r["state"] == "Texas" and 2005 <= int(r["month"][:4]) <= 2021)  # fmt: skip
    assert states["US-TX"]["nics_checks"] == pytest.approx(texas)
    assert states["US-TX"]["per_100k_checks"] == pytest.approx(2 * 100000 / texas, abs=0.001)


def test_a_lead_in_full_names_its_guns_and_the_people_its_flags_link(data: FirearmsData) -> None:
    from cruce.analyses.firearms.leads import lead_detail

    by_trace = {r["trace_number"]: r for r in figures.traces(data, Filters())}
    ana, eva = by_trace["T1"]["purchaser"], by_trace["T2"]["purchaser"]
    found = lead_detail(data, ana)
    assert found is not None
    assert [t["trace_number"] for t in found["traces"]] == ["T1"]
    assert [t["recovery_state"] for t in found["traces"]] == ["MX-SON"]
    assert {p["purchase_date"] for p in found["purchases"]} == {date(2021, 4, 1)}  # the trace names the sale
    assert [x["purchaser"] for x in found["linked"]] == [eva]
    assert found["linked"][0]["through"] == ["bought_beside_flagged", "recovered_together"]  # same shop and day too
    assert found["linked"][0]["score"] > 0
    assert found["score"] == found["lead"].score > 0
    assert lead_detail(data, "00000000-0000-0000-0000-000000000000") is None
