"""What the pages and the API show of resolution: a pair explained (with its waterfall of match
weights), the cluster of a record, the review queue and the decisions — every record through
``Guard``: a pair is shown only when the principal may see both of its records, and names come
redacted exactly as on the entity pages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cruce.resolve.engine import ResolutionError, judge, split, undo
from cruce.resolve.review import PairExplanation, Review
from cruce.resolve.store import Judgement, StoredPair
from cruce.schema.model import PropertyType, prop_label, type_label
from cruce.security import REDACTED, Guard, Principal, Role
from cruce.security.guard import Access, caption
from cruce.store.base import Entity
from cruce.web.i18n import Translator
from cruce.web.i18n import mark as _
from cruce.web.views import value_display

DECIDERS = (Role.ADMIN, Role.ANALYST)
DECISION_LABELS = {"same": _("same"), "not_same": _("not the same"), "unsure": _("unsure")}
STEP = 2  # the bars' positions and widths are multiples of 2 % (CSS classes: no inline styles under the CSP)
PRIOR = _("Prior (before comparing)")
TOTAL = _("Total")


def may_decide(principal: Principal) -> bool:
    return principal.role in DECIDERS


@dataclass(frozen=True)
class Bar:
    """One row of the waterfall: a field's weight, drawn from the running total before it to the one after."""

    label: str
    level: str
    weight: float
    running: float
    left: int  # % of the chart's width, a multiple of STEP
    width: int
    positive: bool
    total: bool = False


@dataclass(frozen=True)
class Side:
    id: str
    caption: str
    schema: str
    schema_label: str


@dataclass(frozen=True)
class Compared:
    label: str
    left: tuple[str, ...]
    right: tuple[str, ...]
    agree: bool


@dataclass(frozen=True)
class PairView:
    entity_type: str
    a: Side
    b: Side
    probability: float
    match_weight: float
    prior_weight: float
    threshold: float
    blocking_rule: str | None
    stored: bool
    same_cluster: bool
    decision: str | None
    decision_label: str | None
    bars: tuple[Bar, ...]
    fields: tuple[tuple[str, str, str, float], ...]  # comparison, label, level, weight
    compared: tuple[Compared, ...]

    @property
    def distance(self) -> float:
        return abs(self.probability - self.threshold)


@dataclass(frozen=True)
class ClusterView:
    canonical_id: str | None  # None when the canonical record is one the principal may not see
    entity_type: str
    members: tuple[Side, ...]
    pairs: tuple[PairView, ...]


@dataclass(frozen=True)
class DecisionRow:
    id: str
    group_id: str
    kind: str
    entity_type: str
    a: Side
    b: Side
    decision: str
    decision_label: str
    actor: str
    made_at: datetime
    note: str | None
    undone_at: datetime | None
    undone_by: str | None


def _snap(pct: float) -> int:
    return max(0, min(100, round(pct / STEP) * STEP))


def waterfall(ex: PairExplanation, tr: Translator) -> tuple[Bar, ...]:
    """The prior, each field, then the total: each bar from the running total before it to after it."""
    steps = [(tr(PRIOR), "", ex.prior_weight)] + [(tr(f.description), tr(f.level), f.weight) for f in ex.fields]
    running, points = 0.0, [0.0]
    for _label, _level, weight in steps:
        running += weight
        points.append(running)
    points.append(ex.match_weight)
    lo, hi = min(points), max(points)
    span = (hi - lo) or 1.0

    def pct(x: float) -> float:
        return (x - lo) / span * 100

    bars = []
    running = 0.0
    for label, level, weight in steps:
        start, end = running, running + weight
        running = end
        left = _snap(pct(min(start, end)))
        width = max(_snap(pct(max(start, end))) - left, STEP if weight else 0)
        bars.append(Bar(label, level, weight, end, min(left, 100 - width), width, weight >= 0))
    left, right = _snap(pct(min(0.0, ex.match_weight))), _snap(pct(max(0.0, ex.match_weight)))
    bars.append(
        Bar(tr(TOTAL), "", ex.match_weight, ex.match_weight, left, max(right - left, STEP), ex.match_weight >= 0, True)
    )
    return tuple(bars)


