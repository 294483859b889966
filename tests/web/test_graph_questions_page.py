"""The network questions page (/graph/questions): each question answered as on the API, entities
named through the guard (a protected victim's name never shown outside the caseload), bad
parameters refused, and the page in Spanish."""

from __future__ import annotations

import re

import pytest

from cruce.web.pages_graph_questions import QUESTIONS
from tests.web.conftest import VICTIM, XSS, World, csrf_of


def _entity_links(html: str) -> list[str]:
    return re.findall(r'<a href="/entity/([0-9a-f-]{36})">', html)


def test_signed_out_readers_are_sent_to_sign_in(world: World) -> None:
    response = world.client().get("/graph/questions", follow_redirects=False)
    assert response.status_code in (302, 303)
    assert "/signin" in response.headers["location"]


def test_key_players_match_the_api_and_open_in_the_explorer(world: World) -> None:
    client = world.session("admin")
    html = client.get("/graph/questions?q=key-players&measure=degree").text
    api = (
        world.client()
        .get("/api/v1/graph/key-players", params={"measure": "degree", "limit": 25}, headers=world.api("admin"))
        .json()
    )
    assert _entity_links(html) == [n["id"] for n in api]
    assert api, "the small world has linked entities"
    assert f'href="/graph?entity={api[0]["id"]}"' in html
    assert XSS not in html  # names are escaped like everywhere else


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_every_question_answers_and_never_names_a_protected_victim_outside_the_caseload(
    world: World, question: str
) -> None:
    params = {"q": question, "since": "2020-01-01", "until": "2025-12-31", "type": ""}
    outsider = world.session("outsider").get("/graph/questions", params=params)
    assert outsider.status_code == 200
    assert 'id="answer"' in outsider.text
    assert VICTIM not in outsider.text
    assert "Pérez" not in outsider.text
    caseworker = world.session("caseworker").get("/graph/questions", params=params)
    assert caseworker.status_code == 200


def test_growth_asks_for_two_dates_then_counts(world: World) -> None:
    client = world.session("analyst")
    assert "Choose two dates." in client.get("/graph/questions?q=growth").text
    html = client.get("/graph/questions?q=growth&since=2000-01-01&until=2030-12-31").text
    assert 'id="growth"' in html
    assert 'id="growers"' in html


def test_bad_parameters_are_refused(world: World) -> None:
    client = world.session("analyst")
    assert client.get("/graph/questions?q=communities&resolution=-1").status_code == 422
    assert client.get("/graph/questions?q=nonsense").status_code == 422


def test_the_page_in_spanish(world: World) -> None:
    client = world.session("viewer")
    page = client.get("/graph/questions")
    client.post("/language", data={"lang": "es", "csrf_token": csrf_of(page.text), "next": "/graph/questions"})
    html = client.get("/graph/questions?q=cross-flow").text
    assert "Preguntas sobre la red" in html
    assert "En varios flujos" in html
    assert "Network questions" not in html
