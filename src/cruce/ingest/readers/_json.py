"""JSON and JSON Lines, streamed with ijson and the standard json module.

JSON: a top-level array of objects, or an object with exactly one member that is a list of
objects (``{"data": [...]}``; its other members are ignored). JSONL: one object per line.

Columns are the union of the keys of all records, in order of first appearance, nested objects
flattened with dotted names (``possessor.name``) and lists kept whole as JSON text. To know them
before the first batch (``SourceInfo.columns``), the file is read twice: a first pass collects
the keys (memory: the set of keys, capped at ``MAX_COLUMNS``), the second yields the rows. Rows
are numbered by record (JSON) or by line (JSONL). A record that is not an object, and a JSONL
line that is not valid JSON, is a bad row.

Hostile or broken files stop early, with memory bounded: the first pass over a JSON document
refuses nesting, values and records beyond the limits of ``_json_guard`` before ijson holds them; a
JSONL line longer than ``MAX_RECORD_BYTES``, or nested deeper than Python's JSON decoder goes, is a
bad row, never read whole.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import ijson
import pyarrow as pa

from cruce.i18n import _
from cruce.ingest.readers._common import (
    MAX_COLUMNS,
    ReadError,
    RowBatcher,
    Source,
    SourceInfo,
    check_columns,
    json_text,
    value_text,
)
from cruce.ingest.readers._json_guard import MAX_DEPTH, MAX_RECORD_BYTES, MAX_VALUE_BYTES, GuardedStream, JsonLimitError
from cruce.ingest.readers._text import TextPlan, TextStream

_SCALAR_EVENTS = frozenset({"null", "boolean", "integer", "double", "number", "string"})


def _surrogate() -> str:
    return _("invalid JSON: an escaped character that is not text (an unpaired surrogate)")


def _limit_error(display: str, record: int, what: str) -> ReadError:
    if what == "depth":
        message = _(
            "{file}: record {row}: the JSON is nested more than {limit} levels deep, deeper than any table's record"
        )
        limit = MAX_DEPTH
    elif what == "value":
        message = _("{file}: record {row}: a value is longer than {limit} MB")
        limit = MAX_VALUE_BYTES >> 20
    else:
        message = _("{file}: record {row}: the record is larger than {limit} MB")
        limit = MAX_RECORD_BYTES >> 20
    return ReadError(message.format(file=display, row=record, limit=limit), file=display, row=record)


def _json_error(display: str, record: int, exc: Exception) -> ReadError:
    """``record``: the number of the record in which (or before which) the document breaks."""
    if isinstance(exc, UnicodeDecodeError):  # ijson decoding an escaped unpaired surrogate
        return ReadError(
            _("{file}: record {row}: {reason}").format(file=display, row=record, reason=_surrogate()),
            file=display,
            row=record,
        )
    reason = exc.args[0] if exc.args else exc
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    first_line = str(reason).strip().splitlines()[0] if str(reason).strip() else str(exc)
    return ReadError(
        _("{file}: record {row}: invalid JSON: {reason}").format(file=display, row=record, reason=first_line),
        file=display,
        row=record,
    )


class _Keys:
    """Flattened keys in order of first appearance, at most MAX_COLUMNS of them."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.keys: dict[str, None] = {}

    def add(self, key: str) -> None:
        if key not in self.keys:
            if len(self.keys) >= MAX_COLUMNS:
                raise ReadError(
                    _("{file}: the records have more than {limit} different keys; this is not a table").format(
                        file=self.display, limit=MAX_COLUMNS
                    ),
                    file=self.display,
                )
            self.keys[key] = None

    def add_object(self, obj: dict[str, Any], prefix: str = "") -> None:
        for key, value in obj.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                self.add_object(value, name + ".")
            else:
                self.add(name)


def flatten(obj: dict[str, Any], out: dict[str, str | None], prefix: str = "") -> dict[str, str | None]:
    """``{"a": {"b": 1}, "c": [1, 2]}`` → ``{"a.b": "1", "c": "[1, 2]"}``."""
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flatten(value, out, name + ".")
        elif isinstance(value, list):
            out[name] = json_text(value)
        else:
            out[name] = value_text(value)
    return out


def geojson_columns(keys: list[str]) -> list[str]:
    """A GeoJSON Feature's ``geometry`` stays one column (its JSON text), not flattened parts."""
    if not any(k.startswith("geometry.") for k in keys):
        return keys
    return [k for k in keys if not k.startswith("geometry.")] + ["geometry"]


def flatten_record(record: dict[str, Any]) -> dict[str, str | None]:
    """``flatten``, keeping a GeoJSON Feature's geometry whole."""
    if record.get("type") == "Feature" and isinstance(record.get("geometry"), dict):
        rest = {k: v for k, v in record.items() if k != "geometry"}
        return {**flatten(rest, {}), "geometry": json_text(record["geometry"])}
    return flatten(record, {})


