"""XLSX workbooks, streamed with openpyxl in read-only mode.

The header is the first row with a value; columns run from its first to its last non-empty
cell. Row numbers are the sheet's own. Empty rows are skipped; a row with values outside the
header's columns is a bad row. Cells become text: dates at midnight as ``2021-03-04``, other
datetimes as ``2021-03-04T10:20:00``, integral numbers without ``.0``, empty cells as null.

A workbook is a ZIP archive, and openpyxl has no limit on what its parts expand to: a few hundred
kilobytes of repeated XML can expand to gigabytes (a "zip bomb"). Before openpyxl opens it, each
part's declared size is checked (Python's zipfile never expands a part beyond it, and a part that
lies fails its checksum): no part may expand more than ``MAX_RATIO`` times (Apache POI's default
for the same check), the parts openpyxl reads whole (shared strings, styles...) beyond
``MAX_PART_BYTES``, nor a worksheet, which is streamed, beyond ``MAX_SHEET_BYTES``.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa

from cruce.i18n import _
from cruce.ingest.readers._common import (
    ReadError,
    RowBatcher,
    Source,
    SourceInfo,
    check_columns,
    value_text,
)
from cruce.ingest.readers._text import binary_kind

MAX_RATIO = 100
RATIO_FROM_BYTES = 1 << 20  # smaller parts may be as repetitive as they like
MAX_PART_BYTES = 128 << 20
MAX_SHEET_BYTES = 4 << 30


def check_archive(file: BinaryIO, display: str) -> None:
    """Refuse a workbook whose parts would expand beyond the limits above (a ``ReadError``)."""
    try:
        with zipfile.ZipFile(file) as archive:
            parts = archive.infolist()
    except Exception as exc:  # zipfile raises several kinds (NotImplementedError for an unknown version)
        raise ReadError(
            _("{file}: not a valid XLSX workbook ({reason})").format(file=display, reason=exc), file=display
        ) from exc
    finally:
        file.seek(0)
    for part in parts:
        sheet = part.filename.startswith("xl/worksheets/")
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > (MAX_SHEET_BYTES if sheet else MAX_PART_BYTES) or (
            part.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO
        ):
            raise ReadError(
                _(
                    "{file}: the workbook's part {part} would expand to {size} MB, {ratio:.0f} times its "
                    "compressed size; cruce does not open such a file (it may be a zip bomb)"
                ).format(file=display, part=part.filename, size=part.file_size >> 20, ratio=ratio),
                file=display,
            )


def _cell(value: object) -> str | None:
    text = value_text(value)
    return None if text == "" else text


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class XlsxSource(Source):
    def __init__(self, path: Path, display: str, sheet: str | None, size: int, batch_rows: int) -> None:
        self._file: BinaryIO = path.open("rb")
        try:
            head = self._file.read(8)
            self._file.seek(0)
            if not head.startswith(b"PK"):
                kind = binary_kind(head) or _("a text file")
                raise ReadError(
                    _("{file}: not an XLSX workbook (it looks like {kind})").format(file=display, kind=kind),
                    file=display,
                )
            check_archive(self._file, display)
            self._workbook = self._load(display)
            worksheet = self._sheet(display, sheet)
            worksheet.reset_dimensions()  # do not trust the stored size of the sheet
            self._rows: Iterator[tuple[int, tuple[Any, ...]]] = enumerate(
                worksheet.iter_rows(values_only=True), start=1
            )
            header_row, header = self._header(display, worksheet.title)
        except BaseException:
            self._file.close()
            raise
        first = next(i for i, v in enumerate(header) if not _is_empty(v))
        last = max(i for i, v in enumerate(header) if not _is_empty(v))
        names = [_cell(v) or "" for v in header[first : last + 1]]
        try:
            columns = check_columns(names, display)
        except ReadError as exc:
            self._file.close()
            raise ReadError(exc.message, file=display, row=header_row) from None
        self._first, self._width = first, last + 1 - first
        super().__init__(SourceInfo(path, "xlsx", None, None, None, size, columns), batch_rows)

    def _load(self, display: str) -> Any:
        import openpyxl

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return openpyxl.load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:
            raise ReadError(
                _("{file}: not a valid XLSX workbook ({reason})").format(file=display, reason=exc),
                file=display,
            ) from exc

    def _sheet(self, display: str, sheet: str | None) -> Any:
        names = list(self._workbook.sheetnames)
        if sheet is None:
            sheets = self._workbook.worksheets
            if not sheets:
                raise ReadError(_("{file}: the workbook has no sheets").format(file=display), file=display)
            return sheets[0]
        if sheet not in names:
            raise ReadError(
                _("{file}: no sheet named {sheet!r}; the sheets are: {sheets}").format(
                    file=display, sheet=sheet, sheets=", ".join(repr(n) for n in names)
                ),
                file=display,
            )
        return self._workbook[sheet]

    def _header(self, display: str, title: str) -> tuple[int, tuple[Any, ...]]:
        for number, row in self._next_rows(display):
            if any(not _is_empty(v) for v in row):
                return number, row
        raise ReadError(_("{file}: sheet {sheet!r} is empty").format(file=display, sheet=title), file=display)

    def _next_rows(self, display: str) -> Iterator[tuple[int, tuple[Any, ...]]]:
        while True:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    item = next(self._rows, None)
            except Exception as exc:
                raise ReadError(
                    _("{file}: the workbook is corrupt ({reason})").format(file=display, reason=exc),
                    file=display,
                ) from exc
            if item is None:
                return
            yield item

    def _generate(self) -> Iterator[pa.RecordBatch]:
        first, width = self._first, self._width
        end = first + width
        batcher = RowBatcher(self, width)
        try:
            for number, row in self._next_rows(self.display):
                values = row[first:end]
                outside = [i for i, v in enumerate(row) if (i < first or i >= end) and not _is_empty(v)]
                if outside:
                    self.add_bad_row(
                        number,
                        _("a value lies outside the {width} columns of the header (column {column})").format(
                            width=width, column=_column_letter(outside[0] + 1)
                        ),
                        "\t".join("" if v is None else str(v) for v in row),
                    )
                    continue
                if all(_is_empty(v) for v in values):
                    continue
                cells = [_cell(v) for v in values]
                if len(cells) < width:
                    cells.extend([None] * (width - len(cells)))
                batch = batcher.add(number, cells)
                if batch is not None:
                    yield batch
            batch = batcher.flush()
            if batch is not None:
                yield batch
            self.done = True
        finally:
            self.close()

    def _bytes_read(self) -> int:
        try:
            return self._file.tell()
        except (OSError, ValueError):
            return 0

    def _close(self) -> None:
        try:
            self._workbook.close()
        finally:
            self._file.close()


def _column_letter(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
