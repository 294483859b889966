"""The import pipeline: file → batches → statements and rejects → one atomic commit.

Reading streams in batches, so memory stays bounded whatever the size of the file. Everything an
import writes goes through one store transaction: a crash or ``kill -9`` part-way leaves the
store exactly as it was, and running the import again completes it. A file already imported
with the same mapping into the same dataset is recognised by its checksum and not stored again.
"""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import duckdb
import pyarrow as pa

from cruce.i18n import _
from cruce.ingest.compile import (
    BAD_ROWS,
    BATCH_STATEMENTS,
    CompiledMapping,
    check_columns,
    clean_batch,
    compile_mapping,
    with_ids,
)
from cruce.ingest.mapping import Mapping, MappingError, load_mapping
from cruce.ingest.readers import ROW_COLUMN, Source, open_source
from cruce.ingest.sqlfuncs import install
from cruce.schema.loader import default_schema
from cruce.schema.model import Schema
from cruce.search.index import index_step
from cruce.store.base import ImportRecord, ImportWriter, Store, StoreError, is_disk_full

ProgressCallback = Callable[[int, int], None]
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class ImportResult:
    """What an import did, for the summary the user sees."""

    import_id: str
    dataset: str
    file: str
    mapping: str
    rows_read: int
    rows_stored: int
    rows_rejected: int
    statements_added: int
    seconds: float
    already_imported: ImportRecord | None = None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def new_import_id(now: datetime) -> str:
    return f"{now:%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"


def dataset_name(path: Path, mapping: Mapping, dataset: str | None) -> str:
    """The dataset to import into: the one given, else the mapping's, else the file's name."""
    if dataset:
        return dataset
    if mapping.dataset:
        return mapping.dataset
    return path.name.split(".")[0]


def _unreadable_rows(source: Source) -> pa.Table | None:
    """The rows the reader could not read, as rejects; forgotten at once (memory stays small)."""
    if not source.bad_rows:
        return None
    table = pa.table(
        {
            "source_row": pa.array([b.row for b in source.bad_rows], pa.int64()),
            "field": pa.array([None] * len(source.bad_rows), pa.string()),
            "reason": pa.array([b.reason for b in source.bad_rows], pa.string()),
            "value": pa.array([b.text for b in source.bad_rows], pa.string()),
        }
    )
    source.bad_rows.clear()
    return table


_TEMP_TABLES = ("cruce_ids", "cruce_cells", "cruce_vals", BAD_ROWS)
_DONE = object()


@dataclass(frozen=True)
class _Prepared:
    """One batch, normalised and ready to be added to the store."""

    statements: pa.Table
    rejects: list[pa.Table]
    rows: int
    rejected: int


def source_columns(mapping: Mapping, columns: list[str], file: str) -> tuple[list[str], list[str]]:
    """The columns the mapping sees (after any unpivot), and the wide columns unpivoted."""
    if mapping.unpivot is None:
        return columns, []
    wide = mapping.unpivot.wide_columns(columns)
    if not wide:
        raise MappingError(_("{file}: no column matches the mapping's unpivot columns or pattern").format(file=file))
    kept = [c for c in columns if c not in wide]
    return [*kept, mapping.unpivot.name, mapping.unpivot.value], wide


def unpivot_batch(batch: pa.RecordBatch, wide: list[str], name: str, value: str) -> pa.Table:
    """One row per (source row, wide column): the other columns, the column's name, its cell."""
    kept = [c for c in batch.schema.names if c not in wide and c != ROW_COLUMN]
    parts = []
    for column in wide:
        arrays = [batch.column(c) for c in kept]
        arrays += [pa.array([column] * batch.num_rows, pa.string()), batch.column(column), batch.column(ROW_COLUMN)]
        parts.append(pa.Table.from_arrays(arrays, names=[*kept, name, value, ROW_COLUMN]))
    return pa.concat_tables(parts)


