"""Corrupt or hostile input files: a clear error (file, row) or rejected rows, memory bounded, no crash.

Three layers: the readers fuzzed with hypothesis (any bytes in: a ``ReadError`` or rows out, never
another exception); crafted files — a zip bomb, enormous cells, 100,000 levels of nesting, invalid
UTF-8, NUL bytes, truncated and binary files — each read in a process of its own whose address
space is capped at 1 GiB; and the same files uploaded to a running server, which must keep
answering other requests meanwhile.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cruce.ingest.pipeline import import_file
from cruce.ingest.readers import ReadError, open_source
from cruce.store import open_store
from tests.conftest import PEOPLE_MAPPING

MEMORY_LIMIT = 1 << 30  # the address space each crafted file is read in
READ_TIMEOUT = 60.0
MB = 1 << 20


# -- crafted files ---------------------------------------------------------------------------------
def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _deflated_repeat(prefix: bytes, block: bytes, count: int, suffix: bytes) -> tuple[bytes, int, int]:
    """``prefix + block * count + suffix`` deflated without deflating it all: after a full flush the
    compressor starts afresh, so each further ``block`` compresses to the same bytes. Returns (the
    deflated stream, its CRC-32, its size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)
    body = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH) == body
    tail = packer.compress(suffix) + packer.flush()
    crc = zlib.crc32(prefix)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    return head + body * count + tail, zlib.crc32(suffix, crc), len(prefix) + len(block) * count + len(suffix)


def _zip(parts: list[tuple[str, bytes, int, int]]) -> bytes:
    """A ZIP archive of already deflated parts: (name, deflated bytes, CRC-32, size)."""
    out = io.BytesIO()
    directory = []
    for name, data, crc, size in parts:
        offset, encoded = out.tell(), name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0))
        out.write(encoded + data)
        entry = struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), size, len(encoded), 0, 0, 0, 0, 0,
            offset,
        )  # fmt: skip
        directory.append(entry + encoded)
    start, listing = out.tell(), b"".join(directory)
    out.write(listing + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(listing), start, 0))
    return out.getvalue()


_NS = "http://schemas.openxmlformats.org"
_REL = f"{_NS}/officeDocument/2006/relationships"
_WORKBOOK = {
    "[Content_Types].xml": f'<Types xmlns="{_NS}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{_NS}/spreadsheetml/2006/main" xmlns:r="{_REL}">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_NS}/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_NS}/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c></row></sheetData></worksheet>',
}
_STRINGS = (
    f'<sst xmlns="{_NS}/spreadsheetml/2006/main"><si><t>pid</t></si><si><t>name</t></si><si><t>1</t></si><si><t>',
    "</t></si></sst>",
)


def xlsx(name: str = "Ana", inflated_mb: int = 0) -> bytes:
    """A workbook of one row (pid 1, ``name``); with ``inflated_mb``, the name is that many MB of
    "x" that deflate to a thousandth of it: a zip bomb in the shared strings, which openpyxl reads whole."""
    parts = [(n, _deflate(t.encode()), zlib.crc32(t.encode()), len(t.encode())) for n, t in _WORKBOOK.items()]
    head, tail = (s.encode() for s in _STRINGS)
    if inflated_mb:
        parts.append(("xl/sharedStrings.xml", *_deflated_repeat(head, b"x" * MB, inflated_mb, tail)))
    else:
        strings = head + name.encode() + tail
        parts.append(("xl/sharedStrings.xml", _deflate(strings), zlib.crc32(strings), len(strings)))
    return _zip(parts)


def _write_repeated(path: Path, head: bytes, block: bytes, count: int, tail: bytes) -> Path:
    with path.open("wb") as out:
        out.write(head)
        for _ in range(count):
            out.write(block)
        out.write(tail)
    return path


def _parquet() -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"pid": ["1", "2", "3"], "name": ["Ana", "Luis", "Eva"]}), buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """A crafted file, and what reading it must give: an error (its text, its row) or rows and bad rows."""

    name: str
    make: Callable[[Path], Path]
    error: str | None = None
    row: int | None = None
    rows: int | None = None
    bad: tuple[tuple[int, str], ...] = ()


def _utf8_then_invalid(path: Path) -> Path:
    lines = ["pid,name"] + [f"{i},Muñoz {i}" for i in range(2, 60_000)]  # more than the 1 MB sample
    return _write_repeated(path, ("\n".join(lines) + "\n").encode(), b"", 0, b"60000,Mu\xf1oz\n")


