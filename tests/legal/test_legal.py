"""The legal records through their built-in mappings, and the questions over them.

The per-year counts behind the map are checked against the law records themselves: synthetic laws
are generated here (random states, kinds, dates of day, month or year precision, some repealed),
imported through ``cruce-laws`` like any file, and each year's count is recomputed from the rows
of the file by the rule the module documents, independently of ``cruce.legal``'s own code.
"""

from __future__ import annotations

import csv
import random
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cruce.cli import build_app
from cruce.ingest.pipeline import import_file
from cruce.legal import claims, questions
from cruce.legal.edit import COLUMNS, EditRefused, write_record
from cruce.legal.records import LegalData, day_span
from cruce.legal.seed import load_seed
from cruce.schema.places import states
from cruce.store import Store, open_store

LAW_COLUMNS = list(COLUMNS["law"])
OUTCOME_COLUMNS = list(COLUMNS["outcome"])
PROGRAM_COLUMNS = list(COLUMNS["program"])


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in columns} for r in rows)
    return path


def _random_date(rng: random.Random, first: int, last: int) -> str:
    year = rng.randint(first, last)
    precision = rng.choice(("day", "month", "year"))
    if precision == "year":
        return str(year)
    month = rng.randint(1, 12)
    return f"{year}-{month:02d}" if precision == "month" else f"{year}-{month:02d}-{rng.randint(1, 28):02d}"


def synthetic_laws(seed: int, n: int = 120) -> list[dict[str, str]]:
    """``n`` laws over US and Mexican states, of random kinds and dates; a fifth repealed."""
    rng = random.Random(seed)
    codes = [s.iso for s in states()]
    rows = []
    for i in range(n):
        start = _random_date(rng, 1995, 2020)
        row = {
            "law_id": f"L{i}",
            "name": f"Synthetic law {i}",
            "level": "state",
            "jurisdiction": rng.choice(codes),
            "law_kind": ";".join(rng.sample(questions.KINDS, rng.randint(1, 2))),
            rng.choice(("enacted_date", "in_force_date")): start,
            "source_url": f"https://example.org/law/{i}",
            "source_title": "Synthetic source",
        }
        if rng.random() < 0.2:
            row["repealed_date"] = _random_date(rng, int(start[:4]) + 1, 2024)
        rows.append(row)
    return rows


def expected_by_year(rows: list[dict[str, str]], kind: str, year: int) -> set[str]:
    """The states with a ``kind`` law in force on 31 December of ``year``, from the file's rows."""
    day = date(year, 12, 31)
    found = set()
    for row in rows:
        if kind not in row["law_kind"].split(";"):
            continue
        start_text = row.get("in_force_date") or row.get("enacted_date")
        span = day_span(start_text)
        assert span is not None
        repeal = day_span(row.get("repealed_date"))
        if span[1] <= day and (repeal is None or day < repeal[0]):
            found.add(row["jurisdiction"])
    return found


@pytest.fixture
def duck(tmp_path: Path) -> Store:
    with open_store(str(tmp_path / "legal.duckdb")) as store:
        yield store  # type: ignore[misc]


def test_counts_per_year_match_the_imported_law_records(duck: Store, tmp_path: Path) -> None:
    rows = synthetic_laws(seed=12)
    result = import_file(duck, _write(tmp_path / "laws.csv", LAW_COLUMNS, rows), "cruce-laws")
    assert (result.rows_stored, result.rows_rejected) == (len(rows), 0)
    data = LegalData.load(duck)
    assert len(data.laws) == len(rows)
    for kind in questions.KINDS:
        series = questions.in_force_by_year(data, kind, 1995, 2024, today=date(2026, 6, 1))
        for row in series:
            expected = expected_by_year(rows, kind, int(row["year"]))
            assert set(row["jurisdictions"]) == expected, (kind, row["year"])
            assert row["count"] == len(expected)


