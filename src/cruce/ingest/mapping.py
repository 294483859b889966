"""Declarative mappings: how the columns of one source format become entities and statements.

A mapping is a YAML file (see docs/mappings.md). It names the entities each row yields, the
columns that form each entity's key (so that re-importing a record gives the same id), and for
each property where its value comes from — a column, several columns joined, a constant, or
another entity of the same row — and how to read it (value maps, date formats, units, splits).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cruce.i18n import _
from cruce.yaml_loader import safe_load

BUILTIN_DIR = Path(__file__).parent / "mappings"
DEFAULT_NULLS = ("", "null", "NULL", "None", "N/A", "n/a", "#N/A", "NaN", "nan")


class MappingError(ValueError):
    """The mapping file is wrong or does not fit the schema or the source; the message says where."""


class DaysBetween(BaseModel):
    """A number of days computed from two date columns (time-to-crime: purchase → recovery)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str
    end: str
    format: tuple[str, ...] = ("%Y-%m-%d",)

    @model_validator(mode="before")
    @classmethod
    def _one_format(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("format"), str):
            return {**data, "format": (data["format"],)}
        return data


class PropertySpec(BaseModel):
    """Where one property's value comes from in a row, and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    column: str | None = None
    columns: tuple[str, ...] = ()
    join: str = " "
    value: str | None = None
    entity: str | None = None
    map: dict[str, str] = Field(default_factory=dict)
    format: tuple[str, ...] = ()
    split: str | None = None
    required: bool = False
    country: str | None = None
    region: str | None = None
    currency: str | None = None
    currency_column: str | None = None
    unit: str | None = None
    unit_column: str | None = None
    decimal: str = "."
    lat: str | None = None
    lon: str | None = None
    days_between: DaysBetween | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        """Accept ``prop: COLUMN`` for the common case, and a single format as a string."""
        if isinstance(data, str):
            return {"column": data}
        if isinstance(data, dict) and isinstance(data.get("format"), str):
            return {**data, "format": (data["format"],)}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        sources = [
            self.column is not None,
            bool(self.columns),
            self.value is not None,
            self.entity is not None,
            self.days_between is not None,
        ]
        geo = self.lat is not None or self.lon is not None
        if geo and (self.lat is None or self.lon is None):
            raise ValueError("a geo point needs both 'lat' and 'lon'")
        if sum(sources) + geo != 1:
            raise ValueError(
                "give exactly one of 'column', 'columns', 'value', 'entity', 'days_between' or 'lat'+'lon'"
            )
        if self.decimal not in {".", ","}:
            raise ValueError("'decimal' must be '.' or ','")
        return self

    def source_columns(self) -> list[str]:
        cols = [c for c in (self.column, self.lat, self.lon, self.currency_column, self.unit_column) if c]
        if self.days_between:
            cols += [self.days_between.start, self.days_between.end]
        return [*cols, *self.columns]

    def label(self) -> str:
        """How a reject names the field: the source column(s), or the constant."""
        if self.column:
            return self.column
        if self.columns:
            return "+".join(self.columns)
        if self.lat:
            return f"{self.lat}+{self.lon}"
        if self.days_between:
            return f"{self.days_between.start}→{self.days_between.end}"
        return self.entity or "value"


class EntitySpec(BaseModel):
    """One entity (or event, or relation) that each row yields."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_: str = Field(alias="schema")
    key: tuple[str, ...] = ()
    key_prefix: str | None = None
    only_if: tuple[str, ...] = ()
    properties: dict[str, PropertySpec]

    @model_validator(mode="before")
    @classmethod
    def _key_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("key"), str):
            return {**data, "key": (data["key"],)}
        return data


class UnpivotSpec(BaseModel):
    """Turn a wide file (one column per year or month) into one row per column before mapping.

    ``columns`` lists the wide columns, or ``pattern`` (a regular expression) matches their
    names; each becomes a row holding the other columns, the wide column's name in ``name`` and
    its cell in ``value``. Rows keep the number of the source row they came from.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    columns: tuple[str, ...] = ()
    pattern: str | None = None
    name: str
    value: str

    @model_validator(mode="after")
    def _columns_or_pattern(self) -> Self:
        if bool(self.columns) == (self.pattern is not None):
            raise ValueError("unpivot needs either 'columns' or 'pattern'")
        if self.pattern is not None:
            re.compile(self.pattern)
        return self

    def wide_columns(self, columns: list[str]) -> list[str]:
        if self.columns:
            return [c for c in self.columns if c in columns]
        assert self.pattern is not None
        return [c for c in columns if re.fullmatch(self.pattern, c)]


class Mapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str | None = None
    dataset: str | None = None
    source: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    nulls: tuple[str, ...] = DEFAULT_NULLS
    unpivot: UnpivotSpec | None = None
    entities: dict[str, EntitySpec]
    sha256: str = ""

    def columns(self) -> set[str]:
        """Every source column the mapping reads."""
        cols: set[str] = set()
        for entity in self.entities.values():
            cols.update(entity.key)
            cols.update(entity.only_if)
            for spec in entity.properties.values():
                cols.update(spec.source_columns())
        return cols


def _parse(text: str, origin: str) -> Mapping:
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(_("{file}: not valid YAML: {reason}").format(file=origin, reason=exc)) from exc
    if not isinstance(data, dict):
        raise MappingError(_("{file}: a mapping must be a YAML mapping with 'entities:'").format(file=origin))
    data.setdefault("name", Path(origin).stem)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        return Mapping.model_validate({**data, "sha256": digest})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise MappingError(_("{file}: {problems}").format(file=origin, problems=problems)) from exc


def builtin_mappings() -> dict[str, Path]:
    """The mappings shipped with cruce, by name."""
    return {p.stem: p for p in sorted(BUILTIN_DIR.glob("*.yaml"))}


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Load a built-in mapping by name, or a mapping file by path."""
    path = Path(name_or_path)
    if not path.exists():
        builtin = builtin_mappings().get(str(name_or_path))
        if builtin is None:
            known = ", ".join(builtin_mappings()) or "-"
            raise MappingError(
                _("No mapping file or built-in mapping named {name}. Built-in mappings: {known}").format(
                    name=name_or_path, known=known
                )
            )
        path = builtin
    return _parse(path.read_text(encoding="utf-8"), str(path))
