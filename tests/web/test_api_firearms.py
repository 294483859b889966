"""/api/v1/firearms: the figures over the datasets the user may see, on both backends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.demo import COLUMNS
from cruce.ingest.pipeline import import_file
from cruce.security.audit import now
from cruce.security.policy import Marking
from cruce.synth.firearms import TRACE_COLUMNS
from tests.analyses.test_firearms import SALES, TRACES, _write
from tests.web.conftest import World, build_world, csrf_of
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL


@pytest.fixture
def world(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The web tests' world, with the hand-made sales (open) and traces (amber, "other-unit" only)."""
    monkeypatch.setenv("CRUCE_GRAPH_CACHE", str(tmp_path / "graph-cache"))
    built = build_world(store_url, tmp_path)
    store = built.app.state.services.main.store
    sales = [dict(zip(COLUMNS, (*row, "500", "N"), strict=True)) for row in SALES]
    import_file(store, _write(tmp_path / "sales.csv", COLUMNS, sales), "example-firearm-purchases")
    import_file(store, _write(tmp_path / "traces.csv", TRACE_COLUMNS, TRACES), "atf-traces")
    built.view.security.policies.set("firearm-traces", Marking.AMBER, {"other-unit"}, now=now())
    yield built
    built.app.state.services.close()


def _get(world: World, who: str, path: str, **params: object) -> tuple[int, object]:
    response = world.client().get(f"/api/v1/firearms{path}", params=params, headers=world.api(who))
    return response.status_code, response.json()


def test_figures_count_only_what_the_user_may_see(world: World) -> None:
    code, seen = _get(world, "outsider", "/summary")
    assert code == 200
    assert seen["traces"] == 4  # type: ignore[index]
    assert seen["completed_share"] == 0.75  # type: ignore[index]
    code, hidden = _get(world, "analyst", "/summary")
    assert code == 200
    assert hidden["traces"] == 0  # type: ignore[index]
    _code, states = _get(world, "outsider", "/sources", by="state")
    assert {r["state"]: r["traces"] for r in states["rows"]} == {"US-TX": 2, "US-AZ": 1}  # type: ignore[index]
    _code, behind = _get(world, "outsider", "/traces", source_state="US-TX")
    assert sorted(r["trace_number"] for r in behind["rows"]) == ["T1", "T2"]  # type: ignore[index]
    assert behind["filters"] == {"source_state": "US-TX"}  # type: ignore[index]
    _code, sonora = _get(world, "outsider", "/summary", state="MX-SON", **{"from": "2021-01-01"})
    assert sonora["traces"] == 2  # type: ignore[index]


def test_leads_are_explained_and_named_through_the_guard(world: World) -> None:
    code, answer = _get(world, "outsider", "/leads", threshold=0)
    assert code == 200
    leads = answer["leads"]  # type: ignore[index]
    assert leads
    named = {lead["name"] for lead in leads}
    assert "Ana Ruiz Soto" in named
    for lead in leads:
        assert lead["score"] == pytest.approx(sum(f["points"] for f in lead["flags"]))
    heavier = _get(world, "outsider", "/leads", threshold=0, weight="short_ttc=90")[1]
    assert max(x["score"] for x in heavier["leads"]) > max(x["score"] for x in leads)  # type: ignore[index]
    code, _bad = _get(world, "outsider", "/leads", weight="no_such_rule=3")
    assert code == 422
    # the analyst cannot see the traces: her leads rest on the sales alone
    _code, theirs = _get(world, "analyst", "/leads", threshold=0)
    flags = {f["indicator"] for lead in theirs["leads"] for f in lead["flags"]}  # type: ignore[index]
    assert flags
    assert not flags & {"short_ttc", "recovered_abroad", "recovered_together", "purchaser_not_possessor"}


def test_indicators_say_their_sources(world: World) -> None:
    code, rules = _get(world, "viewer", "/indicators")
    assert code == 200
    by_name = {r["rule"]: r for r in rules}  # type: ignore[union-attr]
    assert "3310.4" in by_name["multiple_handguns"]["source"]
    assert by_name["short_ttc"]["weight"] > 0
    spanish = world.client().get(
        "/api/v1/firearms/indicators", headers={**world.api("viewer"), "Accept-Language": "es"}
    )
    assert spanish.status_code == 200


def test_a_lead_in_full(world: World) -> None:
    _code, leads = _get(world, "outsider", "/leads", threshold=0)
    together = next(x for x in leads["leads"] if any(f["indicator"] == "recovered_together" for f in x["flags"]))  # type: ignore[index]
    code, lead = _get(world, "outsider", f"/leads/{together['purchaser']}")
    assert code == 200
    assert lead["score"] == together["score"]  # type: ignore[index]
    assert lead["traces"][0]["recovery_state"] == "MX-SON"  # type: ignore[index]
    assert "recovered_together" in lead["linked"][0]["through"]  # type: ignore[index]
    assert lead["linked"][0]["name"] in {"Ana Ruiz Soto", "Eva Mora"}  # type: ignore[index]
    assert _get(world, "outsider", "/leads/00000000-0000-0000-0000-000000000000")[0] == 404
    assert _get(world, "analyst", f"/leads/{together['purchaser']}")[0] == 404  # the traces are not hers to see


def test_a_lead_and_its_linked_purchasers_go_into_a_case_from_the_pages(world: World) -> None:
    """Issue #7's leads "addable to a case": ticked on the lead's page with the purchasers its flags
    link it to, they become the case's records, and the case page names them."""
    who = world.session("outsider")
    form = who.get("/investigations")
    r = who.post(
        "/investigations", data={"csrf_token": csrf_of(form.text), "title": "Straw ring", "marking": "amber"},
        follow_redirects=False,
    )  # fmt: skip
    case_id = r.headers["location"].rsplit("/", 1)[-1]
    _code, leads = _get(world, "outsider", "/leads", threshold=0)
    together = next(x for x in leads["leads"] if any(f["indicator"] == "recovered_together" for f in x["flags"]))  # type: ignore[index]
    page = who.get(f"/firearms/leads/{together['purchaser']}")
    assert page.status_code == 200
    assert 'id="add-lead"' in page.text
    linked = _get(world, "outsider", f"/leads/{together['purchaser']}")[1]["linked"][0]  # type: ignore[index]
    assert f'id="pick-linked-{linked["purchaser"]}"' in page.text
    r = who.post(
        "/investigations/items",
        data={"csrf_token": csrf_of(page.text), "case": case_id, "entity": [together["purchaser"], linked["purchaser"]],
              "next": f"/firearms/leads/{together['purchaser']}"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/firearms/leads/{together['purchaser']}?added=2&into={case_id}")
    items = who.get(f"/api/v1/investigations/{case_id}", headers=world.api("outsider")).json()
    assert {r["id"] for r in items["records"]} == {together["purchaser"], linked["purchaser"]}
    case_page = who.get(f"/investigations/{case_id}").text
    assert together["name"] in case_page
    assert linked["name"] in case_page
    # the dashboard's leads table ticks into the same form
    dashboard = who.get("/firearms", params={"added": "1", "into": case_id})
    assert dashboard.status_code == 200
    assert 'id="added-to-case"' in dashboard.text
    ticks = re.findall(r'id="pick-lead-([0-9a-f-]+)"', dashboard.text)
    shown = _get(world, "outsider", "/leads")[1]["leads"]  # type: ignore[index]
    assert ticks == [lead["purchaser"] for lead in shown][: len(ticks)]
    assert ticks
    assert len(ticks) == min(len(shown), 12)
