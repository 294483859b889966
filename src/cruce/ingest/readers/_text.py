"""Text files: gzip, binary-file detection, encoding detection, and a stream that yields UTF-8.

Encoding detection looks at the first ``SAMPLE_BYTES`` (decompressed) bytes:

* a byte-order mark decides: UTF-8 (``utf-8-sig``) or UTF-16 (``utf-16``);
* bytes that are valid UTF-8 → ``utf-8``;
* otherwise ``cp1252`` (Windows Latin-1, the usual encoding of Mexican government files), or
  ``latin-1`` when the sample has bytes that cp1252 leaves undefined.

When the sample is plain ASCII the choice of UTF-8 is only a guess: if non-UTF-8 bytes turn up
later in a file that was ASCII until then, and what follows does not look like UTF-8, the stream
switches to cp1252 (or latin-1) from there on, which decodes every earlier byte identically. Any
other byte that is invalid for the chosen encoding stops the read with a ``ReadError`` giving the
line number and suggesting ``--encoding``.
"""

from __future__ import annotations

import codecs
import gzip
import io
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from cruce.i18n import _
from cruce.ingest.readers._common import ReadError

SAMPLE_BYTES = 1 << 20
BINARY_CHECK_BYTES = 8192
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def binary_kind(head: bytes) -> str | None:
    """What a binary file looks like, from its first bytes, or None when it may be text."""
    if head.startswith(b"\x89PNG"):
        return _("a PNG image")
    if head.startswith((b"\xff\xd8\xff",)):
        return _("a JPEG image")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return _("a GIF image")
    if head.startswith(b"%PDF"):
        return _("a PDF document")
    if head.startswith(b"PK\x03\x04"):
        return _("a ZIP archive, such as an .xlsx workbook")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return _("an old Office file, such as an .xls workbook")
    if head.startswith(b"PAR1"):
        return _("a Parquet file")
    if head.startswith(b"SQLite format 3\x00"):
        return _("an SQLite database")
    if head.startswith(b"\x7fELF"):
        return _("a program")
    if head.startswith(UTF16_BOMS):
        return None
    if b"\x00" in head[:BINARY_CHECK_BYTES]:
        return _("binary data")
    return None


