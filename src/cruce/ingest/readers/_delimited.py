"""CSV, TSV and other delimited text, streamed through ``pyarrow.csv.open_csv``.

* Parsing is Arrow's (single-threaded, so that the invalid-row handler knows row numbers), in
  blocks of ``BLOCK_SIZE`` bytes, every column typed as text; Python only looks at the sample
  used for detection. Arrow's read-ahead is held to ``READ_AHEAD_BLOCKS`` blocks (see
  ``Throttle``), so memory stays bounded whatever the size of the file.
* Row numbers count *records*, as a spreadsheet does: the header is row 1 (row N + 1 when N
  blank lines come first), the first data record row 2, and a quoted value spanning several
  lines is still one row. For files without such values (nearly all) this is also the line
  number a text editor shows. Blank lines count as rows; they are skipped, as are rows whose
  fields are all empty.
* An unquoted empty field is null; a quoted empty field (``""``) is the empty string.
* A row with the wrong number of fields is skipped and recorded in ``Source.bad_rows``.
* Bytes invalid for the encoding stop the read with a ``ReadError`` whose row is the *line*
  number of the bad bytes (the same as the row number unless an earlier value spans lines).
"""

from __future__ import annotations

import atexit
import csv
import io
import itertools
import weakref
from collections.abc import Iterator
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cruce.i18n import _
from cruce.ingest.readers._common import ReadError, RowNumbers, Source, SourceInfo, check_columns
from cruce.ingest.readers._text import TextPlan, TextStream, Throttle

BLOCK_SIZE = 8 << 20
# Blocks Arrow may read ahead of the batches handed out (it would read dozens).
READ_AHEAD_BLOCKS = 4
DELIMITERS = (",", ";", "\t", "|")
SNIFF_ROWS = 50