def _side(guard: Guard, entity: Entity, lang: str) -> Side:
    return Side(entity.id, caption(entity), entity.schema, type_label(guard.schema, entity.schema, lang))


def _compared(guard: Guard, a: Entity, b: Entity, lang: str) -> tuple[Compared, ...]:
    stype = guard.schema.types.get(a.schema)
    props = sorted(set(a.properties) | set(b.properties))
    rows = []
    for prop in props:
        spec = stype.properties.get(prop) if stype else None
        if spec is not None and spec.type is PropertyType.ENTITY:
            continue  # ids of other records, not something to compare by eye

        def shown(e: Entity, prop: str = prop) -> tuple[str, ...]:
            return tuple(
                dict.fromkeys(value_display(guard.schema, e.schema, prop, v, lang) for v in e.properties.get(prop, []))
            )

        left, right = shown(a), shown(b)
        agree = bool(left) and set(left) == set(right) and REDACTED not in left
        rows.append(Compared(prop_label(guard.schema, a.schema, prop, lang), left, right, agree))
    return tuple(rows)


def pair_view(
    guard: Guard, ex: PairExplanation, entities: dict[str, Entity], tr: Translator, lang: str, *, compare: bool = False
) -> PairView:
    a, b = entities[ex.id_l], entities[ex.id_r]
    return PairView(
        ex.entity_type, _side(guard, a, lang), _side(guard, b, lang), ex.probability, ex.match_weight,
        ex.prior_weight, ex.threshold, tr(ex.blocking_rule) if ex.blocking_rule else None, ex.stored,
        ex.same_cluster, ex.decision, tr(DECISION_LABELS[ex.decision]) if ex.decision in DECISION_LABELS else None,
        waterfall(ex, tr), tuple((f.comparison, tr(f.description), tr(f.level), f.weight) for f in ex.fields),
        _compared(guard, a, b, lang) if compare else (),
    )  # fmt: skip


