"""The store's tables as Parquet files, for an engine that cannot read the store itself (Spark).

What the flow aggregations read — the statements and entity references of finished imports, the
resolution's clusters, the property numbers and the imports — is written out once per engine,
ids as text (Spark has no UUID type): from DuckDB with ``COPY … TO`` (Parquet), from PostgreSQL
streamed through ``COPY … TO STDOUT`` into Parquet a block at a time, so memory stays bounded
whatever the store's size. The files lie in the engine's scratch directory and go with it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from cruce.engines.duck import quoted_path
from cruce.engines.spark import SparkEngine
from cruce.store.duckdb_store import more_memory

FINISHED = "WHERE import_no IN (SELECT no FROM import_run)"
EXPORTS: dict[str, tuple[str, dict[str, pa.DataType]]] = {
    "statement": (
        f"SELECT CAST(entity_id AS VARCHAR) AS entity_id, prop_id, value, import_no FROM statement {FINISHED}",
        {"entity_id": pa.string(), "prop_id": pa.int32(), "value": pa.string(), "import_no": pa.int32()},
    ),
    "entity_ref": (
        "SELECT CAST(entity_id AS VARCHAR) AS entity_id, prop_id, CAST(target AS VARCHAR) AS target, import_no "
        f"FROM entity_ref {FINISHED}",
        {"entity_id": pa.string(), "prop_id": pa.int32(), "target": pa.string(), "import_no": pa.int32()},
    ),
    "entity_cluster": (
        "SELECT CAST(entity_id AS VARCHAR) AS entity_id, CAST(canonical_id AS VARCHAR) AS canonical_id "
        "FROM entity_cluster",
        {"entity_id": pa.string(), "canonical_id": pa.string()},
    ),
    "property": ("SELECT prop_id, schema, prop FROM property", {"prop_id": pa.int32(), "schema": pa.string(),
                                                                 "prop": pa.string()}),
    "import_run": ("SELECT no, dataset FROM import_run", {"no": pa.int32(), "dataset": pa.string()}),
}  # fmt: skip
BLOCK_BYTES = 16 << 20  # what one Arrow batch reads of PostgreSQL's CSV


class _CopyStream(io.RawIOBase):
    """PostgreSQL's ``COPY … TO STDOUT`` chunks as a file to read from."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks = chunks
        self._left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = bytes(chunk)
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def copy_to_parquet(conn: Any, sql: str, types: dict[str, pa.DataType], path: Path) -> None:
    """One PostgreSQL query into a Parquet file, a block at a time (free text may span lines)."""
    schema = pa.schema(list(types.items()))
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)".encode()) as copy,
        pq.ParquetWriter(path, schema) as writer,
    ):
        reader = pacsv.open_csv(
            io.BufferedReader(_CopyStream(iter(copy)), buffer_size=1 << 20),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                 quoted_strings_can_be_null=False,
                                                 true_values=["t", "true"], false_values=["f", "false"]),
        )  # fmt: skip
        for batch in reader:
            writer.write_batch(batch)


def export_store(store: Any, folder: Path) -> dict[str, Path]:
    """Each of ``EXPORTS`` as ``folder/<name>.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {name: folder / f"{name}.parquet" for name in EXPORTS}
    if store.backend == "duckdb":
        with more_memory(store, "CRUCE_ANALYSIS_MEMORY", "2GB"):
            cur = store.con.cursor()
            try:
                for name, (sql, _types) in EXPORTS.items():
                    cur.execute(f"COPY ({sql}) TO {quoted_path(out[name])} (FORMAT parquet)")
            finally:
                cur.close()
    else:
        for name, (sql, types) in EXPORTS.items():
            copy_to_parquet(store.conn, sql, types, out[name])
    return out


def attach_store(engine: SparkEngine, store: Any) -> None:
    """The store's tables as views of ``engine`` (exported the first time only)."""
    if store.url in engine.attached:
        return
    for name, path in export_store(store, engine.scratch("store")).items():
        engine.parquet(name, [path])
    engine.attached.add(store.url)
