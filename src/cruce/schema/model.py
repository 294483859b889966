"""The schema as typed objects: entity, event and relation types, their properties and enums.

The YAML files under ``schema/types/`` are the source of truth; these classes only give them
shape and validate them, so that a typo in the schema fails at load time with a clear message
instead of deep inside an import.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PropertyType(StrEnum):
    """The value types a property can have (checked and cleaned on import by ``cruce.ingest``)."""

    NAME = "name"
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    COUNTRY = "country"
    STATE = "state"
    IDENTIFIER = "identifier"
    PHONE = "phone"
    EMAIL = "email"
    NUMBER = "number"
    MONEY = "money"
    QUANTITY = "quantity"
    GEOPOINT = "geopoint"
    GEOMETRY = "geometry"
    ENUM = "enum"
    ENTITY = "entity"


# How values of a property are matched between records (``cruce.resolve.normalise.registry``).
MatchKind = Literal[
    "person_name", "org_name", "serial", "plate", "vin", "phone", "curp", "rfc", "ssn", "address", "identifier"
]


class Label(BaseModel):
    """A text in both of cruce's languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    es: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


class EnumValue(BaseModel):
    """One code of an enum, with its labels and the spellings that import maps to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    en: str = Field(min_length=1)
    es: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    description: str | None = None

    def label(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


class EnumType(BaseModel):
    """A closed list of codes (HTCDS/CTDC codes, firearm types, drug names...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    label: Label
    source: str | None = None
    values: dict[str, EnumValue]


class Property(BaseModel):
    """A typed property of a schema type."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    type: PropertyType
    label: Label
    multiple: bool = False
    required: bool = False
    protected: bool = False
    match: MatchKind | None = None
    enum: str | None = None
    range: str | None = None
    unit: str | None = None
    description: str | None = None


class Edge(BaseModel):
    """How a relation type becomes an edge of the graph: which properties hold its two ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    source: str
    target: str
    label: Label
    directed: bool = True


Kind = Literal["entity", "event", "relation"]


class SchemaType(BaseModel):
    """An entity, event or relation type with its own and its inherited properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    kind: Kind
    label: Label
    plural: Label
    description: str | None = None
    abstract: bool = False
    extends: tuple[str, ...] = ()
    caption: tuple[str, ...] = ()
    featured: tuple[str, ...] = ()
    properties: dict[str, Property]
    edge: Edge | None = None

    @property
    def required(self) -> list[str]:
        return [p.name for p in self.properties.values() if p.required]


class Schema(BaseModel):
    """The whole model: every type and every enum, looked up by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    types: dict[str, SchemaType]
    enums: dict[str, EnumType]

    def get(self, name: str) -> SchemaType:
        """Return a type by name, or raise a ``KeyError`` that lists the valid names."""
        try:
            return self.types[name]
        except KeyError:
            known = ", ".join(sorted(t for t, s in self.types.items() if not s.abstract))
            raise KeyError(f"unknown schema type {name!r}; known types: {known}") from None

    def concrete(self) -> list[SchemaType]:
        return [t for t in self.types.values() if not t.abstract]


def type_label(schema: Schema, name: str, lang: str) -> str:
    """A type's label in ``lang``; its name when the schema does not know it."""
    stype = schema.types.get(name)
    return stype.label.get(lang) if stype else name


def prop_label(schema: Schema, type_name: str, prop: str, lang: str) -> str:
    """A property's label in ``lang``; its name when the schema does not know it."""
    stype = schema.types.get(type_name)
    if stype is None or prop not in stype.properties:
        return prop
    return stype.properties[prop].label.get(lang)