def normalise_encoding(encoding: str, display: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ReadError(
            _("{file}: unknown encoding {encoding!r} (try utf-8, cp1252 or latin-1)").format(
                file=display, encoding=encoding
            ),
            file=display,
        ) from None


def corrupt_error(display: str, exc: BaseException) -> ReadError:
    return ReadError(
        _("{file}: file is truncated or corrupt ({reason})").format(file=display, reason=exc), file=display
    )


def _read_sample(path: Path, display: str) -> tuple[bytes, str | None, bool]:
    """The first SAMPLE_BYTES decompressed bytes, the compression, and whether that is the whole file."""
    with path.open("rb") as raw:
        compression = "gzip" if raw.read(2) == GZIP_MAGIC else None
        raw.seek(0)
        source: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if compression else raw
        try:
            sample = source.read(SAMPLE_BYTES)
            complete = len(sample) < SAMPLE_BYTES or not source.read(1)
        except (EOFError, OSError, zlib.error) as exc:
            raise corrupt_error(display, exc) from exc
    return sample, compression, complete


def _detect_encoding(sample: bytes, complete: bool) -> tuple[str, bool]:
    """(codec, decided from ASCII alone)."""
    if sample.startswith(UTF8_BOM):
        return "utf-8-sig", False
    if sample.startswith(UTF16_BOMS):
        return "utf-16", False
    try:
        text, _consumed = codecs.utf_8_decode(sample, "strict", complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", text.isascii()
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1", False
    return "cp1252", False


@dataclass(frozen=True)
class TextPlan:
    """How to read a text file: found out from its first bytes."""

    path: Path
    display: str
    compression: str | None
    encoding: str  # a Python codec name
    ascii_guess: bool  # utf-8 chosen because the sample was plain ASCII
    sample: str  # the decoded sample, without byte-order mark
    complete: bool  # the sample is the whole file

    def stream(self, on_switch: Callable[[str], None] | None = None) -> TextStream:
        return TextStream(
            self.path,
            self.display,
            self.compression,
            self.encoding,
            may_switch=self.ascii_guess,
            on_switch=on_switch,
        )


def inspect_text(path: Path, display: str, encoding: str | None) -> TextPlan:
    """Look at the start of a text file: compression, binary content, encoding, emptiness."""
    sample, compression, complete = _read_sample(path, display)
    if not sample:
        raise ReadError(_("{file}: file is empty").format(file=display), file=display)
    kind = binary_kind(sample)
    if kind is not None:
        raise ReadError(
            _("{file}: not a text file (it looks like {kind})").format(file=display, kind=kind), file=display
        )
    if encoding:
        codec, ascii_guess = normalise_encoding(encoding, display), False
    else:
        codec, ascii_guess = _detect_encoding(sample, complete)
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        text = decoder.decode(sample, complete)
    except UnicodeDecodeError as exc:
        raise encoding_error(display, codec, exc, sample[: exc.start].count(b"\n") + 1) from exc
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ReadError(_("{file}: file is empty").format(file=display), file=display)
    return TextPlan(path, display, compression, codec, ascii_guess, text, complete)


def encoding_error(display: str, encoding: str, exc: UnicodeDecodeError, line: int) -> ReadError:
    bad = exc.object[exc.start : exc.end]
    return ReadError(
        _(
            "{file}: row {row}: bytes {bytes} are not valid {encoding}; the file has another "
            "encoding: give it with --encoding (for example --encoding latin-1 or --encoding cp1252)"
        ).format(file=display, row=line, bytes=bad.hex(" "), encoding=encoding),
        file=display,
        row=line,
    )


def _looks_like_utf8(data: bytes) -> bool:
    """More well-formed non-ASCII UTF-8 characters than invalid bytes in ``data``'s first 64 KB."""
    text = data[:65536].decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return good > bad


class Throttle:
    """Keeps a background reader (Arrow's read-ahead) at most about ``ahead`` bytes ahead of the consumer.

    Arrow's streaming CSV reader reads dozens of blocks ahead on its I/O thread, which for a large
    file means most of the file in memory. The stream's ``read`` waits here while it is too far
    ahead. Should the consumer be kept waiting for Arrow for ``STALL`` seconds (Arrow needing more
    input than expected for its next batch), the reader goes on, so the two never wait for each
    other; nor does the reader wait longer than ``MAX_WAIT`` seconds for a slow consumer.
    """

    STALL = 0.5
    MAX_WAIT = 30.0

    def __init__(self, ahead: int) -> None:
        self._cond = threading.Condition()
        self._ahead = ahead
        self._handed = 0  # bytes handed to the reader
        self._taken = 0  # bytes the consumer has taken (its estimate)
        self._waiting_since: float | None = None  # when the consumer began waiting for Arrow
        self._closed = False

    def _stalled(self, now: float) -> bool:
        return self._waiting_since is not None and now - self._waiting_since >= self.STALL

    def before_read(self) -> None:
        start = time.monotonic()
        with self._cond:
            while self._handed - self._taken > self._ahead and not self._closed:
                now = time.monotonic()
                if self._stalled(now) or now - start >= self.MAX_WAIT:
                    break
                self._cond.wait(0.05)

    def handed(self, size: int) -> None:
        with self._cond:
            self._handed += size

    def took(self, size: int) -> None:
        with self._cond:
            self._taken += size
            self._cond.notify_all()

    @contextmanager
    def consumer_waiting(self) -> Iterator[None]:
        with self._cond:
            self._waiting_since = time.monotonic()
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self._waiting_since = None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def _char_boundary(data: bytes) -> int:
    """The length of ``data`` without a multi-byte UTF-8 sequence cut off at its end."""
    end = len(data)
    i = end - 1
    while i >= 0 and i > end - 4 and data[i] & 0xC0 == 0x80:
        i -= 1
    if i < 0 or data[i] < 0xC0:
        return end
    need = 2 if data[i] < 0xE0 else 3 if data[i] < 0xF0 else 4
    return i if end - i < need else end


def _valid_utf8(data: bytes | memoryview) -> bool:
    """Whether ``data`` is well-formed UTF-8, checked by Arrow (several times faster than decoding)."""
    offsets = pa.array([0, len(data)], pa.int32()).buffers()[1]
    array = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])
    try:
        array.cast(pa.string())
    except pa.ArrowInvalid:
        return False
    return True


