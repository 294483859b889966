"""The JSON shape guard agrees with a plain byte-by-byte reading of the document, however it is chunked."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruce.ingest.readers import _json_guard
from cruce.ingest.readers._json_guard import GuardedStream, JsonLimitError


def first_past_limits(data: bytes, max_depth: int, max_value: int) -> tuple[int, str] | str | None:
    """Where a plain reading finds the first byte past a limit; "invalid" for a backslash outside a
    string (not JSON: the parser stops there before any limit matters)."""
    depth, token, inside, escaped = 0, 0, False, False
    for offset, char in enumerate(data.decode("latin-1")):
        structural = False
        if inside:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                inside = False
        elif char == "\\":
            return "invalid"
        elif char == '"':
            inside = True
        elif char in "[{]},:":
            depth += 1 if char in "[{" else -1 if char in "]}" else 0
            structural = True
        token = 0 if structural else token + 1
        if depth > max_depth:
            return offset, "depth"
        if token > max_value:
            return offset, "value"
    return None


class Chunks(io.RawIOBase):
    """``data`` handed out in the given chunk sizes, in turn."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        super().__init__()
        self.data, self.sizes, self.position, self.turn = data, sizes, 0, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        step = self.sizes[self.turn % len(self.sizes)]
        self.turn += 1
        out = self.data[self.position : self.position + step]
        self.position += len(out)
        return out


_STRING = st.lists(st.sampled_from([b"a", b"[", b"}", b",", b'\\"', b"\\\\", b"\\u00e9"]), max_size=6).map(
    lambda parts: b'"' + b"".join(parts) + b'"'
)
_TOKEN = st.one_of(st.sampled_from([b"[", b"]", b"{", b"}", b",", b":", b" ", b"12"]), _STRING)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.lists(_TOKEN, max_size=30).map(b"".join),
    sizes=st.lists(st.integers(1, 9), min_size=1, max_size=5),
    max_depth=st.integers(1, 4),
    max_value=st.integers(1, 8),
)
def test_the_guard_stops_where_a_plain_reading_does(
    monkeypatch: pytest.MonkeyPatch, data: bytes, sizes: list[int], max_depth: int, max_value: int
) -> None:
    expected = first_past_limits(data, max_depth, max_value)
    if expected == "invalid":
        return
    monkeypatch.setattr(_json_guard, "MAX_DEPTH", max_depth)
    monkeypatch.setattr(_json_guard, "MAX_VALUE_BYTES", max_value)
    stream = GuardedStream(Chunks(data, sizes))
    handed, stopped = b"", None
    while True:
        try:
            chunk = stream.read(64)
        except JsonLimitError as exc:
            stopped = exc.what
            break
        if not chunk:
            break
        handed += chunk
    if expected is None:
        assert (handed, stopped) == (data, None)
    else:
        assert (len(handed), stopped) == expected  # everything before the first byte past the limit


def test_a_record_larger_than_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_json_guard, "MAX_RECORD_BYTES", 20)
    document = b'[{"a": [1, 2]}, {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}]'
    stream = GuardedStream(Chunks(document, [7]))
    between = document.index(b"},") + 1  # the comma after the first record ends a run
    handed = [stream.read(64) for _ in range((between + 20) // 7 + 1)]
    with pytest.raises(JsonLimitError, match="record"):
        stream.read(64)
    assert b"".join(handed) == document[: between + 21]  # all before the 21st byte after the comma
