"""/api/v1/violence and /api/v1/drugs: the command line's figures, over the datasets the user may see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.security.audit import now
from cruce.security.policy import Marking
from tests.web.conftest import World, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL

EXECUTIONS = "Year,Month,MonthT,Reforma,Milenio\n2007,1,jan,234,204\n2007,2,feb,104,198\n2008,1,jan,300,\n"
SEIZURES = (
    "seizure_id,date,place,port,state,country,drug,quantity,unit,concealment,mode,agency,persons,vehicle_plate,"
    "vehicle_make\n"
    "S1,2021-03-01,San Diego,San Ysidro,CA,US,Marijuana,10,lb,,personal_vehicle,,,,\n"
    "S2,2021-03-05,San Diego,San Ysidro,CA,US,Marijuana,2,kilos,,personal_vehicle,,,,\n"
)

# two months of two states of the INEGI-based series (| separated), for the year-over-year figures
HOMICIDES = (
    "cve_ent|year|month|homicides|pop_est|homicide_rate\n"
    "08|2009|1|300|3400000|8.8\n08|2010|1|450|3420000|13.2\n26|2009|1|100|2800000|3.6\n26|2010|1|90|2820000|3.2\n"
)


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    built = build_world(store_url, tmp_path)
    store = built.app.state.services.main.store
    (tmp_path / "executions.csv").write_text(EXECUTIONS, encoding="utf-8")
    (tmp_path / "seizures.csv").write_text(SEIZURES, encoding="utf-8")
    import_file(store, tmp_path / "executions.csv", "diegovalle-executions-by-month")
    import_file(store, tmp_path / "seizures.csv", "drug-seizures")
    (tmp_path / "homicides.csv").write_text(HOMICIDES, encoding="utf-8")
    import_file(store, tmp_path / "homicides.csv", "mx-homicides-state-month")
    built.view.security.policies.set("drug-seizures", Marking.AMBER, {"other-unit"}, now=now())
    yield built
    built.app.state.services.close()


def _get(world: World, who: str, path: str, **params: object) -> tuple[int, object]:
    response = world.client().get(f"/api/v1{path}", params=params, headers=world.api(who))
    return response.status_code, response.json()


def test_executions_by_newspaper_and_side_by_side(world: World) -> None:
    code, answer = _get(world, "viewer", "/violence/executions")
    assert code == 200
    found = {(r["source"], r["year"]): r["executions"] for r in answer["rows"]}  # type: ignore[index]
    assert found == {("Reforma", 2007): 338, ("Milenio", 2007): 402, ("Reforma", 2008): 300}
    _code, side = _get(world, "viewer", "/violence/compare", **{"from": 2007, "to": 2007})
    assert side["rows"] == [{"year": 2007, "execution:Milenio": 402, "execution:Reforma": 338}]  # type: ignore[index]


def test_seizures_only_for_who_may_see_them(world: World) -> None:
    code, seen = _get(world, "outsider", "/drugs/seizures")
    assert code == 200
    rows = seen["rows"]  # type: ignore[index]
    assert [(r["fiscal_year"], r["drug"], r["events"]) for r in rows] == [(2021, "marijuana", 2)]
    assert rows[0]["pounds"] == pytest.approx(10 + 2 / 0.45359237, abs=0.001)
    assert _get(world, "analyst", "/drugs/seizures")[1] == {"rows": []}


def test_year_over_year_months_and_trends(world: World) -> None:
    code, yoy = _get(world, "viewer", "/violence/yoy", year=2010)
    assert code == 200
    assert [(r["state"], r["change"], r["change_pct"]) for r in yoy["rows"]] == [  # type: ignore[index]
        ("MX-CHH", 150, 50.0), ("MX-SON", -10, -10.0)
    ]  # fmt: skip
    _code, months = _get(world, "viewer", "/violence/months", state="MX-CHH", **{"from": "2010-01"})
    assert [(r["month"], r["homicides"]) for r in months["rows"]] == [("2010-01", 450)]  # type: ignore[index]
    assert _get(world, "viewer", "/violence/months", state="MX-CHH", **{"from": "2010-13"})[0] == 422
    _code, trends = _get(world, "viewer", "/violence/trends")
    rows = {(r["series"], r["year"]): r for r in trends["rows"]}  # type: ignore[index]
    assert rows["execution:Reforma", 2007]["killed"] == 338
    assert rows["execution:Reforma", 2007]["whole_year"] is False  # two months: shown, not fitted
    assert rows["execution:Reforma", 2007]["trend"] is None


def test_seizures_by_dimension_month_and_season_for_who_may_see_them(world: World) -> None:
    _code, by_mode = _get(world, "outsider", "/drugs/by/mode")
    assert [(r["mode"], r["events"]) for r in by_mode["rows"]] == [("personal_vehicle", 2)]  # type: ignore[index]
    assert _get(world, "analyst", "/drugs/by/mode")[1] == {"rows": []}
    assert _get(world, "outsider", "/drugs/by/nothing")[0] == 422
    _code, months = _get(world, "outsider", "/drugs/months")
    assert [(r["month"], r["events"], r["outlier"]) for r in months["rows"]] == [("2021-03", 2, False)]  # type: ignore[index]
    assert _get(world, "outsider", "/drugs/seasonality")[1] == {"rows": []}  # no year covered in full
