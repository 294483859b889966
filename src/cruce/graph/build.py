"""Build the graph's node and edge tables from the store, in SQL, and keep them as a snapshot.

The SQL is DuckDB's, run on an engine (``cruce.engines``): an in-memory DuckDB by default, or
Spark (``cruce graph build --engine spark``), which reads the stage's Parquet files and writes
the nodes and edges back as Parquet; both give the same tables.

Records become canonical entities through the resolution's clusters (a record without a cluster
is its own entity). Every edge is grouped by (source, target, type) after that mapping, so the
parallel records of one link — three purchases of one buyer at one dealer are three event nodes,
but two ``MemberOf`` records of one person in one organization — collapse into one edge that
keeps their count, the span of their dates, their datasets and up to ``KEEP_RECORDS`` of their
record ids (the records behind the edge; ``cruce.graph.questions.edge_records`` reads them).

The snapshot is two Parquet files and a ``meta.json`` in a cache folder (``cache_dir``), keyed by a
fingerprint of the store's imports, resolution runs and decisions (``fingerprint``). When the
fingerprint changes, the next question (or the import job, ``update``) builds it again, from the
*stage* (``cruce.graph.stage``): the records of every import, read from the store once each. So
an update after an import reads that import's statements only, and one after a resolution
decision none; what is done again each time is the set-based grouping below, over the stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cruce.engines import DuckDBEngine, Engine, open_engine
from cruce.engines.duck import quoted_path
from cruce.engines.spark_session import check_available
from cruce.graph.model import FLOW_BITS, FLOW_OF_TYPE, MENTIONS, GraphModel, graph_model, snake
from cruce.graph.stage import StageReport, open_stage, refresh
from cruce.store.base import Store
from cruce.store.cache import derived_dir

FORMAT = 1
KEEP_RECORDS = 20
LIST_CHUNK_EDGES = 1_000_000
MAX_DATASET_BITS = 63  # datasets after the 63rd share the last bit (see LinkGraph.visible_mask)


@dataclass(frozen=True)
class Snapshot:
    nodes: pa.Table  # id, schema, records, protected, flows, datasets_mask, first, last
    edges: pa.Table  # src, dst (node indexes), type, count, first, last, flows, datasets_mask, records, datasets
    datasets: tuple[str, ...]
    fingerprint: str
    built_at: float
    seconds: float
    stage: StageReport | None = None  # how the store's records were read (None: a snapshot loaded from disk)


def fingerprint(store: Store) -> str:
    """What the graph depends on, in three small queries: imports, resolution runs, decisions.
    Asked once per web request (``cruce.store.memo``): the drugs and violence dashboard asks for
    it with each of its figures, and ran the three queries over a hundred times a page."""
    from cruce.security.db import AppDB
    from cruce.store.memo import once

    def read() -> str:
        db = AppDB(store)
        parts = [
            db.one("SELECT count(*), max(no) FROM import_run"),
            db.one("SELECT count(*), max(finished_at) FROM resolution_run WHERE finished_at IS NOT NULL"),
            db.one("SELECT count(*), max(made_at), max(undone_at) FROM judgement"),
        ]
        text = json.dumps([FORMAT, *[[str(v) for v in (p or ())] for p in parts]])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]

    return once(("graph_fingerprint", store.url), read)


def _helper_tables(model: GraphModel) -> dict[str, pa.Table]:
    """What the schema says, as small tables: relations and their ends, node types, flows."""
    relations = [(t, s, d, snake(t)) for t, (s, d, _directed) in model.relations.items()]
    return {
        "g_rel": pa.table({"schema": [r[0] for r in relations], "sprop": [r[1] for r in relations],
                           "dprop": [r[2] for r in relations], "etype": [r[3] for r in relations]},
                          schema=pa.schema({"schema": pa.string(), "sprop": pa.string(), "dprop": pa.string(),
                                            "etype": pa.string()})),
        "g_nodetype": pa.table({"schema": pa.array(model.node_types, pa.string()),
                                "event": pa.array([int(t in model.event_types) for t in model.node_types],
                                                  pa.int32())}),
        "g_typeflow": pa.table({"schema": pa.array(list(FLOW_OF_TYPE), pa.string()),
                                "bit": pa.array([FLOW_BITS[f] for f in FLOW_OF_TYPE.values()], pa.int32())}),
        "g_flowbit": pa.table({"flow": pa.array(list(FLOW_BITS), pa.string()),
                               "bit": pa.array(list(FLOW_BITS.values()), pa.int32())}),
    }  # fmt: skip


TRANSFORM = """
CREATE OR REPLACE TEMP TABLE g_r AS
SELECT CAST(rec AS UUID) AS rec, CAST(tgt AS UUID) AS tgt, schema, prop, import_no, protected FROM g_ref;

