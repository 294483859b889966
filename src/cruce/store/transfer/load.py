"""Writing a snapshot or an archive into a store: every table in one transaction, or nothing.

The target is opened first (which brings it to this cruce's store version) and must then be at
the source's version, and empty unless the caller asked to replace what it holds. Tables and
columns are matched by name against the target's own catalog; the one difference between the
backends is a column DuckDB does not store: ``statement.id``, which PostgreSQL keeps in its
primary key (after the entity's id) and which is a digest of the statement
(``cruce.store.base.statement_id``), so it is worked out from the source on the way to PostgreSQL
and left out on the way to DuckDB (``DERIVED``). A table one backend has and the other has not
(DuckDB's ``import_pending``) is always empty in a source. Sequences are then moved past every
number the source had given.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cruce.i18n import _
from cruce.security.db import AppDB
from cruce.store.base import Store, statement_id_sql
from cruce.store.transfer.catalog import KINDS, Column, Table, quote, sequence_columns, sequences, tables
from cruce.store.transfer.manifest import TransferError
from cruce.store.transfer.snapshot import META_TABLE

Key = tuple[str, str] | None  # (the key column, the column whose smallest value wins), or None
_SEQUENCE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INTEGER_KINDS = ("int16", "int32", "int64")


class Source(Protocol):
    """What is read: a live store's snapshot (``Snapshot``) or a backup (``Archive``)."""

    backend: str
    store_version: int
    sequences: dict[str, int | None]

    def table_names(self) -> list[str]: ...

    def columns(self, name: str) -> list[tuple[str, str]]: ...

    def batches(self, name: str, rows: int | None = None) -> Iterator[pa.RecordBatch]: ...


@dataclass
class LoadReport:
    tables: int = 0
    rows: int = 0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    sequences: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """How one source table goes into the target: ``table`` None when the target has no such table."""

    name: str
    table: Table | None
    take: tuple[Column, ...] = ()  # target columns read from the source
    derive: tuple[Column, ...] = ()  # target columns worked out (``DERIVED``)


# -- columns one backend stores and the other works out ------------------------------------------
class _StatementIds:
    """``statement.id`` for PostgreSQL: md5(dataset, entity, property, value) as a UUID, the dataset
    and property name taken from the source's ``import_run`` and ``property``.

    The id is in PostgreSQL's primary key, and its imports keep one row per id (the first by source
    row); a DuckDB store imported by a cruce older than store version 16 may hold the same statement
    twice (an organization both an event's actor1 and its actor2): such rows become one, as
    PostgreSQL's import would have made them (``keep_first_by``)."""

    keep_first_by = "source_row"

    def __init__(self, source: Source) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.register("cruce_imports", _whole(source, "import_run", ["no", "dataset"]))
        self.con.register("cruce_props", _whole(source, "property", ["prop_id", "prop"]))

    def __call__(self, batch: pa.RecordBatch) -> pa.Array:
        numbered = pa.Table.from_batches([batch]).append_column("cruce_i", pa.array(range(batch.num_rows), pa.int64()))
        self.con.register("cruce_b", numbered)
        try:
            ident = statement_id_sql("i.dataset", "b.entity_id", "p.prop", "b.value")
            found = self.con.execute(
                f"SELECT CASE WHEN i.dataset IS NULL OR p.prop IS NULL THEN NULL ELSE CAST({ident} AS VARCHAR) END "
                "FROM cruce_b b LEFT JOIN cruce_imports i ON i.no = b.import_no "
                "LEFT JOIN cruce_props p ON p.prop_id = b.prop_id ORDER BY b.cruce_i"
            ).to_arrow_table()
        finally:
            self.con.unregister("cruce_b")
        ids = found.column(0).combine_chunks()
        if ids.null_count:
            raise TransferError(_("Statements of the source name an import or a property it does not have."))
        return ids

    def close(self) -> None:
        self.con.close()


DERIVED: dict[tuple[str, str], Any] = {("statement", "id"): _StatementIds}
"""(table, column) → what works the column out from the source (called with the source, then with
each batch), for a target that stores it and a source that does not; a source's column the target
does not store is left out only if listed here. One whose ``keep_first_by`` is set is the table's
key: rows with the same value are written once, the first by that column."""


def _whole(source: Source, name: str, columns: list[str]) -> pa.Table:
    batches = [b.select(columns) for b in source.batches(name)]
    schema = pa.schema([f for f in _schema(source, name) if f.name in columns])
    return pa.Table.from_batches(batches, schema=schema)


def _schema(source: Source, name: str) -> pa.Schema:
    return pa.schema([pa.field(c, KINDS[k]) for c, k in source.columns(name)])


