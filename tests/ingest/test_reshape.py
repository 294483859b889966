"""Wide files (one column per year), boundary files (GeoJSON) and keys on the row number."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from cruce.ingest.mapping import MappingError
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from tests.conftest import shared_data

WIDE_MAPPING = """
name: wide
dataset: firearm-homicide-rates
unpivot: {pattern: "\\\\d{4}", name: year, value: rate}
entities:
  rate:
    schema: ViolenceEvent
    key: [State, year]
    properties:
      state: {column: State, country: MX}
      date: {column: year, format: "%Y"}
      killed: rate
"""


def test_unpivot_turns_year_columns_into_rows(tmp_path: Path) -> None:
    mapping = tmp_path / "wide.yaml"
    mapping.write_text(WIDE_MAPPING, encoding="utf-8")
    source = tmp_path / "wide.csv"
    source.write_text("State,2000,2001,2002\nSonora,10.5,,12\nNarnia,1,2,3\n", encoding="utf-8")
    with open_store(":memory:") as store:
        result = import_file(store, source, mapping)
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (2, 1, 1)
        events = list(store.iter_entities(schema="ViolenceEvent"))
        by_year = {e.properties["date"][0]: e.properties.get("killed") for e in events}
        assert by_year == {"2000": ["10.5"], "2001": None, "2002": ["12"]}
        assert {s.source_row for e in events for s in e.statements} == {2}
        assert {(r.source_row, r.reason) for r in store.rejects()} == {(3, "invalid_state")}


def test_unpivot_without_matching_columns_is_a_clear_error(tmp_path: Path) -> None:
    mapping = tmp_path / "wide.yaml"
    mapping.write_text(WIDE_MAPPING, encoding="utf-8")
    source = tmp_path / "long.csv"
    source.write_text("State,year,rate\nSonora,2000,1\n", encoding="utf-8")
    with open_store(":memory:") as store, pytest.raises(MappingError, match="unpivot"):
        import_file(store, source, mapping)


BOUNDARY_MAPPING = """
name: boundaries
dataset: boundaries
entities:
  state:
    schema: Location
    key: [properties.id]
    properties:
      name: properties.name
      state: properties.id
      location_type: {value: state}
      boundary: geometry
"""


def _feature(name: str, code: str) -> dict[str, object]:
    ring = [[-110.0, 30.0], [-109.0, 30.0], [-109.0, 31.0], [-110.0, 30.0]]
    return {
        "type": "Feature",
        "properties": {"name": name, "id": code},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_geojson_features_become_locations_with_their_boundary(tmp_path: Path) -> None:
    mapping = tmp_path / "b.yaml"
    mapping.write_text(BOUNDARY_MAPPING, encoding="utf-8")
    source = tmp_path / "states.json"
    collection = {
        "type": "FeatureCollection",
        "features": [_feature("Sonora", "MX-SON"), _feature("Nuevo León", "MX-NLE")],
    }
    source.write_text(json.dumps(collection), encoding="utf-8")
    with open_store(":memory:") as store:
        result = import_file(store, source, mapping)
        assert result.rows_stored == 2
        places = {e.first("name"): e for e in store.iter_entities(schema="Location")}
        assert places["Sonora"].first("state") == "MX-SON"
        boundary = json.loads(places["Sonora"].first("boundary") or "{}")
        assert boundary["type"] == "Polygon"
        assert boundary["coordinates"][0][0] == [-110.0, 30.0]


def test_real_mexican_state_boundaries(tmp_path: Path) -> None:
    source = shared_data("geo_mexico", "mexico_states.json")
    mapping = tmp_path / "b.yaml"
    mapping.write_text(BOUNDARY_MAPPING, encoding="utf-8")
    with open_store(":memory:") as store:
        result = import_file(store, source, mapping)
        features = json.loads(source.read_text(encoding="utf-8"))["features"]
        assert result.rows_read == len(features) == 32
        assert result.rows_stored + result.rows_rejected == result.rows_read
        assert store.counts_by_schema()["Location"] == result.rows_stored


def test_row_number_as_key(tmp_path: Path) -> None:
    """Records without an id column can be keyed by their row: identical rows stay distinct."""
    mapping = tmp_path / "rows.yaml"
    mapping.write_text(
        "name: rows\ndataset: rows\nentities:\n  p:\n    schema: Person\n    key: [__row]\n"
        "    properties:\n      name: nombre\n",
        encoding="utf-8",
    )
    source = tmp_path / "rows.csv.gz"
    source.write_bytes(gzip.compress(b"nombre\nAna\nAna\nLuis\n"))
    with open_store(":memory:") as store:
        import_file(store, source, mapping)
        assert store.counts_by_schema() == {"Person": 3}
