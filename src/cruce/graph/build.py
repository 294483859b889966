"""Build the graph's node and edge tables from the store, in SQL, and keep them as a snapshot.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cruce.graph.model import FLOW_BITS, FLOW_OF_TYPE, MENTIONS, GraphModel, graph_model, snake
from cruce.graph.stage import StageReport, open_stage, refresh
from cruce.store.base import Store

FORMAT = 1
KEEP_RECORDS = 20
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
    """What the graph depends on, in three small queries: imports, resolution runs, decisions."""
    from cruce.security.db import AppDB

    db = AppDB(store)
    parts = [
        db.one("SELECT count(*), max(no) FROM import_run"),
        db.one("SELECT count(*), max(finished_at) FROM resolution_run WHERE finished_at IS NOT NULL"),
        db.one("SELECT count(*), max(made_at), max(undone_at) FROM judgement"),
    ]
    text = json.dumps([FORMAT, *[[str(v) for v in (p or ())] for p in parts]])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def _values(rows: list[tuple[Any, ...]], columns: str) -> str:
    if not rows:
        return f"(SELECT {', '.join('NULL AS ' + c.strip() for c in columns.split(','))} WHERE false)"
    body = ", ".join("(" + ", ".join(_lit(v) for v in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) AS v({columns}))"


def _lit(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _helper_tables(model: GraphModel) -> dict[str, str]:
    relations = [(t, s, d, snake(t)) for t, (s, d, _directed) in model.relations.items()]
    return {
        "g_rel": _values(relations, "schema, sprop, dprop, etype"),
        "g_nodetype": _values([(t, 1 if t in model.event_types else 0) for t in model.node_types], "schema, event"),
        "g_typeflow": _values([(t, FLOW_BITS[f]) for t, f in FLOW_OF_TYPE.items()], "schema, bit"),
        "g_flowbit": _values([(f, b) for f, b in FLOW_BITS.items()], "flow, bit"),
    }


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

CREATE OR REPLACE TEMP TABLE g_edge AS
WITH l AS (SELECT CASE WHEN type IN ({undirected}) AND dst < src THEN dst ELSE src END AS src,
                  CASE WHEN type IN ({undirected}) AND dst < src THEN src ELSE dst END AS dst,
                  type, rec, min(import_no) AS import_no
           FROM g_link WHERE src <> dst GROUP BY ALL),
     agg AS (SELECT l.src, l.dst, l.type, count(*) AS count, min(i.lo) AS first, max(i.hi) AS last,
                    bit_or(COALESCE(i.flows, 0)) AS flows, bit_or(ds.bit) AS datasets_mask,
                    list_transform(list_sort(list(l.rec))[1:{keep}], x -> CAST(x AS VARCHAR)) AS records,
                    list_sort(list(DISTINCT ds.dataset)) AS datasets
             FROM l JOIN g_ds ds ON ds.no = l.import_no LEFT JOIN g_recinfo i ON i.rec = l.rec
             GROUP BY l.src, l.dst, l.type)
SELECT s.idx AS src, d.idx AS dst, agg.type, agg.count, agg.first, agg.last, agg.flows, agg.datasets_mask,
       agg.records, agg.datasets
FROM agg JOIN g_node s ON s.id = agg.src JOIN g_node d ON d.id = agg.dst
ORDER BY s.idx, d.idx, agg.type;
"""


def build(store: Store, folder: Path, model: GraphModel | None = None) -> Snapshot:
    """Bring the stage in ``folder`` up to date with the store and make the node and edge tables."""
    started = time.perf_counter()
    model = model or graph_model()
    key = fingerprint(store)
    report = refresh(store, model, folder)
    con = open_stage(store, model, folder)
    con.execute(f"SET memory_limit = '{os.environ.get('CRUCE_GRAPH_MEMORY', '4GB')}'")
    con.execute("SET preserve_insertion_order = false")  # every order the build relies on is explicit
    try:
        for name, sql in _helper_tables(model).items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        undirected = ", ".join(f"'{t}'" for t in sorted(model.undirected)) or "''"
        script = TRANSFORM.format(mentions=MENTIONS, bits=MAX_DATASET_BITS, undirected=undirected, keep=KEEP_RECORDS)
        for statement in script.split(";\n"):
            if statement.strip():
                con.execute(statement)
        nodes = con.execute(
            "SELECT CAST(id AS VARCHAR) AS id, schema, CAST(records AS INTEGER) AS records, protected, "
            "CAST(flows AS INTEGER) AS flows, CAST(datasets_mask AS UBIGINT) AS datasets_mask, first, last "
            "FROM g_node ORDER BY idx"
        ).to_arrow_table()
        edges = con.execute(
            "SELECT CAST(src AS INTEGER) AS src, CAST(dst AS INTEGER) AS dst, type, CAST(count AS INTEGER) AS count, "
            "first, last, CAST(flows AS INTEGER) AS flows, CAST(datasets_mask AS UBIGINT) AS datasets_mask, records, "
            "datasets FROM g_edge"
        ).to_arrow_table()
        datasets = tuple(str(r[0]) for r in con.execute("SELECT DISTINCT dataset FROM g_import ORDER BY 1").fetchall())
    finally:
        con.close()
    return Snapshot(nodes, edges, datasets, key, time.time(), time.perf_counter() - started, report)


# -- the snapshot on disk -----------------------------------------------------------------------
def cache_dir(store: Store) -> Path:
    """``CRUCE_GRAPH_CACHE``, else ``<database>.graph/`` beside a DuckDB file, else a folder per
    database URL under ``~/.cache/cruce/graph``."""
    if env := os.environ.get("CRUCE_GRAPH_CACHE"):
        base = Path(env)
        return base / hashlib.sha256(store.url.encode()).hexdigest()[:16]
    path = getattr(store, "path", None)
    if store.backend == "duckdb" and path and path != ":memory:":
        return Path(f"{path}.graph")
    return Path.home() / ".cache" / "cruce" / "graph" / hashlib.sha256(store.url.encode()).hexdigest()[:16]


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
