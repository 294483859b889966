"""Resolution end to end: prepare the records, train or reuse the model, score pairs, cluster, store.

``resolve`` links every record of one type and makes its clusters the current ones; ``explain``
says why two records match (or do not); ``judge`` and ``undo`` record an analyst's decision
and re-cluster from the stored pairs at once, without re-scoring.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from cruce.i18n import _
from cruce.resolve.blocks import BlockPurge, PurgedRule, purge_big_blocks
from cruce.resolve.cluster import cluster
from cruce.resolve.models import (
    DEFAULT_THRESHOLD,
    PAIR_FLOOR,
    ModelSpec,
    quiet_splink,
    settings_dict,
    spec_for,
    train,
)
from cruce.resolve.prepare import TYPES, prepare
from cruce.resolve.store import Judgement, ResolutionStore, ordered
from cruce.store.base import Store, StoreError

Progress = Callable[[str, int, int], None]
STEPS = 5
ENGINES = ("duckdb", "spark")


class ResolutionError(StoreError):
    """A resolution request that cannot be done; the message says why."""


@dataclass(frozen=True)
class ResolveResult:
    entity_type: str
    run_id: str
    model_version: int
    trained: bool
    threshold: float
    records: int
    pairs: int
    clusters: int
    merged_records: int
    seconds: float
    conflicts: list[tuple[str, str]] = field(default_factory=list)
    purged: list[PurgedRule] = field(default_factory=list)  # blocks too big to compare (cruce.resolve.blocks)


@contextmanager
def _compute(store: Store) -> Iterator[duckdb.DuckDBPyConnection]:
    """The store's compute connection, with the whole machine's threads and more memory for a run."""
    con = store.compute()
    before = {
        name: con.execute(f"SELECT current_setting('{name}')").fetchone()
        for name in ("threads", "memory_limit", "preserve_insertion_order")
    }
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute(f"SET memory_limit = '{os.environ.get('CRUCE_RESOLVE_MEMORY', '4GB')}'")
    con.execute("SET preserve_insertion_order = false")
    try:
        yield con
    finally:
        for name, row in before.items():
            if row is not None:
                value = row[0]
                con.execute(f"SET {name} = '{value}'" if isinstance(value, str) else f"SET {name} = {value}")


def _check_type(entity_type: str) -> None:
    if entity_type not in TYPES:
        raise ResolutionError(
            _("Unknown type {name} for resolution; choose among {types}.").format(
                name=entity_type, types=", ".join(TYPES)
            )
        )


def _linker(con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any]) -> Any:
    from splink import DuckDBAPI, Linker

    quiet_splink()
    db_api = DuckDBAPI(con)
    sdf = db_api.register(table)
    return Linker(sdf, settings, log_level=None)


def rule_labels(spec: ModelSpec) -> dict[str, str]:
    return {r.sql: r.label for r in spec.blocking}


def purge_for(con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any]) -> BlockPurge:
    """The oversized blocks of the rules of ``settings`` (a stored model's, or a spec's before
    training) in the prepared ``table``, flagged there (``cruce.resolve.blocks``)."""
    rules = [r["blocking_rule"] for r in settings.get("blocking_rules_to_generate_predictions", [])]
    return purge_big_blocks(con, table, rules, settings.get("cruce_rule_labels", {}))


def descriptions(spec: ModelSpec) -> dict[str, str]:
    return {c["output_column_name"]: c["comparison_description"] for c in spec.comparisons}


def _weights_sql(settings: dict[str, Any]) -> str:
    parts = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        parts.append(f"'{name}', [round(mw_{name}, 4), gamma_{name}]")
    return "to_json(json_object(" + ", ".join(parts) + "))" if parts else "'{}'"


def resolve(
    store: Store,
    entity_type: str = "Person",
    *,
    threshold: float | None = None,
    retrain: bool = False,
    actor: str = "cli",
    on_progress: Progress | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> ResolveResult:
    """Link every record of ``entity_type``, cluster, and make the clusters current.

    ``engine="spark"`` trains and scores on Spark (``spark_master``, local by default); preparing,
    clustering and storing stay here, so the same stored model gives the same clusters."""
    _check_type(entity_type)
    if engine not in ENGINES:
        raise ResolutionError(
            _("Unknown engine {name}; choose among {engines}.").format(name=engine, engines=", ".join(ENGINES))
        )
    if engine == "spark":
        from cruce.resolve.spark import check_available

        check_available()  # before preparing: say at once what to install
    started = time.perf_counter()
    step = on_progress or (lambda _label, _done, _total: None)
    rs = ResolutionStore(store)
    with _compute(store) as con:
        step(_("Preparing records"), 0, STEPS)
        table, records = prepare(store, con, entity_type)
        spec = spec_for(entity_type, con, table)
        model = None if retrain else rs.latest_model(entity_type)
        if model is not None and not model.settings.get("comparisons"):
            model = None  # a model saved with no comparisons (a failed training of old) scores nothing: train again
        trained = False
        purge = BlockPurge()
        if records >= 2:
            purge = purge_for(
                con, table, model.settings if model else {**settings_dict(spec), "cruce_rule_labels": rule_labels(spec)}
            )
        step(_("Training the model") if model is None else _("Loading the model"), 1, STEPS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Splink warns about parameters it could not estimate
            if records < 2:
                settings = settings_dict(spec)
                version = model.version if model else rs.save_model(entity_type, settings, DEFAULT_THRESHOLD, records)
                pairs_arrow = pa.table({n: pa.array([], t) for n, t in _PAIR_TYPES.items()})
            elif engine == "spark":
                from cruce.resolve import spark

                step(_("Scoring pairs on Spark"), 2, STEPS)
                settings, pairs_arrow = spark.run(
                    con, table, records, spec, model.settings if model else None, spark_master, purge
                )
                if model is None:
                    version = rs.save_model(
                        entity_type, settings, threshold if threshold is not None else DEFAULT_THRESHOLD, records
                    )
                    trained = True
                else:
                    version = model.version
            else:
                if model is None:
                    linker = _linker(con, table, settings_dict(spec))
                    train(linker, spec)
                    settings = linker.misc.save_model_to_json()
                    settings["cruce_rule_labels"] = rule_labels(spec)
                    settings["cruce_descriptions"] = descriptions(spec)
                    version = rs.save_model(
                        entity_type, settings, threshold if threshold is not None else DEFAULT_THRESHOLD, records
                    )
                    trained = True
                    if purge.narrowed:  # scored with the rules narrowed, the model stored as trained
                        linker.table_management.delete_tables_created_by_splink_from_db()
                        linker = _linker(con, table, _splink_settings(purge.settings(settings)))
                else:
                    settings = model.settings
                    version = model.version
                    linker = _linker(con, table, _splink_settings(purge.settings(settings)))
                step(_("Scoring pairs"), 2, STEPS)
                pairs_arrow = _score(con, linker, settings)
                linker.table_management.delete_tables_created_by_splink_from_db()
        if threshold is None:
            threshold = model.threshold if model is not None else DEFAULT_THRESHOLD
        step(_("Clustering"), 3, STEPS)
        ids = con.execute(f"SELECT unique_id FROM {table}").to_arrow_table().column(0).to_pylist()
        con.execute(f"DROP TABLE IF EXISTS {table}")
    run = rs.begin_run(entity_type, version, threshold, "retrain" if trained else "run", actor)
    clustering = cluster(ids, pairs_arrow, threshold, rs.decisions(entity_type))
    step(_("Saving clusters"), 4, STEPS)
    seconds = time.perf_counter() - started
    rs.finish_run(run, entity_type, clustering.table, pairs_arrow, records=records, seconds=seconds)
    step(_("Done"), STEPS, STEPS)
    canon = clustering.table.column("canonical_id").to_pylist()
    sizes: dict[str, int] = {}
    for c in canon:
        sizes[c] = sizes.get(c, 0) + 1
    return ResolveResult(
        entity_type=entity_type,
        run_id=run,
        model_version=version,
        trained=trained,
        threshold=threshold,
        records=records,
        pairs=pairs_arrow.num_rows,
        clusters=len(sizes),
        merged_records=sum(n for n in sizes.values() if n > 1),
        seconds=time.perf_counter() - started,
        conflicts=clustering.conflicts,
        purged=purge.purged,
    )


_PAIR_TYPES = {
    "id_l": pa.string(),
    "id_r": pa.string(),
    "probability": pa.float64(),
    "match_weight": pa.float64(),
    "blocking_rule": pa.string(),
    "weights": pa.string(),
}


def _splink_settings(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in settings.items() if not k.startswith("cruce_")}


def _score(con: duckdb.DuckDBPyConnection, linker: Any, settings: dict[str, Any]) -> pa.Table:
    predictions = linker.inference.predict(threshold_match_probability=PAIR_FLOOR, warning_mode="never")
    return pairs_table(con, predictions.physical_name, settings)


def pairs_table(con: duckdb.DuckDBPyConnection, source: str, settings: dict[str, Any]) -> pa.Table:
    """Splink's predictions (a table or ``read_parquet(...)``) as the pairs cruce stores."""
    rules = [r["blocking_rule"] for r in settings.get("blocking_rules_to_generate_predictions", [])]
    labels = settings.get("cruce_rule_labels", {})
    case = " ".join(
        f"WHEN '{i}' THEN '{labels.get(sql, sql).replace(chr(39), chr(39) * 2)}'" for i, sql in enumerate(rules)
    )
    rule_sql = f"CASE CAST(match_key AS VARCHAR) {case} ELSE CAST(match_key AS VARCHAR) END" if case else "''"
    return con.execute(
        f"""
        SELECT least(unique_id_l, unique_id_r) AS id_l, greatest(unique_id_l, unique_id_r) AS id_r,
               match_probability AS probability, match_weight, {rule_sql} AS blocking_rule,
               {_weights_sql(settings)} AS weights
        FROM {source}
        """
    ).to_arrow_table()


