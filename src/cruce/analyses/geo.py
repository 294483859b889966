"""State boundaries from the store, for the maps: the boundary files the user imported
(``geo-us-states``, ``geo-mexico-states``) are the base map, so no tile server is ever asked.

A map then needs no download at all (air-gapped deployments are common in this field); without
those imports a page draws its figures as tables and charts, and says which files to import.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from cruce.store.memo import per_import

_WANTED = ("state", "boundary", "location_type", "name")


def state_boundaries(db: Any, countries: tuple[str, ...] = ("US", "MX")) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the states (``properties.code``: ISO 3166-2, ``name``) of
    ``countries`` whose boundary was imported; kept until the next import."""
    return per_import(db.store, f"state-boundaries:{','.join(countries)}", lambda: _read(db, countries))


def _read(db: Any, countries: tuple[str, ...]) -> dict[str, Any]:
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
    features, seen = [], set()
    for values in found.values():
        code = values.get("state", "")
        if values.get("location_type") != "state" or code[:2] not in countries or code in seen:
            continue
        seen.add(code)
        features.append({
            "type": "Feature",
            "properties": {"code": code, "name": values.get("name", code)},
            "geometry": json.loads(values["boundary"]),
        })  # fmt: skip
    features.sort(key=lambda f: f["properties"]["code"])
    return {"type": "FeatureCollection", "features": features}