def test_a_repealed_law_drops_out_and_in_force_says_since_when(duck: Store, tmp_path: Path) -> None:
    rows = [
        {"law_id": "a", "name": "Old", "level": "state", "jurisdiction": "Chihuahua", "law_kind": "sex_trafficking",
         "in_force_date": "2007-01-01", "repealed_date": "2012-06-15", "source_title": "s"},
        {"law_id": "b", "name": "New", "level": "state", "jurisdiction": "MX-CHH", "law_kind": "sex trafficking",
         "enacted_date": "2012", "source_title": "s"},
        {"law_id": "c", "name": "Texas", "level": "state", "jurisdiction": "TX", "law_kind": "labor_trafficking",
         "enacted_date": "2003-09", "repealed_date": "2005", "source_title": "s"},
        {"law_id": "d", "name": "Federal", "country": "US", "level": "federal", "law_kind": "sex_trafficking",
         "enacted_date": "2000-10-28", "source_title": "s"},
    ]  # fmt: skip
    import_file(duck, _write(tmp_path / "laws.csv", LAW_COLUMNS, rows), "cruce-laws")
    data = LegalData.load(duck)
    assert [r["jurisdiction"] for r in questions.in_force(data, "sex_trafficking", date(2011, 1, 1))] == [
        "MX-CHH",
        "US",
    ]
    # the old law is repealed on 2012-06-15 and the new one, of year precision, counts from 2012-12-31
    assert questions.in_force(data, "sex_trafficking", date(2012, 7, 1), level="state") == []
    since = questions.in_force(data, "sex_trafficking", date(2013, 1, 1), level="state")[0]
    assert since["since"] == "2012-12-31"
    assert [law["name"] for law in since["laws"]] == ["New"]
    by_year = {r["year"]: r["count"] for r in questions.in_force_by_year(data, "labor_trafficking", 2002, 2006)}
    assert by_year == {2002: 0, 2003: 1, 2004: 1, 2005: 0, 2006: 0}
    events = [(e["date"], e["event"]) for e in questions.timeline(data, "MX-CHH")]
    assert events == [("2007-01-01", "in_force"), ("2012", "enacted"), ("2012-06-15", "repealed")]


def test_bad_rows_are_rejected_naming_file_row_and_field(duck: Store, tmp_path: Path) -> None:
    rows = [
        {"law_id": "ok", "level": "state", "jurisdiction": "US-TX", "law_kind": "sex_trafficking",
         "enacted_date": "2003", "source_title": "s"},
        {"law_id": "bad-date", "level": "state", "jurisdiction": "US-TX", "law_kind": "sex_trafficking",
         "enacted_date": "31/02/2003", "source_title": "s"},
        {"law_id": "bad-place", "level": "state", "jurisdiction": "Atlantis", "law_kind": "sex_trafficking",
         "enacted_date": "2003", "source_title": "s"},
        {"law_id": "bad-kind", "level": "state", "jurisdiction": "MX-SON", "law_kind": "piracy",
         "enacted_date": "2003", "source_title": "s"},
    ]  # fmt: skip
    path = _write(tmp_path / "laws.csv", LAW_COLUMNS, rows)
    result = import_file(duck, path, "cruce-laws")
    assert (result.rows_stored, result.rows_rejected) == (1, 3)
    found = {(r.source_row, r.field, r.value) for r in duck.rejects(import_id=result.import_id)}
    assert found == {
        (3, "enacted_date → law.enacted_date", "31/02/2003"),
        (4, "jurisdiction → law.jurisdiction", "Atlantis"),
        (5, "law_kind → law.law_kind", "piracy"),
    }
    assert all(r.source_file.endswith("laws.csv") for r in duck.rejects(import_id=result.import_id))
    outcomes = [{"outcome_id": "o1", "level": "state", "jurisdiction": "MX-SON", "year": "20x5", "flow": "people",
                 "measure": "investigations", "value": "3", "source_title": "s"}]  # fmt: skip
    bad = import_file(duck, _write(tmp_path / "outcomes.csv", OUTCOME_COLUMNS, outcomes), "cruce-enforcement")
    assert {r.field for r in duck.rejects(import_id=bad.import_id)} == {"year → outcome.year", "year → outcome.date"}


