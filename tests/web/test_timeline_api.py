"""Timelines on the API and the pages: the same picture as the domain gives, through the guard, by role,
in both languages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.timeline.conftest import JUAN, RECRUIT, TIPSTER, VICTIM, People, add_timeline_data
from tests.web.conftest import World, build_world, csrf_of


@pytest.fixture(scope="module")
def tw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, People]]:
    """The web tests' world (users of each role, María's screening in amber screenings-a) and the
    timeline files, resolved."""
    tmp = tmp_path_factory.mktemp("web-timeline")
    world = build_world(str(tmp / "web.duckdb"), tmp)
    people = add_timeline_data(world.view.store, tmp, world.victim_id)
    yield world, people
    world.app.state.services.close()


def _api(world: World, who: str, record: str, **params: object) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = world.client().get(f"/api/v1/entities/{record}/timeline", params=params, headers=world.api(who))
    return response.status_code, response.json()


def test_api_gives_the_resolved_entity_s_events_in_order_with_provenance(tw: tuple[World, People]) -> None:
    world, people = tw
    code, tl = _api(world, "analyst", people.juan["P1"])
    assert code == 200
    assert tl["clustered"] is True
    assert set(tl["members"]) == set(people.juan.values())
    assert [(i["date"], i["type"], i["precision"]) for i in tl["items"]] == [
        ("1980-05-01", "Person", "day"),
        ("2018", "BorderCrossing", "year"),
        ("2019-03-14", "FirearmPurchase", "day"),
        ("2020-07-02", "FirearmPurchase", "day"),
        ("2021-03", "FirearmRecovery", "month"),
        ("2022-06-11T23:39:00", "Tip", "time"),
    ]
    purchase = tl["items"][2]
    assert purchase["flows"] == ["firearms"]
    assert purchase["roles"] == ["Purchaser"]
    assert purchase["sources"][0] | {"import_id": ""} == {
        "dataset": "gun-sales", "file": "timeline-sales.csv", "row": 2, "import_id": "",
    }  # fmt: skip
    assert [i["type"] for i in tl["undated"]] == ["BorderCrossing", "Recruited"]
    # the recruit is protected: an analyst may not read her name, nor the tipster's
    assert RECRUIT not in str(tl)
    assert TIPSTER not in str(tl)
    code, tl = _api(world, "admin", people.juan["P1"])
    assert RECRUIT in str(tl)


def test_api_filters_language_and_errors(tw: tuple[World, People]) -> None:
    world, people = tw
    juan = people.juan["X1"]
    code, tl = _api(world, "viewer", juan, type=["FirearmPurchase", "FirearmRecovery"], since="2020", lang="es")
    assert code == 200
    assert [(i["type"], i["when"]) for i in tl["items"]] == [
        ("FirearmPurchase", "2 jul 2020"), ("FirearmRecovery", "marzo de 2021"),
    ]  # fmt: skip
    assert tl["items"][0]["type_label"] == "Compra de arma de fuego"
    code, tl = _api(world, "viewer", juan, flow=["shared"], cluster="false")
    assert tl["members"] == [juan]
    assert [i["type"] for i in tl["items"]] == ["BorderCrossing"]
    assert _api(world, "viewer", juan, flow=["guns"])[0] == 422
    assert _api(world, "viewer", juan, since="2020-1")[0] == 422
    assert _api(world, "viewer", juan, nonsense="1")[0] == 422
    assert _api(world, "viewer", "00000000-0000-0000-0000-000000000000")[0] == 404
    assert world.client().get(f"/api/v1/entities/{juan}/timeline").status_code == 401


def test_api_a_protected_person_s_events_only_in_the_caseload(tw: tuple[World, People]) -> None:
    world, people = tw
    code, tl = _api(world, "caseworker", people.victim)
    assert [i["type"] for i in tl["items"]] == ["BorderCrossing", "Screening"]
    assert VICTIM in str(tl)
    for record in (people.victim, people.victim_traveler):
        code, tl = _api(world, "analyst", record)  # sees her dataset, may not name her
        assert code == 200
        assert (tl["items"], tl["undated"]) == ([], [])
    assert _api(world, "viewer", people.victim)[0] == 404  # her amber dataset is not the viewer's
    assert _api(world, "outsider", people.victim)[0] == 404  # a caseworker of another unit


def test_entity_page_draws_the_axis_with_chips_and_the_list(tw: tuple[World, People]) -> None:
    world, people = tw
    client = world.session("analyst")
    html = client.get(f"/entity/{people.juan['P1']}").text
    assert 'id="timeline-axis"' in html
    # one mark per dated event (each in one flow); his birth, decades before, stays in the list only
    assert html.count('class="tl-mark tl-') == 5
    assert 'class="tl-mark tl-span tl-shared"' in html  # the crossing known to the year: a bar
    assert 'id="timeline-cluster"' in html  # says it holds the resolved entity's records
    assert 'name="type" value="FirearmPurchase"' in html
    assert 'name="flow" value="firearms"' in html
    assert '<time datetime="2021-03">March 2021</time> <span class="tl-precision">(month only)</span>' in html
    assert 'id="timeline-undated"' in html
    assert ">Recruitment</a>" in html  # the recruit is protected: the analyst sees neither her nor the link
    assert RECRUIT not in html
    assert f"{JUAN} recruited {RECRUIT}" in world.session("admin").get(f"/entity/{people.juan['P1']}").text
    # filters by the page's own query string (no script), the chip stays on
    only = client.get(f"/entity/{people.juan['P1']}", params={"flow": "firearms"}).text
    assert only.count('class="tl-mark tl-') == 3
    assert 'name="flow" value="firearms" checked' in only
    # htmx asks the timeline route for the panel alone
    panel = client.get(f"/entity/{people.juan['P1']}/timeline", params={"type": "Tip"}, headers={"HX-Request": "true"})
    assert panel.text.lstrip().startswith('<section id="timeline-panel"')
    assert panel.text.count('class="tl-mark tl-') == 1
    bad = client.get(f"/entity/{people.juan['P1']}", params={"since": "yesterday"}).text
    assert 'id="timeline-bad-date"' in bad


def test_timeline_page_in_spanish_with_parties_and_sources(tw: tuple[World, People]) -> None:
    world, people = tw
    client = world.client("caseworker")
    home = client.get("/").text
    client.post("/language", data={"lang": "es", "next": "/", "csrf_token": csrf_of(home)})
    html = client.get(f"/entity/{people.victim}/timeline").text
    assert '<html lang="es">' in html
    assert VICTIM in html
    assert "Evaluación: S1" in html
    assert "1 mar 2024" in html
    assert "solo el año" in html  # her crossing, known to the year
    assert "unit-a.csv" in html  # where the screening comes from
    analyst = world.session("analyst").get(f"/entity/{people.victim}/timeline").text
    assert 'id="timeline-empty"' in analyst
    assert VICTIM not in analyst
    assert world.session("viewer").get(f"/entity/{people.victim}/timeline").status_code == 404


def test_the_same_timeline_on_each_backend(store_url: str, tmp_path: Path) -> None:
    world = build_world(store_url, tmp_path)
    try:
        people = add_timeline_data(world.view.store, tmp_path, world.victim_id)
        code, tl = _api(world, "analyst", people.juan["P1"])
        assert code == 200
        assert [i["date"] for i in tl["items"]] == ["1980-05-01", "2018", "2019-03-14", "2020-07-02", "2021-03",
                                                    "2022-06-11T23:39:00"]  # fmt: skip
        assert [i["type"] for i in tl["undated"]] == ["BorderCrossing", "Recruited"]
        hers = _api(world, "caseworker", people.victim)[1]
        assert [i["type"] for i in hers["items"]] == ["BorderCrossing", "Screening"]
        assert _api(world, "analyst", people.victim)[1]["items"] == []
    finally:
        world.app.state.services.close()
