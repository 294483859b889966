"""The import pipeline: file → batches → statements and rejects → one atomic commit.

Reading streams in batches, so memory stays bounded whatever the size of the file. Everything an
import writes goes through one store transaction: a crash or ``kill -9`` part-way leaves the
store exactly as it was, and running the import again completes it. A file already imported
with the same mapping into the same dataset is recognised by its checksum and not stored again.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from cruce.ingest.compile import (
    BAD_ROWS,
    BATCH_STATEMENTS,
    CompiledMapping,
    check_columns,
    clean_batch,
    compile_mapping,
)
from cruce.ingest.mapping import Mapping, load_mapping
from cruce.ingest.readers import Source, open_source
from cruce.ingest.sqlfuncs import install
from cruce.schema.loader import default_schema
from cruce.schema.model import Schema
from cruce.store.base import ImportRecord, ImportWriter, Store

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


def _stage_bad_rows(source: Source, writer: ImportWriter, store: Store) -> int:
    """Add the rows the reader could not read as rejects, and forget them (memory stays small)."""
    if not source.bad_rows:
        return 0
    table = pa.table(
        {
            "source_row": pa.array([b.row for b in source.bad_rows], pa.int64()),
            "field": pa.array([None] * len(source.bad_rows), pa.string()),
            "reason": pa.array([b.reason for b in source.bad_rows], pa.string()),
            "value": pa.array([b.text for b in source.bad_rows], pa.string()),
        }
    )
    compute = store.compute()
    compute.register("cruce_bad_rows", table)
    try:
        writer.add_rejects(compute, "SELECT source_row, field, reason, value FROM cruce_bad_rows")
    finally:
        compute.unregister("cruce_bad_rows")
    count = len(source.bad_rows)
    source.bad_rows.clear()
    return count


_TEMP_TABLES = ("cruce_ids", "cruce_cells", "cruce_vals", BAD_ROWS, BATCH_STATEMENTS)


def _import_batches(
    source: Source,
    writer: ImportWriter,
    store: Store,
    compiled: CompiledMapping,
    on_progress: ProgressCallback | None,
) -> tuple[int, int]:
    """Normalise and add every batch; return (rows read, rows rejected)."""
    compute = store.compute()
    rows_read = rows_rejected = 0
    for batch in source.batches():
        compute.register("batch", clean_batch(batch, compiled))
        try:
            for step in compiled.steps:
                compute.execute(step)
            bad = compute.execute(compiled.bad_rows_sql).fetchone()
            if bad and bad[0]:
                writer.add_rejects(compute, compiled.rejects_sql)
            writer.add_statements(compute, BATCH_STATEMENTS)
        finally:
            compute.unregister("batch")
        unreadable = _stage_bad_rows(source, writer, store)
        rows_read += batch.num_rows + unreadable
        rows_rejected += (int(bad[0]) if bad else 0) + unreadable
        if on_progress:
            on_progress(source.bytes_read(), source.info.size_bytes)
    for table in _TEMP_TABLES:
        compute.execute(f"DROP TABLE IF EXISTS {table}")
    return rows_read, rows_rejected


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
    with open_source(
        path,
        encoding=encoding or mapping.encoding,
        delimiter=delimiter or mapping.delimiter,
        sheet=sheet or mapping.sheet,
        batch_rows=batch_rows,
    ) as source:
        check_columns(mapping, list(source.info.columns), str(path))
        digest = file_sha256(path)
        previous = store.find_import(ds, digest, mapping.sha256)
        if previous is not None and not force:
            return ImportResult(previous.id, ds, str(path), mapping.name, 0, 0, 0, 0, 0.0, previous)
        columns = list(source.info.columns)
        checked = compile_mapping(mapping, schema, ds, columns)
        prop_ids = store.property_ids(checked.property_pairs())
        compiled = compile_mapping(mapping, schema, ds, columns, prop_ids)
        install(store.compute(), schema)
        import_id = new_import_id(now)
        writer = store.begin_import(import_id, ds)
        try:
            rows_read, rows_rejected = _import_batches(source, writer, store, compiled, on_progress)
            unreadable = _stage_bad_rows(source, writer, store)
            rows_read += unreadable
            rows_rejected += unreadable
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
            added = writer.commit(record)
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
