"""Who, which phone and where a tip names, in English, Spanish and both, as a caseworker would
write or read them: names with particles and titles, nicknames, phones in any layout normalised as
cruce stores them, states and border cities without their accents; and what is not a name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cruce.people.mentions import mentions
from cruce.security.audit import now

CASES = [
    (
        "Hay una muchacha en el rancho de Rogelio Tamez Garza cerca de Ciudad Juárez, Chihuahua. "
        "Llamen al 656 123 4567. Le dicen El Güero.",
        {
            ("person", "Rogelio Tamez Garza"),
            ("place", "Ciudad Juárez"),
            ("place", "Chihuahua"),
            ("phone", "+526561234567"),
            ("person", "El Güero"),
        },
    ),
    (
        "They took the girls to a house in El Paso, Texas. The man is named Jorge Luis de la Cruz, "
        "his cell is (915) 555-0134.",
        {("place", "El Paso"), ("place", "Texas"), ("person", "Jorge Luis de la Cruz"), ("phone", "+19155550134")},
    ),
    (
        'La Señora María de los Ángeles Ruiz Pérez cobra la deuda. Alias "La Tía".',
        {("person", "María de los Ángeles Ruiz Pérez"), ("person", "La Tía")},
    ),
    (
        "Juan Pérez de Nuevo Laredo los lleva a tijuana en camioneta. whatsapp +52 1 899 555 0101",
        {("person", "Juan Pérez"), ("place", "Nuevo Laredo"), ("place", "Tijuana"), ("phone", "+528995550101")},
    ),
    (
        "Ayer en Reynosa vi a una niña con un señor. El lunes la llevaron a McAllen. No sé su nombre.",
        {("place", "Reynosa"), ("place", "McAllen")},
    ),
    ("The Police came on Monday. Nobody was arrested. Facebook ad said good pay.", set()),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_mentions_found_as_written(text: str, expected: set[tuple[str, str]]) -> None:
    found = mentions(text)
    assert {(m.kind, m.value) for m in found} == expected
    for mention in found:  # each span points at the words in the text as written
        assert text[mention.start : mention.end] == mention.text


def test_the_same_thing_named_twice_is_one_mention() -> None:
    found = mentions("Call 656-123-4567 or (656) 123 4567. Juárez, Juarez.")
    assert [(m.kind, m.value) for m in found] == [("phone", "+526561234567"), ("place", "Juárez")]


def test_the_tip_page_proposes_the_records_a_tip_names(tmp_path: Path) -> None:
    """A tip naming a known person and phone: the page lists both mentions with the record each may
    be (found through cruce's search), and the analyst links it with one click."""
    from tests.web.conftest import build_world, csrf_of

    world = build_world(str(tmp_path / "web.duckdb"), tmp_path)
    try:
        person = "José Hernández"  # in the world's open dataset
        tip_id = world.view.security.tips.submit(
            what=f"Un señor que se llama {person} trae muchachas de Guatemala a Nogales. Tel 656 123 4567.",
            language="es", now=now(),
        )  # fmt: skip
        client = world.client("analyst")
        page = client.get(f"/tips/{tip_id}")
        assert page.status_code == 200
        mentions_html = page.text.split('id="tip-mentions"', 1)[1].split("<h2>", 1)[0]
        assert 'data-kind="person"' in mentions_html
        assert 'data-kind="phone"' in mentions_html
        assert 'data-kind="place"' in mentions_html
        found = re.search(r'href="/entity/([0-9a-f-]+)">' + re.escape(person), mentions_html)
        assert found, "the person the tip names is proposed"
        linked = client.post(
            f"/tips/{tip_id}/link", data={"csrf_token": csrf_of(page.text), "entity_id": found.group(1)}
        )
        assert linked.status_code in (200, 302, 303)
        assert found.group(1) in world.view.security.tips.get(tip_id).linked_entities  # type: ignore[union-attr]
    finally:
        world.app.state.services.close()


def test_scan_a_text_on_the_api(tmp_path: Path) -> None:
    """POST /api/v1/people/scan: the indicators with their spans and score, and the mentions; a read
    token is enough, none is refused; an over-long text is a 422."""
    from tests.web.conftest import build_world

    world = build_world(str(tmp_path / "web.duckdb"), tmp_path)
    try:
        text = (
            "Le quitaron el pasaporte y no la dejan salir. Dicen que es menor de edad, tiene 15 años. "
            "Llamen al 656 123 4567."
        )
        client = world.client()
        answer = client.post("/api/v1/people/scan", json={"text": text}, headers=world.api("viewer"))
        assert answer.status_code == 200
        found = answer.json()
        assert {"control", "minors"} <= set(found["families"])
        assert found["score"] > 0
        for hit in found["hits"]:
            assert text[hit["start"] : hit["end"]] == hit["text"]
        assert [(m["kind"], m["value"]) for m in found["mentions"]] == [("phone", "+526561234567")]
        assert client.post("/api/v1/people/scan", json={"text": text}).status_code == 401
        too_long = client.post("/api/v1/people/scan", json={"text": "x" * 50_001}, headers=world.api("viewer"))
        assert too_long.status_code == 422
        # the tip's own page shows its whole text with the indicators highlighted
        tip_id = world.view.security.tips.submit(what=text, language="es", now=now())
        page = world.client("analyst").get(f"/tips/{tip_id}").text
        what = page.split('id="tip-what">', 1)[1].split("</dd>", 1)[0]
        assert what.count("<mark") >= 2
        assert 'id="tip-score"' in page
    finally:
        world.app.state.services.close()