# -- the plan, checked before anything is written ---------------------------------------------------
def plan(target: list[Table], target_backend: str, source: Source) -> list[_Plan]:
    """Match the source's tables and columns to the target's; raise on anything that does not fit."""
    by_name = {t.name: t for t in target}
    plans = []
    for name in source.table_names():
        table = by_name.get(name)
        plans.append(_Plan(name, None) if table is None else _plan_table(table, source))
    if source.backend == target_backend:
        missing = sorted(set(by_name) - set(source.table_names()))
        if missing:
            raise TransferError(_("The source has no table {tables}, which the target has.").format(
                tables=", ".join(missing)))  # fmt: skip
    return plans


def _plan_table(table: Table, source: Source) -> _Plan:
    offered = dict(source.columns(table.name))
    for name in offered:
        if table.column(name) is None and (table.name, name) not in DERIVED:
            raise TransferError(_("Table {table} of the source has a column {column} that the target does not have.")
                                .format(table=table.name, column=name))  # fmt: skip
    take, derive = [], []
    for column in table.columns:
        if column.name in offered:
            take.append(column)
        elif (table.name, column.name) in DERIVED:
            derive.append(column)
        elif not column.nullable and column.default is None:
            raise TransferError(_("Table {table} of the source has no column {column}, which the target needs.")
                                .format(table=table.name, column=column.name))  # fmt: skip
    return _Plan(table.name, table, tuple(take), tuple(derive))


def not_empty(db: AppDB, target: list[Table]) -> list[str]:
    """The target's tables that hold rows (its version number aside)."""
    full = []
    for table in target:
        where = " WHERE key <> 'schema_version'" if table.name == META_TABLE else ""
        if db.fetch(f"SELECT 1 FROM {quote(table.name)}{where} LIMIT 1"):
            full.append(table.name)
    return full


# -- writing -----------------------------------------------------------------------------------------
def load_into(
    store: Store,
    db: AppDB,
    source: Source,
    *,
    replace: bool,
    record: Callable[[LoadReport], None] | None = None,
    on_progress: Callable[[str, int], None] | None = None,
) -> LoadReport:
    """Write every table of ``source`` into ``store`` in one transaction on ``db`` (the store's
    application tables, so that ``record`` — the audit entry — commits with the data)."""
    version = store.schema_version()
    if version != source.store_version:
        raise TransferError(
            _("The source is at store version {source} and the target at {target}: they must be the same. Restore "
              "the backup with a cruce of store version {source} into a new database, then open that with this "
              "cruce, which upgrades it.").format(source=source.store_version, target=version)
        )  # fmt: skip
    fetch = db.fetch
    target = tables(fetch)
    plans = plan(target, store.backend, source)
    full = not_empty(db, target)
    if full and not replace:
        raise TransferError(
            _("The target already holds data (in {tables}). Restore into an empty database, or pass --replace "
              "to replace everything it holds.").format(tables=", ".join(full[:5]) + ("…" if len(full) > 5 else ""))
        )  # fmt: skip
    writer = _DuckDBWriter(store) if store.backend == "duckdb" else _PostgresWriter(store)
    report = LoadReport()
    with db.transaction():
        if full:
            writer.clear(target)
        for p in plans:
            rows = _write_table(writer, source, p, on_progress)
            report.rows_by_table[p.name] = rows
            report.rows += rows
            report.tables += p.table is not None
        report.sequences = _advance_sequences(writer, fetch, store.backend, target, source.sequences)
        if record is not None:
            record(report)
    return report


def _write_table(writer: Any, source: Source, p: _Plan, on_progress: Callable[[str, int], None] | None) -> int:
    if p.table is None:  # a table only the source's backend has: it must be empty
        if any(b.num_rows for b in source.batches(p.name)):
            raise TransferError(_("The source's table {table} holds rows, and the target has no such table.")
                                .format(table=p.name))  # fmt: skip
        return 0
    derivers = {c.name: DERIVED[(p.name, c.name)](source) for c in p.derive}
    columns = [*p.take, *p.derive]
    schema = pa.schema([pa.field(c.name, KINDS[c.kind]) for c in columns])
    done = 0

    def batches() -> Iterator[pa.RecordBatch]:
        nonlocal done
        for batch in source.batches(p.name):
            if p.name == META_TABLE:  # the target keeps its own version number (the same as the source's)
                batch = batch.filter(pc.not_equal(batch.column("key"), "schema_version"))
            arrays = [_as_kind(batch.column(c.name), c, p.name) for c in p.take]
            arrays += [derivers[c.name](batch) for c in p.derive]
            done += batch.num_rows
            if on_progress:
                on_progress(p.name, done)
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    key = next(((c, d.keep_first_by) for c, d in derivers.items() if getattr(d, "keep_first_by", None)), None)
    try:
        return int(writer.write(p.table, columns, batches(), key))
    finally:
        for deriver in derivers.values():
            deriver.close()


