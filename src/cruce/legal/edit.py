"""Entering or correcting a law, an outcome or a program by hand, through the import pipeline.

cruce has no way to add statements outside an import, and needs none: an edit is written as a
one-row CSV in the layout of the record's built-in mapping (``cruce-laws``, ``cruce-enforcement``,
``cruce-programs``) and imported like any file. So an edit gets what every value gets — the
mapping's validation (a bad date or an unknown state is refused with the field and the reason),
provenance (dataset, import, file, row) and nothing overwritten. The file is kept in ``folder``
(the server's upload folder), so the import's ``source_file`` still opens.

A new record goes into the ``manual`` dataset with a fresh id (``manual-…``); a correction goes into
the record's own dataset under its own id (``record_id``), so it is the same entity, and its
values become the record's current ones (``cruce.legal.records``: the latest import that saw a
record describes it).
"""

from __future__ import annotations

import csv
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cruce.i18n import mark as _
from cruce.ingest.compile import REASONS, entity_id
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.legal.records import Record

MANUAL_DATASET = "manual"
SOURCE_REQUIRED = _("a source (URL or title) is required")
NOT_A_WEB_ADDRESS = _("not a web address (http:// or https://)")
KINDS = ("law", "outcome", "program")
MAPPINGS = {"law": "cruce-laws", "outcome": "cruce-enforcement", "program": "cruce-programs"}
SCHEMAS = {"law": "Law", "outcome": "EnforcementOutcome", "program": "Program"}
KEYS = {"law": "law_id", "outcome": "outcome_id", "program": "program_id"}
COLUMNS = {
    "law": (
        "law_id", "name", "country", "level", "jurisdiction", "law_kind", "citation", "enacted_date",
        "in_force_date", "amended_date", "repealed_date", "provisions", "source_url", "source_title", "notes",
    ),
    "outcome": (
        "outcome_id", "name", "country", "level", "jurisdiction", "year", "end_year", "flow", "measure",
        "value", "agency", "source_url", "source_title", "notes",
    ),
    "program": (
        "program_id", "name", "country", "level", "jurisdiction", "flow", "amount", "currency", "start_date",
        "end_date", "purpose", "funder", "source_url", "source_title", "notes",
    ),
}  # fmt: skip
"""The CSV layout of each mapping (docs/mappings.md), the columns an edit form fills."""

# record property → CSV column, where they differ (multi-valued ones are joined back with the split text)
_FROM_PROPERTY = {
    "law": {"record_id": "law_id"},
    "outcome": {"record_id": "outcome_id", "end_date": "end_year"},
    "program": {"record_id": "program_id"},
}
_JOIN = {"law_kind": ";", "amended_date": ";", "flow": ";", "source_url": " ", "notes": " "}


class EditRefused(ValueError):  # noqa: N818 - a refusal the page shows, not a crash
    """The edit was not stored: each problem as (field, reason, value), the reason in English (a
    msgid: the page shows it translated)."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {r} ({v})" for f, r, v in problems))


@dataclass(frozen=True)
class Edit:
    """A stored edit: the record's entity id, its dataset and the import that wrote it."""

    entity_id: str
    dataset: str
    record_id: str
    result: ImportResult


def form_values(kind: str, record: Record) -> dict[str, str]:
    """A record's current values in the columns of its mapping: what an edit form starts from."""
    rename = _FROM_PROPERTY[kind]
    values: dict[str, str] = {}
    for prop, found in record.values.items():
        column = rename.get(prop, prop)
        if column in COLUMNS[kind]:
            values[column] = _JOIN.get(prop, " ").join(found)
    if kind == "outcome" and values.get("year"):
        values["year"] = values["year"][:4]
    if kind == "outcome" and values.get("end_year"):
        values["end_year"] = values["end_year"][:4]
    return values


def _file_name(kind: str, record_id: str, now: datetime) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", record_id)[:60]
    return f"legal-edit-{kind}-{safe}-{now:%Y%m%d%H%M%S%f}.csv"


def write_record(
    store: Any,
    kind: str,
    values: dict[str, str],
    folder: Path,
    *,
    dataset: str | None = None,
) -> Edit:
    """Store one record (new, or the correction of the one with ``values[key]`` in ``dataset``)
    through its mapping; raises ``EditRefused`` with the fields at fault when the row is rejected."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of legal record: {kind!r}")
    key = KEYS[kind]
    record_id = (values.get(key) or "").strip() or f"manual-{uuid.uuid4().hex[:12]}"
    dataset = dataset or MANUAL_DATASET
    if not ((values.get("source_url") or "").strip() or (values.get("source_title") or "").strip()):
        raise EditRefused([("source_url", SOURCE_REQUIRED, ""), ("source_title", SOURCE_REQUIRED, "")])
    bad_urls = [u for u in (values.get("source_url") or "").split() if not u.startswith(("http://", "https://"))]
    if bad_urls:
        raise EditRefused([("source_url", NOT_A_WEB_ADDRESS, u) for u in bad_urls])
    row = {c: (values.get(c) or "").strip() for c in COLUMNS[kind]}
    row[key] = record_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(kind, record_id, datetime.now())
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS[kind]))
        writer.writeheader()
        writer.writerow(row)
    result = import_file(store, path, MAPPINGS[kind], dataset=dataset)
    if result.rows_rejected:
        problems = [
            (r.field or "", REASONS.get(r.reason, r.reason), r.value or "")
            for r in store.rejects(import_id=result.import_id)
        ]
        raise EditRefused(problems)
    prefix = {"law": "law", "outcome": "outcome", "program": "program"}[kind]
    return Edit(entity_id(dataset, prefix, record_id), dataset, record_id, result)
