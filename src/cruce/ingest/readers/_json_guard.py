"""Limits on a JSON document's shape, checked on its bytes before ijson parses them.

ijson has no limits of its own, and two shapes cost it far more than their size: deep nesting
(``parse`` builds the path of every event: a chunk of 64 KB of ``[`` took seconds and gigabytes)
and a long value (its lexer rescans a token that spans chunks, so time grows with the square of a
string's length: 200 MB did not finish in minutes). ``GuardedStream`` follows each chunk with
array operations — where strings are (quotes not escaped by an odd run of backslashes), the
nesting depth after each byte, the run of bytes since the last ``[]{},:`` outside a string, the run
inside one record — and stops at the first byte past a limit: it hands over what comes before
that byte (so the parser's count of records is right) and raises ``JsonLimitError`` at the next read.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

MAX_DEPTH = 64
MAX_VALUE_BYTES = 8 << 20  # as for a CSV row (cruce.ingest.readers._delimited.BLOCK_SIZE)
MAX_RECORD_BYTES = 32 << 20  # twenty times the largest municipality boundary of ../shared/data

_WHITESPACE = b" \t\r\n"
_OPEN, _CLOSE, _SEPARATOR, _QUOTE, _BACKSLASH = 1, 2, 3, 4, 5
_KIND = np.zeros(256, dtype=np.uint8)
for _chars, _kind in (("[{", _OPEN), ("]}", _CLOSE), (",:", _SEPARATOR), ('"', _QUOTE), ("\\", _BACKSLASH)):
    for _char in _chars:
        _KIND[ord(_char)] = _kind


class JsonLimitError(Exception):
    """A limit was passed; ``what`` is ``depth``, ``value`` or ``record``."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _runs(member: np.ndarray, carry: int) -> np.ndarray:
    """For each byte, how many bytes in a row up to it are members (0 where it is not one);
    ``carry`` is the run at the end of the previous chunk."""
    index = np.arange(len(member), dtype=np.int64)
    last_out = np.maximum.accumulate(np.where(member, -1, index))
    runs = index - last_out + np.where(last_out < 0, carry, 0)
    return np.where(member, runs, 0)


def _first_over(breaks: np.ndarray, size: int, carry: int, limit: int) -> tuple[int | None, int]:
    """Runs of bytes between ``breaks`` (the sorted offsets that end a run), the first continuing
    one of ``carry`` bytes: the offset of the first byte that makes a run longer than ``limit``
    (or None), and the run at the end of the chunk."""
    if not len(breaks):
        return (max(limit - carry, 0) if carry + size > limit else None), carry + size
    trailing = size - int(breaks[-1]) - 1
    if breaks[0] > 0 and carry + int(breaks[0]) > limit:
        return max(limit - carry, 0), trailing
    gaps = np.diff(breaks) - 1
    if len(gaps) and int(gaps.max()) > limit:
        return int(breaks[int(np.argmax(gaps > limit))]) + 1 + limit, trailing
    return (int(breaks[-1]) + 1 + limit if trailing > limit else None), trailing


class GuardedStream(io.RawIOBase):
    """``stream`` with the limits above checked as it is read (the record depth is found from the
    document's first byte: 1 for an array of records, 2 for an object holding one)."""

    def __init__(self, stream: io.RawIOBase) -> None:
        super().__init__()
        self._stream = stream
        self._pending: JsonLimitError | None = None
        self._in_string = 0
        self._backslashes = 0
        self._depth = 0
        self._token = 0
        self._record = 0
        self._record_depth: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        if self._pending is not None:
            raise self._pending
        data = self._stream.read(-1 if size is None else size)
        if not data:
            return data
        stop = self._check(data)
        if stop is None:
            return data
        end, what = stop
        self._pending = JsonLimitError(what)
        if end == 0:
            raise self._pending
        return data[:end]

    def _find_record_depth(self, data: bytes) -> None:
        start = data.lstrip(_WHITESPACE)[:1]
        if start:
            self._record_depth = 1 if start == b"[" else 2 if start == b"{" else 1 << 30

    def _check(self, data: bytes) -> tuple[int, str] | None:
        """The offset of the first byte past a limit and which limit, or None; the state moves on.

        Only the offsets of quotes and of ``[]{},:`` are looked at (a tenth of the bytes or so):
        the depth and the runs change there and nowhere else.
        """
        if self._record_depth is None:
            self._find_record_depth(data)
        kinds = _KIND[np.frombuffer(data, dtype=np.uint8)]
        quotes = kinds == _QUOTE
        backslashes = kinds == _BACKSLASH
        trailing_backslashes = 0
        if self._backslashes or backslashes.any():  # a quote after an odd run of them is escaped
            escapes = _runs(backslashes, self._backslashes)
            before = np.concatenate(([self._backslashes], escapes[:-1]))
            quotes &= before % 2 == 0
            trailing_backslashes = int(escapes[-1])
        quoted = np.flatnonzero(quotes)
        marks = np.flatnonzero((kinds >= _OPEN) & (kinds <= _SEPARATOR))
        in_string = (np.searchsorted(quoted, marks) + self._in_string) % 2 == 1
        marks = marks[~in_string]  # the structural bytes: a run of any other kind ends at none of them
        mark_kinds = kinds[marks]
        steps = (mark_kinds == _OPEN).astype(np.int8) - (mark_kinds == _CLOSE).astype(np.int8)
        depth = np.cumsum(steps, dtype=np.int32) + self._depth
        found: list[tuple[int, str]] = []
        if len(depth) and int(depth.max()) > MAX_DEPTH:
            found.append((int(marks[int(np.argmax(depth > MAX_DEPTH))]), "depth"))
        over, self._token = _first_over(marks, len(data), self._token, MAX_VALUE_BYTES)
        if over is not None:
            found.append((over, "value"))
        record_depth = self._record_depth if self._record_depth is not None else 1 << 30
        over, self._record = _first_over(marks[depth <= record_depth], len(data), self._record, MAX_RECORD_BYTES)
        if over is not None:
            found.append((over, "record"))
        self._in_string = (len(quoted) + self._in_string) % 2
        self._backslashes = trailing_backslashes
        if len(depth):
            self._depth = int(depth[-1])
        return min(found) if found else None
