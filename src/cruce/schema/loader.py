"""Load the YAML schema, resolve inheritance and check it, failing with the file and the place.

Each file under ``types/`` may hold a ``types:`` mapping and an ``enums:`` mapping. A type lists
its own properties; ``extends`` copies a parent's properties in first (a child may not redefine
one). The loader checks every cross-reference — parents, enums, entity ranges, edges, captions —
so that a broken schema never reaches an import.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from cruce.schema.model import EnumType, Property, PropertyType, Schema, SchemaType
from cruce.yaml_loader import safe_load

SCHEMA_VERSION = 1
TYPES_DIR = Path(__file__).parent / "types"
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


class SchemaError(ValueError):
    """The schema files are wrong; the message names the file and the type or property."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SchemaError(f"{path.name}: not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or set(data) - {"types", "enums"}:
        raise SchemaError(f"{path.name}: the top level must hold only 'types:' and 'enums:'")
    return data


def _pydantic_message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        parts.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(parts)


def _collect(paths: list[Path]) -> tuple[dict[str, tuple[Path, dict[str, Any]]], dict[str, EnumType]]:
    raw_types: dict[str, tuple[Path, dict[str, Any]]] = {}
    enums: dict[str, EnumType] = {}
    for path in paths:
        data = _read_yaml(path)
        for section in ("types", "enums"):
            if not isinstance(data.get(section) or {}, dict):
                raise SchemaError(f"{path.name}: '{section}:' must be a mapping of names to definitions")
        for name, body in (data.get("enums") or {}).items():
            if name in enums:
                raise SchemaError(f"{path.name}: enum {name!r} is defined twice")
            if not _SNAKE.match(str(name)):
                raise SchemaError(f"{path.name}: enum name {name!r} must be snake_case")
            if not isinstance(body, dict):
                raise SchemaError(f"{path.name}: enum {name} must be a mapping")
            try:
                enums[name] = EnumType.model_validate({"name": name, **(body or {})})
            except ValidationError as exc:
                raise SchemaError(f"{path.name}: enum {name}: {_pydantic_message(exc)}") from exc
            if not enums[name].values:
                raise SchemaError(f"{path.name}: enum {name} has no values")
        for name, body in (data.get("types") or {}).items():
            if name in raw_types:
                raise SchemaError(f"{path.name}: type {name!r} is also defined in {raw_types[name][0].name}")
            if not _TYPE_NAME.match(str(name)):
                raise SchemaError(f"{path.name}: type name {name!r} must be CamelCase")
            if not isinstance(body, dict):
                raise SchemaError(f"{path.name}: type {name} must be a mapping")
            raw_types[name] = (path, body)
    return raw_types, enums


def _own_properties(path: Path, tname: str, body: dict[str, Any]) -> dict[str, Property]:
    props: dict[str, Property] = {}
    raw_props = body.get("properties") or {}
    if not isinstance(raw_props, dict):
        raise SchemaError(f"{path.name}: {tname}: 'properties:' must be a mapping")
    for pname, pbody in raw_props.items():
        if not _SNAKE.match(str(pname)):
            raise SchemaError(f"{path.name}: {tname}.{pname}: property names must be snake_case")
        if not isinstance(pbody, dict):
            raise SchemaError(f"{path.name}: {tname}.{pname}: a property must be a mapping (type:, label:…)")
        try:
            props[pname] = Property.model_validate({"name": pname, **(pbody or {})})
        except ValidationError as exc:
            raise SchemaError(f"{path.name}: {tname}.{pname}: {_pydantic_message(exc)}") from exc
    return props


def _resolve(
    name: str,
    raw: dict[str, tuple[Path, dict[str, Any]]],
    done: dict[str, SchemaType],
    stack: tuple[str, ...] = (),
) -> SchemaType:
    if name in done:
        return done[name]
    if name in stack:
        raise SchemaError(f"{raw[name][0].name}: type {name} extends itself: {' -> '.join((*stack, name))}")
    path, body = raw[name]
    properties: dict[str, Property] = {}
    extends = body.get("extends") or ()
    parents = (extends,) if isinstance(extends, str) else tuple(extends)
    body = {**body, "extends": parents}
    for parent in parents:
        if parent not in raw:
            raise SchemaError(f"{path.name}: {name} extends unknown type {parent!r}")
        properties.update(_resolve(parent, raw, done, (*stack, name)).properties)
    own = _own_properties(path, name, body)
    for pname in own:
        if pname in properties:
            raise SchemaError(f"{path.name}: {name}.{pname} redefines an inherited property")
    properties.update(own)
    fields = {k: v for k, v in body.items() if k != "properties"}
    try:
        stype = SchemaType.model_validate({**fields, "name": name, "properties": properties})
    except ValidationError as exc:
        raise SchemaError(f"{path.name}: {name}: {_pydantic_message(exc)}") from exc
    done[name] = stype
    return stype


def _check_references(
    path: Path, stype: SchemaType, schema_types: dict[str, SchemaType], enums: dict[str, EnumType]
) -> None:
    where = f"{path.name}: {stype.name}"
    for prop in stype.properties.values():
        if prop.type is PropertyType.ENUM:
            if prop.enum not in enums:
                raise SchemaError(f"{where}.{prop.name}: enum {prop.enum!r} is not defined")
        elif prop.enum is not None:
            raise SchemaError(f"{where}.{prop.name}: only enum properties may name an enum")
        if prop.type is PropertyType.ENTITY:
            if prop.range not in schema_types:
                raise SchemaError(f"{where}.{prop.name}: entity range {prop.range!r} is not a type")
        elif prop.range is not None:
            raise SchemaError(f"{where}.{prop.name}: only entity properties may have a range")
    for listed in ("caption", "featured"):
        for pname in getattr(stype, listed):
            if pname not in stype.properties:
                raise SchemaError(f"{where}: {listed} names unknown property {pname!r}")
    if stype.kind == "relation" and not stype.abstract and stype.edge is None:
        raise SchemaError(f"{where}: a relation type needs an 'edge:' block")
    if stype.edge is not None:
        for end in (stype.edge.source, stype.edge.target):
            end_prop = stype.properties.get(end)
            if end_prop is None or end_prop.type is not PropertyType.ENTITY:
                raise SchemaError(f"{where}: edge end {end!r} must be an entity property")
            if not end_prop.required:
                raise SchemaError(f"{where}: edge end {end!r} must be required")


def load_schema(directory: Path = TYPES_DIR) -> Schema:
    """Read every ``*.yaml`` file in ``directory`` and return the checked schema."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise SchemaError(f"no schema files (*.yaml) in {directory}")
    raw, enums = _collect(paths)
    done: dict[str, SchemaType] = {}
    for name in raw:
        _resolve(name, raw, done)
    for stype in done.values():
        _check_references(raw[stype.name][0], stype, done, enums)
    return Schema(version=SCHEMA_VERSION, types=done, enums=enums)


@cache
def default_schema() -> Schema:
    """The schema shipped with cruce, loaded once per process."""
    return load_schema()