def _rows(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    return [row for row in itertools.islice(reader, limit) if row]


def sniff_delimiter(text: str, complete: bool) -> str:
    """The delimiter among , ; TAB | that splits the header into most fields, consistently.

    Quoted fields are respected. A candidate must split the header into at least two fields; then
    the one with the largest share of sampled rows as wide as the header wins, then the widest.
    """
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    best, best_score = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = _rows(text, delimiter, SNIFF_ROWS)
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def header_names(text: str, delimiter: str) -> list[str]:
    try:
        rows = _rows(text, delimiter, 1)
    except csv.Error:
        rows = []
    return rows[0] if rows else []


def _blank_lines(text: str) -> int:
    """How many blank lines come before the header (they are skipped, and counted as rows)."""
    count = 0
    lines = text.split("\n")
    for line in lines[:-1]:
        if line.strip():
            break
        count += 1
    return count


class CsvSource(Source):
    def __init__(self, plan: TextPlan, delimiter: str | None, size: int, batch_rows: int) -> None:
        display = plan.display
        self._skip = _blank_lines(plan.sample)
        text = plan.sample.split("\n", self._skip)[-1] if self._skip else plan.sample
        if delimiter is None:
            delimiter = sniff_delimiter(text, plan.complete)
        elif len(delimiter) != 1:
            raise ReadError(
                _("{file}: the delimiter must be one character, not {delimiter!r}").format(
                    file=display, delimiter=delimiter
                ),
                file=display,
            )
        raw = header_names(text, delimiter)
        columns = check_columns(raw, display, row=self._skip + 1)
        info = SourceInfo(plan.path, "csv", plan.encoding, delimiter, plan.compression, size, columns)
        super().__init__(info, batch_rows)
        self._plan = plan
        self._numbers = RowNumbers(first=self._skip + 2)
        self._stream: TextStream | None = None
        _OPEN.add(self)
        self._reader = self._open(raw)
        names = list(self._reader.schema.names)
        if names != raw:
            # Python's csv module and Arrow disagree about an odd header: Arrow's reading wins.
            self._reset()
            self.describe(replace(self.info, columns=check_columns(names, display, row=self._skip + 1)))
            self._reader = self._open(names)

    def _on_switch(self, encoding: str) -> None:
        self.info = replace(self.info, encoding=encoding)

    def _open(self, names: list[str]) -> pacsv.CSVStreamingReader:
        self._stream = self._plan.stream(self._on_switch)
        self._throttle = self._stream.throttle = Throttle(READ_AHEAD_BLOCKS * BLOCK_SIZE)
        read = pacsv.ReadOptions(use_threads=False, block_size=BLOCK_SIZE, skip_rows=self._skip)
        parse = pacsv.ParseOptions(
            delimiter=self.info.delimiter,
            quote_char='"',
            double_quote=True,
            escape_char=False,
            newlines_in_values=True,
            ignore_empty_lines=False,
            invalid_row_handler=self._on_invalid_row,
        )
        convert = pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            check_utf8=False,  # the stream hands over validated UTF-8 only
            strings_can_be_null=True,
            null_values=[""],
            quoted_strings_can_be_null=False,
        )
        stream = self._stream
        try:
            with self._throttle.consumer_waiting():
                return pacsv.open_csv(self._stream, read_options=read, parse_options=parse, convert_options=convert)
        except ReadError:
            self._reset()
            stream.wait_for_quiet()
            raise
        except (pa.ArrowException, OSError) as exc:
            error = self._arrow_error(exc)
            self._reset()
            stream.wait_for_quiet()
            raise error from exc

    def _reset(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._numbers = RowNumbers(first=self._skip + 2)
        self.bad_rows.clear()
        self.bad_row_count = 0

    def _on_invalid_row(self, row: pacsv.InvalidRow) -> str:
        number = row.number
        if number is not None and number >= 0:
            self._numbers.skipped.append(number)
        else:  # pragma: no cover - only with multithreaded parsing, which is not used
            number = None
        self.add_bad_row(
            number,
            _("expected {expected} fields, found {actual}").format(
                expected=row.expected_columns, actual=row.actual_columns
            ),
            row.text,
        )
        return "skip"

    def _arrow_error(self, exc: BaseException) -> ReadError:
        row = self._numbers.next
        text = str(exc)
        if "straddling" in text or "block size" in text:
            message = _(
                "{file}: near row {row}: a row is longer than {size} MB, usually because of a "
                "quote that is never closed"
            ).format(file=self.display, row=row, size=BLOCK_SIZE >> 20)
        else:
            message = _("{file}: near row {row}: cannot read the file: {reason}").format(
                file=self.display, row=row, reason=text
            )
        return ReadError(message, file=self.display, row=row)

    def _generate(self) -> Iterator[pa.RecordBatch]:
        width = len(self.info.columns)
        try:
            while True:
                try:
                    with self._throttle.consumer_waiting():
                        batch = self._reader.read_next_batch()
                    self._throttle.took(BLOCK_SIZE)
                except StopIteration:
                    break
                except ReadError:
                    raise
                except (pa.ArrowException, OSError) as exc:
                    raise self._arrow_error(exc) from exc
                if batch.num_rows == 0:
                    continue
                rows = self._numbers.take(batch.num_rows)
                columns = [batch.column(i) for i in range(width)]
                columns = [c if c.type == pa.string() else c.cast(pa.string()) for c in columns]
                if columns[0].null_count:
                    keep = pc.is_valid(columns[0])
                    for column in columns[1:]:
                        keep = pc.or_(keep, pc.is_valid(column))
                    if not pc.all(keep).as_py():
                        columns = [pc.filter(c, keep) for c in columns]
                        rows = pc.filter(rows, keep)
                        if len(rows) == 0:
                            continue
                yield from self.slices(columns, rows)
            self.done = True
        finally:
            self.close()

    def _bytes_read(self) -> int:
        return self._stream.consumed if self._stream is not None else 0

    def _close(self) -> None:
        _OPEN.discard(self)
        if self._stream is not None:
            self._stream.stop()
        # Dropping Arrow's reader ends its read-ahead thread now, not while Python shuts down
        # (which aborts the interpreter when that thread still calls into the stream).
        self._reader = None
        if self._stream is not None:
            if not self.done:  # reads the read-ahead had queued may still come: let them end first
                self._stream.wait_for_quiet()
            self._stream.close()


_OPEN: weakref.WeakSet[CsvSource] = weakref.WeakSet()


@atexit.register
def _close_open_sources() -> None:
    for source in list(_OPEN):
        source.close()
