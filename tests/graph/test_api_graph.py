"""/api/v1/graph: the questions through the guard — markings hide, roles redact — on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import SCREENING_MAPPING
from tests.web.conftest import VICTIM, World, _import, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL

OPEN_VICTIM = "Lucía Fernández Soto"


@pytest.fixture
def world(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The web tests' world (two amber screening datasets, open people, a user per role) and an
    open (green) screening dataset whose screened person is protected."""
    monkeypatch.setenv("CRUCE_GRAPH_CACHE", str(tmp_path / "graph-cache"))
    built = build_world(store_url, tmp_path)
    rows = f"sid,date,person_name,nationality,screener\nS9,2024-05-02,{OPEN_VICTIM},HN,Ana Ruiz\n"
    _import(built.app, tmp_path, "open-screenings", SCREENING_MAPPING.format(dataset="screenings-open"), rows)
    yield built
    built.app.state.services.close()


def _get(world: World, who: str, path: str, **params: object) -> tuple[int, object, str]:
    response = world.client().get(f"/api/v1/graph{path}", params=params, headers=world.api(who))
    return response.status_code, response.json(), response.text


def _open_screening(world: World) -> tuple[str, str]:
    """(screening id, screened person id) of the open dataset, as an admin finds them."""
    _code, nodes, _text = _get(world, "admin", "/cross-flow", min_flows=1, type=["Screening"], limit=100)
    assert isinstance(nodes, list)
    for node in nodes:
        code, answer, _t = _get(world, "admin", f"/neighbourhood/{node['id']}", hops=1)
        assert code == 200
        people = [n for n in answer["nodes"] if n["schema"] == "Person"]  # type: ignore[index]
        if people and people[0]["caption"] == OPEN_VICTIM:
            return node["id"], people[0]["id"]
    raise AssertionError("the open screening is in the graph")


def test_a_viewer_gets_no_protected_names(world: World) -> None:
    screening, person = _open_screening(world)
    code, answer, text = _get(world, "viewer", f"/neighbourhood/{screening}", hops=1)
    assert code == 200
    shown = {n["id"]: n for n in answer["nodes"]}  # type: ignore[index]
    assert shown[person]["caption"] == "[redacted]"
    assert OPEN_VICTIM not in text
    assert answer["edges"][0]["type"] == "person"  # type: ignore[index]
    # the same for every question that names people
    for path, params in (
        ("/paths", {"from": screening, "to": person}),
        ("/key-players", {"measure": "degree", "type": ["Person"]}),
        ("/cross-flow", {"min_flows": 1, "type": ["Person"]}),
        ("/communities", {"min_size": 1}),
        ("/bridges", {"method": "components"}),
        ("/growth", {"since": "2024-01-01", "until": "2024-12-31", "type": ["Person"]}),
    ):
        code, _answer, text = _get(world, "viewer", path, **params)
        assert code == 200, (path, text)
        assert OPEN_VICTIM not in text, path
        assert VICTIM not in text, path
    # an admin reads the name; a path names its record with file and row
    code, paths, _t = _get(world, "admin", "/paths", **{"from": screening, "to": person})
    assert code == 200
    assert paths[0]["nodes"][-1]["caption"] == OPEN_VICTIM  # type: ignore[index]
    evidence = paths[0]["edges"][0]["evidence"][0]  # type: ignore[index]
    assert (evidence["dataset"], evidence["file"], evidence["row"]) == ("screenings-open", "open-screenings.csv", 2)


def test_markings_hide_what_a_role_may_not_see(world: World) -> None:
    # the amber dataset of victim services: invisible to a viewer, redacted for its analyst
    code, _answer, _text = _get(world, "viewer", f"/neighbourhood/{world.victim_id}")
    assert code == 404
    code, answer, text = _get(world, "analyst", f"/neighbourhood/{world.victim_id}")
    assert code == 200
    assert answer["nodes"][0]["caption"] == "[redacted]"  # type: ignore[index]
    assert VICTIM not in text
    code, answer, _text = _get(world, "caseworker", f"/neighbourhood/{world.victim_id}")
    assert code == 200
    assert answer["nodes"][0]["caption"] == VICTIM  # type: ignore[index]
    # the other unit's victim is not in the victim-services caseworker's graph at all
    assert _get(world, "caseworker", f"/neighbourhood/{world.other_victim_id}")[0] == 404
    _code, info, _t = _get(world, "viewer", "")
    _code, everything, _t = _get(world, "admin", "")
    assert info["edges"] < everything["edges"]  # type: ignore[index]
    assert info["nodes"] < everything["nodes"]  # type: ignore[index]
    assert "screenings-a" in everything["datasets"]  # type: ignore[index]
    assert "screenings-a" not in info["datasets"]  # type: ignore[index]


def test_bad_questions(world: World) -> None:
    assert _get(world, "admin", "/neighbourhood/00000000-0000-0000-0000-000000000000")[0] == 404
    assert _get(world, "admin", f"/neighbourhood/{world.xss_id}", hops=9)[0] == 422
    code, answer, _t = _get(world, "admin", f"/neighbourhood/{world.victim_id}", since="2024-04-01", until="2024-01-01")
    assert code == 200
    assert [n["id"] for n in answer["nodes"]] == [world.victim_id]  # type: ignore[index]  # a window with no dated link
    assert _get(world, "admin", "/key-players", measure="fame")[0] == 422
    assert _get(world, "admin", "/communities", colour="red")[0] == 422
    assert world.client().get("/api/v1/graph/communities").status_code == 401
