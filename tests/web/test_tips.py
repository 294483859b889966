"""The anonymous tip form: no account, no address kept, rate limited, honeypot, contact encrypted at rest;
and the triage queue: analysts link and mark tips, only caseworkers and admins read a contact (audited)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import World, build_world, csrf_of

CONTACT = "whatsapp +52 656 123 4567 ask for Lupita"


def _send(client, **fields: str):  # type: ignore[no-untyped-def]
    form = client.get("/tip")
    return client.post("/tip", data={"csrf_token": csrf_of(form.text), **fields}, follow_redirects=False)


def test_tip_form_in_both_languages(world: World) -> None:
    client = world.client()
    assert "What happened?" in client.get("/tip").text
    assert "¿Qué pasó?" in client.get("/tip", headers={"Accept-Language": "es"}).text
    assert 'id="website"' in client.get("/tip").text  # the honeypot field, hidden by CSS


def test_a_tip_lands_in_the_queue_with_its_contact_encrypted(tmp_path: Path) -> None:
    world = build_world(str(tmp_path / "tips.duckdb"), tmp_path)
    try:
        client = world.client()
        sent = _send(client, what="Trabajan de noche en la bodega", where="Ciudad Juárez", contact=CONTACT)
        assert sent.status_code == 303
        assert sent.headers["location"] == "/tip/thanks"
        tips = world.view.security.tips.queue("new")
        assert len(tips) == 1
        tip = tips[0]
        assert tip.what == "Trabajan de noche en la bodega"
        assert tip.has_contact
        stored = world.view.security.db.one("SELECT contact_encrypted FROM tip_submission")
        assert stored is not None
        assert CONTACT not in str(stored[0])
        columns = {r[0] for r in world.view.security.db.fetch("DESCRIBE tip_submission")}
        assert not any("addr" in c or c == "ip" for c in columns)
        entries = world.view.security.audit.entries(limit=1000)
        assert not [e for e in entries if e.address or e.actor == "anonymous"]  # nothing about the sender

        # triage: the analyst links it to a record and marks it; cannot read the contact
        analyst = world.client("analyst")
        detail = analyst.get(f"/tips/{tip.id}")
        assert "Trabajan de noche" in detail.text
        assert 'id="reveal-contact"' not in detail.text
        token = csrf_of(detail.text)
        linked = analyst.post(
            f"/tips/{tip.id}/link", data={"entity_id": f"/entity/{world.xss_id}", "csrf_token": token}
        )
        assert linked.status_code == 200
        assert world.xss_id in world.view.security.tips.get(tip.id).linked_entities  # type: ignore[union-attr]
        hidden = analyst.post(f"/tips/{tip.id}/link", data={"entity_id": world.other_victim_id, "csrf_token": token})
        assert hidden.status_code == 422  # cannot link what one may not see
        assert analyst.post(f"/tips/{tip.id}/contact", data={"csrf_token": token}).status_code == 403
        analyst.post(f"/tips/{tip.id}/status", data={"status": "triaged", "csrf_token": token})
        assert world.view.security.tips.get(tip.id).status == "triaged"  # type: ignore[union-attr]
        api = analyst.get(f"/api/v1/tips/{tip.id}/contact", headers=world.api("analyst"))
        assert api.status_code == 403

        # the caseworker may read it; the reading is audited, the contact is never logged
        caseworker = world.client("caseworker")
        page = caseworker.get(f"/tips/{tip.id}")
        shown = caseworker.post(f"/tips/{tip.id}/contact", data={"csrf_token": csrf_of(page.text)})
        assert CONTACT in shown.text
        assert caseworker.get(f"/api/v1/tips/{tip.id}/contact", headers=world.api("caseworker")).json() == {
            "contact": CONTACT
        }
        readings = world.view.security.audit.entries(action="view_tip_contact")
        assert {(e.actor, e.outcome) for e in readings} == {("caseworker", "ok"), ("analyst", "denied")}
        assert all(CONTACT not in (e.detail or "") for e in world.view.security.audit.entries(limit=1000))
        assert world.client("viewer").get("/tips").status_code == 403
    finally:
        world.app.state.services.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("tips.duckdb*") if p.is_file())
    assert CONTACT.encode() not in raw  # not in the database file, in the clear


def test_rate_limit_and_honeypot(fresh: World) -> None:
    client = fresh.client()
    for i in range(5):
        assert _send(client, what=f"tip {i}").status_code == 303
    limited = _send(client, what="one too many")
    assert limited.status_code == 429
    assert fresh.view.security.tips.count() == 5
    other = fresh.client()
    other_limiter = fresh.app.state.tip_limiter
    other_limiter._buckets.clear()  # a new client (address) would get its own bucket
    assert _send(other, what="bot", website="http://spam.example").status_code == 303  # looks accepted...
    assert fresh.view.security.tips.count() == 5  # ...but nothing was kept
    assert _send(other, what="   ").status_code == 422


def test_flood_cap_for_everyone_together() -> None:
    from cruce.web.ratelimit import TipLimiter

    clock = [0.0]
    limiter = TipLimiter(limit=5, window=600, flood_cap=10, clock=lambda: clock[0])
    allowed = sum(limiter.allow(f"10.0.0.{i}") for i in range(30))
    assert allowed == 10
    clock[0] += 600
    assert limiter.allow("10.0.0.99")


def test_the_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cruce.web.services import SettingError, Settings

    monkeypatch.setenv("CRUCE_TIP_LIMIT", "2")
    monkeypatch.setenv("CRUCE_TIP_WINDOW_SECONDS", "60")
    monkeypatch.setenv("CRUCE_TIP_FLOOD_CAP", "1000")
    settings = Settings(tmp_path, 1)
    assert (settings.tip_limit, settings.tip_window_seconds, settings.tip_flood_cap) == (2, 60.0, 1000)
    world = build_world(str(tmp_path / "limits.duckdb"), tmp_path)
    try:
        client = world.client()
        assert [_send(client, what=f"tip {i}").status_code for i in range(3)] == [303, 303, 429]
    finally:
        world.app.state.services.close()
    monkeypatch.setenv("CRUCE_TIP_LIMIT", "many")
    with pytest.raises(SettingError, match="CRUCE_TIP_LIMIT"):
        Settings(tmp_path, 1)


def test_serve_refuses_a_limit_that_is_not_a_number(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cruce.cli import build_app

    monkeypatch.setenv("CRUCE_TIP_FLOOD_CAP", "-3")
    result = CliRunner().invoke(build_app(), ["--db", str(tmp_path / "x.duckdb"), "serve", "--port", "0"])
    assert result.exit_code == 2
    assert "CRUCE_TIP_FLOOD_CAP" in result.output