def _as_kind(array: pa.Array, column: Column, table: str) -> pa.Array:
    """The source's values in the target column's kind (the same kind, but for a table whose type
    changed between backends)."""
    wanted = KINDS[column.kind]
    if array.type == wanted:
        return array
    try:
        return array.cast(wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise TransferError(_("Column {column} of table {table} cannot take the source's values: {reason}").format(
            column=column.name, table=table, reason=exc)) from None  # fmt: skip


def _advance_sequences(writer: Any, fetch: Any, backend: str, target: list[Table],
                       given: dict[str, int | None]) -> dict[str, int]:  # fmt: skip
    """Move each sequence of the target past the last number the source's gave and past the
    largest value of every column it numbers, so that new rows never take a restored one's number."""
    by_name = {t.name: t for t in target}
    users = sequence_columns(fetch, backend, target)
    moved = {}
    for name, current in sequences(fetch, backend).items():
        if not _SEQUENCE_NAME.match(name):
            continue
        wanted = given.get(name) or 0
        for table, column in users.get(name, []):
            found = by_name.get(table)
            col = found.column(column) if found else None
            if col is not None and col.kind in _INTEGER_KINDS:
                top = fetch(f"SELECT max({quote(column)}) FROM {quote(table)}", ())[0][0]
                wanted = max(wanted, int(top or 0))
        if wanted and wanted > (current or 0):
            writer.advance(name, current, wanted)
            moved[name] = wanted
    return moved


class _DuckDBWriter:
    def __init__(self, store: Store) -> None:
        self.con = store.con  # type: ignore[attr-defined]

    def clear(self, target: list[Table]) -> None:
        for table in target:
            where = " WHERE key <> 'schema_version'" if table.name == META_TABLE else ""
            self.con.execute(f"DELETE FROM {quote(table.name)}{where}")

    def write(self, table: Table, columns: list[Column], batches: Iterator[pa.RecordBatch], key: Key) -> int:
        """Insert the batches; return the rows written (``key``: only a PostgreSQL target has one)."""
        names = ", ".join(quote(c.name) for c in columns)
        select = ", ".join(f"CAST(b.{quote(c.name)} AS {c.sql_type})" for c in columns)
        written = 0
        for batch in batches:
            # Read by DuckDB's replacement scan of this local variable, not ``register``: a view
            # registered and dropped inside the transaction keeps its Arrow table alive until the
            # transaction ends (memory grew by every batch written).
            cruce_restore_batch = pa.Table.from_batches([batch])  # noqa: F841 - read by name
            self.con.execute(f"INSERT INTO {quote(table.name)} ({names}) SELECT {select} FROM cruce_restore_batch b")
            written += batch.num_rows
        return written

    def advance(self, name: str, current: int | None, wanted: int) -> None:
        """DuckDB cannot set a sequence that a column's default uses: it is drawn up to ``wanted``."""
        start = self.con.execute(
            "SELECT start_value FROM duckdb_sequences() WHERE sequence_name = ?", [name]
        ).fetchone()
        last = current if current is not None else int(start[0]) - 1 if start else 0
        if wanted > last:
            self.con.execute(f"SELECT max(nextval('{name}')) FROM range({int(wanted - last)})")


class _PostgresWriter:
    def __init__(self, store: Store) -> None:
        self.conn = store.conn  # type: ignore[attr-defined]

    def clear(self, target: list[Table]) -> None:
        others = [quote(t.name) for t in target if t.name != META_TABLE]
        if others:
            self.conn.execute(f"TRUNCATE {', '.join(others)}")
        self.conn.execute(f"DELETE FROM {META_TABLE} WHERE key <> 'schema_version'")

    def write(self, table: Table, columns: list[Column], batches: Iterator[pa.RecordBatch], key: Key) -> int:
        """COPY the batches in; with a ``key`` (column, order), through a stage that keeps the first row
        of each key. Returns the rows written."""
        names = ", ".join(quote(c.name) for c in columns)
        into = "cruce_restore_stage" if key else quote(table.name)
        with self.conn.cursor() as cur:
            if key:
                cur.execute("SET LOCAL work_mem = '256MB'")  # the sort by key, as an import's merge
                cur.execute(f"CREATE TEMP TABLE {into} (LIKE {quote(table.name)}) ON COMMIT DROP")
            with cur.copy(f"COPY {into} ({names}) FROM STDIN (FORMAT csv)") as copy:
                for batch in batches:
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
            written = cur.rowcount
            if key:
                column, first = quote(key[0]), quote(key[1])
                cur.execute(
                    f"INSERT INTO {quote(table.name)} ({names}) SELECT DISTINCT ON ({column}) {names} FROM {into} "
                    f"ORDER BY {column}, {first}"
                )
                written = cur.rowcount
                cur.execute(f"DROP TABLE {into}")
        return max(int(written), 0)

    def advance(self, name: str, current: int | None, wanted: int) -> None:
        self.conn.execute("SELECT setval(%s, %s, true)", [quote(name), wanted])
