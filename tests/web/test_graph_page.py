"""The network explorer page and its JSON routes, and saved charts on the page and the API: who may
see what (the guard decides, as on /api/v1/graph), CSRF on posts, charts owner-only, Spanish labels."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.web.conftest import VICTIM, World

CHART: dict[str, Any] = {
    "center": None,
    "nodes": [{"id": "placeholder", "x": 10.5, "y": -3.0, "pinned": True, "hidden": False}],
    "filters": {"hidden_types": ["Location"], "hidden_relations": [], "since": "2024-01-01", "until": None,
                "hops": 2, "colour": "flow"},
}  # fmt: skip


def _config(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="explorer-config">(.*?)</script>', html, re.S)
    assert match, "no explorer configuration in the page"
    return dict(json.loads(match.group(1)))


def _csrf(world: World, who: str) -> str:
    csrf: str = _config(world.session(who).get("/graph").text)["csrf"]
    return csrf


def _post(world: World, who: str, path: str, body: object) -> Any:
    return world.session(who).post(path, json=body, headers={"X-CSRF-Token": _csrf(world, who)})


def _screening_of_victim(world: World) -> str:
    """The screening event linked to the amber victim (the analyst's caseload may see it)."""
    answer = world.session("analyst").get(f"/graph/data/neighbourhood/{world.victim_id}", params={"hops": 1}).json()
    return str(next(n["id"] for n in answer["nodes"] if n["schema"] == "Screening"))


def test_the_page_renders_for_an_analyst_with_its_labels(world: World) -> None:
    response = world.session("analyst").get(f"/graph?entity={world.victim_id}&hops=2")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Network explorer</h1>" in html
    assert 'id="nav-network" href="/graph"' in html
    assert "/static/vendor/cytoscape.min.js" in html
    assert "/static/explorer.js" in html
    config = _config(html)
    assert config["entity"] == world.victim_id
    assert config["hops"] == 2
    assert config["types"]["Person"] == "Person"
    assert config["labels"]["status"] == "{nodes} entities, {edges} links on the chart"
    assert set(config["flowLabels"]) == {"firearms", "drugs", "people", "several", "none"}
    assert "<script>" not in response.text.split('id="explorer-config">')[1].split("</script>")[0]


def test_the_page_and_its_data_are_hidden_from_anonymous_users(world: World) -> None:
    client = world.client()
    page = client.get("/graph", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=/graph")
    assert client.get(f"/graph/data/neighbourhood/{world.victim_id}").status_code == 401
    assert client.get("/graph/data/charts").status_code == 401
    assert client.get("/api/v1/graph/charts").status_code == 401


def test_spanish_labels_reach_the_script(world: World) -> None:
    client = world.client("analyst")
    page = client.get("/graph")
    client.post("/language", data={"lang": "es", "csrf_token": _config(page.text)["csrf"], "next": "/graph"})
    html = client.get("/graph").text
    assert "<h1>Explorador de redes</h1>" in html
    config = _config(html)
    assert config["lang"] == "es"
    assert config["labels"]["status"] == "{nodes} entidades, {edges} vínculos en el gráfico"
    assert config["labels"]["group"] == "{type}: {n} más"
    assert config["types"]["Person"] != "Person"  # the schema's Spanish label
    assert config["flowLabels"]["firearms"] == "Armas de fuego"


def test_the_neighbourhood_goes_through_the_guard(world: World) -> None:
    analyst = world.session("analyst").get(f"/graph/data/neighbourhood/{world.victim_id}", params={"hops": 1})
    assert analyst.status_code == 200
    answer = analyst.json()
    assert {n["schema"] for n in answer["nodes"]} >= {"Person", "Screening"}
    assert answer["edges"]
    assert answer["left_out"] == {}
    # the viewer may not see the amber dataset: as if the entity did not exist, in their language
    hidden = world.session("viewer").get(f"/graph/data/neighbourhood/{world.victim_id}")
    assert hidden.status_code == 404
    assert VICTIM not in hidden.text


def test_a_cut_neighbourhood_is_summarised_by_type(world: World) -> None:
    screening = _screening_of_victim(world)
    cut = world.session("analyst").get(f"/graph/data/neighbourhood/{screening}", params={"hops": 1, "max_nodes": 1})
    answer = cut.json()
    assert [n["id"] for n in answer["nodes"]] == [screening]
    assert answer["truncated"] is True
    assert sum(answer["left_out"].values()) >= 1
    assert "Person" in answer["left_out"]
    params = {"hops": 1, "max_nodes": 1, "schema": "Person"}
    opened = world.session("analyst").get(f"/graph/data/group/{screening}", params=params).json()
    assert [n["caption"] for n in opened["nodes"]] == ["[redacted]"]  # an analyst does not read a victim's name
    assert opened["edges"]
    assert "Person" not in opened["left_out"]
    by_caseworker = world.session("caseworker").get(f"/graph/data/group/{screening}", params=params).json()
    assert [n["caption"] for n in by_caseworker["nodes"]] == [VICTIM]


def test_a_path_names_the_records_behind_each_link(world: World) -> None:
    screening = _screening_of_victim(world)
    found = world.session("analyst").get("/graph/data/paths", params={"from": screening, "to": world.victim_id})
    assert found.status_code == 200
    path = found.json()[0]
    assert path["length"] == 1
    evidence = path["edges"][0]["evidence"][0]
    assert evidence["dataset"] == "screenings-a"
    assert evidence["row"] == 2


def test_posts_need_the_csrf_token(world: World) -> None:
    analyst = world.session("analyst")
    refused = analyst.post("/graph/data/among", json={"ids": [world.victim_id]})
    assert refused.status_code == 403
    refused = analyst.post("/graph/data/charts", json={"name": "x", "chart": CHART}, headers={"X-CSRF-Token": "wrong"})
    assert refused.status_code == 403


def test_links_among_chosen_entities_and_their_communities(world: World) -> None:
    screening = _screening_of_victim(world)
    among = _post(world, "analyst", "/graph/data/among", {"ids": [screening, world.victim_id, "not-an-entity"]})
    assert among.status_code == 200
    answer = among.json()
    assert {n["id"] for n in answer["nodes"]} == {screening, world.victim_id}
    assert len(answer["edges"]) == 1
    communities = _post(world, "analyst", "/graph/data/communities", {"ids": [screening, world.victim_id]}).json()
    assert communities["membership"][screening] == communities["membership"][world.victim_id]
    assert communities["sizes"][str(communities["membership"][screening])] >= 2


def test_the_chart_exports_as_graphml_and_is_audited(world: World) -> None:
    screening = _screening_of_victim(world)
    response = _post(world, "analyst", "/graph/data/export", {"ids": [screening, world.victim_id], "format": "graphml"})
    assert response.status_code == 200
    assert response.text.startswith("<?xml")
    assert "<graphml" in response.text
    assert response.text.count("<node ") == 2
    assert response.text.count("<edge ") == 1
    last = world.view.security.audit.entries(limit=5)
    assert any(e.action == "graph_export" and e.actor == "analyst" for e in last)


def test_saved_charts_roundtrip_on_the_page_and_the_api_owner_only(world: World) -> None:
    chart = {**CHART, "center": world.victim_id, "nodes": [{**CHART["nodes"][0], "id": world.victim_id}]}
    saved = _post(world, "analyst", "/graph/data/charts", {"name": "  Ring of  Laredo ", "chart": chart})
    assert saved.status_code == 201, saved.text
    made = saved.json()
    assert made["name"] == "Ring of Laredo"
    assert made["nodes"] == 1
    # the page lists it and opens it with the same positions and filters
    listed = world.session("analyst").get("/graph/data/charts").json()
    assert made["id"] in {c["id"] for c in listed}
    opened = world.session("analyst").get(f"/graph/data/charts/{made['id']}").json()
    assert opened["chart"] == chart
    assert "Ring of Laredo" in world.session("analyst").get("/graph").text
    # the API sees the same chart with the analyst's token, and saves one of its own
    client = world.client()
    assert client.get(f"/api/v1/graph/charts/{made['id']}", headers=world.api("analyst")).json()["chart"] == chart
    api_saved = client.post("/api/v1/graph/charts", json={"name": "From the API", "chart": chart},
                            headers=world.api("analyst"))  # fmt: skip
    assert api_saved.status_code == 201
    names = [c["name"] for c in client.get("/api/v1/graph/charts", headers=world.api("analyst")).json()]
    assert names[:2] == ["From the API", "Ring of Laredo"]  # newest first
    # nobody else lists or opens them
    assert world.session("caseworker").get(f"/graph/data/charts/{made['id']}").status_code == 404
    assert client.get(f"/api/v1/graph/charts/{made['id']}", headers=world.api("caseworker")).status_code == 404
    assert client.get("/api/v1/graph/charts", headers=world.api("caseworker")).json() == []
    # each save is audited with the chart's id and size, never its name
    saves = [e for e in world.view.security.audit.entries(limit=50) if e.action == "graph_chart_save"]
    assert {e.target for e in saves} >= {made["id"], api_saved.json()["id"]}
    assert all("Laredo" not in json.dumps(e.detail) for e in saves)


def test_a_bad_chart_is_refused(world: World) -> None:
    client, headers = world.client(), world.api("analyst")
    blank = client.post("/api/v1/graph/charts", json={"name": "   ", "chart": CHART}, headers=headers)
    assert blank.status_code == 422
    bad = {**CHART, "filters": {**CHART["filters"], "hops": 9}}
    assert client.post("/api/v1/graph/charts", json={"name": "x", "chart": bad}, headers=headers).status_code == 422
    extra = {**CHART, "names": ["someone"]}
    assert client.post("/api/v1/graph/charts", json={"name": "x", "chart": extra}, headers=headers).status_code == 422
    for hops, status in ((2.0, 201), ("2", 422), (2.5, 422)):  # JSON's 2.0 is the integer 2; "2" is text
        sent = {**CHART, "filters": {**CHART["filters"], "hops": hops}}
        assert client.post("/api/v1/graph/charts", json={"name": "x", "chart": sent}, headers=headers).status_code == (
            status
        ), hops


def test_the_store_keeps_charts_per_user(store_url: str) -> None:
    from cruce.graph.charts import ChartError, Charts
    from cruce.store import open_store

    with open_store(store_url) as store:
        charts = Charts(store)
        first = charts.save("ana", "one", {"nodes": [{"id": "a", "x": 1, "y": 2}]})
        assert charts.get("ana", first.id) is not None
        assert charts.get("bob", first.id) is None
        assert [c.name for c in charts.list("ana")] == ["one"]
        with pytest.raises(ChartError):
            charts.save("ana", "  ", {"nodes": []})