# -- explanations ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Contribution:
    comparison: str
    description: str
    level: str
    weight: float


@dataclass(frozen=True)
class Explanation:
    entity_type: str
    id_l: str
    id_r: str
    probability: float
    match_weight: float
    prior_weight: float
    contributions: list[Contribution]
    blocking_rule: str | None
    stored: bool
    model_version: int
    threshold: float
    same_cluster: bool
    decision: str | None


def _levels(comparison: dict[str, Any]) -> dict[int, str]:
    """Gamma value -> label of each level (Splink numbers the non-null levels from the top down)."""
    levels = comparison["comparison_levels"]
    plain = [lv for lv in levels if not lv.get("is_null_level")]
    out = {-1: _("Missing on either side")}
    for i, level in enumerate(plain):
        out[len(plain) - 1 - i] = _(str(level.get("label_for_charts") or level["sql_condition"]))
    return out


def prior_weight(settings: dict[str, Any]) -> float:
    lam = float(settings.get("probability_two_random_records_match", 1e-4))
    return math.log2(lam / (1 - lam))


def _contributions(settings: dict[str, Any], weights: dict[str, Any]) -> list[Contribution]:
    described = settings.get("cruce_descriptions", {})
    out = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        weight, gamma = weights.get(name, [0.0, -1])
        out.append(
            Contribution(
                name,
                _(str(described.get(name) or comparison.get("comparison_description") or name)),
                _levels(comparison).get(int(gamma), str(gamma)),
                float(weight),
            )
        )
    return out