CASES = [
    Case("nested 100k deep", lambda d: _bytes(d / "deep.json", b"[" * 100_000 + b"]" * 100_000),
         error="deep.json: record 1: the JSON is nested more than 64 levels deep", row=1),
    Case("nested 100k deep in a record",
         lambda d: _bytes(d / "deep2.json", b'[{"a": 1}, {"a": ' + b'{"b": ' * 100_000 + b"1" + b"}" * 100_001 + b"]"),
         error="deep2.json: record 2: the JSON is nested more than 64 levels deep", row=2),
    Case("nested 100k deep, one line of many",
         lambda d: _bytes(d / "deep.jsonl", b'{"a": 1}\n{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b'}\n{"a": 3}\n'),
         rows=2, bad=((2, "the record is nested too deeply"),)),
    Case("a 200 MB cell in a CSV",
         lambda d: _write_repeated(d / "cell.csv", b'pid,name\n1,"', b"x" * MB, 200, b'"\n2,Ana\n'),
         error="cell.csv: near row 2: a row is longer than 8 MB", row=2),
    Case("a 200 MB value in a JSON document",
         lambda d: _write_repeated(d / "cell.json", b'[{"pid": 1, "name": "', b"x" * MB, 200, b'"}]'),
         error="cell.json: record 1: a value is longer than 8 MB", row=1),
    Case("a 200 MB line of JSON Lines",
         lambda d: _write_repeated(d / "cell.jsonl", b'{"pid": 1, "name": "', b"x" * MB, 200, b'"}\n{"pid": 2}\n'),
         rows=1, bad=((1, "the line is longer than 32 MB"),)),
    Case("invalid UTF-8 after the sample", lambda d: _utf8_then_invalid(d / "latin.csv"),
         error="latin.csv: row 60000: bytes f1 are not valid utf-8", row=60_000),
    Case("NUL bytes", lambda d: _bytes(d / "nul.csv", b"pid,name\n1,A\x00\x00na\n"),
         error="nul.csv: not a text file (it looks like binary data)"),
    Case("a gzip bomb of zeros", lambda d: _bytes(d / "zeros.csv.gz", gzip.compress(bytes(256 * MB), 1)),
         error="zeros.csv.gz: not a text file (it looks like binary data)"),
    Case("truncated JSON", lambda d: _bytes(d / "cut.json", b'[{"pid": 1}, {"pid": 2}, {"pi'),
         error="cut.json: record 3: invalid JSON", row=3),
    Case("truncated XLSX", lambda d: _bytes(d / "cut.xlsx", xlsx()[:900]), error="cut.xlsx: not a valid XLSX workbook"),
    Case("truncated gzip", lambda d: _bytes(d / "cut.csv.gz", _half(gzip.compress(_rows(50_000)))),
         error="cut.csv.gz: file is truncated or corrupt"),
    Case("truncated Parquet", lambda d: _bytes(d / "cut.parquet", _parquet()[:-40]), error="cut.parquet"),
    Case("a binary file named .csv", lambda d: _bytes(d / "random.csv", os.urandom(64 * 1024)),
         error="random.csv: not a text file"),
    Case("a workbook named .csv", lambda d: _bytes(d / "book.csv", xlsx()),
         error="book.csv: not a text file (it looks like a ZIP archive, such as an .xlsx workbook)"),
]  # fmt: skip


def _rows(count: int) -> bytes:
    return b"pid,name\n" + "".join(f"{i},Ana {i * 7919 % 100_003}\n" for i in range(count)).encode()


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


_READ_BOUNDED = """
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
from cruce.ingest.readers import ReadError, open_source
started = time.monotonic()
try:
    with open_source(sys.argv[1]) as source:
        rows = sum(batch.num_rows for batch in source.batches())
    out = {{"rows": rows, "bad": [[b.row, b.reason] for b in source.bad_rows]}}
except ReadError as exc:
    out = {{"error": str(exc), "row": exc.row}}
out["seconds"] = time.monotonic() - started
# the peak of this program's own memory (ru_maxrss would count the test process it was forked from)
with open("/proc/self/status") as status:
    out["peak_mb"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) // 1024
print(json.dumps(out))
"""


