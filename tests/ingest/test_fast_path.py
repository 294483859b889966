"""The entity-first fast path gives exactly the statements of the general, cell-by-cell path."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cruce.ingest import pipeline
from cruce.ingest.compile import CompiledMapping, compile_mapping
from cruce.ingest.mapping import load_mapping
from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.store import open_store

MAPPING = """
name: fast
dataset: fast
entities:
  seizure:
    schema: DrugSeizure
    key: [id]
    properties:
      date: {column: fecha, format: ["%d/%m/%Y", "%d de %B de %Y"]}
      quantity: {column: cantidad, unit_column: unidad, decimal: ","}
      state: {column: estado, country: MX}
      summary: nota
  phone:
    schema: Phone
    key: [tel]
    properties:
      number: {column: tel, region: MX}
  person:
    schema: Person
    key: [persona]
    properties:
      name: {columns: [nombre, apellido]}
      first_name: nombre
      email: correo
      gender: {column: sexo, map: {"1": male, "2": female}}
  sale:
    schema: FirearmPurchase
    key: [id]
    properties:
      price: {column: monto, currency_column: moneda}
      purchaser: {entity: person}
      country: {value: MX}
  place:
    schema: Location
    key: [id]
    properties:
      name: lugar
      geo: {column: punto}
"""
HEADER = "id,fecha,cantidad,unidad,estado,nota,tel,persona,nombre,apellido,correo,sexo,monto,moneda,lugar,punto"


def _rows(count: int, *, bad: bool) -> list[str]:
    rng = random.Random(11)
    rows = []
    for i in range(count):
        person = rng.randrange(count // 4)  # people repeat, sometimes with another e-mail or spelling
        date = rng.choice(["03/04/2019", "3 de marzo de 2020", "", "31/12/1999"])
        qty = rng.choice(["1,5", "2.000,25", "7", ""])
        unit = rng.choice(["kg", "Kilos", "gramos", "g"]) if not (bad and i == count // 2) else "bushels"
        state = rng.choice(["Sonora", "CHIH", "baja california", ""])
        email = rng.choice([f"p{person}@example.org", f"P{person}@Example.org", ""])
        name = rng.choice(["Ana", "Ana  María", "José", "Ana\tMaría "])
        money = rng.choice(["1,234.50", "$99", ""])
        currency = rng.choice(["USD", "mxn", "MXN"])
        point = rng.choice(["19.43,-99.13", "POINT (-99.13 19.43)", ""])
        phone = rng.choice(["55 1234 5678", "+52 55 8765 4321", ""])
        rows.append(
            f'S{i},{date},"{qty}",{unit},{state},nota {i % 7},{phone},{person},"{name}",Pérez,{email},'
            f'{rng.choice(["1", "2", ""])},"{money}",{currency},lugar {i % 5},"{point}"'
        )
    return rows


def _statements(
    tmp_path: Path, name: str, csv: Path, mapping: Path, fast: Callable[..., bool]
) -> tuple[list[Any], int, list[Any]]:
    pipeline_fast = pipeline._fast_batch
    pipeline._fast_batch = fast
    try:
        with open_store(str(tmp_path / f"{name}.duckdb")) as store:
            result = import_file(store, csv, mapping, batch_rows=100)
            assert isinstance(store.con, duckdb.DuckDBPyConnection)
            rows = store.con.execute(
                "SELECT CAST(entity_id AS VARCHAR), schema, prop, value, original, source_row FROM statements "
                "ORDER BY ALL"
            ).fetchall()
            rejects = store.con.execute("SELECT * EXCLUDE (import_no) FROM reject ORDER BY ALL").fetchall()
    finally:
        pipeline._fast_batch = pipeline_fast
    return rows, result.rows_rejected, rejects


@pytest.mark.parametrize("bad", [False, True], ids=["all valid", "one reject"])
def test_fast_path_gives_the_general_paths_statements(tmp_path: Path, bad: bool) -> None:
    mapping = tmp_path / "fast.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    csv = tmp_path / "fast.csv"
    csv.write_text(HEADER + "\n" + "\n".join(_rows(600, bad=bad)) + "\n", encoding="utf-8")
    used: list[bool] = []

    def counted(compute: duckdb.DuckDBPyConnection, compiled: CompiledMapping) -> bool:
        made = pipeline_fast(compute, compiled)
        used.append(made)
        return made

    pipeline_fast = pipeline._fast_batch
    fast, fast_rejected, fast_rejects = _statements(tmp_path, "fast", csv, mapping, counted)
    general, general_rejected, general_rejects = _statements(tmp_path, "general", csv, mapping, lambda *_: False)
    assert any(used)  # the fast path ran (for all batches but the one with a reject)
    assert all(used) is not bad
    assert len(fast) > 5000
    assert fast == general
    assert (fast_rejected, fast_rejects) == (general_rejected, general_rejects)
    assert fast_rejected == (1 if bad else 0)


def test_mappings_that_split_values_take_the_general_path() -> None:
    mapping = load_mapping("example-firearm-purchases")
    columns = sorted(mapping.columns())
    assert compile_mapping(mapping, default_schema(), "d", columns).fast_steps
    buyer = mapping.entities["buyer"]
    first = buyer.properties["first_name"].model_copy(update={"split": " "})
    entities = {
        **mapping.entities,
        "buyer": buyer.model_copy(update={"properties": {**buyer.properties, "first_name": first}}),
    }
    split = mapping.model_copy(update={"entities": entities})
    assert not compile_mapping(split, default_schema(), "d", columns).fast_steps


def test_an_import_leaves_the_stores_settings_as_they_were(tmp_path: Path) -> None:
    mapping = tmp_path / "fast.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    csv = tmp_path / "fast.csv"
    csv.write_text(HEADER + "\n" + "\n".join(_rows(50, bad=False)) + "\n", encoding="utf-8")
    with open_store(str(tmp_path / "settings.duckdb")) as store:
        assert isinstance(store.con, duckdb.DuckDBPyConnection)
        query = (
            "SELECT current_setting('threads'), current_setting('force_compression'), current_setting('memory_limit')"
        )
        before = store.con.execute(query).fetchall()
        import_file(store, csv, mapping)
        assert store.con.execute(query).fetchall() == before
        import_file(store, csv, mapping, dataset="again")  # the next import lowers and restores them again
        assert store.con.execute(query).fetchall() == before


ACTORS = """
name: actors
dataset: actors
entities:
  event:
    schema: ViolenceEvent
    key: [id]
    properties:
      date: fecha
      perpetrator: {entity: actor1}
      target: {entity: actor2}
  actor1:
    schema: Organization
    key: [actor1]
    key_prefix: actor
    only_if: [actor1]
    properties:
      name: actor1
  actor2:
    schema: Organization
    key: [actor2]
    key_prefix: actor
    only_if: [actor2]
    properties:
      name: actor2