def test_outcomes_before_and_after_and_funding(duck: Store, tmp_path: Path) -> None:
    laws = [{"law_id": "l", "level": "state", "jurisdiction": "MX-SON", "law_kind": "sex_trafficking",
             "in_force_date": "2010-03-01", "source_title": "s"}]  # fmt: skip
    import_file(duck, _write(tmp_path / "laws.csv", LAW_COLUMNS, laws), "cruce-laws")
    outcomes = [
        {"outcome_id": f"o{year}", "level": "state", "jurisdiction": "MX-SON", "year": str(year), "flow": "people",
         "measure": "investigations", "value": str(value), "source_title": "s"}
        for year, value in ((2007, 2), (2008, 4), (2010, 5), (2011, 9), (2012, 11))
    ] + [
        {"outcome_id": "period", "level": "state", "jurisdiction": "MX-SON", "year": "2007", "end_year": "2012",
         "flow": "people", "measure": "investigations", "value": "100", "source_title": "s"},
        {"outcome_id": "drugs", "level": "state", "jurisdiction": "MX-SON", "year": "2008", "flow": "drugs",
         "measure": "investigations", "value": "50", "source_title": "s"},
    ]  # fmt: skip
    import_file(duck, _write(tmp_path / "outcomes.csv", OUTCOME_COLUMNS, outcomes), "cruce-enforcement")
    programs = [
        {"program_id": "p1", "name": "Shelters", "level": "federal", "country": "MX", "flow": "people",
         "amount": "73,500,000", "currency": "USD", "start_date": "2010", "end_date": "2012", "source_title": "s"},
        {"program_id": "p2", "name": "Pesos", "level": "state", "jurisdiction": "MX-SON", "flow": "people",
         "amount": "1000", "currency": "MXN", "start_date": "2011-05", "source_title": "s"},
    ]  # fmt: skip
    import_file(duck, _write(tmp_path / "programs.csv", PROGRAM_COLUMNS, programs), "cruce-programs")
    data = LegalData.load(duck)
    [row] = questions.before_after(data, "sex_trafficking")
    assert row["measure"] == "investigations"
    assert row["in_force_year"] == 2010
    assert (row["before"]["total"], row["before"]["per_year"]) == (6.0, 3.0)
    assert row["in_year"]["total"] == 5.0
    assert (row["after"]["total"], row["after"]["per_year"]) == (20.0, 10.0)
    funding = questions.funding(data)
    assert funding["totals"] == [{"currency": "mxn", "amount": 1000.0}, {"currency": "usd", "amount": 73500000.0}]
    shelters = [r for r in funding["by_year"] if r["name"] == "Shelters"]
    assert [(r["year"], r["amount"], r["split_evenly"]) for r in shelters] == [
        (2010, 24500000.0, True),
        (2011, 24500000.0, True),
        (2012, 24500000.0, True),
    ]
    assert [r["year"] for r in funding["by_year"] if r["name"] == "Pesos"] == [2011]


def test_seed_loads_once_and_the_check_compares_each_claim(duck: Store) -> None:
    first = load_seed(duck)
    assert [r.rows_rejected for r in first] == [0, 0, 0, 0]
    assert all(r.rows_stored for r in first)
    # the jurisdictions: every US and Mexican state and both federal levels, as Locations with codes
    places = {e.first("state") or e.first("country"): e for e in duck.iter_entities(schema="Location")}
    codes = {s.iso for country in ("US", "MX") for s in states(country)}
    assert set(places) == codes | {"US", "MX"}
    assert places["MX-CMX"].first("inegi_code") == "09"
    assert places["US-TX"].first("fips_code") == "48"
    assert "Nuevo León" in places["MX-NLE"].properties["name"] + places["MX-NLE"].properties.get("alias", [])
    assert all(r.already_imported is not None for r in load_seed(duck))
    data = LegalData.load(duck)
    for law in data.laws:
        assert law.sources, law.name
        assert all(s["url"] and s["title"] for s in law.sources), law.name
    for record in [*data.outcomes, *data.programs]:
        assert record.sources, record.name
        assert record.one("source_title"), record.name
    rows = {r["claim"]: r for r in claims.check(data, claims.load_claims(), today=date(2026, 1, 1))}
    assert set(rows) >= {"us-states-sex-trafficking-39", "mx-states-legislation-22", "investigations-24",
                         "convictions-0", "funding-73-5m"}  # fmt: skip
    us = rows["us-states-sex-trafficking-39"]
    assert us["published"] == 39
    assert us["status"] == "differ"
    assert us["computed"] == len({r["jurisdiction"] for r in us["records"]})
    assert rows["investigations-24"]["status"] == "unscoped"
    assert rows["funding-73-5m"]["computed"] is None
    for row in rows.values():
        assert row["source"]["url"].startswith("http")
        assert row["source"]["title"]


