"""JSON and JSON Lines, streamed with ijson and the standard json module.

JSON: a top-level array of objects, or an object with exactly one member that is a list of
objects (``{"data": [...]}``; its other members are ignored). JSONL: one object per line.

Columns are the union of the keys of all records, in order of first appearance, nested objects
flattened with dotted names (``possessor.name``) and lists kept whole as JSON text. To know them
before the first batch (``SourceInfo.columns``), the file is read twice: a first pass collects
the keys (memory: the set of keys, capped at ``MAX_COLUMNS``), the second yields the rows. Rows
are numbered by record (JSON) or by line (JSONL). A record that is not an object, and a JSONL
line that is not valid JSON, is a bad row.
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
from cruce.ingest.readers._text import TextPlan, TextStream

_SCALAR_EVENTS = frozenset({"null", "boolean", "integer", "double", "number", "string"})


def _json_error(display: str, record: int, exc: Exception) -> ReadError:
    """``record``: the number of the record in which (or before which) the document breaks."""
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


def _scan_document(stream: TextStream, display: str) -> tuple[str, list[str]]:
    """One pass over a JSON document: the ijson prefix of its records and their flattened keys."""
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
                    member = "" if top == "array" else prefix.rsplit(".", 1)[0]
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
    except ijson.JSONError as exc:
        inside = len(stack) > record_depth
        raise _json_error(display, records if inside else records + 1, exc) from exc
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
    return f"{member}.item", list(members[member].keys)


def _in_member(stack: list[str], top: str | None) -> bool:
    """Whether the innermost open container holds records (top array, or an array member)."""
    if top == "array":
        return len(stack) == 1
    return len(stack) == 2 and stack[1] == "array"


def _lines(stream: TextStream) -> Iterator[tuple[int, bytes]]:
    buffered = io.BufferedReader(stream, buffer_size=1 << 20)
    yield from enumerate(buffered, start=1)


def _record_batches(
    source: Source, keys: list[str], records: Iterator[tuple[int, dict[str, Any]]]
) -> Iterator[pa.RecordBatch]:
    """Numbered JSON objects → record batches of their flattened values, in ``keys`` order."""
    batcher = RowBatcher(source, len(keys))
    for number, record in records:
        flat = flatten_record(record)
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
        except ijson.JSONError as exc:
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
            if not line.strip():
                continue
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            try:
                record = json.loads(line)
            except ValueError as exc:
                self.add_bad_row(number, _("invalid JSON: {reason}").format(reason=exc), text)
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
    except ValueError:
        return False
    return isinstance(first, dict) and lines[1].lstrip().startswith("{")


def open_json(plan: TextPlan, kind: str, size: int, batch_rows: int) -> Source:
    if kind == "json" and plan.sample.lstrip().startswith("{") and _looks_like_lines(plan.sample):
        kind = "jsonl"
    with plan.stream() as stream:
        if kind == "jsonl":
            keys = _Keys(plan.display)
            for _number, line in _lines(stream):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    keys.add_object(record)
            return JsonLinesSource(plan, list(keys.keys), size, batch_rows)
        prefix, columns = _scan_document(stream, plan.display)
    return JsonSource(plan, geojson_columns(columns), prefix, size, batch_rows)