"""


def test_an_entity_two_blocks_make_is_stored_once(store_url: str, tmp_path: Path) -> None:
    """An event file's actor1 and actor2 make the same organizations ("acled-actor"): a cartel that
    is actor1 in one row and actor2 in another (of the same batch or not) has one name statement,
    on DuckDB as on PostgreSQL (the 1M scale run found 33 kept twice on DuckDB)."""
    mapping = tmp_path / "actors.yaml"
    mapping.write_text(ACTORS, encoding="utf-8")
    rows = ["id,fecha,actor1,actor2", "E1,2020-01-01,Cártel del Desierto,Los Halcones",
            "E2,2020-01-02,Los Halcones,Cártel del Desierto", "E3,2020-01-03,Cártel del Desierto,",
            "E4,2020-01-04,Los Halcones,Los Halcones"]  # fmt: skip
    rows += [f"E{n},2020-02-01,Grupo {n % 7},Grupo {(n + 3) % 7}" for n in range(5, 400)]
    csv = tmp_path / "events.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    with open_store(store_url) as store:
        import_file(store, csv, mapping, batch_rows=100)
        names = [v for e in store.iter_entities(schema="Organization") for v in e.properties["name"]]
        statements = [(e.id, s.prop, s.value) for e in store.iter_entities(schema="Organization") for s in e.statements]
    assert sorted(names) == sorted({"Cártel del Desierto", "Los Halcones", *(f"Grupo {n}" for n in range(7))})
    assert len(statements) == len(set(statements))
