"""The REST API: every endpoint answers its documented shape; the OpenAPI document is served."""

from __future__ import annotations

from tests.web.conftest import VICTIM, World

ENDPOINTS = (
    "/search", "/entities/{entity_id}", "/entities/{entity_id}/references", "/counts", "/imports", "/rejects",
    "/jobs/{job_id}", "/tips", "/tips/{tip_id}", "/users", "/audit", "/audit/verify", "/me",
)  # fmt: skip


def test_openapi_document(world: World) -> None:
    doc = world.client().get("/api/v1/openapi.json").json()
    paths = set(doc["paths"])
    for path in ENDPOINTS:
        assert "/api/v1" + path in paths, path
    assert not any(p.startswith("/admin") or p == "/" for p in paths)  # pages are not in the API document
    assert "HTTPBearer" in doc["components"]["securitySchemes"]


def test_reading_endpoints(world: World) -> None:
    client = world.client()
    headers = world.api("admin")
    counts = client.get("/api/v1/counts", headers=headers).json()
    assert counts["by_type"]["Person"] == 5
    assert counts["by_flow"]["people"] == 2  # the two screenings
    hits = client.get("/api/v1/search", params={"q": "MARÍA", "type": "Person"}, headers=headers).json()
    assert hits["total"] == 1
    assert hits["hits"][0]["schema"] == "Person"
    entity = client.get(f"/api/v1/entities/{world.victim_id}", headers=headers).json()
    assert entity["caption"] == VICTIM
    name = next(v for v in entity["values"] if v["property"] == "name")
    assert name["dataset"] == "screenings-a"
    assert name["file"] == "unit-a.csv"
    assert name["row"] == 2
    assert name["import_id"]
    assert name["imported_at"]
    assert entity["timeline"][0]["date"] == "2024-03-01"
    refs = client.get(f"/api/v1/entities/{world.victim_id}/references", headers=headers).json()
    assert refs[0]["schema"] == "Screening"
    assert refs[0]["property"] == "person"
    datasets = {d["name"]: d for d in client.get("/api/v1/datasets", headers=headers).json()}
    assert datasets["screenings-a"]["marking"] == "amber"
    assert client.get("/api/v1/entities/no-such-id", headers=headers).status_code == 404
    assert client.get("/api/v1/export/NoSuchType", headers=headers).status_code == 404


def test_admin_endpoints(world: World) -> None:
    client = world.client()
    headers = world.api("admin")
    created = client.post(
        "/api/v1/users", json={"username": "nuevo", "role": "viewer", "groups": ["a"]}, headers=headers
    )
    assert created.status_code == 201
    assert len(created.json()["password"]) >= 12
    assert (
        client.post("/api/v1/users", json={"username": "nuevo", "role": "viewer"}, headers=headers).status_code == 409
    )
    assert client.post("/api/v1/users", json={"username": "x", "role": "boss"}, headers=headers).status_code == 422
    changed = client.patch("/api/v1/users/nuevo", json={"role": "analyst", "disabled": True}, headers=headers).json()
    assert changed["role"] == "analyst"
    assert changed["disabled"] is True
    assert client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=headers).status_code == 404
    policy = client.put("/api/v1/datasets/open-people/policy", json={"marking": "green", "groups": []}, headers=headers)
    assert policy.json()["marking"] == "green"
    assert client.put("/api/v1/datasets/nope/policy", json={"marking": "red"}, headers=headers).status_code == 404
    entries = client.get("/api/v1/audit", params={"action": "user_add"}, headers=headers).json()
    assert entries[0]["target"] == "nuevo"
    assert client.get("/api/v1/audit/verify", headers=headers).json()["ok"] is True
    assert client.get("/api/v1/users", headers=world.api("caseworker")).status_code == 403
    assert client.get("/api/v1/me", headers=world.api("caseworker")).json()["groups"] == ["victim-services"]


def test_tip_triage_endpoints(world: World) -> None:
    from datetime import datetime

    tip_id = world.view.security.tips.submit(what="armas en una camioneta", now=datetime(2024, 5, 1))
    client = world.client()
    headers = world.api("analyst")
    queue = client.get("/api/v1/tips", params={"status": "new"}, headers=headers).json()
    assert tip_id in {t["id"] for t in queue}
    done = client.post(f"/api/v1/tips/{tip_id}", json={"status": "triaged", "link": [world.xss_id]}, headers=headers)
    assert done.status_code == 200
    assert done.json()["status"] == "triaged"
    assert done.json()["linked_entities"] == [world.xss_id]
    hidden = client.post(f"/api/v1/tips/{tip_id}", json={"link": [world.other_victim_id]}, headers=headers)
    assert hidden.status_code == 404
    assert client.post("/api/v1/tips/nope", json={}, headers=headers).status_code == 404
    assert client.get("/api/v1/tips", headers=world.api("viewer")).status_code == 403
