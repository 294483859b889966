"""The resolution tables (store version 3) on both backends: models, runs, clusters, pairs, judgements.

Small reads and writes are plain parameterised SQL through ``cruce.security.db.AppDB``. The two
bulk writes of a run (one row per record in ``entity_cluster``, one per scored pair in
``match_pair``) go from Arrow straight into the table: DuckDB reads the Arrow table, PostgreSQL
takes it by ``COPY``. Statements are never touched.
"""

from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from cruce.security.db import AppDB
from cruce.store.base import Store
from cruce.store.memo import once

DECISIONS = ("same", "not_same", "unsure")
CLUSTER_SCHEMA = pa.schema([("entity_id", pa.string()), ("canonical_id", pa.string())])
PAIR_SCHEMA = pa.schema(
    [
        ("id_l", pa.string()),
        ("id_r", pa.string()),
        ("probability", pa.float64()),
        ("match_weight", pa.float64()),
        ("blocking_rule", pa.string()),
        ("weights", pa.string()),
    ]
)


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair's two ids in the order the tables keep them (smaller first)."""
    a, b = str(uuid.UUID(str(a))), str(uuid.UUID(str(b)))
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class Model:
    entity_type: str
    version: int
    settings: dict[str, Any]
    threshold: float
    records: int
    trained_at: datetime


@dataclass(frozen=True)
class Run:
    id: str
    entity_type: str
    model_version: int
    threshold: float
    reason: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    records: int
    pairs: int
    clusters: int
    seconds: float


@dataclass(frozen=True)
class Judgement:
    id: str
    group_id: str
    entity_type: str
    kind: str
    id_l: str
    id_r: str
    decision: str
    actor: str
    made_at: datetime
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


@dataclass(frozen=True)
class StoredPair:
    run_id: str
    entity_type: str
    id_l: str
    id_r: str
    probability: float
    match_weight: float
    blocking_rule: str
    weights: dict[str, Any]


_RUN_COLUMNS = (
    "id, entity_type, model_version, threshold, reason, actor, started_at, finished_at, records, pairs, clusters, "
    "seconds"
)
_JUDGEMENT_COLUMNS = (
    "id, group_id, entity_type, kind, CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), decision, actor, made_at, note, "
    "undone_at, undone_by"
)


