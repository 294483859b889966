"""The boundary files and the wide firearm-homicide table of ../shared/data import with built-in mappings."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from tests.conftest import shared_data


def _features(path: Path) -> list[dict[str, object]]:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(json.loads(raw)["features"])


def test_mexican_states(tmp_path: Path) -> None:
    source = shared_data("geo_mexico", "mexico_states.json")
    with open_store(tmp_path / "geo.duckdb") as store:
        result = import_file(store, source, "geo-mexico-states")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (len(_features(source)), 32, 0)
        states = {e.first("state"): e for e in store.iter_entities(schema="Location")}
        assert len(states) == 32
        sonora = states["MX-SON"]
        assert sonora.first("location_type") == "state"
        assert json.loads(sonora.first("boundary") or "{}")["type"] in {"Polygon", "MultiPolygon"}


@pytest.mark.parametrize(
    ("name", "state", "count"),
    [
        ("municipios_02_BajaCalifornia.json.gz", "MX-BCN", 5),
        ("municipios_05_Coahuila.json.gz", "MX-COA", 38),
        ("municipios_08_Chihuahua.json.gz", "MX-CHH", 66),
        ("municipios_19_Nuevo_Leon.json.gz", "MX-NLE", 50),
        ("municipios_26_Sonora.json.gz", "MX-SON", 69),
        ("municipios_28_Tamaulipas.json.gz", "MX-TAM", 43),
    ],
)
def test_border_state_municipalities(tmp_path: Path, name: str, state: str, count: int) -> None:
    source = shared_data("geo_mexico", name)
    with open_store(tmp_path / "geo.duckdb") as store:
        result = import_file(store, source, "geo-mexico-municipalities")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (len(_features(source)), count, 0)
        places = list(store.iter_entities(schema="Location"))
        assert len(places) == count
        assert {p.first("state") for p in places} == {state}
        assert all(p.first("location_type") == "municipality" and p.first("boundary") for p in places)


def test_us_states(tmp_path: Path) -> None:
    source = shared_data("geo_us_states", "us-states.json")
    with open_store(tmp_path / "geo.duckdb") as store:
        result = import_file(store, source, "geo-us-states")
        assert (result.rows_read, result.rows_stored, result.rows_rejected) == (len(_features(source)), 52, 0)
        texas = next(e for e in store.iter_entities(schema="Location") if e.first("name") == "Texas")
        assert (texas.first("state"), texas.first("fips_code")) == ("US-TX", "48")


def test_firearm_homicide_rates_by_state_and_year(tmp_path: Path) -> None:
    source = shared_data("mexico_drugwar_diegovalle", "firearm-hom-state.csv")
    rows = list(csv.DictReader(io.StringIO(source.read_bytes().decode("latin-1"))))
    years = [c for c in rows[0] if c.isdigit()]
    with open_store(tmp_path / "rates.duckdb") as store:
        result = import_file(store, source, "diegovalle-firearm-homicide-rates")
        assert result.rows_read == len(rows)
        assert result.rows_read == result.rows_stored + result.rows_rejected
        assert result.rows_rejected == 0
        events = list(store.iter_entities(schema="ViolenceEvent"))
        assert len(events) == len(rows) * len(years)
        baja_2008 = next(e for e in events if e.first("state") == "MX-BCN" and e.first("date") == "2008")
        expected = next(r for r in rows if r["State"] == "Baja California")["2008"]
        assert float(baja_2008.first("rate_per_100k") or "nan") == pytest.approx(float(expected))
