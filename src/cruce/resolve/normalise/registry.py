"""The match normaliser of each property: the type registry's link to ``cruce.resolve.normalise``.

A property of the schema says how its values are matched with ``match:`` (``serial``, ``plate``,
``curp`` …), or gets a kind from its value type (every ``phone`` is a phone; a ``name`` of a
person is a personal name, of an organization an organization name). ``match_key`` folds a value
into the form two records are compared in, so that resolution, watchlists and search agree on
what "the same value" means.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cruce.resolve.normalise._addresses import normalise_address
from cruce.resolve.normalise._identifiers import curp_info, rfc_valid, ssn_valid
from cruce.resolve.normalise._names import parse_person_name
from cruce.resolve.normalise._orgs import normalise_org_name
from cruce.resolve.normalise._phones import normalise_phone
from cruce.resolve.normalise._serials import normalise_serial
from cruce.resolve.normalise._text import fold
from cruce.resolve.normalise._vehicles import normalise_plate, vin_valid
from cruce.schema.loader import default_schema
from cruce.schema.model import MatchKind, PropertyType, Schema


def _alnum(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", fold(text)).upper()


def _person_name(text: str) -> str | None:
    return " ".join(parse_person_name(text).sorted_tokens) or None


def _checked(valid: Callable[[str], bool]) -> Callable[[str], str | None]:
    """An identifier in upper-case letters and digits, or None when its check fails (a typo, a dummy)."""

    def key(text: str) -> str | None:
        value = _alnum(text)
        return value if value and valid(value) else None

    return key


def _curp(text: str) -> str | None:
    info = curp_info(_alnum(text))
    return info.curp if info else None


NORMALISERS: dict[MatchKind, Callable[[str], str | None]] = {
    "person_name": _person_name,
    "org_name": lambda text: normalise_org_name(text) or None,
    "serial": lambda text: normalise_serial(text).lookalike_key or None,
    "plate": lambda text: normalise_plate(text) or None,
    "vin": _checked(vin_valid),
    "phone": normalise_phone,
    "curp": _curp,
    "rfc": _checked(rfc_valid),
    "ssn": _checked(ssn_valid),
    "address": lambda text: normalise_address(text) or None,
    "identifier": lambda text: _alnum(text) or None,
}


def _descends(schema: Schema, type_name: str, ancestor: str) -> bool:
    seen, pending = set(), [type_name]
    while pending:
        name = pending.pop()
        if name == ancestor:
            return True
        if name in seen or name not in schema.types:
            continue
        seen.add(name)
        pending.extend(schema.types[name].extends)
    return False


def match_kind(type_name: str, prop: str, schema: Schema | None = None) -> MatchKind | None:
    """How values of ``type_name.prop`` are matched, or None for properties not matched by value."""
    schema = schema or default_schema()
    found = schema.get(type_name).properties.get(prop)
    if found is None:
        return None
    if found.match is not None:
        return found.match
    if found.type == PropertyType.PHONE:
        return "phone"
    if found.type == PropertyType.NAME and prop in ("name", "alias"):
        if _descends(schema, type_name, "Person"):
            return "person_name"
        if _descends(schema, type_name, "LegalEntity"):
            return "org_name"
    return None


def match_key(type_name: str, prop: str, value: str) -> str | None:
    """``value`` folded into the form records are compared in; None when it cannot be matched."""
    kind = match_kind(type_name, prop)
    return NORMALISERS[kind](value) if kind else None
