"""Watchlists on the web: the API (watches, alerts, marking seen) and the /alerts page with its
forms (CSRF), with need-to-know: alerts only about records the user may see, protected names
redacted for roles that cannot see them."""

from __future__ import annotations

from datetime import datetime

from cruce.resolve.watch import Watch, Watchlists
from tests.web.conftest import VICTIM, World, csrf_of


def _alert_about(world: World, who: str, record: str) -> str:
    """A watch of ``record``'s entity for ``who`` and an alert about ``record`` (as incremental
    linking writes it); the alert's id."""
    watchlists = Watchlists(world.view.store)
    watch = Watch(f"w-{who}-{record[:8]}", who, "entity", record, 0.0, datetime.now(), True)
    watchlists.db.execute(
        "INSERT INTO watch (id, username, kind, target, threshold, created_at, active) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (watch.id, who, "entity", record, 0.0, watch.created_at, True),
    )
    watchlists.write_alerts([(watch, record, 0.93, "an-import")])
    return next(a.id for a in watchlists.alerts(who) if a.watch_id == watch.id)


def test_api_watches(world: World) -> None:
    client = world.client()
    headers = world.api("analyst")
    made = client.post("/api/v1/watches", json={"kind": "name", "target": "José Hernández"}, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["kind"] == "name"
    assert body["threshold"] == 0.85
    assert body["created_at"].endswith("Z")
    listed = client.get("/api/v1/watches", headers=headers).json()
    assert body["id"] in {w["id"] for w in listed}
    # the viewer may not see the victim's dataset: no watching it
    refused = client.post(
        "/api/v1/watches", json={"kind": "entity", "target": world.victim_id}, headers=world.api("viewer")
    )
    assert refused.status_code == 404
    entity = client.post("/api/v1/watches", json={"kind": "entity", "target": world.victim_id}, headers=headers)
    assert entity.status_code == 201
    assert client.post("/api/v1/watches", json={"kind": "thing", "target": "x"}, headers=headers).status_code == 422
    assert (
        client.post(
            "/api/v1/watches", json={"kind": "name", "target": "x", "threshold": 2.0}, headers=headers
        ).status_code
        == 422
    )
    # someone else's watch cannot be removed
    assert client.delete(f"/api/v1/watches/{body['id']}", headers=world.api("caseworker")).status_code == 404
    assert client.delete(f"/api/v1/watches/{body['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/watches/{body['id']}", headers=headers).status_code == 404
    assert body["id"] not in {w["id"] for w in client.get("/api/v1/watches", headers=headers).json()}
    assert client.get("/api/v1/watches").status_code == 401


def test_api_alerts_need_to_know_and_seen(world: World) -> None:
    client = world.client()
    analyst_alert = _alert_about(world, "analyst", world.victim_id)
    caseworker_alert = _alert_about(world, "caseworker", world.victim_id)
    _alert_about(world, "outsider", world.victim_id)  # outsider may not see screenings-a
    # the analyst sees the record, but not the protected person's name
    alerts = client.get("/api/v1/alerts", headers=world.api("analyst")).json()
    mine = next(a for a in alerts if a["id"] == analyst_alert)
    assert mine["record"]["id"] == world.victim_id
    assert mine["probability"] == 0.93
    assert mine["kind"] == "entity"
    assert VICTIM not in str(alerts)
    # the caseworker of the victim's unit may read the name
    theirs = client.get("/api/v1/alerts", headers=world.api("caseworker")).json()
    assert VICTIM in next(a for a in theirs if a["id"] == caseworker_alert)["record"]["caption"]
    # the outsider is told nothing about a record they may not see
    assert client.get("/api/v1/alerts", headers=world.api("outsider")).json() == []
    # marking seen: only one's own
    marked = client.post("/api/v1/alerts/seen", json={"ids": [analyst_alert]}, headers=world.api("caseworker"))
    assert marked.json() == {"marked": 0}
    marked = client.post("/api/v1/alerts/seen", json={"ids": [analyst_alert]}, headers=world.api("analyst"))
    assert marked.json() == {"marked": 1}
    unseen = client.get("/api/v1/alerts", params={"unseen": "true"}, headers=world.api("analyst")).json()
    assert analyst_alert not in {a["id"] for a in unseen}
    assert client.get("/api/v1/alerts", params={"bogus": "1"}, headers=world.api("analyst")).status_code == 422


def test_alerts_page_and_forms(world: World) -> None:
    client = world.client("analyst")
    alert = _alert_about(world, "analyst", world.xss_id)
    page = client.get("/alerts")
    assert page.status_code == 200
    assert 'id="nav-alerts"' in page.text
    assert f'data-alert="{alert}"' in page.text
    assert "<script>alert(1)</script>" not in page.text  # the record's caption is escaped
    assert VICTIM not in page.text
    token = csrf_of(page.text)
    # forms need the CSRF token
    assert (
        client.post("/watches", data={"kind": "name", "target": "Juan Gómez"}, follow_redirects=False).status_code
        == 403
    )
    added = client.post(
        "/watches", data={"kind": "name", "target": "Juan Gómez", "threshold": "0.9", "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    page = client.get("/alerts")
    assert "Juan Gómez" in page.text
    watch_id = next(w.id for w in Watchlists(world.view.store).watches("analyst") if w.target == "Juan Gómez")
    bad = client.post("/watches", data={"kind": "name", "target": "x", "threshold": "many", "csrf_token": token})
    assert bad.status_code == 422
    hidden = client.post("/watches", data={"kind": "entity", "target": world.other_victim_id, "csrf_token": token})
    assert hidden.status_code == 404  # screenings-b is not the analyst's
    assert client.post("/alerts/seen", data={"alert": alert}, follow_redirects=False).status_code == 403
    seen = client.post("/alerts/seen", data={"alert": alert, "csrf_token": token}, follow_redirects=False)
    assert seen.status_code == 303
    assert any(a.id == alert and a.seen_at for a in Watchlists(world.view.store).alerts("analyst"))
    assert client.post("/alerts/seen", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert Watchlists(world.view.store).alerts("analyst", unseen_only=True) == []
    removed = client.post(f"/watches/{watch_id}/remove", data={"csrf_token": token}, follow_redirects=False)
    assert removed.status_code == 303
    assert client.post(f"/watches/{watch_id}/remove", data={"csrf_token": token}).status_code == 404
    # in Spanish
    es = client.get("/alerts", headers={"Accept-Language": "es"})
    assert es.status_code == 200


def test_alerts_page_needs_sign_in(world: World) -> None:
    response = world.client().get("/alerts", follow_redirects=False)
    assert response.status_code in (302, 303)