class TextStream(io.RawIOBase):
    """A file (maybe gzip-compressed, in any encoding) read as UTF-8 bytes, validated, without BOM.

    ``read(n)`` returns exactly ``n`` bytes until the end; the last line always ends with ``\\n``.
    ``consumed`` is the number of bytes of the file on disk read so far (compressed bytes for gzip).
    """

    def __init__(
        self,
        path: Path,
        display: str,
        compression: str | None,
        encoding: str,
        *,
        may_switch: bool = False,
        on_switch: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self._path = path
        self._display = display
        self._raw = path.open("rb")
        self._compression = compression
        self._src: io.BufferedIOBase = gzip.GzipFile(fileobj=self._raw, mode="rb") if compression else self._raw
        self.encoding = encoding
        self._set_codec(encoding)
        self._may_switch = may_switch
        self._on_switch = on_switch
        self._all_ascii = True
        self._carry = b""  # undecided bytes at the end of the last chunk (UTF-8 pass-through)
        self._position = 0  # decompressed bytes read from the file so far
        self._bom_checked = False
        self._eof = False
        self._ends_with_newline = True
        self._chunks: deque[bytes] = deque()
        self._have = 0
        self.consumed = 0
        self.throttle: Throttle | None = None
        self._stopped = False
        self._lock = threading.Lock()  # a close waits for a read under way on another thread
        self.last_read = 0.0  # when a read last began (from any thread)

    def _set_codec(self, codec: str) -> None:
        self._passthrough = codec in ("utf-8", "utf-8-sig")
        self._decoder = codecs.getincrementaldecoder(codec)()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        self.last_read = time.monotonic()
        if self._stopped:
            return b""
        if self.throttle is not None and size:
            self.throttle.before_read()
        with self._lock:
            if self._stopped:
                return b""
            return self._read(size)

    def _read(self, size: int | None) -> bytes:
        if size is None or size < 0:
            while not self._eof:
                self._pull(SAMPLE_BYTES * 16)
            size = self._have
        if size == 0:
            return b""
        while self._have < size and not self._eof:
            self._pull(size - self._have)
        if not self._chunks:
            return b""
        first = self._chunks[0]
        if len(first) == size or (len(first) < size and len(self._chunks) == 1):
            self._chunks.popleft()
            self._have -= len(first)
            if self.throttle is not None:
                self.throttle.handed(len(first))
            return first
        out = bytearray()
        while self._chunks and len(out) < size:
            chunk = self._chunks.popleft()
            need = size - len(out)
            if len(chunk) > need:
                self._chunks.appendleft(chunk[need:])
                chunk = chunk[:need]
            out += chunk
        self._have -= len(out)
        if self.throttle is not None:
            self.throttle.handed(len(out))
        return bytes(out)

    def _emit(self, data: bytes) -> None:
        if data:
            self._chunks.append(data)
            self._have += len(data)
            self._ends_with_newline = data.endswith(b"\n")

    def _pull(self, size: int) -> None:
        try:
            data = self._src.read(size)
        except (EOFError, OSError, zlib.error) as exc:
            if self._compression is None:
                raise
            raise corrupt_error(self._display, exc) from exc
        self.consumed = self._raw.tell()
        start = self._position
        self._position += len(data)
        if not data:
            self._finish(start)
            return
        if start == 0 and self._passthrough and data.startswith(UTF8_BOM):
            data = data[len(UTF8_BOM) :]
            start = len(UTF8_BOM)
        if self._passthrough:
            self._pass_utf8(data, start, final=False)
        else:
            self._transcode(data, start, final=False)

    def _finish(self, start: int) -> None:
        if self._passthrough:
            self._pass_utf8(b"", start, final=True)
        else:
            self._transcode(b"", start, final=True)
        if not self._ends_with_newline:
            self._emit(b"\n")
        self._eof = True

    def _pass_utf8(self, data: bytes, start: int, *, final: bool) -> None:
        """Hand ``data`` on unchanged once it is known to be UTF-8 (with the carry of the last chunk)."""
        check = self._carry + data if self._carry else data
        check_start = start - len(self._carry)
        self._carry = b""
        if check.isascii():
            self._emit(data)
            return
        cut = len(check) if final else _char_boundary(check)
        if _valid_utf8(memoryview(check)[:cut]):
            self._carry = check[cut:]
            self._all_ascii = False
            self._emit(data)
            return
        try:  # Arrow found invalid bytes: decode to find out where
            codecs.utf_8_decode(check, "strict", True)
        except UnicodeDecodeError as exc:
            self._utf8_failure(check, check_start, exc, data)
            return
        self._all_ascii = False  # pragma: no cover - Arrow and Python disagree
        self._emit(data)  # pragma: no cover

    def _utf8_failure(self, check: bytes, start: int, exc: UnicodeDecodeError, data: bytes) -> None:
        switch = self._may_switch and self._all_ascii and check is data and data[: exc.start].isascii()
        if not switch or _looks_like_utf8(data[exc.start :]):
            raise self._error(exc, start)
        try:
            data.decode("cp1252")
            codec = "cp1252"
        except UnicodeDecodeError:
            codec = "latin-1"
        self.encoding = codec
        self._set_codec(codec)
        self._may_switch = False
        if self._on_switch is not None:
            self._on_switch(codec)
        self._transcode(data, start, final=False)

    def _transcode(self, data: bytes, start: int, *, final: bool) -> None:
        pending = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise self._error(exc, start - len(pending)) from exc
        if not self._bom_checked and text:
            self._bom_checked = True
            text = text.removeprefix("\ufeff")
        self._emit(text.encode("utf-8"))

    def _error(self, exc: UnicodeDecodeError, start: int) -> ReadError:
        return encoding_error(self._display, self.encoding, exc, self._line_at(start + exc.start))

    def _line_at(self, position: int) -> int:
        """The line number of the byte at ``position`` (decompressed), found by reading again."""
        if self.encoding.startswith("utf-16"):
            newline = "\n".encode("utf-16-be" if self.encoding.endswith("be") else "utf-16-le")
        elif self.encoding.startswith("utf-32"):
            newline = "\n".encode("utf-32-be" if self.encoding.endswith("be") else "utf-32-le")
        else:
            newline = b"\n"
        lines = 0
        with self._path.open("rb") as raw:
            src: io.BufferedIOBase = gzip.GzipFile(fileobj=raw, mode="rb") if self._compression else raw
            while position > 0:
                block = src.read(min(position, 1 << 24))
                if not block:
                    break
                lines += block.count(newline)
                position -= len(block)
        return lines + 1

    def wait_for_quiet(self, quiet: float = 0.2, longest: float = 5.0) -> None:
        """Wait (the GIL released) until nobody has read for ``quiet`` seconds, at most ``longest``.

        Arrow's read-ahead may still have reads queued on its I/O thread after the reader that
        asked for them failed (there is then no reader object to drop, which would end them); each
        returns at once once the stream is stopped, but it must run before the interpreter shuts
        down, or calling into Python then aborts the process.
        """
        deadline = time.monotonic() + longest
        while time.monotonic() < deadline and time.monotonic() - self.last_read < quiet:
            time.sleep(quiet / 5)

    def stop(self) -> None:
        """From now on, reads see the end of the file (so that a background reader finishes)."""
        self._stopped = True
        if self.throttle is not None:
            self.throttle.close()

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self.closed:
                return
            try:
                if self._src is not self._raw:
                    self._src.close()
            finally:
                self._raw.close()
                super().close()
