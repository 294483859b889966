"""``cruce pprl encode``: people from the store, or from a file through a mapping, into Bloom filters.

An encode discloses protected people's data (in a form meant to be unreadable, but still theirs)
to another agency, so it is audited like an export: who, from which datasets, how many people,
how many of them protected (victims), never a name.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cruce.i18n import _
from cruce.pprl import files
from cruce.pprl.fields import SCHEMA_NAME, SCHEMA_VERSION, PersonFields, linkage_schema, person_fields
from cruce.pprl.worker import PprlError, call
from cruce.store.base import Store


@dataclass(frozen=True)
class EncodeResult:
    records: int
    protected_people: int
    out: Path
    map_path: Path


def encode_fields(fields: PersonFields, secret: bytes) -> list[str]:
    """The Bloom filters (base64) of prepared records, in order, from the PPRL worker."""
    request = {
        "op": "encode",
        "schema": linkage_schema(),
        "secret": base64.b64encode(secret).decode("ascii"),
        "rows": fields.rows,
    }
    clks: list[str] = call(request)["clks"]
    if len(clks) != len(fields.rows):
        raise PprlError(
            _("The PPRL worker returned {got} encodings for {n} records.").format(got=len(clks), n=len(fields.rows))
        )
    return clks


def encode_store(
    store: Store,
    secret: bytes,
    out: Path,
    *,
    dataset: str | None = None,
    map_path: Path | None = None,
    actor: str = "cli",
    audit_store: Store | None = None,
    source: dict[str, Any] | None = None,
) -> EncodeResult:
    """Encode the Person records of ``store`` (or of one dataset) into ``out``; write the private map.

    The encode is audited in ``audit_store`` (by default ``store``) as done by ``actor``.
    """
    if dataset is not None and dataset not in {r.dataset for r in store.imports()}:
        raise PprlError(_("There is no dataset {name} in this database.").format(name=dataset))
    fields = person_fields(store, dataset)
    protected = _protected_people(store, fields.ids)
    map_path = map_path or files.default_map_path(out)
    detail = {
        "source": "store",
        "datasets": [dataset] if dataset else "all",
        **(source or {}),
        "records": len(fields.ids),
        "protected_people": protected,
        "schema": f"{SCHEMA_NAME}/{SCHEMA_VERSION}",
        "output": out.name,
    }
    from cruce.security import Security

    audit = Security(audit_store or store).audit
    try:
        clks = encode_fields(fields, secret)
        pseudonyms = files.pseudonyms(len(fields.ids))
        files.write_map(map_path, pseudonyms, fields.ids)
        files.write_encoded(out, pseudonyms, clks)
    except PprlError:
        audit.record(actor, "pprl_encode", target="Person", detail=detail, outcome="failed")
        raise
    audit.record(actor, "pprl_encode", target="Person", detail=detail)
    return EncodeResult(len(fields.ids), protected, out, map_path)


def encode_file(
    path: Path,
    mapping: str,
    secret: bytes,
    out: Path,
    *,
    audit_store: Store,
    dataset: str | None = None,
    map_path: Path | None = None,
    actor: str = "cli",
) -> EncodeResult:
    """Encode the people of a file read through a mapping, as if imported into a database of its own.

    The file goes through cruce's import (the mapping's checks, its rejected rows) into a
    throw-away in-memory database; the map's record ids are the ids that importing the file into
    a cruce database with the same dataset name gives.
    """
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store

    with open_store(":memory:") as scratch:
        result = import_file(scratch, path, mapping, dataset=dataset)
        source = {
            "source": "file",
            "file": path.name,
            "mapping": result.mapping,
            "datasets": [result.dataset],
            "rows_rejected": result.rows_rejected,
        }
        return encode_store(
            scratch,
            secret,
            out,
            map_path=map_path,
            actor=actor,
            audit_store=audit_store,
            source=source,
        )


def _protected_people(store: Store, ids: list[str]) -> int:
    """How many of the records are people a protected property points at (victims of a case)."""
    from cruce.security.db import AppDB

    rows = AppDB(store).fetch("SELECT DISTINCT CAST(target AS VARCHAR) FROM entity_ref WHERE protected")
    protected = {str(r[0]) for r in rows}
    return sum(1 for i in ids if i in protected)
