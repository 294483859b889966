"""What every reader shares: the error, the bad row, the description of a source and its base class."""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cruce.i18n import _

ROW_COLUMN = "__row"
# Bad rows kept in ``Source.bad_rows`` (all are counted in ``Source.bad_row_count``): memory stays
# bounded even when every row of a huge file is bad. A caller may drain the list between batches.
MAX_BAD_ROWS = 100_000
BAD_TEXT_LIMIT = 200
# The keys of JSON records become columns: a file with more distinct keys is not a table.
MAX_COLUMNS = 5_000


class ReadError(Exception):
    """A file that cannot be read at all; ``str()`` is the user's message naming the file (and row)."""

    def __init__(self, message: str, *, file: str, row: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class BadRow:
    """A row the reader skipped: its row number (when known), why, and its raw text (≤ 200 chars)."""

    row: int | None
    reason: str
    text: str


@dataclass(frozen=True)
class SourceInfo:
    """What was found out about a file before reading its rows."""

    path: Path
    format: str  # "csv" | "xlsx" | "json" | "jsonl" | "parquet"
    encoding: str | None
    delimiter: str | None
    compression: str | None
    size_bytes: int
    columns: tuple[str, ...]


def clean_name(name: object) -> str:
    """A header name without surrounding whitespace or byte-order marks."""
    return str(name).replace("\ufeff", "").strip()


def check_columns(names: Sequence[str], display: str, row: int | None = 1) -> tuple[str, ...]:
    """The cleaned column names, or a ReadError naming the blank, duplicate or reserved ones."""
    cleaned = [clean_name(n) for n in names]
    blank = [str(i) for i, n in enumerate(cleaned, 1) if not n]
    if blank:
        raise ReadError(
            _("{file}: the header has columns without a name (column {positions})").format(
                file=display, positions=", ".join(blank)
            ),
            file=display,
            row=row,
        )
    seen: set[str] = set()
    dupes: list[str] = []
    for name in cleaned:
        if name in seen and name not in dupes:
            dupes.append(name)
        seen.add(name)
    if dupes:
        raise ReadError(
            _("{file}: the header repeats column names: {names}").format(
                file=display, names=", ".join(repr(d) for d in dupes)
            ),
            file=display,
            row=row,
        )
    if ROW_COLUMN in seen:
        raise ReadError(
            _("{file}: the column name {name} is reserved for row numbers; rename that column").format(
                file=display, name=ROW_COLUMN
            ),
            file=display,
            row=row,
        )
    return tuple(cleaned)


def schema_for(columns: Iterable[str]) -> pa.Schema:
    return pa.schema([pa.field(c, pa.string()) for c in columns] + [pa.field(ROW_COLUMN, pa.int64())])


def truncate(text: str) -> str:
    return text if len(text) <= BAD_TEXT_LIMIT else text[: BAD_TEXT_LIMIT - 1] + "…"


class Source(ABC):
    """An opened file whose rows come out as Arrow record batches of text columns plus ``__row``."""

    info: SourceInfo
    bad_rows: list[BadRow]

    def __init__(self, info: SourceInfo, batch_rows: int) -> None:
        self.info = info
        self.bad_rows = []
        self.bad_row_count = 0
        self.schema = schema_for(info.columns)
        self.done = False  # set by readers when every row has been read
        self._batch_rows = batch_rows
        self._started = False
        self._closed = False

    def describe(self, info: SourceInfo) -> None:
        """Replace what is known of the file (columns included)."""
        self.info = info
        self.schema = schema_for(info.columns)

    @property
    def display(self) -> str:
        return self.info.path.name or str(self.info.path)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The rows in record batches of at most ``batch_rows`` rows; may be called once."""
        if self._started:
            raise RuntimeError("Source.batches() may be called only once")
        if self._closed:
            raise RuntimeError("Source is closed")
        self._started = True
        return self._generate()

    @abstractmethod
    def _generate(self) -> Iterator[pa.RecordBatch]:
        """Yield the batches of this format (each reader implements it)."""

    def bytes_read(self) -> int:
        """Bytes of the file consumed so far (compressed bytes for gzip), up to ``info.size_bytes``."""
        if self.done:
            return self.info.size_bytes
        return min(self._bytes_read(), self.info.size_bytes)

    @abstractmethod
    def _bytes_read(self) -> int:
        """Bytes consumed so far (each reader implements it)."""

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()

    @abstractmethod
    def _close(self) -> None:
        """Release the reader's files (each reader implements it)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def add_bad_row(self, row: int | None, reason: str, text: str) -> None:
        self.bad_row_count += 1
        if len(self.bad_rows) < MAX_BAD_ROWS:
            self.bad_rows.append(BadRow(row, reason, truncate(text)))

    def error(self, message: str, row: int | None = None) -> ReadError:
        return ReadError(message, file=self.display, row=row)

    def slices(self, columns: list[pa.Array], rows: pa.Array) -> Iterator[pa.RecordBatch]:
        """``columns`` + ``rows`` as batches of at most ``batch_rows`` rows (zero-copy slices)."""
        batch = pa.RecordBatch.from_arrays([*columns, rows], schema=self.schema)
        for start in range(0, batch.num_rows, self._batch_rows):
            yield batch.slice(start, self._batch_rows)


class RowBatcher:
    """Collects rows of Python text values and hands them out as record batches."""

    def __init__(self, source: Source, width: int) -> None:
        self._source = source
        self._width = width
        self._values: list[list[str | None]] = [[] for _ in range(width)]
        self._rows: list[int] = []
        self._limit = source._batch_rows

    def add(self, row: int, values: Sequence[str | None]) -> pa.RecordBatch | None:
        """Add a row of ``width`` values; returns a full batch when one is ready."""
        for column, value in zip(self._values, values, strict=True):
            column.append(value)
        self._rows.append(row)
        return self.flush() if len(self._rows) >= self._limit else None

    def flush(self) -> pa.RecordBatch | None:
        if not self._rows:
            return None
        arrays = [pa.array(values, pa.string()) for values in self._values]
        arrays.append(pa.array(self._rows, pa.int64()))
        self._values = [[] for _ in range(self._width)]
        self._rows = []
        return pa.RecordBatch.from_arrays(arrays, schema=self._source.schema)


_BIG_INTEGRAL = 1e15


def float_text(value: float) -> str:
    """A float as text: integral values without ``.0`` (``3.0`` → ``"3"``), others as Python writes them."""
    if value.is_integer() and abs(value) < _BIG_INTEGRAL:
        return str(int(value))
    return repr(value)


def datetime_text(value: dt.datetime) -> str:
    """ISO 8601; a datetime at midnight (how spreadsheets store dates) is written as the date alone."""
    if value.hour == value.minute == value.second == value.microsecond == 0 and value.tzinfo is None:
        return value.date().isoformat()
    return value.isoformat()


def timedelta_text(value: dt.timedelta) -> str:
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def value_text(value: object) -> str | None:
    """A Python value (from a spreadsheet cell or a JSON document) as text; ``None`` stays null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return timedelta_text(value)
    if isinstance(value, list | tuple | dict):
        return json_text(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


class RowNumbers:
    """Row numbers for consecutive good rows, stepping over the numbers of rows the parser skipped.

    ``skipped`` receives, in increasing order, the numbers of rows that will not appear in batches
    (bad rows); ``take(n)`` returns the numbers of the next ``n`` good rows.
    """

    def __init__(self, first: int) -> None:
        self.next = first
        self.skipped: list[int] = []
        self._skip_pos = 0
        self._base = pa.array(range(0), pa.int64())

    def _arange(self, start: int, count: int) -> pa.Array:
        if len(self._base) < count:
            self._base = pa.array(range(max(count, 2 * len(self._base))), pa.int64())
        return pc.add(self._base.slice(0, count), pa.scalar(start, pa.int64()))

    def take(self, count: int) -> pa.Array:
        pieces: list[pa.Array] = []
        cur = self.next
        remaining = count
        skipped = self.skipped
        while self._skip_pos < len(skipped) and skipped[self._skip_pos] < cur:
            self._skip_pos += 1
        while remaining and self._skip_pos < len(skipped) and skipped[self._skip_pos] - cur < remaining:
            bad = skipped[self._skip_pos]
            self._skip_pos += 1
            if bad > cur:
                pieces.append(self._arange(cur, bad - cur))
                remaining -= bad - cur
            cur = bad + 1
        if self._skip_pos > 1024:  # forget numbers already stepped over
            del skipped[: self._skip_pos]
            self._skip_pos = 0
        pieces.append(self._arange(cur, remaining))
        self.next = cur + remaining
        if len(pieces) == 1:
            return pieces[0]
        return pa.concat_arrays(pieces)
