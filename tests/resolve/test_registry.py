"""The type registry names how each property is matched, and every kind has its normaliser."""

from __future__ import annotations

import pytest

from cruce.resolve.normalise.registry import NORMALISERS, match_key, match_kind
from cruce.schema.loader import default_schema


def test_every_declared_kind_has_a_normaliser() -> None:
    schema = default_schema()
    declared = {p.match for t in schema.types.values() for p in t.properties.values() if p.match}
    assert declared, "the schema declares match kinds"
    assert declared <= set(NORMALISERS)


@pytest.mark.parametrize(
    ("type_name", "prop", "kind"),
    [
        ("Person", "name", "person_name"),
        ("Person", "alias", "person_name"),
        ("Organization", "name", "org_name"),
        ("Person", "phone", "phone"),
        ("Phone", "number", "phone"),
        ("Firearm", "serial_number", "serial"),
        ("Vehicle", "plate", "plate"),
        ("Vehicle", "vin", "vin"),
        ("Person", "curp", "curp"),
        ("Person", "address", "address"),
        ("Person", "birth_date", None),
        ("Firearm", "model", None),
    ],
)
def test_kinds_come_from_the_schema(type_name: str, prop: str, kind: str | None) -> None:
    assert match_kind(type_name, prop) == kind


def test_values_that_are_the_same_get_one_key() -> None:
    assert match_key("Person", "name", "RAMÍREZ HERNÁNDEZ, José Luis") == match_key(
        "Person", "name", "José Luis Ramírez Hernández"
    )
    assert match_key("Organization", "name", "Armas del Norte, S.A. de C.V.") == match_key(
        "Organization", "name", "ARMAS DEL NORTE SA DE CV"
    )
    assert match_key("Firearm", "serial_number", "ab-0l23") == match_key("Firearm", "serial_number", "AB01 23")
    assert match_key("Person", "phone", "(656) 123 4567") == "+526561234567"
    assert match_key("Vehicle", "plate", "abc-12-34") == "ABC1234"


def test_identifiers_that_fail_their_check_get_no_key() -> None:
    assert match_key("Vehicle", "vin", "1HGCM82633A004352") == "1HGCM82633A004352"
    assert match_key("Vehicle", "vin", "1HGCM82633A004353") is None  # check digit wrong
    assert match_key("Person", "curp", "not a curp") is None
    assert match_key("Firearm", "model", "AR-15") is None  # not matched by value