def _type_of(store: Store, entity_id: str) -> str | None:
    row = store._fetch(  # type: ignore[attr-defined]
        "SELECT p.schema FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "WHERE s.entity_id = CAST(? AS UUID) LIMIT 1",
        (entity_id,),
    )
    return str(row[0][0]) if row else None


def explain(store: Store, a: str, b: str) -> Explanation:
    """Why two records are (or are not) the same: probability, blocking rule and weight per field."""
    try:
        id_l, id_r = ordered(a, b)
    except ValueError:
        raise ResolutionError(_("Record ids are UUIDs, like those on the entity pages.")) from None
    rs = ResolutionStore(store)
    types = {_type_of(store, id_l), _type_of(store, id_r)}
    if None in types:
        missing = id_l if _type_of(store, id_l) is None else id_r
        raise ResolutionError(_("No record with id {id}.").format(id=missing))
    if len(types) != 1:
        raise ResolutionError(_("The two records are of different types; only records of one type are compared."))
    entity_type = str(types.pop())
    _check_type(entity_type)
    run = rs.current_run(entity_type)
    model = rs.model(entity_type, run.model_version) if run else rs.latest_model(entity_type)
    if model is None:
        raise ResolutionError(
            _("No model for {type} yet: run 'cruce resolve --type {type}' first.").format(type=entity_type)
        )
    threshold = run.threshold if run else model.threshold
    stored = rs.pair(id_l, id_r)
    clusters = rs.clusters(entity_type)
    same_cluster = clusters.get(id_l) is not None and clusters.get(id_l) == clusters.get(id_r)
    decision = rs.decisions(entity_type).get((id_l, id_r))
    if stored is not None:
        return Explanation(
            entity_type,
            id_l,
            id_r,
            stored.probability,
            stored.match_weight,
            prior_weight(model.settings),
            _contributions(model.settings, stored.weights),
            _(stored.blocking_rule),
            True,
            model.version,
            threshold,
            same_cluster,
            decision,
        )
    return _score_one(store, model.settings, entity_type, id_l, id_r, model.version, threshold, same_cluster, decision)


