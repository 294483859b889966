"""The drugs and violence dashboard and the organization pages, served in-process: the figures of
the datasets the user may see only, each chart's CSV, the records behind a figure, the shipped map
shapes, and an organization's page (404 for an unknown one)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.analyses.geo import bundled_states
from cruce.ingest.pipeline import import_file
from cruce.security.audit import now
from cruce.security.policy import Marking
from cruce.synth import generate
from tests.web.conftest import World, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL
from tests.web.test_api_flows import EXECUTIONS, SEIZURES

REGISTRY = ("organizations.csv", "cruce-organizations"), ("org-relations.csv", "cruce-org-relations")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("flows-pages-scenario")
    generate(out, scale=2000, seed=2, flows=["drugs"])
    return out


@pytest.fixture
def world(tmp_path: Path, scenario: Path) -> Iterator[World]:
    built = build_world(f"duckdb:{tmp_path / 'store.duckdb'}", tmp_path)
    store = built.app.state.services.main.store
    (tmp_path / "executions.csv").write_text(EXECUTIONS, encoding="utf-8")
    (tmp_path / "port-seizures.csv").write_text(SEIZURES, encoding="utf-8")
    import_file(store, tmp_path / "executions.csv", "diegovalle-executions-by-month")
    import_file(store, tmp_path / "port-seizures.csv", "drug-seizures")
    for name, mapping in REGISTRY:
        import_file(store, scenario / name, mapping)
    built.view.security.policies.set("drug-seizures", Marking.AMBER, {"other-unit"}, now=now())
    yield built
    built.app.state.services.close()


def test_the_dashboard_shows_only_what_the_user_may_see(world: World) -> None:
    seen = world.session("outsider").get("/drugs-violence")  # in the group the seizures are marked for
    assert seen.status_code == 200
    assert re.search(r'id="fig-seizures">2<', seen.text)
    assert "port-seizures.csv" in seen.text  # the chart names the file it was computed from
    hidden = world.session("analyst").get("/drugs-violence")
    assert re.search(r'id="fig-seizures">0<', hidden.text)
    assert "port-seizures.csv" not in hidden.text
    assert world.client().get("/drugs-violence", follow_redirects=False).status_code in (302, 303)


def test_a_chart_exports_its_rows_and_lists_its_records(world: World) -> None:
    client = world.session("outsider")
    rows = list(csv.DictReader(io.StringIO(client.get("/drugs-violence/export/seizures.csv").text)))
    assert [(r["fiscal_year"], r["drug"], r["events"]) for r in rows] == [("2021", "marijuana", "2.0")]
    trends = list(csv.DictReader(io.StringIO(client.get("/drugs-violence/export/trends.csv").text)))
    assert {(r["series"], r["year"], r["killed"]) for r in trends} == {
        ("execution:Milenio", "2007", "402.0"), ("execution:Reforma", "2007", "338.0"),
        ("execution:Reforma", "2008", "300.0"),
    }  # fmt: skip
    records = client.get("/drugs-violence/records", params={"kind": "seizures", "drug": "marijuana"})
    assert records.status_code == 200
    assert records.text.count('href="/entity/') == 2
    assert client.get("/drugs-violence/export/nothing.csv").status_code == 422
    assert client.get("/drugs-violence/records", params={"month": "2021-13"}).status_code == 422


def test_the_maps_are_served_without_any_import(world: World) -> None:
    if not bundled_states()["features"]:
        pytest.skip("the web assets are not built (make assets)")
    shapes = world.session("viewer").get("/maps/boundaries.json").json()
    codes = {f["properties"]["code"] for f in shapes["features"]}
    assert len(codes) == 83
    assert "MX-SON" in codes
    assert "US-AZ" in codes
    assert shapes["municipalities"] == []


def test_an_organization_page_and_the_registry(world: World, scenario: Path) -> None:
    client = world.session("viewer")
    listing = client.get("/organizations")
    assert listing.status_code == 200
    ids = re.findall(r'class="org-link" href="/organizations/([0-9a-f-]+)"', listing.text)
    with (scenario / "organizations.csv").open(encoding="utf-8") as fh:
        assert len(ids) == len(list(csv.DictReader(fh)))
    page = client.get(f"/organizations/{ids[0]}")
    assert page.status_code == 200
    assert 'id="org-timeline"' in page.text
    assert 'id="chart-territory"' in page.text
    assert client.get("/organizations/00000000-0000-0000-0000-000000000000").status_code == 404
