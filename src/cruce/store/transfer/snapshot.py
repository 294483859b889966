"""One consistent read of every table of a store, table by table, in Arrow record batches.

A backup or a copy must be a state the store was really in: everything is read in one transaction
on one connection. DuckDB takes a transaction's snapshot at its first read of a table, not at
BEGIN, so the store's version is read first; PostgreSQL's transaction is REPEATABLE READ and READ
ONLY. No table is ever whole in memory: DuckDB streams record batches, and PostgreSQL's COPY is
streamed through Arrow's incremental CSV reader.

DuckDB commits an import's batches one by one and makes them visible by writing the import's
``import_run`` row last (``cruce.store.duckdb_store``). Rows of imports still pending in the
snapshot are left out, so a copy holds finished imports only, exactly as every reader sees them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from cruce.i18n import _
from cruce.store.base import Store, StoreError
from cruce.store.transfer.catalog import Fetch, Table, arrow_schema, quote, select_list, sequences, tables

BATCH_ROWS = 65_536
PG_BLOCK_BYTES = 4 << 20  # PostgreSQL: about this much CSV per batch
PENDING_TABLE = "import_pending"  # DuckDB: imports under way, whose rows are not visible yet
PENDING_COLUMN = "import_no"
META_TABLE = "cruce_meta"

BatchReader = Callable[[str, pa.Schema, int], Iterator[pa.RecordBatch]]


@dataclass
class Snapshot:
    """The tables of a store as they were when the snapshot began (see ``open_snapshot``)."""

    backend: str
    store_version: int
    tables: list[Table]
    sequences: dict[str, int | None]
    pending: list[int]
    _read: BatchReader

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [(c.name, c.kind) for c in self.table(name).columns]

    def batches(self, name: str, rows: int | None = None) -> Iterator[pa.RecordBatch]:
        """The table's rows, ``rows`` (``BATCH_ROWS``) at a time on DuckDB, about ``PG_BLOCK_BYTES`` of
        them at a time on PostgreSQL."""
        table = self.table(name)
        schema = arrow_schema(self.columns(name))
        sql = f"SELECT {select_list(table, self.backend)} FROM {quote(name)}{self._leave_out(table)}"
        for batch in self._read(sql, schema, rows or BATCH_ROWS):
            yield batch.cast(schema)

    def _leave_out(self, table: Table) -> str:
        """The condition that leaves out the rows of imports pending in the snapshot."""
        if table.name == PENDING_TABLE:
            return " WHERE FALSE"
        if self.pending and table.column(PENDING_COLUMN) is not None:
            return f" WHERE {quote(PENDING_COLUMN)} NOT IN ({', '.join(str(int(n)) for n in self.pending)})"
        return ""


def store_version(fetch: Fetch) -> int:
    rows = fetch(f"SELECT value FROM {META_TABLE} WHERE key = 'schema_version'", ())
    return int(rows[0][0]) if rows else 0


@contextmanager
def open_snapshot(store: Store) -> Iterator[Snapshot]:
    """A snapshot of ``store``, read on a connection of its own (DuckDB) or in a transaction of
    the store's connection (PostgreSQL), which nothing else may use meanwhile."""
    if store.backend == "duckdb":
        with _duckdb_snapshot(store.con) as snapshot:  # type: ignore[attr-defined]
            yield snapshot
    else:
        with _postgres_snapshot(store.conn) as snapshot:  # type: ignore[attr-defined]
            yield snapshot


def _describe(backend: str, fetch: Fetch, read: BatchReader) -> Snapshot:
    version = store_version(fetch)  # first: on DuckDB the snapshot begins with this read
    found = tables(fetch)
    pending: list[int] = []
    if any(t.name == PENDING_TABLE for t in found):
        pending = sorted(int(r[0]) for r in fetch(f"SELECT no FROM {PENDING_TABLE}", ()))
    return Snapshot(backend, version, found, sequences(fetch, backend), pending, read)


@contextmanager
def _duckdb_snapshot(con: Any) -> Iterator[Snapshot]:
    cursor = con.cursor()

    def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return list(cursor.execute(sql, list(params)).fetchall())

    def read(sql: str, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
        yield from cursor.execute(sql).to_arrow_reader(rows)

    cursor.execute("BEGIN TRANSACTION")
    try:
        yield _describe("duckdb", fetch, read)
    finally:
        with contextlib.suppress(Exception):
            cursor.execute("ROLLBACK")
        cursor.close()


@contextmanager
def _postgres_snapshot(conn: Any) -> Iterator[Snapshot]:
    def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with conn.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), list(params))
            return list(cur.fetchall()) if cur.description else []

    def read(sql: str, schema: pa.Schema, rows: int) -> Iterator[pa.RecordBatch]:
        yield from _copy_batches(conn, sql, schema)

    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield _describe("postgresql", fetch, read)
    finally:
        with contextlib.suppress(Exception):
            conn.execute("ROLLBACK")


def _copy_batches(conn: Any, sql: str, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """A query's rows through COPY … CSV, parsed by Arrow a block at a time.

    PostgreSQL writes NULL as an unquoted empty field and an empty text as ``""``; only the
    former is read as null (a text "NULL" stays text). Times come as UTC without a zone."""
    read_types = {f.name: pa.timestamp("us") if pa.types.is_timestamp(f.type) else f.type for f in schema}
    with conn.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)".encode()) as copy:
        source = _ChunkReader(bytes(chunk) for chunk in copy)
        if not source.peek():
            return
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=schema.names, block_size=PG_BLOCK_BYTES, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=read_types, null_values=[""], strings_can_be_null=True,
                quoted_strings_can_be_null=False, true_values=["t"], false_values=["f"],
            ),
        )  # fmt: skip
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            raise StoreError(_("Cannot read the rows PostgreSQL sent: {reason}").format(reason=exc)) from exc


class _ChunkReader:
    """A read-only file over an iterator of byte chunks (what Arrow's CSV reader reads from)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self._done = False
        self._position = 0
        self.closed = False

    def _fill(self, size: int) -> None:
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._done = True
            else:
                self._buffer += chunk

    def peek(self) -> bytes:
        self._fill(1)
        return bytes(self._buffer[:1])

    def read(self, size: int = -1) -> bytes:
        self._fill(size)
        if size < 0 or size >= len(self._buffer):
            out, self._buffer = bytes(self._buffer), bytearray()
        else:
            out = bytes(self._buffer[:size])
            del self._buffer[:size]
        self._position += len(out)
        return out

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        self.closed = True
