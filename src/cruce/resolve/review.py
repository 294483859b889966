"""What the web pages and the API need of resolution, read from the stored tables: a pair explained
in the model's own (English) words, to be translated for each reader; the review queue, nearest
the threshold first; the pairs of a cluster.

Decisions go through ``cruce.resolve.engine`` (``judge``, ``split``, ``undo``), like the command
line's. Nothing here decides who may see what: the callers filter every pair through ``Guard``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cruce.i18n import catalog, current_language
from cruce.resolve.engine import ResolutionError, prior_weight
from cruce.resolve.engine import explain as engine_explain
from cruce.resolve.store import Model, ResolutionStore, StoredPair, ordered
from cruce.store.base import Store

MISSING_LEVEL = "Missing on either side"
_PAIR_COLUMNS = (
    "CAST(p.id_l AS VARCHAR), CAST(p.id_r AS VARCHAR), p.probability, p.match_weight, p.blocking_rule, p.weights, "
    "p.entity_type, p.run_id"
)


@dataclass(frozen=True)
class FieldWeight:
    """One compared field: its description and reached level (English messages), its match weight."""

    comparison: str
    description: str
    level: str
    weight: float


@dataclass(frozen=True)
class PairExplanation:
    entity_type: str
    id_l: str
    id_r: str
    probability: float
    match_weight: float
    prior_weight: float
    fields: list[FieldWeight]
    blocking_rule: str | None
    stored: bool
    model_version: int
    threshold: float
    same_cluster: bool
    decision: str | None


@dataclass(frozen=True)
class QueuedPair:
    pair: StoredPair
    threshold: float

    @property
    def distance(self) -> float:
        return abs(self.pair.probability - self.threshold)


def _levels(comparison: dict[str, Any]) -> dict[int, str]:
    plain = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
    out = {-1: MISSING_LEVEL}
    for i, level in enumerate(plain):
        out[len(plain) - 1 - i] = str(level.get("label_for_charts") or level["sql_condition"])
    return out


def field_weights(settings: dict[str, Any], weights: dict[str, Any]) -> list[FieldWeight]:
    """The weight of each compared field of a stored pair, with the model's English labels."""
    described = settings.get("cruce_descriptions", {})
    out = []
    for comparison in settings["comparisons"]:
        name = comparison["output_column_name"]
        weight, gamma = weights.get(name, [0.0, -1])
        description = str(described.get(name) or comparison.get("comparison_description") or name)
        out.append(FieldWeight(name, description, _levels(comparison).get(int(gamma), str(gamma)), float(weight)))
    return out


def _stored_pair(row: tuple[Any, ...]) -> StoredPair:
    return StoredPair(
        str(row[7]),
        str(row[6]),
        str(row[0]),
        str(row[1]),
        float(row[2]),
        float(row[3]),
        str(row[4]),
        json.loads(row[5]),
    )


