"""The legal records (laws, enforcement outcomes, programs) read out of the statement store.

Legal data is small (hundreds of records, not millions), so the records are read once into Python
objects and the questions (``cruce.legal.questions``) are plain functions over them. A record is a
recorded entity, not a resolved cluster: two datasets describing the same law stay two records,
each with its own source.

**Current values.** Nothing in the store is overwritten, so a record edited on a page (written
again through its mapping into its dataset) holds both the old and the new values. A record's
current values are those of the latest import that saw it: each import of the legal mappings
describes a record whole (one row, every column), so a value the latest import did not repeat —
an old date, a cleared repeal — is no longer the record's.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Self

from cruce.analyses.tables import Reads, Tables

SCHEMAS = ("Law", "EnforcementOutcome", "Program")
FEDERAL = "federal"
STATE = "state"


def day_span(text: str | None) -> tuple[date, date] | None:
    """The first and last day a stored date covers: ``2003`` → 2003-01-01..2003-12-31, ``2003-09`` →
    the month, ``2003-09-01`` → that day; ``None`` for no date or a malformed one."""
    if not text:
        return None
    parts = text.split("-")
    try:
        year = int(parts[0])
        if len(parts) == 1:
            return date(year, 1, 1), date(year, 12, 31)
        month = int(parts[1])
        if len(parts) == 2:
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        day = date(year, month, int(parts[2][:2]))
    except ValueError:
        return None
    return day, day


@dataclass(frozen=True)
class Record:
    """What the three kinds of record share: where they come from and where they apply."""

    id: str
    schema: str
    dataset: str
    values: dict[str, tuple[str, ...]] = field(compare=False, hash=False)

    def one(self, prop: str) -> str | None:
        found = self.values.get(prop)
        return found[0] if found else None

    def all(self, prop: str) -> tuple[str, ...]:
        return self.values.get(prop, ())

    @property
    def record_id(self) -> str | None:
        return self.one("record_id")

    @property
    def name(self) -> str:
        return self.one("name") or self.one("citation") or self.id

    @property
    def level(self) -> str:
        return self.one("level") or (STATE if self.one("jurisdiction") else FEDERAL)

    @property
    def country(self) -> str | None:
        """The country: the one recorded, else the prefix of the state code."""
        state = self.one("jurisdiction")
        return self.one("country") or (state.split("-")[0] if state else None)

    @property
    def jurisdiction(self) -> str | None:
        """The state code of a state record; the country of a federal one."""
        if self.level == FEDERAL:
            return self.country
        return self.one("jurisdiction")

    @property
    def sources(self) -> list[dict[str, str]]:
        """Where the record says it comes from: each URL with the source's title."""
        title = self.one("source_title") or ""
        urls = self.all("source_url")
        return [{"url": u, "title": title} for u in urls] or ([{"url": "", "title": title}] if title else [])

    def plain(self) -> dict[str, Any]:
        """The record as JSON-ready values (multiple values as lists)."""
        out: dict[str, Any] = {"id": self.id, "schema": self.schema, "dataset": self.dataset}
        for prop, values in sorted(self.values.items()):
            out[prop] = list(values) if len(values) > 1 or prop in _MULTIPLE else values[0]
        out["jurisdiction"] = self.jurisdiction
        out["level"] = self.level
        out["country"] = self.country
        return out


_MULTIPLE = frozenset({"law_kind", "amended_date", "source_url", "flow", "notes"})


class Law(Record):
    @property
    def kinds(self) -> tuple[str, ...]:
        return self.all("law_kind")

    @property
    def start(self) -> date | None:
        """The day the law took effect: its in-force date, else its enactment date. A date of month
        or year precision counts from the period's last day (never earlier than the source says)."""
        span = day_span(self.one("in_force_date")) or day_span(self.one("enacted_date"))
        return span[1] if span else None

    @property
    def end(self) -> date | None:
        """The day the law stopped being in force (its repeal), from the period's first day."""
        span = day_span(self.one("repealed_date"))
        return span[0] if span else None

    def in_force_on(self, day: date) -> bool:
        start, end = self.start, self.end
        return start is not None and start <= day and (end is None or day < end)


class Outcome(Record):
    @property
    def year(self) -> int | None:
        span = day_span(self.one("year"))
        return span[0].year if span else None

    @property
    def end_year(self) -> int | None:
        """The last year of a period figure (``None`` for a figure of one year)."""
        span = day_span(self.one("end_date"))
        return span[0].year if span and self.year is not None and span[0].year > self.year else None

    @property
    def value(self) -> float | None:
        text = self.one("value")
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None


class Program(Record):
    @property
    def amount(self) -> float | None:
        text = self.one("amount")
        try:
            return float(text) if text is not None else None
        except ValueError:
            return None

    @property
    def years(self) -> list[int]:
        """The calendar years the program's period covers (start year only, when it has no end)."""
        start, end = day_span(self.one("start_date")), day_span(self.one("end_date"))
        if start is None:
            return []
        last = end[1].year if end else start[0].year
        return list(range(start[0].year, max(last, start[0].year) + 1))


_KINDS: dict[str, type[Record]] = {"Law": Law, "EnforcementOutcome": Outcome, "Program": Program}

_READ = (
    "SELECT CAST(s.entity_id AS VARCHAR), p.schema, p.prop, s.value, i.dataset, s.last_import_no "
    "FROM statement s JOIN property p ON p.prop_id = s.prop_id JOIN import_run i ON i.no = s.import_no "
    "WHERE p.schema IN ('Law', 'EnforcementOutcome', 'Program')"
)


def current(rows: Iterable[tuple[Any, ...]]) -> list[Record]:
    """Records from (entity id, schema, prop, value, dataset, last import) rows: each record with the
    values of the latest import that saw it (see the module's note)."""
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[str(row[0])].append(row)
    records: list[Record] = []
    for entity_id, found in sorted(grouped.items()):
        latest = max(int(r[5]) for r in found)
        values: dict[str, list[str]] = defaultdict(list)
        for _id, _schema, prop, value, _ds, last in sorted(found, key=lambda r: (r[2], r[3])):
            if int(last) == latest and value not in values[prop]:
                values[prop].append(str(value))
        schema, dataset = str(found[0][1]), str(found[0][4])
        kind = _KINDS[schema]
        records.append(kind(entity_id, schema, dataset, {k: tuple(v) for k, v in values.items()}))
    return records


class LegalData(Tables):
    """The legal records of a store as one set of users sees them (``load``), or as given (tests)."""

    def __init__(self, records: Sequence[Record] = ()) -> None:
        super().__init__()
        self.laws = [r for r in records if isinstance(r, Law)]
        self.outcomes = [r for r in records if isinstance(r, Outcome)]
        self.programs = [r for r in records if isinstance(r, Program)]

    @classmethod
    def reads(cls) -> Reads:
        return Reads(frozenset(SCHEMAS), frozenset())  # the records' own statements (``_READ``)

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> Self:
        """Every legal record of the store's finished imports, or of ``imports`` alone."""
        sql, params = _READ, []
        if imports is not None:
            if not imports:
                return cls()
            sql += f" AND s.import_no IN ({', '.join('?' for _ in imports)})"
            params = [int(n) for n in imports]
        return cls(current(store._fetch(sql, params)))

    def record(self, record_id: str) -> Record | None:
        """The record with this entity id, of any of the three kinds."""
        for record in [*self.laws, *self.outcomes, *self.programs]:
            if record.id == record_id:
                return record
        return None
