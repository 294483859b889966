"""Parquet files, read batch by batch with ``ParquetFile.iter_batches``; every column becomes text.

Integers and decimals as written; floats without ``.0`` when integral (``3.0`` → ``"3"``); dates
``2021-03-04``; timestamps ``2021-03-04T10:20:00`` (fractional seconds only when not zero, the
offset as ``+00:00`` / ``Z`` for zoned ones); booleans ``true``/``false``; struct columns are
flattened into dotted columns (``possessor.name``) like JSON; lists and maps become JSON text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from cruce.i18n import _
from cruce.ingest.readers._common import (
    ReadError,
    RowNumbers,
    Source,
    SourceInfo,
    check_columns,
    float_text,
    value_text,
)
from cruce.ingest.readers._text import binary_kind

_BIG_INTEGRAL = 1e15


def _flat_names(name: str, type_: pa.DataType) -> list[str]:
    if pa.types.is_struct(type_):
        names: list[str] = []
        for i in range(type_.num_fields):
            child = type_.field(i)
            names.extend(_flat_names(f"{name}.{child.name}", child.type))
        return names
    return [name]


def _python_text(array: pa.Array) -> pa.Array:
    return pa.array([value_text(v) for v in array.to_pylist()], pa.string())


def _float_text(array: pa.Array) -> pa.Array:
    wide = array.cast(pa.float64())
    whole = pc.and_(pc.equal(pc.floor(wide), wide), pc.less(pc.abs(wide), _BIG_INTEGRAL))
    whole = pc.fill_null(whole, False)
    if not pc.any(whole).as_py():
        return array.cast(pa.string())
    integers = pc.if_else(whole, wide, 0.0).cast(pa.int64()).cast(pa.string())
    if pc.all(whole).as_py() and array.null_count == 0:
        return integers
    return pc.if_else(whole, integers, array.cast(pa.string()))


def _time_text(array: pa.Array) -> pa.Array:
    """Arrow's ``2021-03-04 10:20:00.000000-0600`` → ``2021-03-04T10:20:00-06:00``."""
    text = array.cast(pa.string())
    if pa.types.is_timestamp(array.type):
        text = pc.replace_substring(text, " ", "T", max_replacements=1)
    text = pc.replace_substring_regex(text, r"\.0+(Z|[+-]\d{4})?$", r"\1")
    return pc.replace_substring_regex(text, r"([+-]\d\d)(\d\d)$", r"\1:\2")


def to_text(array: pa.Array) -> list[pa.Array]:
    """An Arrow array as text arrays: one, or one per leaf field of a struct."""
    type_ = array.type
    if pa.types.is_struct(type_):
        out: list[pa.Array] = []
        for child in array.flatten():
            out.extend(to_text(child))
        return out
    if pa.types.is_dictionary(type_):
        return to_text(array.dictionary_decode())
    if pa.types.is_string(type_):
        return [array]
    if pa.types.is_null(type_):
        return [pa.nulls(len(array), pa.string())]
    if pa.types.is_floating(type_):
        if pa.types.is_float16(type_):
            return [pa.array([None if v is None else float_text(float(v)) for v in array.to_pylist()], pa.string())]
        return [_float_text(array)]
    if pa.types.is_timestamp(type_) or pa.types.is_time(type_):
        return [_time_text(array)]
    if pa.types.is_binary(type_) or pa.types.is_large_binary(type_) or pa.types.is_fixed_size_binary(type_):
        try:
            return [array.cast(pa.string())]
        except pa.ArrowInvalid:
            return [_python_text(array)]
    if pa.types.is_nested(type_):
        return [_python_text(array)]
    try:
        return [array.cast(pa.string())]
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return [_python_text(array)]


class ParquetSource(Source):
    def __init__(self, path: Path, display: str, size: int, batch_rows: int) -> None:
        import pyarrow.parquet as pq

        with path.open("rb") as fh:
            head = fh.read(4)
        if head != b"PAR1":
            kind = binary_kind(head) or _("a text file")
            raise ReadError(
                _("{file}: not a Parquet file (it looks like {kind})").format(file=display, kind=kind),
                file=display,
            )
        try:
            self._file = pq.ParquetFile(path)
            schema = self._file.schema_arrow
        except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: names not UTF-8
            raise ReadError(
                _("{file}: not a valid Parquet file ({reason})").format(file=display, reason=exc),
                file=display,
            ) from exc
        names: list[str] = []
        for field in schema:
            names.extend(_flat_names(field.name, field.type))
        try:
            columns = check_columns(names, display)
        except ReadError:
            self._file.close()
            raise
        super().__init__(SourceInfo(path, "parquet", None, None, None, size, columns), batch_rows)
        self._total: int = max(int(self._file.metadata.num_rows), 1)
        self._rows_read = 0

    def _generate(self) -> Iterator[pa.RecordBatch]:
        first = 1
        numbers = RowNumbers(first=1)
        try:
            for batch in self._file.iter_batches(batch_size=self._batch_rows, use_threads=True):
                if batch.num_rows == 0:
                    continue
                columns: list[pa.Array] = []
                for column in batch.columns:
                    columns.extend(to_text(column))
                rows = numbers.take(batch.num_rows)
                first += batch.num_rows
                self._rows_read = first - 1
                yield pa.RecordBatch.from_arrays([*columns, rows], schema=self.schema)
            self.done = True
        except (
            pa.ArrowMemoryError,
            MemoryError,
        ) as exc:  # values that expand beyond memory (a dictionary of huge strings)
            raise ReadError(
                _(
                    "{file}: near record {row}: the Parquet file's values expand to more than memory holds ({reason})"
                ).format(file=self.display, row=first, reason=exc),
                file=self.display,
                row=first,
            ) from exc
        except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: names not UTF-8
            raise ReadError(
                _("{file}: near record {row}: the Parquet file is corrupt ({reason})").format(
                    file=self.display, row=first, reason=exc
                ),
                file=self.display,
                row=first,
            ) from exc
        finally:
            self.close()

    def _bytes_read(self) -> int:
        return self.info.size_bytes * self._rows_read // self._total

    def _close(self) -> None:
        self._file.close()