class Review:
    """Reads of the resolution tables for the web: explanations, the queue, clusters."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rs = ResolutionStore(store)
        self._models: dict[str, tuple[Model, float] | None] = {}

    def model(self, entity_type: str) -> tuple[Model, float] | None:
        """The model of the type's current run and the run's threshold (None before any run)."""
        if entity_type not in self._models:
            run = self.rs.current_run(entity_type)
            model = self.rs.model(entity_type, run.model_version) if run else None
            self._models[entity_type] = (model, run.threshold) if run and model else None
        return self._models[entity_type]

    def types(self) -> list[str]:
        """The types with a current run."""
        rows = self.rs.db.fetch(
            "SELECT DISTINCT entity_type FROM resolution_run WHERE finished_at IS NOT NULL ORDER BY 1"
        )
        return [str(r[0]) for r in rows]

    # -- explanations ----------------------------------------------------------------------------
    def explain_stored(self, pair: StoredPair, *, clusters: dict[str, str] | None = None) -> PairExplanation | None:
        found = self.model(pair.entity_type)
        if found is None:
            return None
        model, threshold = found
        if clusters is None:
            a, b = self.rs.canonical_of(pair.id_l), self.rs.canonical_of(pair.id_r)
            same = a is not None and a == b
        else:
            same = clusters.get(pair.id_l) is not None and clusters.get(pair.id_l) == clusters.get(pair.id_r)
        return PairExplanation(
            pair.entity_type, pair.id_l, pair.id_r, pair.probability, pair.match_weight,
            prior_weight(model.settings), field_weights(model.settings, pair.weights), pair.blocking_rule or None,
            True, model.version, threshold, same, self.decision(pair.entity_type, pair.id_l, pair.id_r),
        )  # fmt: skip

    def decision(self, entity_type: str, a: str, b: str) -> str | None:
        return self.rs.decisions(entity_type).get(ordered(a, b))

    def explain(self, a: str, b: str) -> PairExplanation:
        """A stored pair from its row; any other pair scored now by the engine."""
        try:
            stored = self.rs.pair(a, b)
        except ValueError:
            raise ResolutionError("Record ids are UUIDs, like those on the entity pages.") from None
        if stored is not None:
            found = self.explain_stored(stored)
            if found is not None:
                return found
        ex = engine_explain(self.store, a, b)
        # the engine translated its labels into the process's language: back to the English messages
        back = {v: k for k, v in catalog(current_language()).items()}
        fields = [FieldWeight(c.comparison, back.get(c.description, c.description),
                              back.get(c.level, c.level), c.weight) for c in ex.contributions]  # fmt: skip
        rule = back.get(ex.blocking_rule, ex.blocking_rule) if ex.blocking_rule else None
        return PairExplanation(
            ex.entity_type, ex.id_l, ex.id_r, ex.probability, ex.match_weight, ex.prior_weight, fields, rule,
            ex.stored, ex.model_version, ex.threshold, ex.same_cluster, ex.decision,
        )  # fmt: skip

    # -- clusters ---------------------------------------------------------------------------------
    def cluster_of(self, record: str) -> tuple[str, str, list[str]] | None:
        """(canonical id, type, member ids) of a resolved record."""
        try:
            found = self.rs.canonical_of(record)
        except Exception:  # not a UUID: never resolved
            return None
        if found is None:
            return None
        canonical, entity_type = found
        return canonical, entity_type, self.rs.members(canonical)

    def pairs_among(self, ids: list[str], *, touching: str | None = None) -> list[StoredPair]:
        """The stored pairs between records of ``ids`` (or, with ``touching``, between it and them)."""
        ids = sorted(set(ids))
        if len(ids) < 2:
            return []
        marks = ",".join("CAST(? AS UUID)" for _ in ids)
        if touching is not None:
            sql = (
                f"SELECT {_PAIR_COLUMNS} FROM match_pair p WHERE (p.id_l = CAST(? AS UUID) AND p.id_r IN ({marks})) "
                f"OR (p.id_r = CAST(? AS UUID) AND p.id_l IN ({marks})) ORDER BY p.probability DESC"
            )
            params: list[Any] = [touching, *ids, touching, *ids]
        else:
            sql = (
                f"SELECT {_PAIR_COLUMNS} FROM match_pair p WHERE p.id_l IN ({marks}) AND p.id_r IN ({marks}) "
                "ORDER BY p.probability DESC"
            )
            params = [*ids, *ids]
        return [_stored_pair(r) for r in self.rs.db.fetch(sql, params)]

    # -- the review queue -------------------------------------------------------------------------
    def queue(self, entity_type: str | None = None, *, batch: int = 200) -> Iterator[QueuedPair]:
        """Pairs not yet judged, nearest the threshold first (|probability - threshold|), all types merged."""
        types = [entity_type] if entity_type else self.types()
        streams = []
        for name in types:
            found = self.model(name)
            if found is not None:
                streams.append(self._queue_of(name, found[1], batch))
        heads: list[QueuedPair | None] = [next(s, None) for s in streams]
        while True:
            live = [(h.distance, h.pair.id_l, h.pair.id_r, i) for i, h in enumerate(heads) if h is not None]
            if not live:
                return
            i = min(live)[3]
            head = heads[i]
            assert head is not None
            yield head
            heads[i] = next(streams[i], None)

    def _queue_of(self, entity_type: str, threshold: float, batch: int) -> Iterator[QueuedPair]:
        offset = 0
        while True:
            rows = self.rs.db.fetch(
                f"SELECT {_PAIR_COLUMNS} FROM match_pair p WHERE p.entity_type = ? AND NOT EXISTS ("
                "SELECT 1 FROM judgement j WHERE j.id_l = p.id_l AND j.id_r = p.id_r AND j.undone_at IS NULL) "
                "ORDER BY abs(p.probability - ?), p.id_l, p.id_r LIMIT ? OFFSET ?",
                (entity_type, threshold, batch, offset),
            )
            for row in rows:
                yield QueuedPair(_stored_pair(row), threshold)
            if len(rows) < batch:
                return
            offset += batch
