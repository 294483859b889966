"""Read what the graph needs from the store, set-based: seven queries, whatever the store's size.

The same SQL runs on both backends, for all imports or for some (``cruce.graph.stage`` reads each
import once). On PostgreSQL each read is streamed out with ``COPY … TO STDOUT`` into Arrow, so
that one transformation (``cruce.graph.build``, in DuckDB) serves both backends.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from cruce.graph.model import ANCHORS, GraphModel


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: Any) -> str:
    return ", ".join(_quote(v) for v in sorted(values)) or "''"


def raw_queries(model: GraphModel, imports: Sequence[int] | None = None) -> dict[str, str]:
    """name → SQL (portable) of each read, of the given imports' statements (else of all); UUIDs
    are read as text."""
    # statements of finished imports only, as the store's view
    visible = (
        f"IN ({', '.join(str(int(n)) for n in imports) or 'NULL'})"
        if imports is not None
        else ("IN (SELECT no FROM import_run)")
    )
    date_keys = [f"{t}.{p}" for t, props in model.date_props.items() for p in props]
    entity_types = [t for t in model.node_types if t not in model.event_types]
    return {
        "g_ref": (
            "SELECT CAST(r.entity_id AS VARCHAR) AS rec, CAST(r.target AS VARCHAR) AS tgt, p.schema, p.prop, "
            "r.import_no, r.protected FROM entity_ref r JOIN property p ON p.prop_id = r.prop_id "
            f"WHERE r.import_no {visible}"
        ),
        "g_ent": (
            "SELECT CAST(s.entity_id AS VARCHAR) AS rec, min(p.schema) AS schema, min(s.import_no) AS import_no "
            f"FROM statement s JOIN property p ON p.prop_id = s.prop_id WHERE s.import_no {visible} "
            "GROUP BY s.entity_id"
        ),
        "g_date": (
            "SELECT CAST(s.entity_id AS VARCHAR) AS rec, min(substr(s.value, 1, 10)) AS lo, "
            "max(substr(s.value, 1, 10)) AS hi, max(CASE WHEN p.prop = 'end_date' THEN 1 ELSE 0 END) AS has_end "
            f"FROM statement s JOIN property p ON p.prop_id = s.prop_id WHERE s.import_no {visible} "
            f"AND p.schema || '.' || p.prop IN ({_in(date_keys)}) GROUP BY s.entity_id"
        ),
        "g_flow": (
            "SELECT DISTINCT CAST(s.entity_id AS VARCHAR) AS rec, s.value AS flow FROM statement s "
            f"JOIN property p ON p.prop_id = s.prop_id WHERE s.import_no {visible} AND p.prop = 'flow'"
        ),
        "g_cluster": (
            "SELECT CAST(entity_id AS VARCHAR) AS rec, CAST(canonical_id AS VARCHAR) AS canonical FROM entity_cluster"
        ),
        "g_mention": (
            "WITH r AS (SELECT DISTINCT s.entity_id, p.schema, s.import_no, s.source_row FROM statement s "
            "JOIN property p ON p.prop_id = s.prop_id WHERE s.source_row IS NOT NULL AND s.import_no IN ("
            "SELECT DISTINCT s2.import_no FROM statement s2 JOIN property p2 ON p2.prop_id = s2.prop_id "
            f"WHERE p2.schema IN ({_in(ANCHORS)}) AND s2.import_no {visible})) "
            "SELECT CAST(a.entity_id AS VARCHAR) AS rec, CAST(b.entity_id AS VARCHAR) AS tgt, a.import_no "
            "FROM r a JOIN r b ON a.import_no = b.import_no AND a.source_row = b.source_row "
            f"AND a.entity_id <> b.entity_id WHERE a.schema IN ({_in(ANCHORS)}) AND b.schema IN ({_in(entity_types)})"
        ),
        "g_import": "SELECT no, dataset FROM import_run",
    }  # fmt: skip


PG_TYPES: dict[str, dict[str, pa.DataType]] = {
    "g_ref": {"rec": pa.string(), "tgt": pa.string(), "schema": pa.string(), "prop": pa.string(),
              "import_no": pa.int32(), "protected": pa.bool_()},
    "g_ent": {"rec": pa.string(), "schema": pa.string(), "import_no": pa.int32()},
    "g_date": {"rec": pa.string(), "lo": pa.string(), "hi": pa.string(), "has_end": pa.int32()},
    "g_flow": {"rec": pa.string(), "flow": pa.string()},
    "g_cluster": {"rec": pa.string(), "canonical": pa.string()},
    "g_mention": {"rec": pa.string(), "tgt": pa.string(), "import_no": pa.int32()},
    "g_import": {"no": pa.int32(), "dataset": pa.string()},
}  # fmt: skip


def copy_out(conn: Any, sql: str, types: dict[str, pa.DataType]) -> pa.Table:
    """One PostgreSQL query as an Arrow table, through COPY (no row-by-row Python)."""
    buffer = io.BytesIO()
    with conn.cursor() as cur, cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv, HEADER true)".encode()) as copy:
        for chunk in copy:
            buffer.write(chunk)
    buffer.seek(0)
    if not buffer.getbuffer().nbytes:
        return pa.table({k: pa.array([], v) for k, v in types.items()})
    return pacsv.read_csv(
        buffer,
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                             true_values=["t", "true"], false_values=["f", "false"]),
    )  # fmt: skip
