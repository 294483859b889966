"""Investigation cases through the API and the pages: who sees a case and its material, the records
named through the guard (a victim's name redacted for an analyst, in the case and in its briefing),
attachments that cannot be run or rendered, notes with mentions, tasks, and the activity history."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from tests.web.conftest import VICTIM, World, csrf_of

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _new_case(world: World, who: str, marking: str = "amber", title: str = "Operación Frontera") -> str:
    r = world.client().post(
        "/api/v1/investigations", json={"title": title, "description": "ruta Sonora", "marking": marking},
        headers=world.api(who),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _add(world: World, who: str, case_id: str, body: dict[str, Any]) -> Any:
    return world.client().post(f"/api/v1/investigations/{case_id}/items", json=body, headers=world.api(who))


def _member(world: World, case_id: str, username: str, role: str, by: str = "analyst") -> None:
    r = world.client().put(
        f"/api/v1/investigations/{case_id}/members/{username}", json={"role": role}, headers=world.api(by)
    )
    assert r.status_code == 200, r.text


def _open_person(world: World) -> str:
    hits = world.client().get("/api/v1/search", params={"q": "jose hernandez"}, headers=world.api("admin")).json()
    return str(next(h["id"] for h in hits["hits"] if "open-people" in h["datasets"]))


def test_a_non_member_is_told_the_case_does_not_exist(world: World) -> None:
    case_id = _new_case(world, "analyst")
    c = world.client()
    assert c.get(f"/api/v1/investigations/{case_id}", headers=world.api("outsider")).status_code == 404
    assert c.get(f"/api/v1/investigations/{case_id}/report", headers=world.api("outsider")).status_code == 404
    assert case_id not in c.get("/api/v1/investigations", headers=world.api("outsider")).text
    assert world.session("outsider").get(f"/investigations/{case_id}").status_code == 404
    assert _add(world, "outsider", case_id, {"entities": [_open_person(world)]}).status_code == 404
    # the member and an admin see it; the refusal was audited
    assert c.get(f"/api/v1/investigations/{case_id}", headers=world.api("analyst")).status_code == 200
    assert c.get(f"/api/v1/investigations/{case_id}", headers=world.api("admin")).status_code == 200
    denied = world.view.security.audit.entries(target=case_id, actor="outsider")
    assert denied
    assert {e.outcome for e in denied} == {"denied"}


def test_a_viewer_sees_an_amber_cases_title_and_tasks_but_not_its_items(world: World) -> None:
    case_id = _new_case(world, "analyst", "amber")
    person = _open_person(world)
    assert _add(world, "analyst", case_id, {"entities": [person]}).status_code == 201
    c = world.client()
    c.post(f"/api/v1/investigations/{case_id}/notes", json={"body": "ver @viewer"}, headers=world.api("analyst"))
    c.post(f"/api/v1/investigations/{case_id}/tasks", json={"title": "Pedir la traza"}, headers=world.api("analyst"))
    _member(world, case_id, "viewer", "reader")
    seen = c.get(f"/api/v1/investigations/{case_id}", headers=world.api("viewer")).json()
    assert seen["title"] == "Operación Frontera"
    assert seen["material"] is False
    assert seen["records"] == []
    assert [t["title"] for t in c.get(f"/api/v1/investigations/{case_id}/tasks", headers=world.api("viewer")).json()]
    assert c.get(f"/api/v1/investigations/{case_id}/notes", headers=world.api("viewer")).status_code == 403
    assert c.get(f"/api/v1/investigations/{case_id}/report", headers=world.api("viewer")).status_code == 403
    html = world.session("viewer").get(f"/investigations/{case_id}").text
    assert "José Hernández" not in html
    assert 'id="material-withheld"' in html
    assert world.session("viewer").get(f"/investigations/{case_id}/figures").status_code == 403
    # the same case at green: the viewer sees its records, named as anywhere else
    c.patch(f"/api/v1/investigations/{case_id}", json={"marking": "green"}, headers=world.api("analyst"))
    seen = c.get(f"/api/v1/investigations/{case_id}", headers=world.api("viewer")).json()
    assert [r["caption"] for r in seen["records"]] == ["José Hernández"]
    # a reader cannot change it, a viewer never edits
    assert _add(world, "viewer", case_id, {"entities": [person]}).status_code == 403


def test_a_red_case_is_for_its_leads_and_editors(world: World) -> None:
    case_id = _new_case(world, "analyst", "red")
    _add(world, "analyst", case_id, {"entities": [_open_person(world)]})
    _member(world, case_id, "caseworker", "reader")
    c = world.client()
    assert c.get(f"/api/v1/investigations/{case_id}", headers=world.api("caseworker")).json()["material"] is False
    _member(world, case_id, "caseworker", "editor")
    assert c.get(f"/api/v1/investigations/{case_id}", headers=world.api("caseworker")).json()["material"] is True


def test_the_last_lead_stays(world: World) -> None:
    case_id = _new_case(world, "analyst")
    r = world.client().delete(f"/api/v1/investigations/{case_id}/members/analyst", headers=world.api("analyst"))
    assert r.status_code == 409


def test_a_victims_name_is_redacted_in_the_case_and_its_briefing_for_an_analyst(world: World) -> None:
    case_id = _new_case(world, "analyst", "amber", "Caso Sonora")
    assert _add(world, "analyst", case_id, {"entities": [world.victim_id, _open_person(world)]}).status_code == 201
    _member(world, case_id, "admin", "reader")
    c = world.client()
    case = c.get(f"/api/v1/investigations/{case_id}", headers=world.api("analyst")).json()
    assert VICTIM not in str(case)
    assert "[redacted]" in {r["caption"] for r in case["records"]}
    page = world.session("analyst").get(f"/investigations/{case_id}").text
    assert VICTIM not in page
    for lang in ("es", "en"):
        r = c.get(f"/api/v1/investigations/{case_id}/report", params={"lang": lang, "format": "html"},
                  headers=world.api("analyst"))  # fmt: skip
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert VICTIM not in r.text
        assert "TLP:AMBER" in r.text
        assert ("[reservado]" if lang == "es" else "[redacted]") in r.text
        assert f'lang="{lang}"' in r.text
        assert "screenings-a" in r.text  # the source of the values shown
    admin = c.get(f"/api/v1/investigations/{case_id}/report", params={"format": "html"}, headers=world.api("admin"))
    assert VICTIM in admin.text
    # the PDF too, and the marking is on each of its pages
    from pypdf import PdfReader

    pdf = c.get(f"/api/v1/investigations/{case_id}/report", params={"lang": "es"}, headers=world.api("analyst"))
    assert pdf.headers["content-type"] == "application/pdf"
    assert "attachment" in pdf.headers["content-disposition"]
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages]
    assert pages
    assert all("TLP:AMBER" in text for text in pages)
    assert not any(VICTIM in text for text in pages)
    reports = world.view.security.audit.entries(target=case_id, action="investigation_report")
    assert {e.actor for e in reports} >= {"analyst", "admin"}
    assert all(VICTIM not in (e.detail or "") for e in reports)


def test_a_briefing_takes_the_highest_marking_of_its_sources(world: World) -> None:
    case_id = _new_case(world, "analyst", "green", "Green case, amber records")
    _add(world, "analyst", case_id, {"entities": [world.victim_id]})
    html = (
        world.client()
        .get(f"/api/v1/investigations/{case_id}/report", params={"format": "html"}, headers=world.api("analyst"))
        .text
    )
    assert "TLP:AMBER" in html  # screenings-a is amber
    assert "TLP:GREEN" not in html


def test_records_the_member_may_not_see_are_counted_not_named(world: World) -> None:
    case_id = _new_case(world, "admin", "green")
    assert _add(world, "admin", case_id, {"entities": [world.other_victim_id, _open_person(world)]}).status_code == 201
    _member(world, case_id, "analyst", "editor", by="admin")
    seen = world.client().get(f"/api/v1/investigations/{case_id}", headers=world.api("analyst")).json()
    assert seen["withheld"] == 1  # screenings-b belongs to another unit
    assert [r["caption"] for r in seen["records"]] == ["José Hernández"]
    # and an analyst cannot add what they may not see
    assert _add(world, "analyst", case_id, {"entities": [world.other_victim_id]}).status_code == 404


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("report.pdf", ELF),  # a program named as a document
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 100),
        ("notes.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),  # a web page named as text
        ("chart.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("photo.png", PDF),  # a real type, not the one its name says
        ("run.sh", b"#!/bin/sh\nrm -rf /\n"),
    ],
)
def test_a_disguised_program_or_page_is_refused(world: World, name: str, content: bytes) -> None:
    case_id = _new_case(world, "analyst")
    r = world.client().post(
        f"/api/v1/investigations/{case_id}/attachments", files={"file": (name, content)}, headers=world.api("analyst")
    )
    assert r.status_code == 415, r.text
    assert (
        world.client().get(f"/api/v1/investigations/{case_id}/attachments", headers=world.api("analyst")).json() == []
    )


def test_an_attachment_is_kept_under_a_random_name_and_served_inertly(world: World) -> None:
    case_id = _new_case(world, "analyst")
    c = world.client()
    r = c.post(
        f"/api/v1/investigations/{case_id}/attachments", files={"file": ("../../informe final.pdf", PDF)},
        headers=world.api("analyst"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    saved = r.json()
    assert saved["filename"] == "informe final.pdf"
    assert saved["media_type"] == "application/pdf"
    kept = list((world.tmp / "uploads" / "investigations").iterdir())
    assert all(re.fullmatch(r"[0-9a-f]{32}", p.name) for p in kept)
    assert PDF in {p.read_bytes() for p in kept}
    got = c.get(f"/api/v1/investigations/{case_id}/attachments/{saved['id']}", headers=world.api("analyst"))
    assert got.content == PDF
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    # through the page as well; an outsider gets nothing
    page = world.session("analyst").get(f"/investigations/{case_id}/attachments/{saved['id']}")
    assert page.content == PDF
    assert page.headers["content-disposition"].startswith("attachment;")
    outsider = c.get(f"/api/v1/investigations/{case_id}/attachments/{saved['id']}", headers=world.api("outsider"))
    assert outsider.status_code == 404


def test_the_workspace_from_the_pages(world: World) -> None:
    """Open a case, add search results ticked on the search page, an entity from its page, a note
    mentioning a member, a task; each shows on the case page and in its activity."""
    analyst = world.session("analyst")
    form = analyst.get("/investigations")
    r = analyst.post(
        "/investigations", data={"csrf_token": csrf_of(form.text), "title": "Caso Juárez", "marking": "amber"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    case_id = r.headers["location"].rsplit("/", 1)[-1]
    search = analyst.get("/search", params={"q": "hernandez"})
    assert 'form="add-hits"' in search.text
    person = _open_person(world)
    r = analyst.post(
        "/investigations/items",
        data={"csrf_token": csrf_of(search.text), "case": case_id, "entity": [person], "q": "hernandez",
              "save_search": "yes", "next": "/search?q=hernandez"},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    assert r.headers["location"].startswith("/search?q=hernandez&added=2")
    entity_page = analyst.get(f"/entity/{world.xss_id}")
    assert 'id="add-entity"' in entity_page.text
    analyst.post(
        "/investigations/items",
        data={"csrf_token": csrf_of(entity_page.text), "case": case_id, "entity": [world.xss_id]},
    )  # fmt: skip
    _member(world, case_id, "caseworker", "editor")
    token = csrf_of(analyst.get(f"/investigations/{case_id}").text)
    analyst.post(f"/investigations/{case_id}/notes", data={"csrf_token": token, "body": "Revisar con @caseworker"})
    analyst.post(
        f"/investigations/{case_id}/tasks",
        data={"csrf_token": token, "title": "Llamar a la ATF", "owner": "caseworker", "due": "2030-01-31"},
    )  # fmt: skip
    page = analyst.get(f"/investigations/{case_id}").text
    assert "José Hernández" in page
    assert "&lt;script&gt;" in page  # a name holding a script tag is shown as text
    assert "<script>alert(1)" not in page
    assert "Revisar con @caseworker" in page
    assert "Llamar a la ATF" in page
    assert "/search?q=hernandez" in page
    assert 'id="case-activity"' in page
    assert f'hx-get="/investigations/{case_id}/figures"' in page  # the network and timeline, loaded after
    figures = analyst.get(f"/investigations/{case_id}/figures", headers={"HX-Request": "true"})
    assert 'id="case-network"' in figures.text
    assert "<html" not in figures.text
    assert 'id="case-network"' in analyst.get(f"/investigations/{case_id}/figures").text  # a page without script
    mentioned = world.session("caseworker").get("/investigations").text
    assert "Caso Juárez" in mentioned
    assert 'id="mentions"' in mentioned
    actions = {e.action for e in world.view.security.audit.entries(target=case_id)}
    assert {"investigation_create", "investigation_add", "investigation_note", "investigation_task"} <= actions
    # without the form's token nothing is changed
    r = analyst.post(f"/investigations/{case_id}/notes", data={"csrf_token": "forged", "body": "x"})
    assert r.status_code == 403


def test_the_explorer_adds_selected_entities_and_the_chart(world: World) -> None:
    case_id = _new_case(world, "analyst")
    analyst = world.session("analyst")
    graph = analyst.get("/graph").text
    assert 'id="explorer-add-to-case"' in graph
    token = csrf_of(analyst.get(f"/investigations/{case_id}").text)
    person = _open_person(world)
    chart = {"nodes": [{"id": person, "x": 1.0, "y": 2.0}], "filters": {}}
    r = analyst.post(
        f"/investigations/{case_id}/explorer", json={"ids": [person], "name": "Red", "chart": chart},
        headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["added"] == 1
    assert analyst.post(f"/investigations/{case_id}/explorer", json={"ids": [person]}).status_code == 403
    saved = world.client().get(f"/api/v1/investigations/{case_id}", headers=world.api("analyst")).json()["saved"]
    assert [(s["kind"], s["label"], s["nodes"]) for s in saved] == [("chart", "Red", 1)]


def test_a_case_and_its_briefing_on_each_backend(fresh: World) -> None:
    case_id = _new_case(fresh, "analyst", "amber")
    assert _add(fresh, "analyst", case_id, {"entities": [fresh.victim_id]}).status_code == 201
    c = fresh.client()
    r = c.post(f"/api/v1/investigations/{case_id}/tasks", json={"title": "Revisar", "due": "2030-02-30"},
               headers=fresh.api("analyst"))  # fmt: skip
    assert r.status_code == 409  # not a day of the calendar
    activity = c.get(f"/api/v1/investigations/{case_id}/activity", headers=fresh.api("analyst")).json()
    assert [a["action"] for a in activity][-1] == "investigation_create"
    html = c.get(
        f"/api/v1/investigations/{case_id}/report",
        params={"format": "html", "lang": "es"},
        headers=fresh.api("analyst"),
    ).text
    assert "[reservado]" in html
    assert VICTIM not in html
