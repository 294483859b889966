"""``cruce timeline``: the table, JSON and CSV, the filters' errors, protected people kept protected."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cruce.cli import build_app
from cruce.i18n import set_language
from cruce.store import open_store
from tests.conftest import SCREENING_MAPPING
from tests.timeline.conftest import RECRUIT, VICTIM, People, _import, add_timeline_data, person


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, People]:
    tmp = tmp_path_factory.mktemp("timeline-cli")
    path = str(tmp / "store.duckdb")
    with open_store(path) as store:
        _import(store, tmp, "screenings", SCREENING_MAPPING.format(dataset="screenings-a"),
                f"sid,date,person_name,nationality,screener\nS1,2024-03-01,{VICTIM},GT,Ana Ruiz\n")  # fmt: skip
        people = add_timeline_data(store, tmp, person(store, "screenings-a", VICTIM)[0])
    return path, people


def _run(db: str, *args: str) -> tuple[int, str]:
    set_language("en")
    result = CliRunner().invoke(build_app(), ["--db", db, "timeline", *args])
    return result.exit_code, result.output


def test_json_and_csv_give_the_resolved_entity_s_events(db: tuple[str, People]) -> None:
    path, people = db
    code, out = _run(path, people.juan["P2"], "--format", "json", "--flow", "firearms", "--lang", "es")
    assert code == 0, out
    tl = json.loads(out)
    assert [(i["date"], i["when"]) for i in tl["items"]] == [
        ("2019-03-14", "14 mar 2019"), ("2020-07-02", "2 jul 2020"), ("2021-03", "marzo de 2021"),
    ]  # fmt: skip
    code, out = _run(path, people.juan["P2"], "--format", "csv", "--since", "2018", "--until", "2018")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["date"], r["precision"], r["type"]) for r in rows] == [
        ("2018", "year", "BorderCrossing"), ("", "", "BorderCrossing"), ("", "", "Recruited"),
    ]  # fmt: skip
    assert rows[0]["files"] == "timeline-crossings.csv"
    code, out = _run(path, people.juan["P2"], "--record-only", "--format", "json")
    assert [i["type"] for i in json.loads(out)["items"]] == ["Person", "FirearmPurchase"]


def test_table_and_protected_people(db: tuple[str, People]) -> None:
    path, people = db
    code, out = _run(path, people.juan["N1"])
    assert code == 0, out
    assert "7 records of one resolved entity" in out
    assert "6 dated, 2 without a date." in out
    assert RECRUIT not in out
    code, out = _run(path, people.juan["N1"], "--include-protected", "--format", "json")
    assert RECRUIT in out
    code, out = _run(path, people.victim, "--format", "json")
    assert (json.loads(out)["items"], VICTIM in out) == ([], False)
    code, out = _run(path, people.victim, "--format", "json", "--include-protected")
    assert [i["type"] for i in json.loads(out)["items"]] == ["BorderCrossing", "Screening"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2019-1"], "--since: a date as YYYY"),
        (["--flow", "guns"], "--flow: one of"),
        (["--type", "Gun"], "Unknown type Gun"),
        (["--format", "xml"], "--format: one of"),
    ],
)
def test_user_errors(db: tuple[str, People], args: list[str], message: str) -> None:
    path, people = db
    code, out = _run(path, people.juan["P1"], *args)
    assert code == 2
    assert message in out


def test_an_unknown_entity(db: tuple[str, People], tmp_path: Path) -> None:
    code, out = _run(db[0], "00000000-0000-0000-0000-000000000000")
    assert (code, "No entity" in out) == (2, True)
