"""The law and its enforcement as the portal reads them: Law, EnforcementOutcome and Program records
straight from the store, each with its values and the datasets it came from.

A small reader of its own (the legal tracker, ``cruce legal``, has the questions; this only lists
records), so the portal needs nothing but the schema contract of ``schema/types/legal.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

LEGAL_TYPES = ("Law", "EnforcementOutcome", "Program")
MULTIPLE = frozenset({"law_kind", "amended_date", "flow"})


@dataclass(frozen=True)
class Record:
    """One record: its values (lists for multi-valued properties) and its datasets."""

    id: str
    values: dict[str, Any]
    datasets: tuple[str, ...]

    def get(self, prop: str) -> str:
        value = self.values.get(prop, "")
        return str(value[0] if isinstance(value, list) and value else value or "")

    def all(self, prop: str) -> list[str]:
        value = self.values.get(prop, [])
        return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value else []


def read_records(store: Any, schema: str, datasets: Sequence[str] | None = None) -> list[Record]:
    """Every record of ``schema`` (one of ``LEGAL_TYPES``) of finished imports, of ``datasets``
    only when given, ordered by id."""
    if schema not in LEGAL_TYPES:
        raise ValueError(f"not a legal record type: {schema}")
    rows = store._fetch(
        "SELECT CAST(s.entity_id AS VARCHAR), p.prop, s.value, r.dataset FROM statement s "
        "JOIN property p ON p.prop_id = s.prop_id JOIN import_run r ON r.no = s.import_no "
        "WHERE p.schema = ? ORDER BY 1, 2, 3",
        (schema,),
    )
    values: dict[str, dict[str, Any]] = {}
    sources: dict[str, set[str]] = {}
    wanted = set(datasets) if datasets is not None else None
    for entity, prop, value, dataset in rows:
        if wanted is not None and dataset not in wanted:
            continue
        held = values.setdefault(str(entity), {})
        sources.setdefault(str(entity), set()).add(str(dataset))
        if prop in MULTIPLE:
            listed = held.setdefault(str(prop), [])
            if value not in listed:
                listed.append(str(value))
        else:
            held.setdefault(str(prop), str(value))
    return [Record(e, values[e], tuple(sorted(sources[e]))) for e in sorted(values)]


def _day(text: str) -> date | None:
    """A stored date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) as its first day."""
    parts = text.split("-")
    try:
        return date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2][:2]) if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        return None


def in_force_since(law: Record) -> date | None:
    """The day a law took effect: in force, else enacted."""
    return _day(law.get("in_force_date")) or _day(law.get("enacted_date"))


def in_force_on(law: Record, day: date) -> bool:
    """Whether ``law`` was in force on ``day`` (taken effect, not yet repealed)."""
    since = in_force_since(law)
    repealed = _day(law.get("repealed_date"))
    return since is not None and since <= day and (repealed is None or repealed > day)


def jurisdictions_in_force(laws: Sequence[Record], kind: str, day: date) -> dict[str, date]:
    """The state jurisdictions (ISO 3166-2) with a law of ``kind`` in force on ``day``, each with
    the day its earliest such law took effect."""
    found: dict[str, date] = {}
    for law in laws:
        code = law.get("jurisdiction")
        if code and kind in law.all("law_kind") and in_force_on(law, day):
            since = in_force_since(law)
            assert since is not None
            found[code] = min(found.get(code, since), since)
    return found


def counts_by_year(laws: Sequence[Record], kind: str, years: Sequence[int]) -> dict[int, int]:
    """How many state jurisdictions had a law of ``kind`` in force at the end of each year."""
    return {year: len(jurisdictions_in_force(laws, kind, date(year, 12, 31))) for year in years}
