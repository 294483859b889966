"""The records the graph is made of, read from the store once per import and kept as Parquet.

Reading the store is most of a build's cost (a scan of every statement), and an import only adds
statements: so each read (``cruce.graph.extract.raw_queries``) is run for the imports not yet
staged and written as one more *part* beside the earlier ones, in ``<snapshot folder>/stage/``.
The build then works on the parts alone, on an engine of its own (DuckDB, or Spark): after an import it reads the new
import's records from the store, not the store; after a resolution decision it reads no record at
all (the clusters, the only thing a decision changes, are read afresh on every build, as are the
imports' datasets).

A part is written under a temporary name and renamed; the manifest (``stage.json``) is written
last and names the parts and the imports each holds, so a part left by a killed build is never
read. When an import the stage holds is gone from the store, the stage is dropped and read again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cruce.engines import Engine
from cruce.graph.extract import PG_TYPES, copy_out, raw_queries
from cruce.graph.model import GraphModel
from cruce.store.base import Store
from cruce.store.duckdb_store import more_memory

FORMAT = 1
STAGED = ("g_ref", "g_ent", "g_date", "g_flow", "g_mention")
"""Reads that only grow with imports; ``g_cluster`` and ``g_import`` are read whole every time."""

# Each staged read as the build sees it: the parts together, records in several imports made one.
_COMBINED = {
    "g_ref": "SELECT * FROM {parts}",
    "g_ent": "SELECT rec, min(schema) AS schema, min(import_no) AS import_no FROM {parts} GROUP BY rec",
    "g_date": "SELECT rec, min(lo) AS lo, max(hi) AS hi, max(has_end) AS has_end FROM {parts} GROUP BY rec",
    "g_flow": "SELECT DISTINCT rec, flow FROM {parts}",
    "g_mention": "SELECT * FROM {parts}",
}


@dataclass(frozen=True)
class StageReport:
    """What bringing the stage up to date took: the imports read now, and those kept from before."""

    read_imports: int
    kept_imports: int
    restarted: bool
    seconds: float


def _manifest(folder: Path) -> dict[str, object] | None:
    try:
        found = json.loads((folder / "stage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None


def _write_manifest(folder: Path, parts: list[dict[str, object]]) -> None:
    scratch = folder / "stage.json.tmp"
    scratch.write_text(json.dumps({"format": FORMAT, "parts": parts}), encoding="utf-8")
    os.replace(scratch, folder / "stage.json")


def _store_imports(store: Store) -> list[int]:
    from cruce.security.db import AppDB

    return sorted(int(r[0]) for r in AppDB(store).fetch("SELECT no FROM import_run"))


def _read_part(store: Store, model: GraphModel, imports: Sequence[int], target: Path) -> None:
    """The staged reads of ``imports`` from the store, one Parquet file per read, under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    queries = raw_queries(model, imports)
    # the store's memory is kept small for serving: at 10M records a read ran out of it
    with more_memory(store, "CRUCE_GRAPH_MEMORY", "4GB"):
        for name in STAGED:
            out = target / f"{name}.parquet"
            if store.backend == "duckdb":
                cur = store.con.cursor()  # type: ignore[attr-defined]
                try:
                    cur.execute(f"COPY ({queries[name]}) TO '{out}' (FORMAT parquet)")
                finally:
                    cur.close()
            else:
                pq.write_table(copy_out(store.conn, queries[name], PG_TYPES[name]), out)  # type: ignore[attr-defined]


def refresh(store: Store, model: GraphModel, folder: Path) -> StageReport:
    """Stage the imports of the store not staged yet (all of them when the stage is stale)."""
    started = time.perf_counter()
    stage = folder / "stage"
    manifest = _manifest(stage)
    now = _store_imports(store)
    parts: list[dict[str, object]] = list(manifest["parts"]) if manifest else []  # type: ignore[call-overload]
    held = {int(n) for p in parts for n in p["imports"]}  # type: ignore[attr-defined]
    restarted = bool(held - set(now)) or manifest is None
    if restarted:
        shutil.rmtree(stage, ignore_errors=True)
        parts, held = [], set()
    new = [n for n in now if n not in held]
    if new:
        stage.mkdir(parents=True, exist_ok=True)
        name = f"part-{max(new):08d}-{len(parts):04d}"
        scratch = stage / f"{name}.tmp"
        shutil.rmtree(scratch, ignore_errors=True)
        _read_part(store, model, new, scratch)
        shutil.rmtree(stage / name, ignore_errors=True)
        os.replace(scratch, stage / name)
        parts.append({"name": name, "imports": new})
        _write_manifest(stage, parts)
    return StageReport(len(new), len(held), restarted, time.perf_counter() - started)


def drop_stage(folder: Path) -> None:
    """Forget the stage: the next build reads every record from the store again."""
    (folder / "stage" / "stage.json").unlink(missing_ok=True)
    shutil.rmtree(folder / "stage", ignore_errors=True)


def open_stage(store: Store, model: GraphModel, folder: Path, engine: Engine) -> None:
    """Make every ``g_*`` read a table of ``engine`` (after ``refresh``): the staged ones over the
    parts' Parquet files, the clusters and imports read from the store now."""
    stage = folder / "stage"
    manifest = _manifest(stage)
    if manifest is None:
        raise RuntimeError(f"no graph stage in {stage}: refresh it first")
    names = [str(p["name"]) for p in manifest["parts"]]  # type: ignore[attr-defined]
    for read in STAGED:
        if names:
            engine.parquet(f"{read}_parts", [stage / n / f"{read}.parquet" for n in names])
        else:
            engine.put(f"{read}_parts", _empty(read))
        engine.execute(f"CREATE VIEW {read} AS {_COMBINED[read].format(parts=f'{read}_parts')}")
    queries = raw_queries(model)
    with more_memory(store, "CRUCE_GRAPH_MEMORY", "4GB"):
        for read in ("g_cluster", "g_import"):
            if store.backend == "duckdb":
                table = store.con.cursor().execute(queries[read]).to_arrow_table()  # type: ignore[attr-defined]
            else:
                table = copy_out(store.conn, queries[read], PG_TYPES[read])  # type: ignore[attr-defined]
            engine.put(read, table)


def _empty(read: str) -> pa.Table:
    return pa.table({column: pa.array([], type) for column, type in PG_TYPES[read].items()})
