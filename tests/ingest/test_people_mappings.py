"""Built-in mappings of the people flow: screenings, tips, person crossings, documents.

Every name, number and plate below is made up; the rows are synthetic.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from cruce.export import write_csv
from cruce.ingest.compile import entity_id
from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.schema.model import PropertyType
from cruce.store import open_store
from cruce.store.base import Entity, Store


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _assert_no_dangling(store: Store) -> None:
    schema = default_schema()
    for entity in store.iter_entities():
        for prop, values in entity.properties.items():
            if schema.get(entity.schema).properties[prop].type is PropertyType.ENTITY:
                assert all(store.entity(v) is not None for v in values), (entity.schema, prop)


def _get(store: Store, dataset: str, prefix: str, *keys: str) -> Entity:
    entity = store.entity(entity_id(dataset, prefix, *keys))
    assert entity is not None, (prefix, keys)
    return entity


def _rejects(store: Store) -> list[tuple[int, str, str, str]]:
    return [(r.source_row, r.field, r.reason, r.value) for r in store.rejects()]


SCREENING = {
    "screening_id": "SCR-1", "date": "16/09/2022", "place": "Juárez", "state": "Chihuahua",
    "organization": "Refugio Inventado A.C.", "org_type": "ngo", "screener": "Fulana Ficticia Uno",
    "language": "Español", "instrument": "TVIT versión corta, adaptación v1", "person_name": "Mengana Imaginaria Dos",
    "person_dob": "21/02/2003", "person_gender": "Mujer", "person_nationality": "Guatemala",
    "person_languages": "es;mam", "person_indigenous": "sí", "q_recruitment": "sí", "q_false_promises": "sí",
    "q_debt": "no", "q_documents_kept": "sí", "q_money_kept": "no", "q_movement_restricted": "sí",
    "q_threats_violence": "no sabe", "q_conditions": "no", "q_sexual_exploitation": "no", "q_isolation": "no",
    "indicators": "recruitment;false_promises;documents_kept;movement_restricted", "score": "6",
    "recommendation": "seguimiento",
}  # fmt: skip


def test_screenings(tmp_path: Path) -> None:
    rows = [
        SCREENING,
        SCREENING | {"screening_id": "SCR-2", "date": "2023-01-05", "language": "en", "place": "El Paso",
                     "state": "TX", "person_name": "Zutano Sintético", "person_dob": "", "person_gender": "M",
                     "person_nationality": "MX", "person_languages": "es", "person_indigenous": "",
                     "indicators": "", "score": "0", "recommendation": "not indicated"},
        SCREENING | {"screening_id": "SCR-3", "date": "31/02/2022"},  # no such day
        SCREENING | {"screening_id": "SCR-4", "person_name": ""},  # nobody screened
    ]  # fmt: skip
    source = _write(tmp_path / "screenings.csv", rows)
    with open_store(":memory:") as store:
        result = import_file(store, source, "cruce-screenings")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 2, 2)
        assert _rejects(store) == [
            (4, "date → screening.date", "invalid_date", "31/02/2022"),
            (5, "person → screening.person", "required_missing", ""),
        ]
        first = _get(store, "cruce-screenings", "screening", "SCR-1")
        assert first.schema == "Screening"
        assert first.first("date") == "2022-09-16"
        assert (first.first("language"), first.first("recommendation"), first.first("score")) == ("es", "possible", "6")
        assert sorted(first.properties["indicators"]) == [
            "documents_kept", "false_promises", "movement_restricted", "recruitment",
        ]  # fmt: skip
        assert first.first("state") == "MX-CHH"
        person = store.entity(first.first("person") or "")
        assert person is not None
        assert person.first("name") == "Mengana Imaginaria Dos"
        assert (person.first("birth_date"), person.first("gender"), person.first("nationality")) == (
            "2003-02-21",
            "female",
            "GT",
        )
        assert sorted(person.properties["language"]) == ["es", "mam"]
        assert person.first("indigenous") == "yes"
        org = store.entity(first.first("organization") or "")
        assert org is not None
        assert (org.first("name"), org.first("org_type")) == ("Refugio Inventado A.C.", "ngo")
        place = store.entity(first.first("place") or "")
        assert place is not None
        assert (place.first("municipality"), place.first("state")) == ("Juárez", "MX-CHH")
        second = _get(store, "cruce-screenings", "screening", "SCR-2")
        assert (second.first("recommendation"), second.first("state")) == ("not_indicated", "US-TX")
        assert "indicators" not in second.properties
        assert default_schema().get("Screening").properties["person"].protected
        _assert_no_dangling(store)


TIP = {
    "tip_id": "TIP-1", "received_at": "2021-03-04 14:22", "channel": "WhatsApp", "language": "es",
    "flow": "people", "status": "new", "place": "Nogales", "state": "Son.", "country": "MX",
    "text": "Les quitaron sus papeles y no los dejan salir. Su número es 044 631 123 4567.",
    "anonymous": "no", "tipster_name": "Perengana Ficticia", "tipster_phone": "+1 (915) 555-0142",
    "tipster_email": "perengana@example.com", "subject_name": "Fulano Inventado", "subject_alias": "El Güero",
    "subject_phone_mx": "(631) 123-4567", "subject_phone_us": "915-555-0199", "vehicle_plate": "ABC-123-D",
    "vehicle_make": "Nissan", "vehicle_color": "blanca", "organization": "Los Inventados",
}  # fmt: skip


def test_tips(tmp_path: Path) -> None:
    rows = [
        TIP,
        TIP | {"tip_id": "TIP-2", "received_at": "05/03/2021 08:00", "language": "English", "flow": "drugs;firearms",
               "anonymous": "yes", "tipster_name": "", "tipster_phone": "", "tipster_email": "",
               "subject_phone_us": "", "vehicle_plate": "", "organization": "", "state": "TX", "country": "US",
               "place": "El Paso", "subject_phone_mx": "+52 631 123 4567"},
        TIP | {"tip_id": "TIP-3", "subject_name": "", "subject_alias": "", "subject_phone_mx": "",
               "subject_phone_us": "", "vehicle_plate": "", "organization": "", "anonymous": "sí",
               "tipster_name": "", "tipster_phone": "", "tipster_email": "", "flow": "other"},
        TIP | {"tip_id": "TIP-4", "subject_phone_mx": "044 631 123 4567"},  # not a dialable number any more
    ]  # fmt: skip
    source = _write(tmp_path / "tips.csv", rows)
    with open_store(":memory:") as store:
        result = import_file(store, source, "cruce-tips")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 3, 1)
        assert _rejects(store) == [
            (5, "subject_phone_mx → phone_mx.number", "invalid_phone", "044 631 123 4567"),
        ]
        tip = _get(store, "cruce-tips", "tip", "TIP-1")
        assert tip.first("received_at") == "2021-03-04T14:22:00"
        assert (tip.first("channel"), tip.first("language"), tip.first("flow")) == ("text_message", "es", "people")
        assert (tip.first("anonymous"), tip.first("status"), tip.first("country")) == ("no", "new", "MX")
        assert tip.first(
            "text",
        ).startswith("Les quitaron")
        assert tip.first("tipster_name") == "Perengana Ficticia"
        assert tip.first("tipster_phone") == "+19155550142"
        assert tip.first("tipster_email") == "perengana@example.com"
        place = store.entity(tip.first("place") or "")
        assert place is not None
        assert (place.first("name"), place.first("state")) == ("Nogales", "MX-SON")

        subject = _get(store, "cruce-tips", "tip-subject", "TIP-1")
        assert (subject.first("name"), subject.first("alias")) == ("Fulano Inventado", "El Güero")
        uses = [u for u in store.iter_entities(schema="Uses") if u.first("user") == subject.id]
        items = {store.entity(u.first("item") or "").schema: store.entity(u.first("item") or "") for u in uses}
        assert set(items) == {"Phone", "Vehicle"}
        phones = sorted(
            (store.entity(u.first("item") or "") or Entity("", "")).first("number") or ""
            for u in uses
            if (store.entity(u.first("item") or "") or Entity("", "")).schema == "Phone"
        )
        assert phones == ["+19155550199", "+526311234567"]
        assert (items["Vehicle"].first("plate"), items["Vehicle"].first("color")) == ("ABC-123-D", "blanca")
        member = [m for m in store.iter_entities(schema="MemberOf") if m.first("member") == subject.id]
        assert len(member) == 1
        assert member[0].first("confidence") == "0.3"
        org = store.entity(member[0].first("organization") or "")
        assert org is not None
        assert (org.first("name"), org.first("org_type")) == ("Los Inventados", "cartel")

        second = _get(store, "cruce-tips", "tip", "TIP-2")
        assert second.first("received_at") == "2021-03-05T08:00:00"
        assert sorted(second.properties["flow"]) == ["drugs", "firearms"]
        assert (second.first("language"), second.first("anonymous")) == ("en", "yes")
        assert "tipster_name" not in second.properties
        third = _get(store, "cruce-tips", "tip", "TIP-3")
        assert third.first("anonymous") == "yes"
        assert store.entity(entity_id("cruce-tips", "tip-subject", "TIP-3")) is None

        # the tipster is never a Person, and exports leave the tipster out unless asked
        assert "Perengana Ficticia" not in {p.first("name") for p in store.iter_entities(schema="Person")}
        tip_type = default_schema().get("Tip")
        out = io.StringIO()
        write_csv(iter([tip]), tip_type, out)
        assert "Perengana" not in out.getvalue()
        out = io.StringIO()
        write_csv(iter([tip]), tip_type, out, include_protected=True)
        assert "Perengana" in out.getvalue()
        _assert_no_dangling(store)


CROSSING = {
    "crossing_id": "X1", "crossing_time": "2021-10-27 07:55", "port_name": "El Paso", "port_code": "2402",
    "port_state": "TX", "direction": "northbound", "mode": "POV", "outcome": "admitted",
    "traveler_name": "INVENTADO SINTÉTICO, FULANO", "traveler_dob": "1985-02-06", "traveler_gender": "M",
    "traveler_nationality": "MX", "document_type": "bcc", "document_number": "123456789",
    "vehicle_plate": "EFA-123-B", "plate_state": "Chih.", "vehicle_make": "Dodge",
}  # fmt: skip


def test_person_crossings(tmp_path: Path) -> None:
    rows = [
        CROSSING,
        CROSSING | {"crossing_id": "X2", "traveler_name": "Mengana Imaginaria", "traveler_gender": "F",
                    "traveler_nationality": "Guatemala", "document_number": "A1234567", "document_type": "passport"},
        CROSSING | {"crossing_id": "X3", "crossing_time": "2022-01-02 23:10", "direction": "outbound",
                    "mode": "a pie", "vehicle_plate": "", "plate_state": "", "vehicle_make": "",
                    "port_name": "Nogales", "port_code": "2604", "port_state": "AZ"},
        CROSSING | {"crossing_id": "X4", "direction": "sideways"},
    ]  # fmt: skip
    source = _write(tmp_path / "crossings.csv", rows)
    with open_store(":memory:") as store:
        result = import_file(store, source, "cruce-person-crossings")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (4, 3, 1)
        assert sorted(r[:3] for r in _rejects(store)) == [
            (5, "direction → crossed_at.direction", "invalid_enum"),
            (5, "direction → crossing.direction", "invalid_enum"),
            (5, "direction → vehicle_crossed_at.direction", "invalid_enum"),
        ]
        counts = store.counts_by_schema()
        assert counts["BorderCrossing"] == 3
        assert counts["Vehicle"] == 1  # X1 and X2 came in the same car
        assert counts["CrossedAt"] == 3 + 2
        first = _get(store, "cruce-person-crossings", "crossing", "X1")
        assert (first.first("date"), first.first("crossing_time")) == ("2021-10-27", "2021-10-27T07:55:00")
        assert (first.first("direction"), first.first("mode"), first.first("outcome")) == (
            "northbound",
            "personal_vehicle",
            "admitted",
        )
        assert first.first("state") == "US-TX"
        port = store.entity(first.first("port") or "")
        assert port is not None
        assert (port.first("name"), port.first("port_code"), port.first("location_type")) == (
            "El Paso",
            "2402",
            "port_of_entry",
        )
        traveler = store.entity(first.first("person") or "")
        assert traveler is not None
        assert traveler.first("name") == "INVENTADO SINTÉTICO, FULANO"
        assert (traveler.first("birth_date"), traveler.first("id_number"), traveler.first("nationality")) == (
            "1985-02-06",
            "123456789",
            "MX",
        )
        vehicle = store.entity(first.first("vehicle") or "")
        assert vehicle is not None
        assert (vehicle.first("plate"), vehicle.first("plate_state"), vehicle.first("make")) == (
            "EFA-123-B",
            "MX-CHH",
            "Dodge",
        )
        second = _get(store, "cruce-person-crossings", "crossing", "X2")
        assert second.first("vehicle") == vehicle.id
        crossed = [c for c in store.iter_entities(schema="CrossedAt") if c.first("crossing") == first.id]
        assert sorted(store.entity(c.first("crosser") or "").schema for c in crossed) == ["Person", "Vehicle"]
        assert all(c.first("port") == port.id and c.first("start_date") == "2021-10-27" for c in crossed)
        third = _get(store, "cruce-person-crossings", "crossing", "X3")
        assert (third.first("direction"), third.first("mode"), third.first("vehicle")) == (
            "southbound",
            "pedestrian",
            None,
        )
        _assert_no_dangling(store)


def test_documents(tmp_path: Path) -> None:
    doc = {
        "doc_id": "DOC-1", "document_type": "Informe", "title": "Informe policial", "language": "es",
        "date": "2020-12-08", "author": "Unidad de Investigación", "publisher": "Policía Inventada",
        "text": "Se recibió la declaración de la víctima de iniciales A.B.C., quien refiere que Fulano Inventado "
                "la contactó con una oferta de trabajo.",
        "person_named": "Fulano Inventado",
    }  # fmt: skip
    rows = [
        doc,
        doc | {"doc_id": "DOC-2", "document_type": "interview", "language": "English", "date": "05/03/2021",
               "person_named": ""},
        doc | {"doc_id": "DOC-3", "document_type": "memo"},
    ]  # fmt: skip
    source = _write(tmp_path / "documents.csv", rows)
    with open_store(":memory:") as store:
        result = import_file(store, source, "cruce-documents")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (3, 2, 1)
        assert _rejects(store) == [(4, "document_type → document.document_type", "invalid_enum", "memo")]
        first = _get(store, "cruce-documents", "document", "DOC-1")
        assert (first.first("document_type"), first.first("language"), first.first("published_date")) == (
            "report",
            "es",
            "2020-12-08",
        )
        assert "iniciales A.B.C." in (first.first("body_text") or "")
        person = _get(store, "cruce-documents", "document-person", "DOC-1")
        assert person.first("name") == "Fulano Inventado"
        # the person and the document share their source row
        assert {s.source_row for s in person.statements} == {s.source_row for s in first.statements} == {2}
        second = _get(store, "cruce-documents", "document", "DOC-2")
        assert (second.first("document_type"), second.first("language"), second.first("published_date")) == (
            "interview",
            "en",
            "2021-03-05",
        )
        assert store.entity(entity_id("cruce-documents", "document-person", "DOC-2")) is None