def _scan_document(text: TextStream, display: str) -> tuple[str, list[str]]:
    """One pass over a JSON document: the ijson prefix of its records and their flattened keys."""
    stream = GuardedStream(text)
    stack: list[str] = []  # "map" / "array" for each open container
    top: str | None = None
    members: dict[str, _Keys] = {}  # object form: array members → keys of their object items
    objects: dict[str, int] = {}  # array member → how many items are objects
    record_depth = 1
    current: _Keys | None = None  # keys of the array whose records we are in
    record_prefix_len = 0
    lists_inside = 0  # arrays open inside the current record
    records = 0
    try:
        for prefix, event, _value in ijson.parse(stream):
            depth = len(stack)
            if event in ("start_map", "start_array"):
                kind = "map" if event == "start_map" else "array"
                if top is None:
                    top = kind
                    record_depth = 1 if kind == "array" else 2
                    if kind == "array":
                        members[""] = _Keys(display)
                        objects[""] = 0
                elif top == "map" and depth == 1 and kind == "array":
                    members.setdefault(prefix, _Keys(display))
                    objects.setdefault(prefix, 0)
                elif depth == record_depth and _in_member(stack, top):
                    member = "" if top == "array" else prefix.removesuffix("item").removesuffix(".")
                    records += 1
                    if kind == "map":
                        objects[member] += 1
                        current = members[member]
                        record_prefix_len = len(prefix) + 1
                        lists_inside = 0
                elif current is not None and depth > record_depth and kind == "array":
                    if lists_inside == 0:
                        current.add(prefix[record_prefix_len:])
                    lists_inside += 1
                stack.append(kind)
            elif event in ("end_map", "end_array"):
                stack.pop()
                if current is not None:
                    if len(stack) == record_depth:
                        current = None
                    elif event == "end_array" and len(stack) > record_depth:
                        lists_inside -= 1
            elif event in _SCALAR_EVENTS:
                if top is None:
                    break
                if depth == record_depth and _in_member(stack, top):
                    records += 1
                elif current is not None and depth > record_depth and lists_inside == 0:
                    current.add(prefix[record_prefix_len:])
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        inside = len(stack) > record_depth
        raise _json_error(display, records if inside else records + 1, exc) from exc
    except JsonLimitError as exc:
        inside = len(stack) > record_depth
        raise _limit_error(display, records if inside else records + 1, exc.what) from None
    if top is None:
        raise ReadError(
            _("{file}: the JSON document is not an array of records or an object holding one").format(file=display),
            file=display,
        )
    if top == "array":
        return "item", list(members[""].keys)
    with_objects = [m for m in members if objects[m]]
    if len(with_objects) > 1:
        raise ReadError(
            _("{file}: the JSON object has several lists of records ({names}); keep only one").format(
                file=display, names=", ".join(repr(m) for m in with_objects)
            ),
            file=display,
        )
    if not with_objects and len(members) != 1:
        raise ReadError(
            _("{file}: the JSON object holds no list of records (objects)").format(file=display), file=display
        )
    member = with_objects[0] if with_objects else next(iter(members))
    return f"{member}.item" if member else "item", list(members[member].keys)  # ijson's prefix for a "" key


def _in_member(stack: list[str], top: str | None) -> bool:
    """Whether the innermost open container holds records (top array, or an array member)."""
    if top == "array":
        return len(stack) == 1
    return len(stack) == 2 and stack[1] == "array"


def _lines(stream: TextStream) -> Iterator[tuple[int, bytes | None]]:
    """Numbered lines; ``None`` for one longer than MAX_RECORD_BYTES, skipped without being held whole."""
    buffered = io.BufferedReader(stream, buffer_size=1 << 20)
    number = 0
    while line := buffered.readline(MAX_RECORD_BYTES + 1):
        number += 1
        if len(line) <= MAX_RECORD_BYTES or line.endswith(b"\n"):
            yield number, line
            continue
        while (rest := buffered.readline(1 << 20)) and not rest.endswith(b"\n"):
            pass
        yield number, None


def _record_batches(
    source: Source, keys: list[str], records: Iterator[tuple[int, dict[str, Any]]]
) -> Iterator[pa.RecordBatch]:
    """Numbered JSON objects → record batches of their flattened values, in ``keys`` order."""
    batcher = RowBatcher(source, len(keys))
    for number, record in records:
        try:
            flat = flatten_record(record)
        except RecursionError:  # a JSONL line nested nearly as deep as Python's decoder goes
            source.add_bad_row(number, _("the record is nested too deeply"), "")
            continue
        batch = batcher.add(number, [flat.get(k) for k in keys])
        if batch is not None:
            yield batch
    batch = batcher.flush()
    if batch is not None:
        yield batch
    source.done = True


