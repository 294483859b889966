"""The loader rejects every kind of broken schema with a SchemaError naming the file and the
type or property at fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from cruce.schema.loader import SchemaError, default_schema, load_schema

BASE = """\
# test base
types:
  Thing:
    kind: entity
    abstract: true
    label: {en: Thing, es: Cosa}
    plural: {en: Things, es: Cosas}
    properties:
      name: {type: name, label: {en: Name, es: Nombre}}
  Relation:
    kind: relation
    abstract: true
    label: {en: Relation, es: Relación}
    plural: {en: Relations, es: Relaciones}
    properties:
      start_date: {type: date, label: {en: Start date, es: Fecha de inicio}}
"""

PERSON = """\
  Person:
    kind: entity
    extends: [Thing]
    label: {en: Person, es: Persona}
    plural: {en: People, es: Personas}
"""


def _write(directory: Path, **files: str) -> Path:
    """Write base.yaml plus ``files`` (name without .yaml → text) into ``directory``."""
    (directory / "base.yaml").write_text(BASE, encoding="utf-8")
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def _error(directory: Path) -> str:
    with pytest.raises(SchemaError) as info:
        load_schema(directory)
    return str(info.value)


def _names(message: str, *fragments: str) -> None:
    """The error message names every one of ``fragments`` (the file, the type, the property...)."""
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def _type(name: str, body: str, kind: str = "entity", extends: str = "Thing") -> str:
    """A types: block with one type ``name`` whose properties are ``body`` (indented 6)."""
    return (
        f"types:\n  {name}:\n    kind: {kind}\n    extends: [{extends}]\n"
        f"    label: {{en: {name}, es: {name}es}}\n    plural: {{en: {name}s, es: {name}es}}\n"
        f"    properties:\n{body}"
    )


def test_a_valid_minimal_schema_loads(tmp_path: Path) -> None:
    schema = load_schema(_write(tmp_path, people="types:\n" + PERSON))
    assert set(schema.types) == {"Thing", "Relation", "Person"}
    assert list(schema.get("Person").properties) == ["name"]


def test_the_shipped_schema_loads() -> None:
    schema = default_schema()
    assert schema.concrete()
    assert default_schema() is schema  # loaded once


def test_unknown_parent(tmp_path: Path) -> None:
    text = _type("Car", "      plate: {type: identifier, label: {en: Plate, es: Placa}}\n", extends="Vehicle")
    message = _error(_write(tmp_path, cars=text))
    _names(message, "cars.yaml", "Car", "'Vehicle'")


def test_extends_cycle(tmp_path: Path) -> None:
    text = (
        "types:\n"
        "  Alpha:\n    kind: entity\n    extends: [Beta]\n"
        "    label: {en: Alpha, es: Alfa}\n    plural: {en: Alphas, es: Alfas}\n"
        "  Beta:\n    kind: entity\n    extends: [Alpha]\n"
        "    label: {en: Beta, es: Beta}\n    plural: {en: Betas, es: Betas}\n"
    )
    message = _error(_write(tmp_path, cycle=text))
    _names(message, "cycle.yaml", "Alpha -> Beta -> Alpha")


def test_unknown_enum(tmp_path: Path) -> None:
    body = "      color: {type: enum, enum: colour, label: {en: Color, es: Color}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.color", "'colour'")


def test_unknown_entity_range(tmp_path: Path) -> None:
    body = "      owner: {type: entity, range: Owner, label: {en: Owner, es: Dueño}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.owner", "'Owner'")


def test_bad_property_type(tmp_path: Path) -> None:
    body = "      color: {type: colour, label: {en: Color, es: Color}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.color", "type")


def test_missing_spanish_property_label(tmp_path: Path) -> None:
    body = "      color: {type: text, label: {en: Color}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.color", "label.es")


def test_missing_spanish_type_label(tmp_path: Path) -> None:
    text = "types:\n  Car:\n    kind: entity\n    label: {en: Car}\n    plural: {en: Cars, es: Autos}\n"
    message = _error(_write(tmp_path, cars=text))
    _names(message, "cars.yaml", "Car", "label.es")


def test_missing_spanish_enum_value_label(tmp_path: Path) -> None:
    text = "enums:\n  colour:\n    label: {en: Colour, es: Color}\n    values:\n      red: {en: Red}\n"
    message = _error(_write(tmp_path, enums=text))
    _names(message, "enums.yaml", "colour", "red", "es")


def test_relation_without_edge(tmp_path: Path) -> None:
    body = (
        "      a: {type: entity, range: Thing, required: true, label: {en: A, es: A}}\n"
        "      b: {type: entity, range: Thing, required: true, label: {en: B, es: B}}\n"
    )
    message = _error(_write(tmp_path, rel=_type("Knows", body, kind="relation", extends="Relation")))
    _names(message, "rel.yaml", "Knows", "edge")


def test_edge_end_not_required(tmp_path: Path) -> None:
    body = (
        "      a: {type: entity, range: Thing, required: true, label: {en: A, es: A}}\n"
        "      b: {type: entity, range: Thing, label: {en: B, es: B}}\n"
        "    edge: {source: a, target: b, label: {en: knows, es: conoce a}}\n"
    )
    message = _error(_write(tmp_path, rel=_type("Knows", body, kind="relation", extends="Relation")))
    _names(message, "rel.yaml", "Knows", "'b'", "required")


def test_edge_end_not_an_entity_property(tmp_path: Path) -> None:
    body = (
        "      a: {type: entity, range: Thing, required: true, label: {en: A, es: A}}\n"
        "      b: {type: text, required: true, label: {en: B, es: B}}\n"
        "    edge: {source: a, target: b, label: {en: knows, es: conoce a}}\n"
    )
    message = _error(_write(tmp_path, rel=_type("Knows", body, kind="relation", extends="Relation")))
    _names(message, "rel.yaml", "Knows", "'b'", "entity property")


def test_duplicate_type_across_files(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, one="types:\n" + PERSON, two="types:\n" + PERSON))
    _names(message, "one.yaml", "two.yaml", "'Person'")


def test_duplicate_enum_across_files(tmp_path: Path) -> None:
    enum = "enums:\n  colour:\n    label: {en: Colour, es: Color}\n    values:\n      red: {en: Red, es: Rojo}\n"
    message = _error(_write(tmp_path, one=enum, two=enum))
    _names(message, "two.yaml", "'colour'")


def test_invalid_yaml(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, broken="types:\n  Car: {kind: entity\n"))
    _names(message, "broken.yaml", "not valid YAML")


def test_empty_directory(tmp_path: Path) -> None:
    message = _error(tmp_path)
    _names(message, "no schema files", str(tmp_path))


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, odd="typos:\n  Car: {}\n"))
    _names(message, "odd.yaml", "types")


def test_property_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, cars=_type("Car", "      color: text\n")))
    _names(message, "cars.yaml", "Car.color", "mapping")


def test_types_section_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, cars="types:\n  - Car\n"))
    _names(message, "cars.yaml", "types")


def test_enum_that_is_not_a_mapping(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, enums="enums:\n  colour: [red, green]\n"))
    _names(message, "enums.yaml", "colour")


def test_enum_without_values(tmp_path: Path) -> None:
    enum = "enums:\n  colour:\n    label: {en: Colour, es: Color}\n    values: {}\n"
    message = _error(_write(tmp_path, enums=enum))
    _names(message, "enums.yaml", "colour", "no values")


def test_unquoted_yes_no_codes_are_rejected(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare yes/no as a boolean: the code is then not a string.
    enum = "enums:\n  answer:\n    label: {en: Answer, es: Respuesta}\n    values:\n      yes: {en: Y, es: S}\n"
    message = _error(_write(tmp_path, enums=enum))
    _names(message, "enums.yaml", "answer")


def test_redefined_inherited_property(tmp_path: Path) -> None:
    body = "      name: {type: text, label: {en: Name, es: Nombre}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.name", "inherited")


def test_caption_naming_an_unknown_property(tmp_path: Path) -> None:
    text = "types:\n" + PERSON + "    caption: [nickname]\n"
    message = _error(_write(tmp_path, people=text))
    _names(message, "people.yaml", "Person", "'nickname'")


def test_property_name_not_snake_case(tmp_path: Path) -> None:
    body = "      PlateNumber: {type: identifier, label: {en: Plate, es: Placa}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.PlateNumber", "snake_case")


def test_type_name_not_camel_case(tmp_path: Path) -> None:
    text = "types:\n  motor_car:\n    kind: entity\n    label: {en: Car, es: Auto}\n    plural: {en: Cars, es: Autos}\n"
    message = _error(_write(tmp_path, cars=text))
    _names(message, "cars.yaml", "'motor_car'", "CamelCase")


def test_enum_name_on_a_non_enum_property(tmp_path: Path) -> None:
    body = "      color: {type: text, enum: colour, label: {en: Color, es: Color}}\n"
    message = _error(_write(tmp_path, cars=_type("Car", body)))
    _names(message, "cars.yaml", "Car.color")


def test_extends_may_be_a_single_name(tmp_path: Path) -> None:
    text = "types:\n" + PERSON.replace("extends: [Thing]", "extends: Thing")
    schema = load_schema(_write(tmp_path, people=text))
    assert schema.get("Person").extends == ("Thing",)
    assert "name" in schema.get("Person").properties
