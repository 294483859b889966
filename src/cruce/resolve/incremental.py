"""Incremental linking: after an import, link its records to the existing canonical entities.

Only the records an import brought (new records, and resolved records whose statements it
changed) are scored: each blocking rule of the type's stored model is narrowed to pairs where
at least one side is such a record, and Splink predicts those pairs with the stored model's
parameters. Pairs between two untouched records are already in ``match_pair`` from earlier
runs and are kept; the changed records' old pairs are replaced. The clusters are then worked
out again from the stored pairs and the analysts' decisions, in memory (union-find, cheap next
to scoring), and only the records whose canonical id changed are written.

Why the result is the same as a full re-run with the same model (``tests/resolve/test_incremental.py``):
a pair's probability depends only on its two prepared records and the model's parameters (no
term-frequency adjustments), so an old pair's stored score is the score a re-run would give it;
the narrowed rules propose exactly the pairs, with the same first proposing rule, that the full
rules propose with at least one touched side; and clustering is deterministic (strongest pair
first, ties by ids). So the pairs, and then the partition, are identical. The one thing that
differs is which run each stored row names.

The records are still prepared in full (the prepared fields are not stored): preparation
normalises each distinct value once and costs little next to scoring and training.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pyarrow as pa

from cruce.i18n import _
from cruce.resolve.cluster import cluster
from cruce.resolve.engine import _check_type, _compute, _linker, _score, _splink_settings, purge_for
from cruce.resolve.prepare import PROPERTIES, TYPES, prepare
from cruce.resolve.store import ResolutionStore
from cruce.security.db import AppDB
from cruce.store.base import Store

NEW_COLUMN = "cruce_new"


@dataclass(frozen=True)
class IncrementResult:
    """What incremental linking did for one entity type."""

    entity_type: str
    run_id: str | None
    model_version: int | None
    threshold: float | None
    new_records: int
    changed_records: int
    pairs_added: int
    pairs_removed: int
    joined: int  # new records that joined an existing entity
    started: int  # new records that start an entity of their own (or with other new records only)
    bridged: int  # entities that existed apart and are now one
    clusters: int
    seconds: float
    skipped: str | None = None
    alerts: int = 0  # watchlist alerts the linked records raised
    # record id -> (canonical id, id of the import that brought it), for every touched record
    touched: dict[str, tuple[str, str | None]] = field(default_factory=dict)


def narrowed(settings: dict[str, Any]) -> dict[str, Any]:
    """The model's settings with every blocking rule limited to pairs with a touched side; the
    rule labels follow their rules."""
    labels = settings.get("cruce_rule_labels", {})
    rules, new_labels = [], {}
    for rule in settings.get("blocking_rules_to_generate_predictions", []):
        sql = f"({rule['blocking_rule']}) AND (l.{NEW_COLUMN} OR r.{NEW_COLUMN})"
        rules.append({**rule, "blocking_rule": sql})
        new_labels[sql] = labels.get(rule["blocking_rule"], rule["blocking_rule"])
    return {**settings, "blocking_rules_to_generate_predictions": rules, "cruce_rule_labels": new_labels}


def _touched(store: Store, entity_type: str, since: datetime | None, imports: Sequence[str] | None) -> dict[str, str]:
    """Record id -> id of the (latest) import that brought statements about it: the imports
    given, or those finished since ``since``."""
    props = PROPERTIES[entity_type]
    sql = (
        "SELECT CAST(s.entity_id AS VARCHAR), i.id, i.finished_at FROM statement s "
        "JOIN property p ON p.prop_id = s.prop_id JOIN import_run i ON i.no = s.import_no "
        f"WHERE p.schema = ? AND p.prop IN ({', '.join('?' for _ in props)})"
    )
    params: list[Any] = [entity_type, *props]
    if imports is not None:
        if not imports:
            return {}
        sql += f" AND i.id IN ({', '.join('?' for _ in imports)})"
        params.extend(imports)
    elif since is not None:
        sql += " AND i.finished_at >= ?"
        params.append(since)
    out: dict[str, tuple[str, Any]] = {}
    for record, import_id, finished in AppDB(store).fetch(sql, params):
        key = str(record)
        if key not in out or (finished and out[key][1] and finished > out[key][1]):
            out[key] = (str(import_id), finished)
    return {k: v[0] for k, v in out.items()}


def link_new(
    store: Store,
    entity_type: str = "Person",
    *,
    imports: Sequence[str] | None = None,
    actor: str = "cli",
) -> IncrementResult:
    """Link the records of ``entity_type`` that imports brought since the type's current run (or
    the records of ``imports``, plus any record never resolved) to the existing entities."""
    _check_type(entity_type)
    started_at = time.perf_counter()
    rs = ResolutionStore(store)
    run = rs.current_run(entity_type)
    if run is None:
        return _skipped(
            entity_type, _("not resolved yet: run 'cruce resolve --type {type}' first").format(type=entity_type)
        )
    model = rs.model(entity_type, run.model_version)
    if model is None:
        return _skipped(entity_type, _("the model of the current run is missing"))
    resolved = rs.clusters(entity_type)
    brought = _touched(store, entity_type, run.started_at, imports)
    with _compute(store) as con:
        table, records = prepare(store, con, entity_type)
        ids: list[str] = con.execute(f"SELECT unique_id FROM {table}").to_arrow_table().column(0).to_pylist()
        new = [i for i in ids if i not in resolved]
        changed = [i for i in ids if i in resolved and i in brought]
        touched_ids = set(new) | set(changed)
        if not touched_ids:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            return IncrementResult(
                entity_type, None, run.model_version, run.threshold, 0, 0, 0, 0, 0, 0, 0, run.clusters,
                time.perf_counter() - started_at,
            )  # fmt: skip
        con.register("cruce_rs_touched", pa.table({"unique_id": pa.array(sorted(touched_ids), pa.string())}))
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT p.*, t.unique_id IS NOT NULL AS {NEW_COLUMN} "
                f"FROM {table} p LEFT JOIN cruce_rs_touched t USING (unique_id)"
            )
        finally:
            con.unregister("cruce_rs_touched")
        # the blocks a full run would pass by, from the same full table
        settings = narrowed(purge_for(con, table, model.settings).settings(model.settings))
        if records < 2:
            pairs = pa.table({n: pa.array([], t) for n, t in _PAIR_TYPES.items()})
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                linker = _linker(con, table, _splink_settings(settings))
                pairs = _score(con, linker, settings)
                linker.table_management.delete_tables_created_by_splink_from_db()
        con.execute(f"DROP TABLE IF EXISTS {table}")

    # The pairs a full re-run would have: the stored ones without a changed side, and the new.
    stored = rs.pairs_table(entity_type)
    changed_set = set(changed)
    keep = [
        not (a in changed_set or b in changed_set)
        for a, b in zip(stored.column("id_l").to_pylist(), stored.column("id_r").to_pylist(), strict=True)
    ]
    kept = stored.filter(pa.array(keep, pa.bool_()))
    removed = stored.num_rows - kept.num_rows
    every = pa.concat_tables([kept, pairs.select(["id_l", "id_r", "probability"]).cast(kept.schema)])
    clustering = cluster(ids, every, run.threshold, rs.decisions(entity_type))
    now = dict(
        zip(
            clustering.table.column("entity_id").to_pylist(),
            clustering.table.column("canonical_id").to_pylist(),
            strict=True,
        )
    )
    moved = [i for i in ids if resolved.get(i) != now[i]]
    run_id = rs.begin_run(entity_type, run.model_version, run.threshold, "incremental", actor)
    seconds = time.perf_counter() - started_at
    rs.apply_increment(
        run_id,
        entity_type,
        drop_pairs_of=changed,
        pairs=pairs,
        clusters=clustering.table.filter(
            pa.array([resolved.get(i) != now[i] for i in clustering.table.column("entity_id").to_pylist()], pa.bool_())
        ),
        moved=moved,
        records=len(ids),
        pair_count=kept.num_rows + pairs.num_rows,
        cluster_count=len(set(now.values())),
        seconds=seconds,
    )
    with_old = {now[r] for r in resolved if r in now}
    joined = sum(1 for i in new if now[i] in with_old)
    bridged_to: dict[str, set[str]] = {}
    for record, canonical in resolved.items():
        if record in now:
            bridged_to.setdefault(now[record], set()).add(canonical)
    bridged = sum(len(olds) - 1 for olds in bridged_to.values() if len(olds) > 1)
    return IncrementResult(
        entity_type=entity_type,
        run_id=run_id,
        model_version=run.model_version,
        threshold=run.threshold,
        new_records=len(new),
        changed_records=len(changed),
        pairs_added=pairs.num_rows,
        pairs_removed=removed,
        joined=joined,
        started=len(new) - joined,
        bridged=bridged,
        clusters=len(set(now.values())),
        seconds=time.perf_counter() - started_at,
        touched={i: (now[i], brought.get(i)) for i in sorted(touched_ids)},
    )


def _skipped(entity_type: str, reason: str) -> IncrementResult:
    return IncrementResult(entity_type, None, None, None, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, skipped=reason)


_PAIR_TYPES = {
    "id_l": pa.string(),
    "id_r": pa.string(),
    "probability": pa.float64(),
    "match_weight": pa.float64(),
    "blocking_rule": pa.string(),
    "weights": pa.string(),
}


def resolved_types(store: Store) -> list[str]:
    """The entity types that have a current resolution run (the ones incremental linking updates)."""
    rs = ResolutionStore(store)
    return [t for t in TYPES if rs.current_run(t) is not None]


def link_imports(
    store: Store,
    imports: Sequence[str] | None = None,
    *,
    types: Sequence[str] | None = None,
    actor: str = "cli",
) -> list[IncrementResult]:
    """Incremental linking of every resolved type (or ``types``) after ``imports`` (or after every
    import since each type's current run), then the watchlists' alerts. For the command line
    (``cruce resolve --incremental``, ``cruce import --resolve``) and the web import job."""
    results = [link_new(store, t, imports=imports, actor=actor) for t in (types or resolved_types(store))]
    from cruce.resolve.watch import alert_for

    alerts = alert_for(store, results)
    return [replace(r, alerts=alerts.get(r.entity_type, 0)) for r in results]
