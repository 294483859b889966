"""Each role reads a protected victim record through the page, the API, search and export, and
sees exactly what it may: the victim's name only for the admin and the caseworker of her unit;
the record at all only for those her dataset's amber marking lets in. On both backends."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest

from cruce.security import REDACTED
from tests.web.conftest import VICTIM, World, build_world, drop_pg_schema, pg_url_or_skip

# who: (sees the record, sees the name)
EXPECTED = {
    "admin": (True, True),
    "analyst": (True, False),  # in the unit's group, but not a caseworker: redacted
    "caseworker": (True, True),  # the unit's own caseworker
    "outsider": (False, False),  # a caseworker of another unit: amber keeps her out
    "viewer": (False, False),  # no group
}


@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per backend for the whole matrix (each role's reads are told apart by actor)."""
    tmp = tmp_path_factory.mktemp(f"matrix-{request.param}")
    url = str(tmp / "matrix.duckdb") if request.param == "duckdb" else pg_url_or_skip()
    built = build_world(url, tmp)
    yield built
    built.app.state.services.close()
    if request.param == "postgresql":
        drop_pg_schema(url)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_sees_what_it_may(fresh: World, who: str) -> None:
    sees_record, sees_name = EXPECTED[who]
    client = fresh.client(who)
    headers = fresh.api(who)

    page = client.get(f"/entity/{fresh.victim_id}")
    api = client.get(f"/api/v1/entities/{fresh.victim_id}", headers=headers)
    assert page.status_code == (200 if sees_record else 404)
    assert api.status_code == (200 if sees_record else 404)
    assert (VICTIM in page.text) is sees_name
    assert (VICTIM in api.text) is sees_name
    if sees_record and not sees_name:
        values = {v["property"]: v for v in api.json()["values"]}
        assert values["name"]["value"] == REDACTED
        assert values["name"]["redacted"] is True
        assert values["nationality"]["value"] == "GT"  # not identifying: kept for statistics

    found_page = client.get("/search", params={"q": "maria perez"})
    found_api = client.get("/api/v1/search", params={"q": "maria perez"}, headers=headers).json()
    assert (f"/entity/{fresh.victim_id}" in found_page.text) is sees_name
    assert (fresh.victim_id in {h["id"] for h in found_api["hits"]}) is sees_name
    assert VICTIM in found_page.text if sees_name else VICTIM not in found_page.text

    exported = client.get("/export", params={"type": "Person"})
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    ids = {r["id"] for r in rows}
    assert (fresh.victim_id in ids) is sees_record
    assert (VICTIM in exported.text) is sees_name
    api_export = client.get("/api/v1/export/Person", headers=headers).json()
    assert (fresh.victim_id in {e["id"] for e in api_export}) is sees_record
    assert (VICTIM in str(api_export)) is sees_name

    # the disclosure of a protected value is audited; redacted views are not disclosures
    disclosed = fresh.view.security.audit.entries(actor=who, action="view_protected", limit=10_000)
    assert any(e.target == fresh.victim_id for e in disclosed) is sees_name
    exports = fresh.view.security.audit.entries(actor=who, action="export")
    assert len(exports) == 2  # page and API
    assert all(VICTIM not in (e.detail or "") for e in fresh.view.security.audit.entries(limit=10_000))


def test_anonymous_sees_nothing(world: World) -> None:
    client = world.client()
    for path in (f"/entity/{world.victim_id}", "/search?q=maria", "/export?type=Person"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert VICTIM not in response.text
    for path in (f"/api/v1/entities/{world.victim_id}", "/api/v1/search?q=maria", "/api/v1/export/Person"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    bad = client.get("/api/v1/search?q=maria", headers={"Authorization": "Bearer cruce_not-a-token"})
    assert bad.status_code == 401


def test_idor_between_groups(world: World) -> None:
    """A record of unit B's amber dataset is not readable by unit A's caseworker, by id, anywhere."""
    caseworker = world.session("caseworker")
    headers = world.api("caseworker")
    assert caseworker.get(f"/entity/{world.other_victim_id}").status_code == 404
    assert caseworker.get(f"/api/v1/entities/{world.other_victim_id}", headers=headers).status_code == 404
    refs = caseworker.get(f"/api/v1/entities/{world.other_victim_id}/references", headers=headers)
    assert refs.status_code == 404
    assert "Rosa" not in caseworker.get("/search", params={"q": "rosa trevino"}).text
    imports = caseworker.get("/api/v1/imports", headers=headers).json()
    assert "screenings-b" not in {i["dataset"] for i in imports}
    other_import = next(r.id for r in world.view.store.imports("screenings-b"))
    assert caseworker.get(f"/imports/{other_import}/rejects.csv").status_code == 404
    assert caseworker.get("/api/v1/rejects", params={"dataset": "screenings-b"}, headers=headers).json() == []


def test_scopes_limit_tokens(world: World) -> None:
    view = world.view
    from cruce.security.audit import now

    read_only = view.security.accounts.create_token("analyst", "read only", {"read"}, now=now())
    headers = {"Authorization": f"Bearer {read_only}"}
    client = world.client()
    assert client.get("/api/v1/counts", headers=headers).status_code == 200
    assert client.get("/api/v1/tips", headers=headers).status_code == 403  # no triage scope
    assert client.get("/api/v1/users", headers=world.api("analyst")).status_code == 403  # no admin scope
    assert client.get("/api/v1/users", headers=world.api("admin")).status_code == 200
