"""Risk scores and leads: a transparent sum of the purchaser indicators, each line explained.

A purchaser's score is the sum, over the rules met, of the rule's weight times how fully it was
met: ``min(count, cap) / cap`` (two short time-to-crime guns count more than one, a tenth no more
than the cap). Weights are the analyst's to set (``--weight short_ttc=40``); the defaults are
guidance, not a finding. A lead is a purchaser at or above ``threshold`` points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cruce.analyses.firearms.data import FirearmsData
from cruce.analyses.firearms.indicators import purchaser_flags, rules

# rule -> (weight, cap): a trace-based rule weighs most, what any buyer may do least
DEFAULT_WEIGHTS: dict[str, tuple[float, int]] = {
    "short_ttc": (30.0, 2),
    "multiple_rifles": (25.0, 2),
    "multiple_handguns": (10.0, 2),
    "cartel_favoured": (15.0, 3),
    "recovered_together": (20.0, 2),
    "bought_beside_flagged": (20.0, 2),
    "shared_contact": (20.0, 1),
    "purchaser_not_possessor": (10.0, 2),
    "recovered_abroad": (10.0, 2),
}
DEFAULT_THRESHOLD = 40.0


class WeightError(ValueError):
    """A weight the analyst gave that no rule has, or that is not a number."""


def parse_weights(pairs: list[str] | None) -> dict[str, tuple[float, int]]:
    """``["short_ttc=40", "shared_contact=0"]`` over the defaults."""
    weights = dict(DEFAULT_WEIGHTS)
    for pair in pairs or []:
        name, _, value = pair.partition("=")
        name = name.strip()
        if name not in weights:
            raise WeightError(name)
        try:
            weights[name] = (float(value), weights[name][1])
        except ValueError as exc:
            raise WeightError(pair) from exc
    return weights


@dataclass(frozen=True)
class Flag:
    """One line of a score's explanation."""

    indicator: str
    count: int
    points: float
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Lead:
    purchaser: str
    score: float
    flags: tuple[Flag, ...] = field(default_factory=tuple)


def score_purchasers(
    data: FirearmsData,
    weights: dict[str, tuple[float, int]] | None = None,
    *,
    threshold: float | None = None,
    limit: int | None = None,
    only: Sequence[str] | None = None,
) -> list[Lead]:
    """Purchasers who met a rule, best first (ties by id), each with the flags that scored: those
    at or above ``threshold`` points, at most ``limit`` of them (the sums are made in SQL; only the
    leads asked for are read out with their flags and records); with ``only``, of those purchasers."""
    weights = weights or DEFAULT_WEIGHTS
    flags = purchaser_flags(data)
    table = "(VALUES " + ", ".join(f"('{name}', {float(w)}, {int(cap)})" for name, (w, cap) in weights.items()) + ")"
    points = "round(COALESCE(w.weight, 0) * least(f.count, COALESCE(w.cap, 1)) / COALESCE(w.cap, 1), 2)"
    scored = (
        f"SELECT f.subject, round(sum({points}), 2) AS score FROM {flags} f "
        f"LEFT JOIN {table} AS w(indicator, weight, cap) ON w.indicator = f.indicator GROUP BY f.subject"
    )
    conditions: list[str] = []
    params: list[Any] = []
    if threshold is not None:
        conditions.append("score >= ?")
        params.append(threshold)
    if only is not None:
        conditions.append(f"subject IN ({', '.join('?' for _ in only) or 'NULL'})")
        params.extend(only)
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    chosen = f"SELECT subject, score FROM ({scored}) {where} ORDER BY score DESC, subject"
    if limit is not None:
        chosen += f" LIMIT {int(limit)}"
    rows = data.rows(
        f"WITH c AS ({chosen}) SELECT c.subject, c.score, f.indicator, f.count, f.evidence, {points} AS points "
        f"FROM c JOIN {flags} f ON f.subject = c.subject "
        f"LEFT JOIN {table} AS w(indicator, weight, cap) ON w.indicator = f.indicator",
        params,
    )
    found: dict[str, list[Flag]] = defaultdict(list)
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["subject"]] = float(row["score"])
        found[row["subject"]].append(
            Flag(row["indicator"], int(row["count"]), float(row["points"]),
                 tuple(row["evidence"]))
        )  # fmt: skip
    leads = [
        Lead(who, totals[who], tuple(sorted(flags_of, key=lambda f: (-f.points, f.indicator))))
        for who, flags_of in found.items()
    ]
    return sorted(leads, key=lambda lead: (-lead.score, lead.purchaser))


def baseline_by_time_to_crime(data: FirearmsData) -> list[tuple[str, int]]:
    """Purchasers ranked by short time-to-crime traces alone (the baseline the score is measured against)."""
    rows = data.rows(
        "SELECT purchaser, count(*) AS n FROM traces WHERE purchaser IS NOT NULL AND ttc < 1096 "
        "GROUP BY purchaser ORDER BY n DESC, purchaser"
    )
    return [(r["purchaser"], int(r["n"])) for r in rows]


def as_dict(lead: Lead) -> dict[str, Any]:
    """A lead as the API and ``--json`` give it, each flag's label in the current language (a lead
    is kept between requests in any language; its labels are not)."""
    labels = {r.name: r.label for r in rules()}
    return {
        "purchaser": lead.purchaser,
        "score": lead.score,
        "flags": [
            {"indicator": f.indicator, "label": labels[f.indicator], "count": f.count, "points": f.points,
             "evidence": list(f.evidence)}
            for f in lead.flags
        ],
    }  # fmt: skip