def _score_one(
    store: Store,
    settings: dict[str, Any],
    entity_type: str,
    id_l: str,
    id_r: str,
    version: int,
    threshold: float,
    same_cluster: bool,
    decision: str | None,
) -> Explanation:
    import json

    with _compute(store) as con:
        table, _n = prepare(store, con, entity_type, ids=[id_l, id_r])
        rules = [r["blocking_rule"] for r in settings.get("blocking_rules_to_generate_predictions", [])]
        labels = settings.get("cruce_rule_labels", {})
        found = None
        for sql in rules:
            hit = con.execute(
                f"SELECT count(*) FROM {table} l, {table} r WHERE l.unique_id = ? AND r.unique_id = ? AND ({sql})",
                [id_l, id_r],
            ).fetchone()
            if hit and hit[0]:
                found = _(labels.get(sql, sql))
                break
        scoring = {**_splink_settings(settings), "blocking_rules_to_generate_predictions": [{"blocking_rule": "1=1"}]}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            linker = _linker(con, table, scoring)
            predictions = linker.inference.predict(warning_mode="never")
            row = con.execute(
                f"SELECT match_probability, match_weight, {_weights_sql(settings)} FROM {predictions.physical_name}"
            ).fetchone()
            linker.table_management.delete_tables_created_by_splink_from_db()
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if row is None:
        raise ResolutionError(_("The two records could not be compared."))
    return Explanation(
        entity_type,
        id_l,
        id_r,
        float(row[0]),
        float(row[1]),
        prior_weight(settings),
        _contributions(settings, json.loads(row[2])),
        found,
        False,
        version,
        threshold,
        same_cluster,
        decision,
    )


# -- decisions ------------------------------------------------------------------------------------
def _recluster(store: Store, entity_type: str) -> list[tuple[str, str]]:
    rs = ResolutionStore(store)
    run = rs.current_run(entity_type)
    if run is None:
        return []
    ids = list(rs.clusters(entity_type))
    clustering = cluster(ids, rs.pairs_table(entity_type), run.threshold, rs.decisions(entity_type))
    rs.recluster(entity_type, clustering.table)
    return clustering.conflicts


def judge(store: Store, a: str, b: str, decision: str, actor: str, note: str | None = None) -> str:
    """Record that two records are the same person (or not, or that it is unclear); re-cluster."""
    try:
        id_l, id_r = ordered(a, b)
    except ValueError:
        raise ResolutionError(_("Record ids are UUIDs, like those on the entity pages.")) from None
    entity_type = _type_of(store, id_l)
    if entity_type is None or _type_of(store, id_r) != entity_type:
        raise ResolutionError(_("Both records must exist and be of one type."))
    group = ResolutionStore(store).add_judgements(entity_type, [(id_l, id_r)], decision, actor, note=note)
    _recluster(store, entity_type)
    return group


def split(store: Store, record: str, actor: str, note: str | None = None) -> str | None:
    """Take one record out of its cluster: "not same" with each other member, as one decision."""
    rs = ResolutionStore(store)
    found = rs.canonical_of(record)
    if found is None:
        return None
    canonical, entity_type = found
    others = [m for m in rs.members(canonical) if m != str(record)]
    if not others:
        return None
    group = rs.add_judgements(entity_type, [(record, m) for m in others], "not_same", actor, kind="split", note=note)
    _recluster(store, entity_type)
    return group


def undo(store: Store, judgement: str, actor: str) -> list[Judgement]:
    """Undo a decision (all of it, for a split); re-cluster as if it had not been made."""
    rs = ResolutionStore(store)
    try:
        undone = rs.undo(judgement, actor)
    except ValueError:
        raise ResolutionError(
            _("{id} is the start of several decisions' ids; give more of it.").format(id=judgement)
        ) from None
    for entity_type in sorted({j.entity_type for j in undone}):
        _recluster(store, entity_type)
    return undone
