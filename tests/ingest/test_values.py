"""What each property type turns a source cell into — or why it rejects it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.store import Store, open_store

MAPPING = """
name: values
dataset: values
entities:
  seizure:
    schema: DrugSeizure
    key: [id]
    properties:
      date: {column: fecha, format: ["%d/%m/%Y", "%d de %B de %Y", "%b %Y"]}
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
    key: [id]
    properties:
      name: nombre
      email: correo
      gender: {column: sexo, map: {"1": male, "2": female}}
      alias: {column: alias, split: "|"}
  sale:
    schema: FirearmPurchase
    key: [id]
    properties:
      price: {column: monto, currency_column: moneda}
  place:
    schema: Location
    key: [id]
    properties:
      name: nombre
      geo: {column: punto}
"""
HEADER = "id,fecha,cantidad,unidad,estado,nota,tel,nombre,correo,sexo,alias,monto,moneda,punto"


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(":memory:") as opened:
        yield opened


def _import(store: Store, tmp_path: Path, *rows: str) -> dict[str, dict[str, list[str]]]:
    mapping = tmp_path / "values.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    source = tmp_path / "values.csv"
    source.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    import_file(store, source, mapping)
    return {f"{e.schema}": e.properties for e in store.iter_entities()}


def _value(store: Store, schema: str, prop: str) -> list[str]:
    return sorted(v for e in store.iter_entities(schema=schema) for v in e.properties.get(prop, []))


def test_every_type_normalises(store: Store, tmp_path: Path) -> None:
    _import(
        store,
        tmp_path,
        '1,5 de enero de 2021,"1.250,5",kilos,Nuevo León,Túnel,656 123 4567,Ana López,Ana@Example.MX,2,'
        'La Güera|Annie,"$1,299.99",dólares,POINT (-106.48 31.74)',
        '2,mar 2020,3,libras,NL,,+1 915 555 0142,Luis Soto,,1,,850,pesos mexicanos,"31.7,-106.4"',
    )
    assert _value(store, "DrugSeizure", "date") == ["2020-03", "2021-01-05"]
    assert _value(store, "DrugSeizure", "quantity") == ["1250.5 kg", "3 lb"]
    assert _value(store, "DrugSeizure", "state") == ["MX-NLE", "MX-NLE"]
    assert _value(store, "Phone", "number") == ["+19155550142", "+526561234567"]
    assert _value(store, "Person", "email") == ["ana@example.mx"]
    assert _value(store, "Person", "gender") == ["female", "male"]
    assert _value(store, "Person", "alias") == ["Annie", "La Güera"]
    assert _value(store, "FirearmPurchase", "price") == ["1299.99 USD", "850 MXN"]
    assert _value(store, "Location", "geo") == ["31.700000,-106.400000", "31.740000,-106.480000"]


def test_value_map_keeps_the_source_text_as_original(store: Store, tmp_path: Path) -> None:
    _import(store, tmp_path, "1,,,,,,,Ana López,,2,,,,")
    person = next(store.iter_entities(schema="Person"))
    gender = next(s for s in person.statements if s.prop == "gender")
    assert (gender.value, gender.original) == ("female", "2")


@pytest.mark.parametrize(
    ("row", "reason", "value"),
    [
        ("1,,,,,,656 000 11,Ana,,,,,,", "invalid_phone", "656 000 11"),
        ("1,,,,,,,Ana,no-es-correo,,,,,", "invalid_email", "no-es-correo"),
        ("1,31/02/2021,,,,,,Ana,,,,,,", "invalid_date", "31/02/2021"),
        ("1,,3,pastillas,,,,Ana,,,,,,", "invalid_quantity", "3 pastillas"),
        ("1,,,,,,,Ana,,,,900,doblones,", "invalid_money", "900 doblones"),
        ("1,,,,Narnia,,,Ana,,,,,,", "invalid_state", "Narnia"),
        ("1,,,,,,,Ana,,7,,,,", "invalid_enum", "7"),
        ('1,,,,,,,Ana,,,,,,"95,200"', "invalid_geopoint", "95,200"),
    ],
)
def test_bad_values_reject_the_row(store: Store, tmp_path: Path, row: str, reason: str, value: str) -> None:
    good = "2,,,,,,,Luis,,,,,,"
    _import(store, tmp_path, row, good)
    rejects = list(store.rejects())
    assert [(r.source_row, r.reason, r.value) for r in rejects] == [(2, reason, value)]
    assert _value(store, "Person", "name") == ["Luis"]