def read_bounded(path: Path) -> dict[str, Any]:
    """Read ``path`` in a process of its own limited to MEMORY_LIMIT; what it found, and its peak RSS."""
    done = subprocess.run(
        [sys.executable, "-c", _READ_BOUNDED.format(limit=MEMORY_LIMIT), str(path)],
        capture_output=True, text=True, timeout=READ_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, f"the reader crashed on {path.name}:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_crafted_file(case: Case, tmp_path: Path) -> None:
    path = case.make(tmp_path)
    found = read_bounded(path)
    assert found["peak_mb"] < MEMORY_LIMIT >> 20
    if case.error is not None:
        assert case.error in found.get("error", ""), found
        assert found["row"] == case.row
    else:
        assert "error" not in found, found
        assert found["rows"] == case.rows
        assert [(row, reason) for row, reason in found["bad"]] == list(case.bad)


def test_the_zip_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    found = read_bounded(_bytes(tmp_path / "bomb.xlsx", xlsx(inflated_mb=1536)))
    assert found["error"] == (
        "bomb.xlsx: the workbook's part xl/sharedStrings.xml would expand to 1536 MB, 1011 times its compressed "
        "size; cruce does not open such a file (it may be a zip bomb)"
    )
    assert found["peak_mb"] < 256, found  # not a byte of the 1.5 GB was expanded
    assert found["seconds"] < 2, found


# -- NUL characters inside values ------------------------------------------------------------------
def test_nul_characters_inside_values_are_dropped_on_both_backends(store_url: str, tmp_path: Path) -> None:
    """PostgreSQL cannot store a NUL in text (an import failed with a traceback); DuckDB could: both
    now store the value without it, the same."""
    lines = ["pid,name,nationality"] + [f"p{i},Person {i},MX" for i in range(3000)]
    lines[2500] = "p2499,Per\x00\x00son,MX"  # past the first 8 KB, where a NUL means a binary file
    csv = _bytes(tmp_path / "nul.csv", ("\n".join(lines) + "\n").encode())
    json_lines = _bytes(tmp_path / "nul.jsonl", b'{"pid": "j1", "name": "Eva\\u0000", "nationality": "MX"}\n')
    mapping = tmp_path / "people.yaml"
    mapping.write_text(PEOPLE_MAPPING.format(dataset="people"), encoding="utf-8")
    with open_store(store_url) as store:
        assert import_file(store, csv, mapping).rows_stored == 3000
        assert import_file(store, json_lines, mapping).rows_stored == 1
        names = {e.first("name") for e in store.iter_entities(schema="Person")}
    assert {"Person", "Eva"} <= names
    assert not any("\x00" in (n or "") for n in names)


# -- fuzzing ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cruce-fuzz-") as folder:
        yield Path(folder)


def drain(path: Path) -> None:
    """Read every row; a ``ReadError`` is an answer too. Anything else fails the test."""
    try:
        with open_source(path) as source:
            for _batch in source.batches():
                pass
    except ReadError as exc:
        error = exc
    else:
        return
    assert error.file == path.name
    assert str(error).startswith(path.name)


_TEXTY = st.text(alphabet=st.sampled_from(list("abc019 ,;|\t\"'\n\r.-ñé€\\{}[]:\x00\x1f\ufeff")), max_size=300)
_ANY_BYTES = st.one_of(
    st.binary(max_size=600),
    _TEXTY.map(lambda t: t.encode("utf-8")),
    _TEXTY.map(lambda t: t.encode("utf-16")),
    _TEXTY.map(lambda t: t.encode("cp1252", "replace")),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=25,
)


def _mutated(data: bytes, draw: st.DrawFn) -> bytes:
    """``data`` cut, with bytes flipped, or with bytes inserted: a damaged copy."""
    how = draw(st.sampled_from(["cut", "flip", "insert"]))
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    if how == "cut":
        return data[:at]
    noise = draw(st.binary(min_size=1, max_size=8))
    if how == "flip":
        return data[:at] + noise + data[at + len(noise) :]
    return data[:at] + noise + data[at:]


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    return _mutated(original, draw)


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    text = json.dumps(draw(st.lists(_JSON, max_size=6) | _JSON)).encode()
    return _mutated(text, draw) if draw(st.booleans()) else text


@st.composite
def json_lines(draw: st.DrawFn) -> bytes:
    lines = [json.dumps(v).encode() for v in draw(st.lists(_JSON, max_size=6))]
    text = b"\n".join(lines)
    return _mutated(text, draw) if draw(st.booleans()) else text


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=_ANY_BYTES, suffix=st.sampled_from([".csv", ".tsv", ".json", ".jsonl"]))
def test_fuzz_text_readers_with_any_bytes(fuzz_dir: Path, data: bytes, suffix: str) -> None:
    drain(_bytes(fuzz_dir / f"any{suffix}", data))


@FUZZ
@given(data=json_documents())
def test_fuzz_json(fuzz_dir: Path, data: bytes) -> None:
    drain(_bytes(fuzz_dir / "doc.json", data))


@FUZZ
@given(data=json_lines())
def test_fuzz_jsonl(fuzz_dir: Path, data: bytes) -> None:
    drain(_bytes(fuzz_dir / "doc.jsonl", data))


