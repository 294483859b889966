"""What is encoded of each person: the linkage schema's fields, normalised by cruce before hashing.

Both agencies must hash the same strings for the same person, so the fields are not sent as
written: cruce's own preparation (``cruce.resolve.prepare``, the normalisers of
``cruce.resolve.normalise``) reads each name, folds accents and case, tells given names from
surnames whatever the order ("RAMÍREZ HERNÁNDEZ, José Luis" and "José Luis Ramírez"), keeps
particles with their surname and resolves nicknames (Pepe -> jose). The clkhash schema
(``schema.json``, documented in docs/guide/pprl.md) then says how each field becomes bits.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import duckdb

from cruce.resolve.prepare import prepare
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
    """The Person records of ``store`` (or of one dataset), prepared and normalised; those with
    neither a name nor a date of birth are left out (nothing to link them by)."""
    names = feature_names()
    if sorted(names) != sorted(COLUMNS):
        raise RuntimeError("schema.json and COLUMNS disagree")  # a packaging mistake, not a user's
    con = duckdb.connect(":memory:")
    try:
        table, _count = prepare(store, con, "Person")
        where = "WHERE coalesce(first_given, first_surname, dob) IS NOT NULL"
        if dataset is not None:
            con.register("cruce_pprl_ids", _dataset_ids(store, dataset))
            where += " AND unique_id IN (SELECT entity_id FROM cruce_pprl_ids)"
        select = ", ".join(f"coalesce({COLUMNS[n]}, '')" for n in names)
        rows = con.execute(f"SELECT unique_id, {select} FROM {table} {where} ORDER BY unique_id").fetchall()
    finally:
        con.close()
    return PersonFields(ids=[str(r[0]) for r in rows], rows=[[str(v) for v in r[1:]] for r in rows])


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
