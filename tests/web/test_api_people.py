"""/api/v1/people: the trafficking statistics and their k-anonymous release, over the datasets the
user may see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.security.audit import now
from cruce.security.policy import Marking
from tests.web.conftest import World, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL

HEADER = "yearOfRegistration,Datasource,gender,citizenship,isForcedLabour,ControlCategory,RecruiterCategory,"
HEADER += "ExploitType,Labor_Type,ageCategories\n"
# 12 women of two neighbouring age bands, 1 man: under k = 10 the bands are widened, and the man
# suppressed when the limit allows it
ROWS = (
    "2016,Hotline,Female,MX,0,Threats,Other,Sexual Exploitation,Unknown,Age 18-20\n" * 6
    + "2016,Hotline,Female,MX,0,Threats,Other,Sexual Exploitation,Unknown,Age 21-23\n" * 6
    + "2016,Hotline,Male,GT,1,Financial,Other,Forced Labor,Construction,Age 30-38\n"
)


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    built = build_world(store_url, tmp_path)
    (tmp_path / "ctdc.csv").write_text(HEADER + ROWS, encoding="utf-8")
    import_file(built.app.state.services.main.store, tmp_path / "ctdc.csv", "ctdc-derived")
    built.view.security.policies.set("ctdc-derived", Marking.AMBER, {"other-unit"}, now=now())
    yield built
    built.app.state.services.close()


def _get(world: World, who: str, path: str, **params: object) -> tuple[int, object]:
    response = world.client().get(f"/api/v1{path}", params=params, headers=world.api(who))
    return response.status_code, response.json()


def test_counts_and_crosstab(world: World) -> None:
    code, answer = _get(world, "outsider", "/people/stats", by=["gender", "exploitation_type"])
    assert code == 200
    assert answer["rows"] == [  # type: ignore[index]
        {"gender": "female", "exploitation_type": "sexual_exploitation", "records": 12},
        {"gender": "male", "exploitation_type": "forced_labour", "records": 1},
    ]
    _code, table = _get(world, "outsider", "/people/crosstab", row="exploitation_type", column="gender")
    assert table["rows"][0] == {"exploitation_type": "forced_labour", "female": 0, "male": 1, "total": 1}  # type: ignore[index]
    assert _get(world, "outsider", "/people/stats", by="name")[0] == 422


def test_release_hides_the_rare_rows(world: World) -> None:
    # suppressing 1 record of 13 is over the default limit (5 %): both dimensions are generalised
    _code, strict = _get(world, "outsider", "/people/release", by=["gender", "age_band"], k=10)
    assert strict["rows"] == [{"gender": "*", "age_band": "adult", "records": 13}]  # type: ignore[index]
    code, answer = _get(world, "outsider", "/people/release", by=["gender", "age_band"], k=10, max_suppressed=0.1)
    assert code == 200
    assert answer["rows"] == [{"gender": "female", "age_band": "18-23", "records": 12}]  # type: ignore[index]
    report = answer["report"]  # type: ignore[index]
    assert report["records_suppressed"] == 1
    assert report["suppressed"] == [{"gender": "male", "age_band": "30-47", "records": 1}]
    assert _get(world, "outsider", "/people/release", k=0)[0] == 422


def test_only_the_datasets_the_user_may_see(world: World) -> None:
    assert _get(world, "analyst", "/people/stats")[1] == {"rows": []}