def _prepare_batches(
    source: Source,
    writer: ImportWriter,
    compute: duckdb.DuckDBPyConnection,
    compiled: CompiledMapping,
    unpivot: tuple[list[str], str, str] | None,
    slot: Callable[[], bool] = lambda: True,
) -> Iterator[_Prepared]:
    """Read and normalise batch after batch on the compute connection. Each batch's statements
    are turned into Arrow (tens of MB) once ``slot()`` says there is room for them (False: stop)."""
    for cleaned, read, unreadable in _read_ahead(source, compute, compiled, unpivot):
        compute.register("batch", cleaned)
        try:
            compute.execute(compiled.ids_step)
            if _fast_batch(compute, compiled):
                bad, rejects = 0, []
            else:
                for step in compiled.steps:
                    compute.execute(step)
                row = compute.execute(compiled.bad_rows_sql).fetchone()
                bad = int(row[0]) if row else 0
                rejects = [compute.execute(compiled.rejects_sql).to_arrow_table()] if bad else []
            if not slot():
                return
            statements = writer.prepare_statements(compute, BATCH_STATEMENTS)
        finally:
            compute.unregister("batch")
        if unreadable is not None:
            rejects.append(unreadable)
        extra = unreadable.num_rows if unreadable is not None else 0
        yield _Prepared(statements, rejects, read + extra, bad + extra)
    compute.execute(f"DROP VIEW IF EXISTS {BATCH_STATEMENTS}")
    for table in (*_TEMP_TABLES, *compiled.fast_tables):
        compute.execute(f"DROP TABLE IF EXISTS {table}")


def _read_ahead(
    source: Source,
    compute: duckdb.DuckDBPyConnection,
    compiled: CompiledMapping,
    unpivot: tuple[list[str], str, str] | None,
) -> Iterator[tuple[pa.Table, int, pa.Table | None]]:
    """(cleaned batch with its entity ids, rows read, unreadable rows) after each other, read,
    cleaned and given their ids one batch ahead in a thread of their own (Arrow and DuckDB release
    the GIL), so that the other SQL work does not wait for them. Only that thread touches
    ``source`` until it has ended; it has a connection of its own to the compute database."""
    ready: queue.Queue[object] = queue.Queue(maxsize=1)
    stop = threading.Event()
    ids = compute.cursor()

    def read() -> None:
        try:
            for batch in source.batches():
                rows: pa.RecordBatch | pa.Table = unpivot_batch(batch, *unpivot) if unpivot else batch
                cleaned = with_ids(ids, clean_batch(rows, compiled), compiled)
                item: object = (cleaned, batch.num_rows, _unreadable_rows(source))
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(_DONE)
        except BaseException as exc:  # handed to the reading side, which raises it
            ready.put(exc)

    reader = threading.Thread(target=read, name="cruce-read", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield cast(tuple[pa.Table, int, pa.Table | None], item)
    finally:
        stop.set()
        while reader.is_alive():  # let it see the stop (it may wait to hand over a batch)
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)
        reader.join()
        ids.close()


def _fast_batch(compute: duckdb.DuckDBPyConnection, compiled: CompiledMapping) -> bool:
    """Make the batch's statements by the fast path; False (nothing made) if a cell is invalid:
    the general path then finds the rows to reject."""
    if not compiled.fast_steps:
        return False
    alone = compute.execute(compiled.fast_unique_sql).fetchone() or ()
    for (grouped, unique), once in zip(compiled.fast_entity_steps, alone, strict=True):
        for step in unique if once else grouped:
            compute.execute(step)
    row = compute.execute(compiled.fast_invalid_sql).fetchone()
    if row is None or int(row[0]):
        return False
    compute.execute(compiled.fast_statements_sql)
    return True


def _import_batches(
    source: Source,
    writer: ImportWriter,
    store: Store,
    compiled: CompiledMapping,
    on_progress: ProgressCallback | None,
    unpivot: tuple[list[str], str, str] | None = None,
) -> tuple[int, int]:
    """Add every batch; return (rows read, rows rejected).

    A worker thread reads and normalises the next batches (DuckDB releases the GIL) while this
    thread writes the current one to the store, so both cores stay busy.
    """
    compute = store.compute()
    # One prepared batch waits while one is written, and the next is made into Arrow only when
    # the one written is done: each holds tens of MB (peak RSS, ADR 0003).
    handoff: queue.Queue[object] = queue.Queue(maxsize=1)
    slots = threading.Semaphore(2)
    stop = threading.Event()

    def slot() -> bool:
        while not slots.acquire(timeout=0.1):
            if stop.is_set():
                return False
        return True

    def work() -> None:
        try:
            for prepared in _prepare_batches(source, writer, compute, compiled, unpivot, slot):
                while not stop.is_set():
                    try:
                        handoff.put(prepared, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as exc:  # handed to the writing thread, which raises it
            handoff.put(exc)

    worker = threading.Thread(target=work, name="cruce-import", daemon=True)
    worker.start()
    rows_read = rows_rejected = 0
    try:
        while (item := handoff.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, _Prepared)
            for rejects in item.rejects:
                writer.add_rejects(rejects)
            writer.add_statements(item.statements)
            slots.release()
            rows_read += item.rows
            rows_rejected += item.rejected
            if on_progress:
                on_progress(source.bytes_read(), source.info.size_bytes)
    except BaseException:
        stop.set()
        if worker.is_alive():
            compute.interrupt()
        deadline = time.monotonic() + 30
        while worker.is_alive() and time.monotonic() < deadline:  # it may wait to hand over a batch
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.1)
        raise
    worker.join()
    return rows_read, rows_rejected


