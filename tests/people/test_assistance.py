"""The assistance path of victim cases: the rules of each step (time-limited consent, referrals
that share data need it, services never do, the HHS letter by age), reminders, encrypted notes;
and the pages: only the assigned caseworker and admins see a case, every reading audited, the
victim's name never shown to others nor written in the log."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from cruce.people.assistance import PathError
from tests.web.conftest import VICTIM, World, csrf_of
from tests.web.conftest import fresh as fresh  # a world of its own on each backend
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL
from tests.web.conftest import world as world  # one world for the module

DAY = date(2026, 3, 1)
AT = datetime(2026, 3, 1, 9, 0)


def _cases(world: World):  # type: ignore[no-untyped-def]
    return world.view.security.assistance


def test_the_rules_of_the_path(fresh: World) -> None:
    cases = _cases(fresh)
    adult = cases.open_case(label="AC-1", caseworker="caseworker", by="caseworker", now=AT)
    # services never wait for consent
    cases.add_step(adult.id, kind="service", state="provided", subtype="shelter", on=DAY, by="caseworker", now=AT)
    # a referral shares data: refused without a consent to referral valid that day
    with pytest.raises(PathError, match="consent"):
        cases.add_step(adult.id, kind="referral", state="requested", organization="Legal aid", on=DAY,
                       by="caseworker", now=AT)  # fmt: skip
    with pytest.raises(PathError, match="time-limited"):  # consent without an expiry
        cases.add_step(adult.id, kind="consent", state="given", scopes=("referral",), on=DAY, by="caseworker", now=AT)
    cases.add_step(adult.id, kind="consent", state="given", scopes=("referral",), on=DAY,
                   expires=DAY + timedelta(days=90), by="caseworker", now=AT)  # fmt: skip
    cases.add_step(adult.id, kind="referral", state="requested", organization="Legal aid", on=DAY,
                   due=DAY + timedelta(days=7), by="caseworker", now=AT)  # fmt: skip
    assert cases.valid_consent(adult.id, "referral", DAY + timedelta(days=89)) is not None
    assert cases.valid_consent(adult.id, "referral", DAY + timedelta(days=91)) is None  # expired
    # withdrawn consent stops the next referral
    cases.add_step(adult.id, kind="consent", state="withdrawn", scopes=("referral",), on=DAY + timedelta(days=10),
                   by="caseworker", now=AT)  # fmt: skip
    with pytest.raises(PathError, match="consent"):
        cases.add_step(adult.id, kind="referral", state="requested", organization="Clinic",
                       on=DAY + timedelta(days=11), by="caseworker", now=AT)  # fmt: skip
    # the HHS letter follows the person's age
    with pytest.raises(PathError, match="eligibility letter"):
        cases.add_step(adult.id, kind="hhs_eligibility_letter", state="requested", on=DAY, by="caseworker", now=AT)
    cases.add_step(adult.id, kind="hhs_certification", state="requested", on=DAY, by="caseworker", now=AT)
    minor = cases.open_case(label="AC-2", caseworker="caseworker", by="caseworker", now=AT, minor=True)
    with pytest.raises(PathError, match="certification"):
        cases.add_step(minor.id, kind="hhs_certification", state="requested", on=DAY, by="caseworker", now=AT)
    with pytest.raises(PathError, match="can be"):
        cases.add_step(minor.id, kind="t_visa", state="granted", on=DAY, by="caseworker", now=AT)
    with pytest.raises(PathError, match="label"):
        cases.open_case(label="  ", caseworker="caseworker", by="caseworker", now=AT)
    kinds = [s.kind for s in cases.path(adult.id)]
    assert kinds.count("referral") == 1
    assert kinds.count("consent") == 2


def test_reminders_and_encrypted_notes(fresh: World) -> None:
    cases = _cases(fresh)
    case = cases.open_case(label="AC-3", caseworker="caseworker", by="caseworker", now=AT)
    other = cases.open_case(label="AC-4", caseworker="outsider", by="outsider", now=AT)
    note = "Agent asked for the timeline"
    cases.add_step(case.id, kind="le_declaration", state="requested", organization="HSI", on=DAY,
                   due=DAY + timedelta(days=5), by="caseworker", now=AT, note=note)  # fmt: skip
    cases.add_step(case.id, kind="continued_presence", state="granted", on=DAY, expires=DAY + timedelta(days=10),
                   by="caseworker", now=AT)  # fmt: skip
    cases.add_step(case.id, kind="t_visa", state="preparing", on=DAY, due=DAY + timedelta(days=60),
                   by="caseworker", now=AT)  # fmt: skip
    cases.add_step(other.id, kind="le_declaration", state="requested", on=DAY, due=DAY + timedelta(days=1),
                   organization="FBI", by="outsider", now=AT)  # fmt: skip
    due = cases.reminders("caseworker", DAY, days=14)
    assert [(c.label, s.kind) for c, s in due] == [("AC-3", "le_declaration"), ("AC-3", "continued_presence")]
    cases.add_step(case.id, kind="le_declaration", state="signed", organization="HSI", on=DAY + timedelta(days=3),
                   by="caseworker", now=AT)  # fmt: skip
    assert [s.kind for _c, s in cases.reminders("caseworker", DAY, days=14)] == ["continued_presence"]
    assert {c.label for c, _s in cases.reminders(None, DAY, days=14)} == {"AC-3", "AC-4"}  # an admin's view
    stored = fresh.view.security.db.fetch("SELECT note_encrypted FROM assistance_step WHERE note_encrypted IS NOT NULL")
    assert stored
    assert "timeline" not in str(stored)  # encrypted at rest
    assert any(s.note == "Agent asked for the timeline" for s in cases.path(case.id))


def _form(client, url: str) -> str:  # type: ignore[no-untyped-def]
    return csrf_of(client.get(url).text)


def test_only_the_caseworker_and_admins_see_a_case_and_every_reading_is_audited(world: World) -> None:
    victim = world.victim_id
    worker = world.session("caseworker")
    token = _form(worker, "/cases/new")
    made = worker.post("/cases", data={"csrf_token": token, "label": "AC-77", "subject_entity": f"/entity/{victim}"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code in (302, 303)
    case_id = made.headers["location"].rsplit("/", 1)[-1]
    page = worker.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "AC-77" in page.text
    assert VICTIM not in page.text  # the case page names no one; the record's page decides
    step = worker.post(f"/cases/{case_id}/steps", data={
        "csrf_token": csrf_of(page.text), "kind": "referral", "state": "requested", "organization": "Legal aid",
        "on": "2026-03-02"})  # fmt: skip
    assert step.status_code == 422
    assert "consent" in step.text
    consent = worker.post(f"/cases/{case_id}/steps", data={
        "csrf_token": csrf_of(page.text), "kind": "consent", "state": "given", "on": date.today().isoformat(),
        "expires": (date.today() + timedelta(days=30)).isoformat(), "scopes": ["referral", "services"]},
        follow_redirects=True)  # fmt: skip
    assert consent.status_code == 200
    assert 'data-kind="consent"' in consent.text
    assert re.search(r'data-scope="referral">[^<]*<strong>', consent.text)  # valid today
    listing = worker.get("/cases")
    assert re.search(r'class="case-link" href="/cases/' + case_id, listing.text)
    assert world.session("admin").get(f"/cases/{case_id}").status_code == 200
    for who in ("outsider", "analyst", "viewer"):
        assert world.session(who).get(f"/cases/{case_id}").status_code == 403, who
    assert world.session("analyst").get("/cases").status_code == 403
    assert case_id not in world.session("outsider").get("/cases").text
    entries = [e for e in world.view.security.audit.entries() if e.action == "view_case" and e.target == case_id]
    assert {(e.actor, e.outcome) for e in entries} >= {("caseworker", "ok"), ("admin", "ok"), ("outsider", "denied")}


def test_no_victim_name_in_the_server_log(world: World, caplog: pytest.LogCaptureFixture) -> None:
    worker = world.session("caseworker")
    with caplog.at_level("DEBUG"):
        token = _form(worker, "/cases/new")
        made = worker.post("/cases", data={"csrf_token": token, "label": "AC-78",
                                           "subject_entity": world.victim_id}, follow_redirects=False)  # fmt: skip
        worker.get(made.headers["location"])
    assert made.status_code in (302, 303)
    assert VICTIM not in caplog.text


def test_a_tip_becomes_a_case_for_a_caseworker(world: World) -> None:
    tip_id = world.view.security.tips.submit(what="They took our passports at the farm", language="en",
                                             now=AT)  # fmt: skip
    worker = world.session("caseworker")
    page = worker.get(f"/tips/{tip_id}")
    assert 'id="open-case"' in page.text
    made = worker.post(f"/tips/{tip_id}/case", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert made.status_code in (302, 303)
    case_id = made.headers["location"].rsplit("/", 1)[-1]
    case, path = _cases(world).case(case_id), _cases(world).path(case_id)
    assert (case.label, case.caseworker) == (f"TIP-{tip_id[:8]}", "caseworker")
    assert [s.note for s in path] == [f"Opened from tip {tip_id}"]
    analyst = world.session("analyst")
    shown = analyst.get(f"/tips/{tip_id}")
    assert 'id="open-case"' not in shown.text
    refused = analyst.post(f"/tips/{tip_id}/case", data={"csrf_token": csrf_of(shown.text)})
    assert refused.status_code == 403