class Resolution:
    """Resolution for one principal: every read filtered through the guard."""

    def __init__(self, guard: Guard, principal: Principal, tr: Translator, lang: str, address: str | None) -> None:
        self.guard = guard
        self.principal = principal
        self.tr = tr
        self.lang = lang
        self.address = address
        self.review = Review(guard.store)
        self._access: Access | None = None

    @property
    def access(self) -> Access:
        if self._access is None:
            self._access = self.guard.access(self.principal)
        return self._access

    def visible(self, ids: Iterable[str]) -> dict[str, Entity]:
        """The records of ``ids`` the principal may see, as the guard shows them (redacted)."""
        many = getattr(self.guard, "entities_by_id", None)  # several in a few queries, where the guard has it
        if many is not None:
            found: dict[str, Entity] = many(self.principal, list(ids), access=self.access, address=self.address)
            return found
        shown = {}
        for i in dict.fromkeys(ids):
            entity = self.guard.entity(self.principal, i, access=self.access, address=self.address)
            if entity is not None:
                shown[i] = entity
        return shown

    # -- a pair, a cluster ------------------------------------------------------------------------
    def explain(self, a: str, b: str) -> PairView | None:
        """A pair explained, or None when the principal may not see both records."""
        seen = self.visible([a, b])
        if a not in seen or b not in seen or a == b:
            return None
        ex = self.review.explain(a, b)
        return pair_view(self.guard, ex, seen, self.tr, self.lang, compare=True)

    def cluster(self, entity_id: str, *, all_pairs: bool = False, limit: int = 200) -> ClusterView | None:
        """The cluster of a record as this principal may see it; None if never resolved or alone."""
        found = self.review.cluster_of(entity_id)
        if found is None:
            return None
        canonical, entity_type, members = found
        seen = self.visible(members)
        if entity_id not in seen:
            return None
        ids = sorted(seen)
        stored = self.review.pairs_among(ids, touching=None if all_pairs else entity_id)[:limit]
        clusters = dict.fromkeys(members, canonical)
        pairs = []
        for pair in stored:
            ex = self.review.explain_stored(pair, clusters=clusters)
            if ex is not None and pair.id_l in seen and pair.id_r in seen:
                pairs.append(pair_view(self.guard, ex, seen, self.tr, self.lang))
        return ClusterView(
            canonical if canonical in seen else None,
            entity_type,
            tuple(_side(self.guard, seen[m], self.lang) for m in ids),
            tuple(pairs),
        )

    # -- the queue --------------------------------------------------------------------------------
    def queue(self, entity_type: str | None, *, limit: int, offset: int) -> tuple[list[PairView], bool]:
        """(pairs, whether there are more) of the review queue the principal may see."""
        out: list[PairView] = []
        skipped = 0
        batch: list[StoredPair] = []
        more = False

        def flush() -> bool:
            nonlocal skipped
            seen = self.visible({i for p in batch for i in (p.id_l, p.id_r)})
            for pair in batch:
                if pair.id_l not in seen or pair.id_r not in seen:
                    continue
                if skipped < offset:
                    skipped += 1
                    continue
                if len(out) == limit:
                    return True
                ex = self.review.explain_stored(pair)
                if ex is not None:
                    out.append(pair_view(self.guard, ex, seen, self.tr, self.lang, compare=True))
            batch.clear()
            return False

        for queued in self.review.queue(entity_type):
            batch.append(queued.pair)
            if len(batch) >= 100 and (more := flush()):
                break
        if not more and batch:
            more = flush()
        return out, more

    # -- decisions --------------------------------------------------------------------------------
    def decisions(self, *, include_undone: bool = False) -> list[DecisionRow]:
        judgements = self.review.rs.judgements(None, active_only=not include_undone)
        seen = self.visible({i for j in judgements for i in (j.id_l, j.id_r)})
        rows = []
        for j in reversed(judgements):  # newest first
            if j.id_l in seen and j.id_r in seen:
                rows.append(self._row(j, seen))
        return rows

    def _row(self, j: Judgement, seen: dict[str, Entity]) -> DecisionRow:
        return DecisionRow(
            j.id, j.group_id, j.kind, j.entity_type, _side(self.guard, seen[j.id_l], self.lang),
            _side(self.guard, seen[j.id_r], self.lang), j.decision,
            self.tr(DECISION_LABELS.get(j.decision, j.decision)), j.actor, j.made_at, j.note, j.undone_at, j.undone_by,
        )  # fmt: skip

    def judge(self, a: str, b: str, decision: str, note: str | None = None) -> str | None:
        """Record a decision about two records the principal may see; None if they may not see both."""
        seen = self.visible([a, b])
        if a not in seen or b not in seen:
            return None
        return judge(self.guard.store, a, b, decision, self.principal.username, note)

    def split(self, record: str, note: str | None = None) -> tuple[bool, str | None]:
        """(visible, group id or None when the record is alone) for taking a record out of its cluster."""
        if record not in self.visible([record]):
            return False, None
        return True, split(self.guard.store, record, self.principal.username, note)

    def undo(self, group: str) -> list[Judgement] | None:
        """Undo a decision in force that the principal may see (by its full group id); None if none."""
        active = [j for j in self.review.rs.judgements(None, active_only=True) if j.group_id == group]
        if not active:
            return None
        seen = self.visible({i for j in active for i in (j.id_l, j.id_r)})
        if not any(j.id_l in seen and j.id_r in seen for j in active):
            return None
        return undo(self.guard.store, group, self.principal.username)


__all__ = ["DECIDERS", "ClusterView", "PairView", "Resolution", "ResolutionError", "may_decide", "waterfall"]