def test_a_claim_agrees_when_the_records_bear_it_out(duck: Store, tmp_path: Path) -> None:
    laws = [{"law_id": s, "level": "state", "jurisdiction": s, "law_kind": "sex_trafficking", "enacted_date": "2005",
             "source_title": "s"} for s in ("MX-SON", "MX-CHH", "MX-BCN")]  # fmt: skip
    import_file(duck, _write(tmp_path / "laws.csv", LAW_COLUMNS, laws), "cruce-laws")
    claims_csv = tmp_path / "claims.csv"
    claims_csv.write_text(
        "claim_id,text_en,text_es,figure,comparison,question,law_kind,measure,flow,country,level,jurisdiction,year,"
        "on,source_url,source_title\n"
        "three,Three states,Tres estados,3,exactly,laws_in_force,sex_trafficking,,,MX,state,,,2006-01-01,http://x,X\n"
        "two,At least two,Al menos dos,2,at_least,laws_in_force,sex_trafficking,,,MX,state,,,2006-01-01,http://x,X\n"
        "early,Three in 2004,Tres en 2004,3,exactly,laws_in_force,sex_trafficking,,,MX,state,,,2004-01-01,http://x,X\n",
        encoding="utf-8",
    )
    rows = {r["claim"]: r["status"] for r in claims.check(LegalData.load(duck), claims.load_claims(claims_csv))}
    assert rows == {"three": "agree", "two": "agree", "early": "no_records"}
    claims_csv.write_text(claims_csv.read_text().replace("exactly,laws", "roughly,laws", 1), encoding="utf-8")
    with pytest.raises(claims.ClaimError, match=r"claims.csv: row 1, field comparison"):
        claims.load_claims(claims_csv)


def test_an_edit_becomes_the_records_current_value(duck: Store, tmp_path: Path) -> None:
    load_seed(duck)
    data = LegalData.load(duck)
    nm = next(law for law in data.laws if law.jurisdiction == "US-NM")
    from cruce.legal.edit import form_values

    values = form_values("law", nm)
    assert values["law_id"] == "us-nm-2008"
    assert values["law_kind"] == "labor_trafficking;sex_trafficking"
    edit = write_record(duck, "law", {**values, "enacted_date": "2009"}, tmp_path / "edits", dataset=nm.dataset)
    assert edit.entity_id == nm.id
    assert edit.dataset == "legal-seed"
    again = LegalData.load(duck).record(nm.id)
    assert again is not None
    assert again.one("enacted_date") == "2009"
    assert again.one("name") == nm.name
    with pytest.raises(EditRefused) as refused:
        write_record(duck, "law", {**values, "jurisdiction": "Narnia"}, tmp_path / "edits", dataset=nm.dataset)
    assert refused.value.problems[0][0] == "jurisdiction → law.jurisdiction"
    assert LegalData.load(duck).record(nm.id).one("jurisdiction") == "US-NM"  # type: ignore[union-attr]
    new = write_record(duck, "outcome", {"level": "federal", "country": "MX", "year": "2015", "flow": "people",
                                         "measure": "investigations", "value": "24", "source_title": "By hand"},
                       tmp_path / "edits")  # fmt: skip
    assert new.dataset == "manual"
    assert new.record_id.startswith("manual-")
    assert (tmp_path / "edits").is_dir()
    assert len(list((tmp_path / "edits").glob("legal-edit-*.csv"))) == 3


def test_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.duckdb")
    runner = CliRunner()
    app = build_app()
    assert runner.invoke(app, ["--db", db, "legal", "seed"]).exit_code == 0
    by_year = runner.invoke(app, ["--db", db, "legal", "by-year", "--kind", "sex_trafficking", "--from", "2003",
                                  "--to", "2004", "--json"])  # fmt: skip
    assert by_year.exit_code == 0, by_year.output
    assert '"count": 2' in by_year.output
    for args in (["in-force", "--kind", "firearms_trafficking"], ["outcomes"], ["funding"], ["check"], ["laws"],
                 ["outcomes", "--kind", "drug_trafficking"], ["timeline", "MX-CHH", "--json"]):  # fmt: skip
        done = runner.invoke(app, ["--db", db, "legal", *args])
        assert done.exit_code == 0, (args, done.output)
    wrong = runner.invoke(app, ["--db", db, "legal", "in-force", "--kind", "piracy"])
    assert wrong.exit_code == 2


@pytest.mark.postgres
def test_the_questions_on_postgresql(tmp_path: Path) -> None:
    from tests.conftest import drop_pg_schema, pg_url_or_skip

    url = pg_url_or_skip()
    try:
        with open_store(url) as store:
            load_seed(store)
            data = LegalData.load(store)
            series = {r["year"]: r["count"] for r in questions.in_force_by_year(data, "sex_trafficking", 2003, 2008)}
            assert series == {2003: 2, 2004: 2, 2005: 3, 2006: 3, 2007: 4, 2008: 6}
            edit = write_record(store, "program", {"name": "T", "level": "federal", "country": "US", "amount": "10",
                                                   "currency": "usd", "start_date": "2020", "source_title": "s"},
                                tmp_path / "edits")  # fmt: skip
            assert LegalData.load(store).record(edit.entity_id) is not None
    finally:
        drop_pg_schema(url)
