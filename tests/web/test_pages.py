"""Every page answers, signed in as the role that may use it, in English and in Spanish."""

from __future__ import annotations

import pytest

from tests.web.conftest import VICTIM, World, csrf_of, signin

PAGES = ["/", "/search", "/search?q=juan", "/import", "/admin", "/admin/datasets", "/admin/audit", "/tips", "/tip"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_for_an_admin(world: World, path: str) -> None:
    response = world.session("admin").get(path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="lang-es"' in response.text  # the language switch is on every page


def test_anonymous_users_are_sent_to_sign_in(world: World) -> None:
    client = world.client()
    for path in ("/", "/search?q=maria", f"/entity/{world.victim_id}", "/import", "/admin", "/tips"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin?next=")
    assert client.get("/tip").status_code == 200  # the tip form needs no account


def test_sign_in_and_out(world: World) -> None:
    client = world.client()
    page = client.get("/signin")
    assert 'id="username"' in page.text
    assert '<label for="password">' in page.text
    bad = client.post("/signin", data={"username": "analyst", "password": "nope", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 401
    assert "The user name or the password is wrong." in bad.text
    signin(client, "analyst")
    home = client.get("/")
    assert home.status_code == 200
    assert 'id="signed-in-as"' in home.text
    assert "analyst" in home.text
    out = client.post("/signout", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_dashboard_counts_per_flow_and_latest_imports(world: World) -> None:
    html = world.session("admin").get("/").text
    assert 'id="flow-people"' in html
    assert 'id="latest-imports"' in html
    assert "screenings-a" in html
    assert 'id="no-cases"' in html


def test_search_filters_and_entity_page_with_provenance(world: World) -> None:
    client = world.client("admin")
    html = client.get("/search", params={"q": "MARIA perez", "type": "Person", "dataset": "screenings-a"}).text
    assert f"/entity/{world.victim_id}" in html
    assert client.get("/search", params={"q": "maria", "type": "Firearm"}).text.count("/entity/") == 0
    dated = client.get("/search", params={"q": "S1", "date_from": "2024-01-01", "date_to": "2024-12-31"}).text
    assert dated.count('href="/entity/') == 2  # the screenings of both units
    assert client.get("/search", params={"q": "S1", "date_from": "2025-01-01"}).text.count('href="/entity/') == 0
    entity = client.get(f"/entity/{world.victim_id}").text
    assert VICTIM in entity
    assert "unit-a.csv" in entity  # the file of each value
    assert 'id="timeline"' in entity  # the screening, by date
    assert "Screening: S1" in entity


def test_spanish_by_switch_cookie_and_accept_language(world: World) -> None:
    anonymous = world.client()
    assert "Iniciar sesión" in anonymous.get("/signin", headers={"Accept-Language": "es-MX,es;q=0.9"}).text
    assert "Sign in" in anonymous.get("/signin", headers={"Accept-Language": "fr, en;q=0.5"}).text
    client = world.client("viewer")
    home = client.get("/")
    switched = client.post(
        "/language", data={"lang": "es", "next": "/search", "csrf_token": csrf_of(home.text)}, follow_redirects=True
    )
    assert "Palabras a buscar" in switched.text
    assert '<html lang="es">' in switched.text
    # remembered for the user: a new session in another browser is in Spanish too
    again = signin(world.client(), "viewer")
    assert "Panorama" in again.get("/").text
    user = world.view.security.accounts.find("viewer")
    assert user is not None
    assert user.language == "es"
    world.view.security.accounts.set_language(user.id, "en")


def test_numbers_and_dates_follow_the_language(world: World) -> None:
    accounts = world.view.security.accounts
    admin = accounts.find("admin")
    assert admin is not None
    accounts.set_language(admin.id, "es")  # the user's own choice wins over cookie and browser
    try:
        client = world.client("admin")
        entity = client.get(f"/entity/{world.victim_id}", headers={"Accept-Language": "en"}).text
        assert "1 mar 2024" in entity
        assert "Propiedades y de dónde viene cada una" in entity
    finally:
        accounts.set_language(admin.id, "en")
    english = world.client("admin").get(f"/entity/{world.victim_id}").text
    assert "Mar 1, 2024" in english
