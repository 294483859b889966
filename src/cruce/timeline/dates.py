"""Dates as the sources give them: a year, a month, a day or a moment, kept at that precision.

A statement holds ``2019``, ``2019-03``, ``2019-03-14`` or ``2019-03-14T10:22:00`` (the import
writes each at the precision its source had). A timeline must neither invent a day for "2019"
nor drop it: each value is read as the span of days it stands for, ordered by its first day and
written the way it was known ("2019", "March 2019", "14 Mar 2019").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from babel.dates import format_date, format_datetime, format_skeleton

Precision = Literal["year", "month", "day", "time"]
LOCALES = {"en": "en_US", "es": "es_MX"}
_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?)?)?$")


@dataclass(frozen=True)
class PartialDate:
    """A date known to a year, a month, a day or a time; ``first``..``last`` are the days it may be."""

    text: str
    precision: Precision
    first: date
    last: date
    moment: datetime | None = None

    @classmethod
    def parse(cls, value: str | None) -> PartialDate | None:
        """The date a statement's text stands for; None for text that is not one (or a redacted value)."""
        if not value:
            return None
        match = _PATTERN.match(value.strip()[:19])
        if match is None:
            return None
        year, month, day, hour, minute, second = match.groups()
        try:
            if month is None:
                return cls(year, "year", date(int(year), 1, 1), date(int(year), 12, 31))
            y, m = int(year), int(month)
            if day is None:
                end = calendar.monthrange(y, m)[1]
                return cls(f"{year}-{month}", "month", date(y, m, 1), date(y, m, end))
            d = date(y, m, int(day))
            if hour is None:
                return cls(d.isoformat(), "day", d, d)
            moment = datetime(y, m, int(day), int(hour), int(minute), int(second or 0))
            return cls(moment.isoformat(), "time", d, d, moment)
        except ValueError:
            return None

    @classmethod
    def bound(cls, value: str | None) -> PartialDate | None:
        """A range's end as a user writes it: as ``parse``, but a day past the month's end (2021-02-31)
        is its last day, so that every well-formed date is one."""
        parsed = cls.parse(value)
        match = _PATTERN.match(value or "")
        if parsed is not None or match is None or match.group(3) is None:
            return parsed
        year, month = int(match.group(1)), int(match.group(2))
        if year < 1 or not 1 <= month <= 12:
            return None
        return cls.parse(f"{year:04d}-{month:02d}-{min(int(match.group(3)), calendar.monthrange(year, month)[1]):02d}")

    @property
    def exact(self) -> bool:
        """Known to the day (or better)."""
        return self.precision in ("day", "time")

    def format(self, lang: str) -> str:
        """As a reader of ``lang`` writes it, at the precision known: 2019 · marzo de 2019 · 14 mar 2019."""
        locale = LOCALES.get(lang, "en_US")
        if self.precision == "year":
            return self.text
        if self.precision == "month":
            return str(format_skeleton("yMMMM", self.first, locale=locale))
        if self.precision == "time" and self.moment is not None:
            return str(format_datetime(self.moment, "medium", locale=locale))
        return str(format_date(self.first, "medium", locale=locale))