CREATE OR REPLACE TEMP TABLE g_recnode AS
SELECT CAST(e.rec AS UUID) AS rec, CAST(COALESCE(c.canonical, e.rec) AS UUID) AS node, e.schema, e.import_no
FROM g_ent e JOIN g_nodetype t ON t.schema = e.schema LEFT JOIN g_cluster c ON c.rec = e.rec;

CREATE OR REPLACE TEMP TABLE g_recinfo AS
SELECT CAST(e.rec AS UUID) AS rec,
       COALESCE(tf.bit, 0) | COALESCE(ff.bits, 0) AS flows,
       TRY_CAST(CASE length(d.lo) WHEN 4 THEN d.lo || '-01-01' WHEN 7 THEN d.lo || '-01' ELSE d.lo END AS DATE) AS lo,
       CASE WHEN d.has_end = 0 AND rel.schema IS NOT NULL THEN DATE '9999-12-31'
            ELSE TRY_CAST(CASE length(d.hi) WHEN 4 THEN d.hi || '-12-31' WHEN 7 THEN d.hi || '-28' ELSE d.hi END
                          AS DATE)
       END AS hi
FROM g_ent e
LEFT JOIN g_typeflow tf ON tf.schema = e.schema
LEFT JOIN (SELECT f.rec, bit_or(b.bit) AS bits FROM g_flow f JOIN g_flowbit b ON b.flow = f.flow GROUP BY f.rec) ff
       ON ff.rec = e.rec
LEFT JOIN g_date d ON d.rec = e.rec
LEFT JOIN g_rel rel ON rel.schema = e.schema
WHERE tf.bit IS NOT NULL OR ff.bits IS NOT NULL OR d.rec IS NOT NULL;

CREATE OR REPLACE TEMP TABLE g_link AS
-- an event (or any node) pointing at an entity: the edge is named for the property
SELECT a.node AS src, b.node AS dst, r.prop AS type, r.rec, r.import_no
FROM g_r r JOIN g_recnode a ON a.rec = r.rec JOIN g_recnode b ON b.rec = r.tgt
UNION ALL
-- a relation record: one edge between its two ends
SELECT a.node, b.node, rel.etype, r1.rec, r1.import_no
FROM g_r r1 JOIN g_rel rel ON rel.schema = r1.schema AND rel.sprop = r1.prop
JOIN g_r r2 ON r2.rec = r1.rec AND r2.prop = rel.dprop
JOIN g_recnode a ON a.rec = r1.tgt JOIN g_recnode b ON b.rec = r2.tgt
UNION ALL
-- an entity written from the same source row as a tip or a document, which does not point at it
SELECT a.node, b.node, '{mentions}', a.rec, m.import_no
FROM g_mention m JOIN g_recnode a ON a.rec = CAST(m.rec AS UUID) JOIN g_recnode b ON b.rec = CAST(m.tgt AS UUID)
WHERE NOT EXISTS (SELECT 1 FROM g_r x WHERE x.rec = a.rec AND x.tgt = b.rec);

CREATE OR REPLACE TEMP TABLE g_ds AS
SELECT no, dataset, CAST(1 AS UBIGINT) << least(dense_rank() OVER (ORDER BY dataset) - 1, {bits}) AS bit
FROM g_import;

CREATE OR REPLACE TEMP TABLE g_node AS
WITH prot AS (SELECT DISTINCT tgt AS rec FROM g_r WHERE protected)
SELECT n.node AS id, arg_min(n.schema, n.rec) AS schema, count(*) AS records,
       bool_or(p.rec IS NOT NULL) AS protected, bit_or(COALESCE(i.flows, 0)) AS flows,
       bit_or(ds.bit) AS datasets_mask, min(i.lo) AS first, max(i.hi) AS last,
       row_number() OVER (ORDER BY CAST(n.node AS VARCHAR)) - 1 AS idx
FROM g_recnode n JOIN g_ds ds ON ds.no = n.import_no LEFT JOIN prot p ON p.rec = n.rec
LEFT JOIN g_recinfo i ON i.rec = n.rec
GROUP BY n.node;

CREATE OR REPLACE TEMP TABLE g_l AS
SELECT CASE WHEN type IN ({undirected}) AND dst < src THEN dst ELSE src END AS src,
       CASE WHEN type IN ({undirected}) AND dst < src THEN src ELSE dst END AS dst,
       type, rec, min(import_no) AS import_no