class JsonSource(Source):
    def __init__(self, plan: TextPlan, columns: list[str], record_prefix: str, size: int, batch_rows: int) -> None:
        info = SourceInfo(
            plan.path,
            "json",
            plan.encoding,
            None,
            plan.compression,
            size,
            check_columns(columns, plan.display),
        )
        super().__init__(info, batch_rows)
        self._plan = plan
        self._keys = columns
        self._prefix = record_prefix
        self._stream = plan.stream(self._on_switch)

    def _on_switch(self, encoding: str) -> None:
        self.info = replace(self.info, encoding=encoding)

    def _generate(self) -> Iterator[pa.RecordBatch]:
        read = [0]  # records read so far, for the error message
        try:
            yield from _record_batches(self, self._keys, self._objects(read))
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise _json_error(self.display, read[0] + 1, exc) from exc
        finally:
            self.close()

    def _objects(self, read: list[int]) -> Iterator[tuple[int, dict[str, Any]]]:
        for record in ijson.items(self._stream, self._prefix):
            read[0] += 1
            if not isinstance(record, dict):
                self.add_bad_row(read[0], _("the record is not a JSON object"), json_text(record))
                continue
            yield read[0], record

    def _bytes_read(self) -> int:
        return self._stream.consumed

    def _close(self) -> None:
        self._stream.close()


def _load_line(line: bytes) -> Any:
    """A JSON Lines line's value, or ``ValueError`` saying why it is not one cruce can keep: invalid
    JSON, nested deeper than Python's decoder goes, or an escaped unpaired surrogate (``\\ud800``),
    which Python accepts but which is not text (Arrow, PostgreSQL and ijson refuse it)."""
    try:
        value = json.loads(line)
    except RecursionError:
        raise ValueError(_("the record is nested too deeply")) from None
    except ValueError as exc:
        raise ValueError(_("invalid JSON: {reason}").format(reason=exc)) from None
    if b"\\u" in line:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(_surrogate()) from None
        except RecursionError:
            raise ValueError(_("the record is nested too deeply")) from None
    return value


class JsonLinesSource(Source):
    def __init__(self, plan: TextPlan, columns: list[str], size: int, batch_rows: int) -> None:
        info = SourceInfo(
            plan.path,
            "jsonl",
            plan.encoding,
            None,
            plan.compression,
            size,
            check_columns(columns, plan.display),
        )
        super().__init__(info, batch_rows)
        self._keys = columns
        self._stream = plan.stream(self._on_switch)

    def _on_switch(self, encoding: str) -> None:
        self.info = replace(self.info, encoding=encoding)

    def _generate(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from _record_batches(self, self._keys, self._objects())
        finally:
            self.close()

    def _objects(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for number, line in _lines(self._stream):
            if line is None:
                limit = MAX_RECORD_BYTES >> 20
                self.add_bad_row(number, _("the line is longer than {limit} MB").format(limit=limit), "")
                continue
            if not line.strip():
                continue
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            try:
                record = _load_line(line)
            except ValueError as exc:
                self.add_bad_row(number, str(exc), text)
                continue
            if not isinstance(record, dict):
                self.add_bad_row(number, _("the line is not a JSON object"), text)
                continue
            yield number, record

    def _bytes_read(self) -> int:
        return self._stream.consumed

    def _close(self) -> None:
        self._stream.close()


def _looks_like_lines(text: str) -> bool:
    """A ``.json`` file that is really JSON Lines: its first line is a whole object, and so on."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    try:
        first = json.loads(lines[0])
    except (ValueError, RecursionError):
        return False
    return isinstance(first, dict) and lines[1].lstrip().startswith("{")


def open_json(plan: TextPlan, kind: str, size: int, batch_rows: int) -> Source:
    if kind == "json" and plan.sample.lstrip().startswith("{") and _looks_like_lines(plan.sample):
        kind = "jsonl"
    with plan.stream() as stream:
        if kind == "jsonl":
            keys = _Keys(plan.display)
            for _number, line in _lines(stream):
                if line is None or not line.strip():
                    continue
                try:
                    record = _load_line(line)
                    if isinstance(record, dict):
                        keys.add_object(record)
                except (ValueError, RecursionError):
                    continue  # a bad row, found again and kept by the second pass
            return JsonLinesSource(plan, list(keys.keys), size, batch_rows)
        prefix, columns = _scan_document(stream, plan.display)
    return JsonSource(plan, geojson_columns(columns), prefix, size, batch_rows)
