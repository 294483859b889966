"""What is encoded of each person: the linkage schema's fields, normalised by cruce before hashing.

Both agencies must hash the same strings for the same person, so the fields are not sent as
written: resolution's reading of records (``cruce.resolve.prepare``: its statement loader and
``parse_name``, over the normalisers of ``cruce.resolve.normalise``) folds accents and case,
tells given names from surnames whatever the order ("RAMÍREZ HERNÁNDEZ, José Luis" and "José
Luis Ramírez"), keeps particles with their surname and resolves nicknames (Pepe -> jose). The
clkhash schema (``schema.json``, documented in docs/guide/pprl.md) then says how each field
becomes bits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import duckdb

from cruce.resolve.prepare import NAME_SCHEMA, PARTS_MARK, load_statements, map_distinct, parse_name
from cruce.store.base import Store

SCHEMA_NAME = "cruce-person-es"
SCHEMA_VERSION = 1

# The prepared table's expression for each feature of schema.json, in the schema's order.
COLUMNS: dict[str, str] = {
    "given_name": "first_given",
    "surnames": "array_to_string(list_sort(list_filter([first_surname, second_surname], s -> s <> '')), ' ')",
    "birth_date": "replace(dob, '-', '')",
    "birth_year": "substr(dob, 1, 4)",
    "birth_day_month": "array_to_string(list_sort([substr(dob, 6, 2), substr(dob, 9, 2)]), '')",
    "sex": "sex",
}


@cache
def linkage_schema() -> dict[str, Any]:
    """The clkhash v3 linkage schema shipped with cruce."""
    schema: dict[str, Any] = json.loads(files("cruce.pprl").joinpath("schema.json").read_text(encoding="utf-8"))
    return schema


def schema_fingerprint() -> str:
    """SHA-256 of the schema's canonical JSON: two files can be matched only when theirs agree."""
    text = json.dumps(linkage_schema(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def feature_names() -> list[str]:
    return [f["identifier"] for f in linkage_schema()["features"] if not f.get("ignored")]


@dataclass(frozen=True)
class PersonFields:
    """The records to encode: their ids (never sent) and, row by row, the schema's field values."""

    ids: list[str]
    rows: list[list[str]]


def person_fields(store: Store, dataset: str | None = None) -> PersonFields:
    """The Person records of ``store`` (or of one dataset), normalised; those with neither a name
    nor a date of birth are left out (nothing to link them by)."""
    names = feature_names()
    if sorted(names) != sorted(COLUMNS):
        raise RuntimeError("schema.json and COLUMNS disagree")  # a packaging mistake, not a user's
    con = duckdb.connect(":memory:")
    try:
        load_statements(store, con, "Person")
        if dataset is not None:
            con.register("cruce_pprl_ids", _dataset_ids(store, dataset))
            con.execute("DELETE FROM cruce_rs_raw WHERE entity_id NOT IN (SELECT entity_id FROM cruce_pprl_ids)")
        _prepare_people(con)
        select = ", ".join(f"coalesce({COLUMNS[n]}, '')" for n in names)
        rows = con.execute(
            f"SELECT unique_id, {select} FROM cruce_pprl_people "
            "WHERE coalesce(first_given, first_surname, dob) IS NOT NULL ORDER BY unique_id"
        ).fetchall()
    finally:
        con.close()
    return PersonFields(ids=[str(r[0]) for r in rows], rows=[[str(v) for v in r[1:]] for r in rows])


def _prepare_people(con: duckdb.DuckDBPyConnection) -> None:
    """``cruce_pprl_people`` from ``cruce_rs_raw``: the name read by resolution's ``parse_name`` (once
    per distinct name), the date of birth and the sex as resolution's preparation reads them; only
    what the schema hashes (resolution's full preparation also reads phones, addresses, purchases)."""
    con.execute(
        f"""
        CREATE OR REPLACE TABLE cruce_pprl_base AS
        SELECT entity_id,
               CASE WHEN first_name IS NOT NULL OR last_name IS NOT NULL
                    THEN concat_ws('{PARTS_MARK}', coalesce(first_name, ''), coalesce(last_name, ''),
                                   coalesce(second_last_name, ''))
                    ELSE full_name END AS name_text,
               strftime(try_cast(birth_date AS DATE), '%Y-%m-%d') AS dob,
               CASE WHEN gender IN ('m', 'male', 'h', 'hombre', 'masculino') THEN 'm'
                    WHEN gender IN ('f', 'female', 'mujer', 'femenino') THEN 'f' END AS sex
        FROM (SELECT entity_id,
                     min(value) FILTER (prop = 'name') AS full_name,
                     min(value) FILTER (prop = 'first_name') AS first_name,
                     min(value) FILTER (prop = 'last_name') AS last_name,
                     min(value) FILTER (prop = 'second_last_name') AS second_last_name,
                     min(value) FILTER (prop = 'birth_date') AS birth_date,
                     min(lower(value)) FILTER (prop = 'gender') AS gender
              FROM cruce_rs_raw GROUP BY entity_id)
        """
    )
    map_distinct(con, "SELECT name_text AS value FROM cruce_pprl_base", "cruce_pprl_names", parse_name, NAME_SCHEMA)
    con.execute(
        """
        CREATE OR REPLACE TABLE cruce_pprl_people AS
        SELECT b.entity_id AS unique_id, n.first_given, n.first_surname, n.second_surname, b.dob, b.sex
        FROM cruce_pprl_base b LEFT JOIN cruce_pprl_names n ON n.value = b.name_text
        """
    )


def _dataset_ids(store: Store, dataset: str) -> Any:
    """The ids of the Person records that ``dataset``'s imports wrote, as an Arrow table."""
    import pyarrow as pa

    from cruce.security.db import AppDB

    found = AppDB(store).fetch(
        "SELECT DISTINCT CAST(s.entity_id AS VARCHAR) FROM statement s "
        "JOIN import_run i ON i.no = s.import_no JOIN property p ON p.prop_id = s.prop_id "
        "WHERE p.schema = 'Person' AND i.dataset = ?",
        [dataset],
    )
    return pa.table({"entity_id": pa.array([str(r[0]) for r in found], pa.string())})