@FUZZ
@given(data=damaged(xlsx()))
def test_fuzz_xlsx(fuzz_dir: Path, data: bytes) -> None:
    drain(_bytes(fuzz_dir / "book.xlsx", data))


@FUZZ
@given(data=damaged(_parquet()))
def test_fuzz_parquet(fuzz_dir: Path, data: bytes) -> None:
    drain(_bytes(fuzz_dir / "table.parquet", data))


@FUZZ
@given(data=damaged(gzip.compress(b"pid,name\n" + "".join(f"{i},Ana {i}\n" for i in range(300)).encode())))
def test_fuzz_gzip(fuzz_dir: Path, data: bytes) -> None:
    drain(_bytes(fuzz_dir / "rows.csv.gz", data))


# -- through the web upload ------------------------------------------------------------------------
@dataclass
class Running:
    url: str
    token: str
    pid: int


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """``cruce serve`` on an empty DuckDB store, with the demo accounts and an import token for admin."""
    from cruce.security import Security
    from cruce.security.audit import now
    from cruce.web.demo_setup import set_up
    from cruce.web.launch import start_server, stop_server

    folder = tmp_path_factory.mktemp("uploads")
    db = folder / "web.duckdb"
    set_up(str(db))
    with open_store(db) as store:
        token = Security(store).accounts.create_token("admin", "faults", ["read", "import"], now=now())
    process, url = start_server(db, folder / "serve.log")
    try:
        yield Running(url, token, process.pid)
    finally:
        stop_server(process)
    assert "Traceback" not in (folder / "serve.log").read_text(errors="replace")


class Reads:
    """A thread asking the server for its counts every 50 ms; every answer's status and time kept."""

    def __init__(self, server: Running) -> None:
        self.server = server
        self.answers: list[tuple[int | None, float]] = []
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        serving = psutil.Process(self.server.pid)
        headers = {"Authorization": f"Bearer {self.server.token}"}
        with httpx.Client(base_url=self.server.url, headers=headers, timeout=30) as client:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    status: int | None = client.get("/api/v1/counts").status_code
                except httpx.HTTPError:
                    status = None
                self.answers.append((status, time.monotonic() - started))
                self.peak_rss = max(self.peak_rss, serving.memory_info().rss)
                time.sleep(0.05)

    def __enter__(self) -> Reads:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


def _import_through_the_api(server: Running, path: Path, mapping: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.token}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client, path.open("rb") as fh:
        response = client.post("/api/v1/imports", files={"file": (path.name, fh)}, data={"mapping": mapping})
        if response.status_code != 202:
            return {"status": response.status_code, "error": response.json()["detail"]}
        job_id = response.json()["id"]
        deadline = time.monotonic() + READ_TIMEOUT
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
            if job["state"] in ("done", "failed"):
                return job
            time.sleep(0.1)
    raise AssertionError(f"the import of {path.name} did not end within {READ_TIMEOUT:.0f} s")


@pytest.mark.slow
def test_hostile_uploads_fail_cleanly_while_the_server_serves(upload_server: Running, tmp_path: Path) -> None:
    uploads = [
        (_bytes(tmp_path / "bomb.xlsx", xlsx(inflated_mb=1536)), "example-firearm-purchases", "zip bomb"),
        (_bytes(tmp_path / "deep.json", b"[" * 100_000 + b"]" * 100_000), "geo-us-states",
         "deep.json: record 1: the JSON is nested more than 64 levels deep"),
        (_write_repeated(tmp_path / "cell.json", b'[{"name": "', b"x" * MB, 40, b'"}]'), "geo-us-states",
         "cell.json: record 1: a value is longer than 8 MB"),
        (_write_repeated(tmp_path / "cell.csv", b'a,b\n1,"', b"x" * MB, 40, b'"\n'), "example-firearm-purchases",
         "cell.csv: near row 2: a row is longer than 8 MB"),
    ]  # fmt: skip
    with Reads(upload_server) as reads:
        for path, mapping, expected in uploads:
            job = _import_through_the_api(upload_server, path, mapping)
            assert job["state"] == "failed", job
            assert expected in job["error"], job
        refused = _import_through_the_api(
            upload_server, _bytes(tmp_path / "random.csv", os.urandom(8192)), "atf-traces"
        )
        assert refused["status"] == 415, refused
        time.sleep(0.5)
    assert reads.answers, "no read was answered"
    assert all(status == 200 for status, _seconds in reads.answers), reads.answers
    assert max(seconds for _status, seconds in reads.answers) < 5
    assert reads.peak_rss < MEMORY_LIMIT, f"the server reached {reads.peak_rss >> 20} MB"
    import psutil

    assert psutil.pid_exists(upload_server.pid)
