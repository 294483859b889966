"""Boundaries for the maps, with no tile server: the US and Mexican states cruce ships
(``static/vendor/boundaries.json``, Natural Earth's admin-1 shapes, built by ``make assets``), and
the boundary files a user imported (``geo-us-states``, ``geo-mexico-states``,
``geo-mexico-municipalities``), which take the place of the shipped shape of the same state.

Maps then need no download at all (air-gapped deployments are common in this field). Municipal
boundaries are not shipped — no openly licensed copy is on the package registries cruce builds
from — so municipal choropleths appear once a municipal boundary file is imported.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from cruce.schema import places
from cruce.store.memo import per_import

_WANTED = ("state", "boundary", "location_type", "name", "municipality")
BUNDLED = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "boundaries.json"


@cache
def bundled_states() -> dict[str, Any]:
    """The shipped state boundaries (empty when ``make assets`` has not built them)."""
    if not BUNDLED.exists():
        return {"type": "FeatureCollection", "features": []}
    return dict(json.loads(BUNDLED.read_text(encoding="utf-8")))


def state_boundaries(db: Any, countries: tuple[str, ...] = ("US", "MX")) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the states (``properties.code``: ISO 3166-2, ``name``,
    ``name_es``) of ``countries``: the imported shape where one was imported, else the shipped
    one; kept until the next import."""
    return per_import(db.store, f"state-boundaries:{','.join(countries)}", lambda: _states(db, countries))


def municipal_boundaries(db: Any) -> dict[str, Any]:
    """A FeatureCollection of the imported municipal boundaries (``properties.code``: the
    state's ISO code and the municipality's folded name, ``name``, ``state``); kept until the next
    import."""
    return per_import(db.store, "municipal-boundaries", lambda: _municipalities(db))


def municipality_code(state: str, municipality: str) -> str:
    """How a municipality is keyed on the maps: its state and its name folded, as the figures
    key their rows (the boundary files carry no INEGI municipal codes)."""
    return f"{state}:{places.normalize_key(municipality)}"


def _states(db: Any, countries: tuple[str, ...]) -> dict[str, Any]:
    shipped = bundled_states()["features"]
    chosen = {f["properties"]["code"]: f for f in shipped if f["properties"]["code"][:2] in countries}
    imported: set[str] = set()
    for values in _imported(db):
        code = values.get("state", "")
        if values.get("location_type") == "state" and code[:2] in countries and code not in imported:
            imported.add(code)  # the first imported shape of a state wins over the shipped one
            chosen[code] = _feature(code, values, name_es=places.state_name(code, "es"))
    features = [chosen[code] for code in sorted(chosen)]
    return {"type": "FeatureCollection", "attribution": bundled_states().get("attribution", ""), "features": features}


def _municipalities(db: Any) -> dict[str, Any]:
    chosen: dict[str, dict[str, Any]] = {}
    for values in _imported(db):
        if values.get("location_type") == "municipality" and values.get("state") and values.get("municipality"):
            code = municipality_code(values["state"], values["municipality"])
            chosen.setdefault(code, _feature(code, values, state=values["state"]))
    return {"type": "FeatureCollection", "features": [chosen[code] for code in sorted(chosen)]}


def _feature(code: str, values: dict[str, str], **extra: str) -> dict[str, Any]:
    properties = {"code": code, "name": values.get("name", code), **extra}
    return {"type": "Feature", "properties": properties, "geometry": _polygonal(json.loads(values["boundary"]))}


def _polygonal(geometry: dict[str, Any]) -> dict[str, Any]:
    """A (Multi)Polygon for the maps: a GeometryCollection (some boundary files hold one for a
    municipality with islands or slivers) becomes the MultiPolygon of its polygons."""
    if geometry.get("type") != "GeometryCollection":
        return geometry
    from shapely.geometry import MultiPolygon, Polygon, mapping, shape

    parts: list[Polygon] = []
    for member in shape(geometry).geoms:
        parts.extend(getattr(member, "geoms", [member]))
    return dict(mapping(MultiPolygon([p for p in parts if isinstance(p, Polygon)])))


def _imported(db: Any) -> list[dict[str, str]]:
    """The name, type, state and boundary of each imported Location that has a boundary."""
    rows = db.fetch(
        "SELECT CAST(s.entity_id AS VARCHAR), p.prop, s.value "
        "FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE p.schema = 'Location' AND p.prop IN ({', '.join(repr(w) for w in _WANTED)}) "
        "AND s.import_no IN (SELECT no FROM import_run) AND s.entity_id IN ("
        "SELECT b.entity_id FROM statement b JOIN property bp ON bp.prop_id = b.prop_id "
        "WHERE bp.schema = 'Location' AND bp.prop = 'boundary')"
    )
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for entity, prop, value in rows:
        found[str(entity)].setdefault(str(prop), str(value))
    return [found[entity] for entity in sorted(found)]