@contextlib.contextmanager
def _arrow_memory() -> Iterator[None]:
    """Arrow's jemalloc pool while an import runs, where pyarrow has it (the previous pool after).

    Reading and cleaning a batch allocates tens of MB; pyarrow's default mimalloc pool gives much
    of it back to the system and takes it again, so the kernel keeps zeroing fresh pages: at a
    million rows jemalloc took 4% less CPU and 40-80 MB less peak RSS (ADR 0003). Buffers go back
    to the pool they came from, whichever is the default then."""
    previous = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.jemalloc_memory_pool())
    except NotImplementedError:  # a pyarrow built without jemalloc
        yield
        return
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@contextlib.contextmanager
def _disk_full_stops(path: Path) -> Iterator[None]:
    """A full disk (the store's, its spill folder's, PostgreSQL's) as a ``StoreError`` that says so;
    the import's writer has rolled back by then (or left it pending, for the next open to remove)."""
    try:
        yield
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StoreError(
            _(
                "{file}: the import stopped because the disk is full ({reason}); nothing from it was stored. "
                "Free some space, then import the file again."
            ).format(file=path.name, reason=reason)
        ) from exc


def import_file(
    store: Store,
    path: str | Path,
    mapping: str | Path | Mapping,
    *,
    dataset: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    force: bool = False,
    batch_rows: int = 100_000,
    schema: Schema | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Import one file through a mapping into the store, all or nothing.

    Raises ``ReadError`` (file unreadable), ``MappingError`` (mapping wrong or columns missing)
    or ``StoreError`` before anything is written; rows that fail their mapping are rejected and
    kept with their reasons.
    """
    path = Path(path).absolute()
    started = time.perf_counter()
    now = datetime.now()
    mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    schema = schema or default_schema()
    ds = dataset_name(path, mapping, dataset)
    with (
        _disk_full_stops(path),
        _arrow_memory(),
        open_source(
            path,
            encoding=encoding or mapping.encoding,
            delimiter=delimiter or mapping.delimiter,
            sheet=sheet or mapping.sheet,
            batch_rows=batch_rows,
        ) as source,
    ):
        columns, wide = source_columns(mapping, list(source.info.columns), str(path))
        check_columns(mapping, columns, str(path))
        digest = file_sha256(path)
        previous = store.find_import(ds, digest, mapping.sha256)
        if previous is not None and not force:
            return ImportResult(previous.id, ds, str(path), mapping.name, 0, 0, 0, 0, 0.0, previous)
        checked = compile_mapping(mapping, schema, ds, columns)
        prop_ids = store.property_ids(checked.property_pairs())
        compiled = compile_mapping(mapping, schema, ds, columns, prop_ids)
        install(store.compute(), schema)
        import_id = new_import_id(now)
        writer = store.begin_import(import_id, ds)
        try:
            unpivot = (wide, mapping.unpivot.name, mapping.unpivot.value) if mapping.unpivot else None
            rows_read, rows_rejected = _import_batches(source, writer, store, compiled, on_progress, unpivot)
            seconds = time.perf_counter() - started
            record = ImportRecord(
                id=import_id,
                dataset=ds,
                source_file=str(path),
                file_sha256=digest,
                file_size=path.stat().st_size,
                mapping=mapping.name,
                mapping_sha256=mapping.sha256,
                started_at=now,
                rows_read=rows_read,
                rows_stored=rows_read - rows_rejected,
                rows_rejected=rows_rejected,
                seconds=seconds,
            )
            # the search index of the new statements lands in the same transaction (cruce.search):
            # written batch by batch by a writer that can (DuckDB, into a new dataset), else here
            per_batch = getattr(writer, "indexes_batches", False)
            added = writer.commit(record, steps=[] if per_batch else [index_step(store, schema)])
        except BaseException:
            writer.rollback()
            raise
    return ImportResult(
        import_id,
        ds,
        str(path),
        mapping.name,
        record.rows_read,
        record.rows_stored,
        record.rows_rejected,
        added,
        time.perf_counter() - started,
    )