FROM g_link WHERE src <> dst GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE g_edge AS
WITH agg AS (SELECT l.src, l.dst, l.type, count(*) AS count, min(i.lo) AS first, max(i.hi) AS last,
                    bit_or(COALESCE(i.flows, 0)) AS flows, bit_or(ds.bit) AS datasets_mask
             FROM g_l l JOIN g_ds ds ON ds.no = l.import_no LEFT JOIN g_recinfo i ON i.rec = l.rec
             GROUP BY l.src, l.dst, l.type)
SELECT agg.src AS src_id, agg.dst AS dst_id, s.idx AS src, d.idx AS dst, agg.type, agg.count, agg.first,
       agg.last, agg.flows, agg.datasets_mask, row_number() OVER (ORDER BY s.idx, d.idx, agg.type) - 1 AS eidx
FROM agg JOIN g_node s ON s.id = agg.src JOIN g_node d ON d.id = agg.dst;

CREATE OR REPLACE TEMP TABLE g_edgerec AS
-- the records of an edge, the first {keep} by id: a window only over the few edges with more
SELECT e.eidx, CAST(l.rec AS VARCHAR) AS rec
FROM g_l l JOIN g_edge e ON e.src_id = l.src AND e.dst_id = l.dst AND e.type = l.type
WHERE e.count <= {keep}
UNION ALL
SELECT eidx, rec FROM (
    SELECT e.eidx, CAST(l.rec AS VARCHAR) AS rec, row_number() OVER (PARTITION BY e.eidx ORDER BY l.rec) AS k
    FROM g_l l JOIN g_edge e ON e.src_id = l.src AND e.dst_id = l.dst AND e.type = l.type
    WHERE e.count > {keep}) ranked
WHERE k <= {keep};

