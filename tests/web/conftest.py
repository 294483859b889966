"""A small world for the web tests: victim screenings in two amber datasets of two units, an open
dataset whose names include a script tag, and one user of each role, signed in through the pages."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI

with warnings.catch_warnings():
    # starlette 1.x prefers httpx2 (not a dependency of cruce yet); httpx still works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

from cruce.ingest.pipeline import import_file
from cruce.security import Marking
from cruce.security.audit import now
from cruce.web import create_app
from tests.conftest import SCREENING_MAPPING as MAPPING
from tests.conftest import drop_pg_schema, pg_url_or_skip

PASSWORD = "correct horse battery"
XSS = "<script>alert(1)</script>"
VICTIM = "María Pérez López"
OPEN_MAPPING = """
name: test-people
description: test
dataset: open-people
source: test
entities:
  person:
    schema: Person
    key: [pid]
    properties:
      name: name
      nationality: nationality
"""
# who: (role, groups)
USERS = {
    "admin": ("admin", set()),
    "analyst": ("analyst", {"victim-services"}),
    "caseworker": ("caseworker", {"victim-services"}),
    "outsider": ("caseworker", {"other-unit"}),
    "viewer": ("viewer", set()),
}


@dataclass
class World:
    app: FastAPI
    url: str
    tmp: Path
    victim_id: str = ""
    other_victim_id: str = ""
    xss_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    _sessions: dict[str, TestClient] = field(default_factory=dict)

    @property
    def view(self):  # type: ignore[no-untyped-def]
        return self.app.state.services.main

    def client(self, who: str | None = None, *, https: bool = False) -> TestClient:
        client = TestClient(self.app, base_url="https://testserver" if https else "http://testserver")
        if who:
            signin(client, who)
        return client

    def session(self, who: str) -> TestClient:
        """A signed-in client kept for the module (for tests that do not sign out or change the user)."""
        if who not in self._sessions:
            self._sessions[who] = self.client(who)
        return self._sessions[who]

    def api(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def signin(client: TestClient, who: str, password: str = PASSWORD) -> TestClient:
    form = client.get("/signin")
    response = client.post(
        "/signin", data={"username": who, "password": password, "csrf_token": csrf_of(form.text), "next": "/"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303, response.text[:500]
    return client


def _import(app: FastAPI, tmp: Path, name: str, mapping: str, rows: str) -> None:
    (tmp / f"{name}.yaml").write_text(mapping, encoding="utf-8")
    (tmp / f"{name}.csv").write_text(rows, encoding="utf-8")
    store = app.state.services.main.store
    assert import_file(store, tmp / f"{name}.csv", tmp / f"{name}.yaml").rows_stored > 0


def build_world(url: str, tmp: Path, *, run_jobs: bool = True) -> World:
    app = create_app(url, upload_dir=tmp / "uploads", max_upload_bytes=64 * 1024, run_jobs=run_jobs)
    world = World(app, url, tmp)
    rows = "sid,date,person_name,nationality,screener\nS1,2024-03-01,{name},GT,Ana Ruiz\n"
    _import(app, tmp, "unit-a", MAPPING.format(dataset="screenings-a"), rows.format(name=VICTIM))
    _import(app, tmp, "unit-b", MAPPING.format(dataset="screenings-b"), rows.format(name="Rosa Treviño Muñoz"))
    _import(
        app, tmp, "open", OPEN_MAPPING,
        f'pid,name,nationality\nP1,"{XSS}",MX\nP2,José Hernández,MX\nP3,Juan Gómez,US\n',
    )  # fmt: skip
    view = world.view
    t = now()
    view.security.policies.set("screenings-a", Marking.AMBER, {"victim-services"}, now=t)
    view.security.policies.set("screenings-b", Marking.AMBER, {"other-unit"}, now=t)
    for name, (role, groups) in USERS.items():
        view.security.accounts.add(name, PASSWORD, role, groups=groups, now=t)
        scopes = {"read", "import", "triage"} | ({"admin"} if role == "admin" else set())
        world.tokens[name] = view.security.accounts.create_token(name, "tests", scopes, now=t)
    from cruce.security import SYSTEM

    def person_in(dataset: str, name: str) -> str:
        hits = view.guard.search(SYSTEM, name)
        return next(h.entity_id for h in hits.hits if dataset in h.datasets)

    world.victim_id = person_in("screenings-a", "maria perez")
    world.other_victim_id = person_in("screenings-b", "rosa trevino")
    world.xss_id = person_in("open-people", "script")
    return world


@pytest.fixture(scope="session", autouse=True)
def secret_key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A team server (PostgreSQL) needs its key named: give the web tests one key file."""
    before = os.environ.get("CRUCE_SECRET_KEY_FILE")
    os.environ["CRUCE_SECRET_KEY_FILE"] = str(tmp_path_factory.mktemp("key") / "cruce.key")
    yield
    if before is None:
        del os.environ["CRUCE_SECRET_KEY_FILE"]
    else:
        os.environ["CRUCE_SECRET_KEY_FILE"] = before


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One world per test module on DuckDB (read-mostly tests share it), its graph cache in its folder."""
    tmp = tmp_path_factory.mktemp("web")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRUCE_GRAPH_CACHE", str(tmp / "graph-cache"))
    built = build_world(str(tmp / "web.duckdb"), tmp)
    yield built
    built.app.state.services.close()
    mp.undo()


@pytest.fixture
def fresh(store_url: str, tmp_path: Path) -> Iterator[World]:
    """A world of its own, on each backend (for tests that change things)."""
    built = build_world(store_url, tmp_path)
    yield built
    built.app.state.services.close()


__all__ = ["PASSWORD", "VICTIM", "XSS", "TestClient", "World", "csrf_of", "drop_pg_schema", "pg_url_or_skip", "signin"]
