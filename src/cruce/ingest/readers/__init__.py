"""Streaming readers: any supported file as Arrow record batches of text columns plus ``__row``.

``open_source(path)`` looks at the file (format, compression, encoding, delimiter, header) and
returns a ``Source``; ``Source.batches()`` then yields ``pyarrow.RecordBatch`` objects whose
columns are the header names (stripped of whitespace and byte-order marks), all ``pa.string()``,
followed by ``__row`` (int64), the row number a user would look for:

* CSV/TSV and XLSX: the spreadsheet row (the header is row 1, the first data row is 2); for
  CSV a quoted value spanning several lines still counts as one row (see ``_delimited``);
* JSON and Parquet: the 1-based record number; JSONL: the line number (the record number when
  the file has no blank lines).

Memory stays bounded whatever the size of the file: CSV is parsed by Arrow block by block, XLSX
by openpyxl in read-only mode, JSON by ijson, Parquet batch by batch. Rows that cannot be read
(a wrong number of fields, a JSONL line that is not an object...) are skipped and recorded in
``Source.bad_rows`` (at most ``MAX_BAD_ROWS`` kept at a time; ``Source.bad_row_count`` counts
them all); a file that cannot be read at all raises ``ReadError``, whose message names the file
and, when known, the row. JSON and JSONL are read twice: a first pass collects the union of the
record keys, so that ``SourceInfo.columns`` is complete before the first batch.

Values are text as the user would read it: empty CSV fields and empty cells are null; numbers
are written without a trailing ``.0`` when integral; dates and times in ISO 8601 (a spreadsheet
date at midnight as the date alone); nested JSON objects are flattened with dotted names
(``possessor.name``) and lists are written as JSON text.
"""

from __future__ import annotations

from pathlib import Path

from cruce.i18n import _
from cruce.ingest.readers._common import ROW_COLUMN, BadRow, ReadError, Source, SourceInfo

__all__ = [
    "FORMATS",
    "ROW_COLUMN",
    "BadRow",
    "ReadError",
    "Source",
    "SourceInfo",
    "format_of",
    "open_source",
]

FORMATS = ("csv", "xlsx", "json", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
_FORMAT_NAMES = {
    "csv": "csv",
    "tsv": "tsv",
    "txt": "csv",
    "xlsx": "xlsx",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "parquet": "parquet",
}
_TEXT_FORMATS = {"csv", "tsv", "json", "jsonl"}


def _supported() -> str:
    return ", ".join([*_EXTENSIONS, ".csv.gz", ".tsv.gz", ".json.gz", ".jsonl.gz"])


def format_of(path: Path | str, format: str | None = None) -> str:
    """The reader for a file: ``csv``, ``tsv``, ``xlsx``, ``json``, ``jsonl`` or ``parquet``."""
    path = Path(path)
    display = path.name or str(path)
    if format is not None:
        name = _FORMAT_NAMES.get(format.lower().lstrip("."))
        if name is None:
            raise ReadError(
                _("{file}: unknown format {format!r}; supported formats: {formats}").format(
                    file=display, format=format, formats=", ".join(FORMATS)
                ),
                file=display,
            )
        return name
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2] if gz and len(suffixes) > 1 else (suffixes[-1] if suffixes and not gz else "")
    name = _EXTENSIONS.get(ext)
    if name is None or (gz and name not in _TEXT_FORMATS):
        shown = "".join(suffixes[-2:] if gz else suffixes[-1:]) or _("(none)")
        raise ReadError(
            _("{file}: cannot read files of type {ext}; supported: {formats}").format(
                file=display, ext=shown, formats=_supported()
            ),
            file=display,
        )
    return name


def open_source(
    path: Path | str,
    *,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    batch_rows: int = 100_000,
) -> Source:
    """Open a file for reading in batches; raises ``ReadError`` when it cannot be read at all.

    ``format`` overrides the extension; ``encoding`` and ``delimiter`` override detection (text
    formats); ``sheet`` picks an XLSX sheet by name (default: the first); ``batch_rows`` is the
    largest number of rows in one batch.
    """
    path = Path(path)
    display = path.name or str(path)
    if batch_rows < 1:
        raise ValueError("batch_rows must be at least 1")
    kind = format_of(path, format)
    if not path.exists():
        raise ReadError(_("{file}: file not found ({path})").format(file=display, path=path), file=display)
    if not path.is_file():
        raise ReadError(_("{file}: not a file ({path})").format(file=display, path=path), file=display)
    try:
        size = path.stat().st_size
    except OSError as exc:  # pragma: no cover - permissions
        raise ReadError(
            _("{file}: cannot read the file: {reason}").format(file=display, reason=exc), file=display
        ) from exc
    if size == 0:
        raise ReadError(_("{file}: file is empty").format(file=display), file=display)
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ReadError(
            _("{file}: cannot read the file: {reason}").format(file=display, reason=exc.strerror or exc),
            file=display,
        ) from exc

    if kind in ("csv", "tsv"):
        from cruce.ingest.readers._delimited import CsvSource
        from cruce.ingest.readers._text import inspect_text

        plan = inspect_text(path, display, encoding)
        if delimiter is None and kind == "tsv":
            delimiter = "\t"
        return CsvSource(plan, delimiter, size, batch_rows)
    if kind in ("json", "jsonl"):
        from cruce.ingest.readers._json import open_json
        from cruce.ingest.readers._text import inspect_text

        plan = inspect_text(path, display, encoding)
        return open_json(plan, kind, size, batch_rows)
    if kind == "xlsx":
        from cruce.ingest.readers._excel import XlsxSource

        return XlsxSource(path, display, sheet, size, batch_rows)
    from cruce.ingest.readers._parquet import ParquetSource

    return ParquetSource(path, display, size, batch_rows)