CREATE OR REPLACE TEMP TABLE g_edgeds AS
SELECT DISTINCT e.eidx, ds.dataset
FROM g_l l JOIN g_ds ds ON ds.no = l.import_no
JOIN g_edge e ON e.src_id = l.src AND e.dst_id = l.dst AND e.type = l.type;
"""


NODE_SCHEMA = pa.schema({"id": pa.string(), "schema": pa.string(), "records": pa.int32(), "protected": pa.bool_(),
                         "flows": pa.int32(), "datasets_mask": pa.uint64(), "first": pa.date32(),
                         "last": pa.date32()})  # fmt: skip
EDGE_SCHEMA = pa.schema({"src": pa.int32(), "dst": pa.int32(), "type": pa.string(), "count": pa.int32(),
                         "first": pa.date32(), "last": pa.date32(), "flows": pa.int32(), "datasets_mask": pa.uint64(),
                         "records": pa.list_(pa.string()), "datasets": pa.list_(pa.string())})  # fmt: skip


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``'s types and order: the same whatever engine made it (Spark has no
    unsigned integers: its 64-bit masks are cast back bit for bit)."""
    columns = [pc.cast(table[f.name], f.type, safe=False) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def _engine(name: str, spark_master: str | None, folder: Path) -> Iterator[Engine]:
    if name != "duckdb":
        with open_engine(name, spark_master) as other:  # Spark (an unknown name is refused there)
            yield other
        return
    con = duckdb.connect(":memory:")
    con.execute(f"SET temp_directory = {quoted_path(folder / 'spill')}")
    con.execute(f"SET memory_limit = '{os.environ.get('CRUCE_GRAPH_MEMORY', '4GB')}'")
    con.execute("SET preserve_insertion_order = false")  # every order the build relies on is explicit
    engine = DuckDBEngine(con)
    try:
        yield engine
    finally:
        engine.close()


def _lists_per_edge(engine: Engine, table: str, column: str, edges: int) -> pa.ChunkedArray:
    """``column`` of ``table`` (``eidx``, ``column``) as one sorted list per edge, in edge order.
    Made here from rows sorted by the engine rather than by a list aggregate in SQL: DuckDB cannot
    spill a list per group to disk, and at ten million records the edges' lists outgrew memory.
    In chunks of edges, so that no one array holds more text than Arrow's 32-bit offsets reach."""
    rows = engine.arrow(f"SELECT CAST(eidx AS BIGINT) AS eidx, {column} FROM {table} ORDER BY eidx, {column}")
    if not engine.keeps_order:
        rows = rows.sort_by([("eidx", "ascending"), (column, "ascending")])
    counts = np.bincount(rows["eidx"].to_numpy(), minlength=edges)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    values = rows[column]
    chunks = []
    for start in range(0, max(edges, 1), LIST_CHUNK_EDGES):
        stop = min(start + LIST_CHUNK_EDGES, edges)
        first, last = int(offsets[start]), int(offsets[stop])
        part = values.slice(first, last - first).combine_chunks().cast(pa.string())
        chunks.append(pa.ListArray.from_arrays(pa.array(offsets[start : stop + 1] - first, pa.int32()), part))
    return pa.chunked_array(chunks, pa.list_(pa.string()))


def transform(engine: Engine, model: GraphModel) -> tuple[pa.Table, pa.Table, tuple[str, ...]]:
    """Nodes, edges and datasets from the ``g_*`` tables of ``engine`` (``open_stage``)."""
    for name, table in _helper_tables(model).items():
        engine.put(name, table)
    undirected = ", ".join(f"'{t}'" for t in sorted(model.undirected)) or "''"
    script = TRANSFORM.format(mentions=MENTIONS, bits=MAX_DATASET_BITS, undirected=undirected, keep=KEEP_RECORDS)
    for statement in script.split(";\n"):
        if statement.strip():
            engine.execute(statement)
    nodes = engine.arrow(
        "SELECT CAST(id AS VARCHAR) AS id, schema, CAST(records AS INTEGER) AS records, protected, "
        "CAST(flows AS INTEGER) AS flows, CAST(datasets_mask AS UBIGINT) AS datasets_mask, first, last, idx "
        "FROM g_node ORDER BY idx"
    )
    edges = engine.arrow(
        "SELECT CAST(src AS INTEGER) AS src, CAST(dst AS INTEGER) AS dst, type, CAST(count AS INTEGER) AS count, "
        "first, last, CAST(flows AS INTEGER) AS flows, CAST(datasets_mask AS UBIGINT) AS datasets_mask "
        "FROM g_edge ORDER BY eidx"
    )
    if not engine.keeps_order:
        nodes = nodes.sort_by("idx")
        edges = edges.sort_by([("src", "ascending"), ("dst", "ascending"), ("type", "ascending")])
    records = _lists_per_edge(engine, "g_edgerec", "rec", edges.num_rows)
    edges = edges.append_column("records", records).append_column(
        "datasets", _lists_per_edge(engine, "g_edgeds", "dataset", edges.num_rows)
    )
    found = engine.arrow("SELECT DISTINCT dataset FROM g_import")["dataset"].to_pylist()
    datasets = tuple(sorted(str(d) for d in found))
    return _conform(nodes, NODE_SCHEMA), _conform(edges, EDGE_SCHEMA), datasets


def build(
    store: Store,
    folder: Path,
    model: GraphModel | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> Snapshot:
    """Bring the stage in ``folder`` up to date with the store and make the node and edge tables,
    on DuckDB or (``engine="spark"``, ``spark_master``) on Spark, which reads the stage's Parquet
    files where they lie: the same SQL, the same tables."""
    if engine == "spark":
        check_available()  # before reading the store: say at once what to install
    started = time.perf_counter()
    model = model or graph_model()
    key = fingerprint(store)
    report = refresh(store, model, folder)
    with _engine(engine, spark_master, folder) as running:
        open_stage(store, model, folder, running)
        nodes, edges, datasets = transform(running, model)
    return Snapshot(nodes, edges, datasets, key, time.time(), time.perf_counter() - started, report)


# -- the snapshot on disk -----------------------------------------------------------------------
def cache_dir(store: Store) -> Path:
    """``CRUCE_GRAPH_CACHE``, else ``<database>.graph/`` beside a DuckDB file, else a folder per
    database URL under ``~/.cache/cruce/graph``."""
    path = getattr(store, "path", None)
    if not os.environ.get("CRUCE_GRAPH_CACHE") and store.backend == "duckdb" and path and path != ":memory:":
        return Path(f"{path}.graph")
    return derived_dir(store.url, "graph", "CRUCE_GRAPH_CACHE")


def save(snapshot: Snapshot, folder: Path) -> None:
    """Write the snapshot; meta.json last, so a half-written folder is never taken for a snapshot."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.json").unlink(missing_ok=True)
    pq.write_table(snapshot.nodes, folder / "nodes.parquet")
    pq.write_table(snapshot.edges, folder / "edges.parquet")
    meta = {
        "format": FORMAT, "fingerprint": snapshot.fingerprint, "built_at": snapshot.built_at,
        "seconds": snapshot.seconds, "datasets": list(snapshot.datasets),
        "nodes": snapshot.nodes.num_rows, "edges": snapshot.edges.num_rows,
    }  # fmt: skip
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


def load(folder: Path) -> Snapshot | None:
    """The snapshot in ``folder``, or None when there is none (or of another format)."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            return None
        nodes, edges = pq.read_table(folder / "nodes.parquet"), pq.read_table(folder / "edges.parquet")
    except (OSError, ValueError):
        return None
    return Snapshot(
        nodes, edges, tuple(meta["datasets"]), meta["fingerprint"], float(meta["built_at"]), float(meta["seconds"])
    )
