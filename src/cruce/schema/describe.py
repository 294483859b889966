"""Present the schema to people (``cruce schema [TYPE] --lang es``) and to programs (``--json``).

The tables are built with Rich and labelled in the chosen language: type, property and enum labels
come from the schema itself, and the few words of the table chrome (column headers, kinds, value
types) from the small dictionaries below.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cruce.schema.model import Property, PropertyType, Schema, SchemaType

__all__ = ["describe_type", "describe_types", "schema_as_dict"]

_WORDS: dict[str, dict[str, str]] = {
    "types_title": {"en": "Schema types", "es": "Tipos del esquema"},
    "properties_title": {"en": "Properties of {label}", "es": "Propiedades de {label}"},
    "values_title": {"en": "Values of {label} ({enum})", "es": "Valores de {label} ({enum})"},
    "name": {"en": "Name", "es": "Nombre"},
    "kind": {"en": "Kind", "es": "Clase"},
    "label": {"en": "Label", "es": "Etiqueta"},
    "property_count": {"en": "Properties", "es": "Propiedades"},
    "property": {"en": "Property", "es": "Propiedad"},
    "type": {"en": "Type", "es": "Tipo"},
    "multiple": {"en": "Multiple", "es": "Múltiple"},
    "required": {"en": "Required", "es": "Obligatoria"},
    "protected": {"en": "Protected", "es": "Protegida"},
    "enum_range": {"en": "Enum / range", "es": "Enumeración / rango"},
    "code": {"en": "Code", "es": "Código"},
    "aliases": {"en": "Aliases", "es": "Alias"},
    "extends": {"en": "Extends", "es": "Extiende"},
    "abstract": {"en": "abstract", "es": "abstracto"},
    "edge": {"en": "Edge", "es": "Arista"},
    "directed": {"en": "directed", "es": "dirigida"},
    "undirected": {"en": "undirected", "es": "no dirigida"},
    "source": {"en": "Standard", "es": "Norma"},
}

_KINDS: dict[str, dict[str, str]] = {
    "entity": {"en": "entity", "es": "entidad"},
    "event": {"en": "event", "es": "evento"},
    "relation": {"en": "relation", "es": "relación"},
}

_VALUE_TYPES: dict[PropertyType, dict[str, str]] = {
    PropertyType.NAME: {"en": "name", "es": "nombre"},
    PropertyType.TEXT: {"en": "text", "es": "texto"},
    PropertyType.DATE: {"en": "date", "es": "fecha"},
    PropertyType.DATETIME: {"en": "date and time", "es": "fecha y hora"},
    PropertyType.COUNTRY: {"en": "country", "es": "país"},
    PropertyType.STATE: {"en": "state", "es": "estado"},
    PropertyType.IDENTIFIER: {"en": "identifier", "es": "identificador"},
    PropertyType.PHONE: {"en": "phone", "es": "teléfono"},
    PropertyType.EMAIL: {"en": "email", "es": "correo electrónico"},
    PropertyType.NUMBER: {"en": "number", "es": "número"},
    PropertyType.MONEY: {"en": "money", "es": "dinero"},
    PropertyType.QUANTITY: {"en": "quantity", "es": "cantidad"},
    PropertyType.GEOPOINT: {"en": "geo point", "es": "punto geográfico"},
    PropertyType.GEOMETRY: {"en": "geometry (GeoJSON)", "es": "geometría (GeoJSON)"},
    PropertyType.ENUM: {"en": "enum", "es": "enumeración"},
    PropertyType.ENTITY: {"en": "entity", "es": "entidad"},
}

_KIND_ORDER = {"entity": 0, "event": 1, "relation": 2}
_CHECK = "✓"


def _lang(lang: str) -> str:
    return "es" if lang[:2].lower() == "es" else "en"


def _word(key: str, lang: str, **fields: str) -> str:
    return _WORDS[key][_lang(lang)].format(**fields)


def _kind(kind: str, lang: str) -> str:
    return _KINDS[kind][_lang(lang)]


def describe_types(schema: Schema, lang: str = "en") -> Table:
    """One row per concrete type: name, kind, label in ``lang`` and number of properties."""
    table = Table(title=_word("types_title", lang))
    table.add_column(_word("name", lang), style="bold")
    table.add_column(_word("kind", lang))
    table.add_column(_word("label", lang))
    table.add_column(_word("property_count", lang), justify="right")
    for stype in sorted(schema.concrete(), key=lambda t: (_KIND_ORDER[t.kind], t.name)):
        table.add_row(stype.name, _kind(stype.kind, lang), stype.label.get(_lang(lang)), str(len(stype.properties)))
    return table


def _target(prop: Property) -> str:
    if prop.type is PropertyType.ENUM and prop.enum is not None:
        return prop.enum
    if prop.type is PropertyType.ENTITY and prop.range is not None:
        return prop.range
    return prop.unit or ""


def _header(stype: SchemaType, lang: str) -> Text:
    code = _lang(lang)
    text = Text()
    text.append(f"{stype.label.get(code)} ({stype.name})", style="bold")
    kind = _kind(stype.kind, lang)
    if stype.abstract:
        kind = f"{kind}, {_word('abstract', lang)}"
    text.append(f" — {kind}")
    if stype.extends:
        text.append(f"\n{_word('extends', lang)}: {', '.join(stype.extends)}")
    if stype.edge is not None:
        edge = stype.edge
        how = _word("directed" if edge.directed else "undirected", lang)
        arrow = "→" if edge.directed else "—"
        text.append(f"\n{_word('edge', lang)}: {edge.source} {arrow} {edge.target} ({edge.label.get(code)}, {how})")
    if stype.description and code == "en":  # descriptions are written in English only
        text.append(f"\n{stype.description}", style="italic")
    return text


def _properties_table(stype: SchemaType, lang: str) -> Table:
    code = _lang(lang)
    table = Table(title=_word("properties_title", lang, label=stype.label.get(code)))
    table.add_column(_word("property", lang), style="bold")
    table.add_column(_word("label", lang))
    table.add_column(_word("type", lang))
    table.add_column(_word("multiple", lang), justify="center")
    table.add_column(_word("required", lang), justify="center")
    table.add_column(_word("protected", lang), justify="center")
    table.add_column(_word("enum_range", lang))
    for prop in stype.properties.values():
        table.add_row(
            prop.name,
            prop.label.get(code),
            _VALUE_TYPES[prop.type][code],
            _CHECK if prop.multiple else "",
            _CHECK if prop.required else "",
            _CHECK if prop.protected else "",
            _target(prop),
        )
    return table


def _enum_table(schema: Schema, prop: Property, enum_name: str, lang: str) -> Table:
    code = _lang(lang)
    enum = schema.enums[enum_name]
    table = Table(title=_word("values_title", lang, label=prop.label.get(code), enum=enum.name))
    if enum.source:
        table.caption = f"{_word('source', lang)}: {enum.source}"
    table.add_column(_word("code", lang), style="bold")
    table.add_column(_word("label", lang))
    table.add_column(_word("aliases", lang))
    for value_code, value in enum.values.items():
        table.add_row(value_code, value.label(code), ", ".join(value.aliases))
    return table


def describe_type(schema: Schema, name: str, lang: str = "en") -> Group:
    """A type's header, its properties and the values of each of its enum properties, in ``lang``.

    Raises ``KeyError`` (listing the known types) when ``name`` is not a type.
    """
    stype = schema.get(name)
    parts: list[Text | Table] = [_header(stype, lang), _properties_table(stype, lang)]
    shown: set[str] = set()
    for prop in stype.properties.values():
        if prop.type is PropertyType.ENUM and prop.enum is not None and prop.enum not in shown:
            shown.add(prop.enum)
            parts.append(_enum_table(schema, prop, prop.enum, lang))
    return Group(*parts)


def schema_as_dict(schema: Schema) -> dict[str, Any]:
    """The whole schema as plain JSON-serialisable data, for ``cruce schema --json`` and other clients.

    Types carry their resolved properties (inherited ones included), so a client needs no
    inheritance logic; ``Schema.model_validate`` reads the result back unchanged.
    """
    data: dict[str, Any] = schema.model_dump(mode="json")
    return data