class ResolutionStore:
    """The resolution tables of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = AppDB(store)

    # -- models ----------------------------------------------------------------------------------
    def latest_model(self, entity_type: str) -> Model | None:
        row = self.db.one(
            "SELECT entity_type, version, settings, threshold, records, trained_at FROM resolution_model "
            "WHERE entity_type = ? ORDER BY version DESC LIMIT 1",
            (entity_type,),
        )
        if row is None:
            return None
        return Model(str(row[0]), int(row[1]), json.loads(row[2]), float(row[3]), int(row[4]), row[5])

    def model(self, entity_type: str, version: int) -> Model | None:
        row = self.db.one(
            "SELECT entity_type, version, settings, threshold, records, trained_at FROM resolution_model "
            "WHERE entity_type = ? AND version = ?",
            (entity_type, version),
        )
        if row is None:
            return None
        return Model(str(row[0]), int(row[1]), json.loads(row[2]), float(row[3]), int(row[4]), row[5])

    def save_model(self, entity_type: str, settings: dict[str, Any], threshold: float, records: int) -> int:
        with self.db.transaction():
            row = self.db.one("SELECT max(version) FROM resolution_model WHERE entity_type = ?", (entity_type,))
            version = int(row[0]) + 1 if row and row[0] is not None else 1
            self.db.execute(
                "INSERT INTO resolution_model VALUES (?, ?, ?, ?, ?, ?)",
                (entity_type, version, json.dumps(settings, ensure_ascii=False), threshold, records, datetime.now()),
            )
        return version

    # -- runs ------------------------------------------------------------------------------------
    def begin_run(self, entity_type: str, model_version: int, threshold: float, reason: str, actor: str) -> str:
        run_id = uuid.uuid4().hex
        self.db.execute(
            f"INSERT INTO resolution_run ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, 0, 0, 0)",
            (run_id, entity_type, model_version, threshold, reason, actor, datetime.now()),
        )
        return run_id

    def finish_run(
        self, run: str, entity_type: str, clusters: pa.Table, pairs: pa.Table | None, *, records: int, seconds: float
    ) -> None:
        """Make ``run`` the type's current one: its clusters (and pairs, when given) replace the
        previous run's, all at once."""
        n_clusters = _count_clusters(clusters)
        with self.db.transaction():
            if pairs is not None:
                self.db.execute("DELETE FROM match_pair WHERE entity_type = ?", (entity_type,))
                self._bulk("match_pair", pairs, run, entity_type, PAIR_SCHEMA)
            self.db.execute("DELETE FROM entity_cluster WHERE entity_type = ?", (entity_type,))
            self._bulk("entity_cluster", clusters, run, entity_type, CLUSTER_SCHEMA)
            self.db.execute(
                "UPDATE resolution_run SET finished_at = ?, records = ?, pairs = ?, clusters = ?, seconds = ? "
                "WHERE id = ?",
                (datetime.now(), records, pairs.num_rows if pairs is not None else 0, n_clusters, seconds, run),
            )

    def recluster(self, entity_type: str, clusters: pa.Table) -> None:
        """Replace the current run's clusters (after a judgement or an undo); pairs stay."""
        current = self.current_run(entity_type)
        if current is None:
            return
        with self.db.transaction():
            self.db.execute("DELETE FROM entity_cluster WHERE entity_type = ?", (entity_type,))
            self._bulk("entity_cluster", clusters, current.id, entity_type, CLUSTER_SCHEMA)
            self.db.execute(
                "UPDATE resolution_run SET clusters = ? WHERE id = ?", (_count_clusters(clusters), current.id)
            )

    def apply_increment(
        self,
        run: str,
        entity_type: str,
        *,
        drop_pairs_of: list[str],
        pairs: pa.Table,
        clusters: pa.Table,
        moved: list[str],
        records: int,
        pair_count: int,
        cluster_count: int,
        seconds: float,
    ) -> None:
        """Make incremental run ``run`` current: drop the pairs of changed records, add the new
        pairs, and rewrite the cluster rows of the ``moved`` records (``clusters``), all at once."""
        with self.db.transaction():
            for chunk in _chunks(drop_pairs_of):
                marks = ", ".join("CAST(? AS UUID)" for _ in chunk)
                self.db.execute(
                    f"DELETE FROM match_pair WHERE entity_type = ? AND (id_l IN ({marks}) OR id_r IN ({marks}))",
                    (entity_type, *chunk, *chunk),
                )
            if pairs.num_rows:
                self._bulk("match_pair", pairs, run, entity_type, PAIR_SCHEMA)
            for chunk in _chunks(moved):
                marks = ", ".join("CAST(? AS UUID)" for _ in chunk)
                self.db.execute(
                    f"DELETE FROM entity_cluster WHERE entity_type = ? AND entity_id IN ({marks})",
                    (entity_type, *chunk),
                )
            if clusters.num_rows:
                self._bulk("entity_cluster", clusters, run, entity_type, CLUSTER_SCHEMA)
            self.db.execute(
                "UPDATE resolution_run SET finished_at = ?, records = ?, pairs = ?, clusters = ?, seconds = ? "
                "WHERE id = ?",
                (datetime.now(), records, pair_count, cluster_count, seconds, run),
            )

    def _bulk(self, target: str, table: pa.Table, run: str, entity_type: str, schema: pa.Schema) -> None:
        table = table.select(schema.names).cast(schema)
        n = table.num_rows
        full = pa.Table.from_arrays(
            [pa.array([run] * n, pa.string()), pa.array([entity_type] * n, pa.string()), *table.columns],
            names=["run_id", "entity_type", *schema.names],
        )
        if self.store.backend == "postgresql":
            conn = self.store.conn  # type: ignore[attr-defined]
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {target} ({', '.join(full.column_names)}) FROM STDIN (FORMAT csv)".encode()) as copy,
            ):
                for batch in full.to_batches(200_000):
                    buffer = io.BytesIO()
                    pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                    copy.write(buffer.getvalue())
            return
        con = self.store.con  # type: ignore[attr-defined]
        con.register("cruce_rs_bulk", full)
        try:
            casts = ", ".join(
                f"CAST({c} AS UUID)" if c in ("entity_id", "canonical_id", "id_l", "id_r") else c
                for c in full.column_names
            )
            con.execute(f"INSERT INTO {target} ({', '.join(full.column_names)}) SELECT {casts} FROM cruce_rs_bulk")
        finally:
            con.unregister("cruce_rs_bulk")

    def current_run(self, entity_type: str) -> Run | None:
        row = self.db.one(
            f"SELECT {_RUN_COLUMNS} FROM resolution_run WHERE entity_type = ? AND finished_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT 1",
            (entity_type,),
        )
        return _run(row) if row else None

    def runs(self, entity_type: str | None = None) -> list[Run]:
        where, params = ("WHERE entity_type = ?", (entity_type,)) if entity_type else ("", ())
        rows = self.db.fetch(f"SELECT {_RUN_COLUMNS} FROM resolution_run {where} ORDER BY started_at", params)
        return [_run(r) for r in rows]

    # -- clusters and pairs ----------------------------------------------------------------------
    def clusters(self, entity_type: str) -> dict[str, str]:
        """Record id -> canonical id, for every record of the type's current run."""
        rows = self.db.fetch(
            "SELECT CAST(entity_id AS VARCHAR), CAST(canonical_id AS VARCHAR) FROM entity_cluster "
            "WHERE entity_type = ?",
            (entity_type,),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    def canonical_of(self, entity_id: str) -> tuple[str, str] | None:
        """(canonical id, entity type) of a record, or None when it was never resolved."""
        row = once(
            ("canonical_of", self.db.store.url, entity_id),
            lambda: self.db.one(
                "SELECT CAST(canonical_id AS VARCHAR), entity_type FROM entity_cluster "
                "WHERE entity_id = CAST(? AS UUID)",
                (entity_id,),
            ),
        )
        return (str(row[0]), str(row[1])) if row else None

    def members(self, canonical_id: str) -> list[str]:
        rows = self.db.fetch(
            "SELECT CAST(entity_id AS VARCHAR) FROM entity_cluster WHERE canonical_id = CAST(? AS UUID) ORDER BY 1",
            (canonical_id,),
        )
        return [str(r[0]) for r in rows]

    def pair(self, a: str, b: str) -> StoredPair | None:
        id_l, id_r = ordered(a, b)
        row = self.db.one(
            "SELECT run_id, entity_type, CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), probability, match_weight, "
            "blocking_rule, weights FROM match_pair WHERE id_l = CAST(? AS UUID) AND id_r = CAST(? AS UUID)",
            (id_l, id_r),
        )
        if row is None:
            return None
        return StoredPair(
            str(row[0]),
            str(row[1]),
            str(row[2]),
            str(row[3]),
            float(row[4]),
            float(row[5]),
            str(row[6]),
            json.loads(row[7]),
        )

    def pairs_table(self, entity_type: str) -> pa.Table:
        """(id_l, id_r, probability) of the current run's scored pairs."""
        rows = self.db.fetch(
            "SELECT CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR), probability FROM match_pair WHERE entity_type = ?",
            (entity_type,),
        )
        return pa.table(
            {
                "id_l": pa.array([r[0] for r in rows], pa.string()),
                "id_r": pa.array([r[1] for r in rows], pa.string()),
                "probability": pa.array([float(r[2]) for r in rows], pa.float64()),
            }
        )

    # -- judgements ------------------------------------------------------------------------------
    def add_judgements(
        self,
        entity_type: str,
        pairs: list[tuple[str, str]],
        decision: str,
        actor: str,
        *,
        kind: str = "pair",
        note: str | None = None,
    ) -> str:
        """Record one decision about each pair (together: one group); return the group id."""
        if decision not in DECISIONS:
            raise ValueError(decision)
        group = uuid.uuid4().hex
        now = datetime.now()
        with self.db.transaction():
            for a, b in pairs:
                id_l, id_r = ordered(a, b)
                self.db.execute(
                    "INSERT INTO judgement (id, group_id, entity_type, kind, id_l, id_r, decision, actor, made_at, "
                    "note, undone_at, undone_by) "
                    "VALUES (?, ?, ?, ?, CAST(? AS UUID), CAST(? AS UUID), ?, ?, ?, ?, NULL, NULL)",
                    (uuid.uuid4().hex, group, entity_type, kind, id_l, id_r, decision, actor, now, note),
                )
        return group

    def undo(self, judgement: str, actor: str) -> list[Judgement]:
        """Mark a judgement (or every judgement of its group) undone; return what was undone."""
        active = self.judgements(None, active_only=True)
        groups = {j.group_id for j in active if j.id.startswith(judgement) or j.group_id.startswith(judgement)}
        if len(groups) > 1:
            raise ValueError(judgement)
        undone = [j for j in active if j.group_id in groups]
        now = datetime.now()
        with self.db.transaction():
            for j in undone:
                self.db.execute("UPDATE judgement SET undone_at = ?, undone_by = ? WHERE id = ?", (now, actor, j.id))
        return undone

    def judgements(self, entity_type: str | None, *, active_only: bool = True) -> list[Judgement]:
        conditions, params = [], []
        if entity_type:
            conditions.append("entity_type = ?")
            params.append(entity_type)
        if active_only:
            conditions.append("undone_at IS NULL")
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = self.db.fetch(f"SELECT {_JUDGEMENT_COLUMNS} FROM judgement {where} ORDER BY made_at, id", params)
        return [Judgement(*r) for r in rows]

    def decisions(self, entity_type: str) -> dict[tuple[str, str], str]:
        """The standing decision about each judged pair: the latest active judgement wins."""
        out: dict[tuple[str, str], str] = {}
        for j in self.judgements(entity_type, active_only=True):
            out[(j.id_l, j.id_r)] = j.decision
        return out


def _run(row: tuple[Any, ...]) -> Run:
    return Run(
        str(row[0]),
        str(row[1]),
        int(row[2]),
        float(row[3]),
        str(row[4]),
        str(row[5]),
        row[6],
        row[7],
        int(row[8]),
        int(row[9]),
        int(row[10]),
        float(row[11]),
    )


def _count_clusters(clusters: pa.Table) -> int:
    return len(set(clusters.column("canonical_id").to_pylist())) if clusters.num_rows else 0


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
