"""How well the leads find the straw rings planted in a ``cruce synth`` scenario.

The ring members (``truth/rings.csv``: the purchasers, and the trafficker, who sometimes buys
himself) are followed to their store records (``truth/persons.csv``, as ``cruce.resolve.evaluate.
synth_truth`` does) and on to the canonical purchasers the analyses see; a canonical purchaser is
a ring member when most of its records are. Scored over purchasers: precision@k of the ranking,
and precision and recall of the leads (score at or above the threshold), beside the baseline that
ranks by short time-to-crime alone.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from cruce.analyses.firearms.data import FirearmsData
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, baseline_by_time_to_crime, score_purchasers
from cruce.resolve.evaluate import synth_truth


def ring_people(scenario: Path) -> set[str]:
    """The true people of every ring who bought a gun (purchasers, and traffickers who bought)."""
    with (scenario / "truth" / "rings.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {p for r in rows for p in [r["trafficker_id"], *r["purchaser_ids"].split(";")] if p}


def purchaser_truth(data: FirearmsData, scenario: Path) -> dict[str, str]:
    """Canonical purchaser -> the true person most of its records are."""
    truth = synth_truth(scenario)
    records = data.rows(
        "SELECT DISTINCT purchaser, rec FROM (SELECT purchaser, purchaser_rec AS rec FROM purchases "
        "UNION ALL SELECT purchaser, purchaser_rec FROM traces) WHERE purchaser IS NOT NULL"
    )
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for row in records:
        person = truth.get(row["rec"])
        if person:
            votes[row["purchaser"]][person] += 1
    return {who: count.most_common(1)[0][0] for who, count in votes.items()}


def _precision_recall(
    chosen: list[str], members: set[str], owner: dict[str, str], found_people: set[str]
) -> dict[str, Any]:
    hits = [c for c in chosen if owner.get(c) in members]
    people = {owner[c] for c in hits}
    return {
        "flagged": len(chosen),
        "precision": round(len(hits) / len(chosen), 4) if chosen else None,
        "recall": round(len(people) / len(found_people), 4) if found_people else None,
    }


def evaluate(
    data: FirearmsData,
    scenario: Path,
    weights: dict[str, tuple[float, int]] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    k: int = 50,
) -> dict[str, Any]:
    """Precision@k, and the leads' precision and recall of ring members, beside the baseline's."""
    owner = purchaser_truth(data, scenario)
    members = ring_people(scenario)
    buyers = set(owner)
    found_people = {owner[b] for b in buyers if owner[b] in members}
    ranked = [lead.purchaser for lead in score_purchasers(data, weights, limit=k)]
    flagged = [lead.purchaser for lead in score_purchasers(data, weights, threshold=threshold)]
    base = baseline_by_time_to_crime(data)
    base_ranked = [who for who, _n in base]
    ours = _precision_recall(flagged, members, owner, found_people)
    baseline = _precision_recall(base_ranked, members, owner, found_people)  # any short-TTC trace flags
    return {
        "purchasers": len(buyers),
        "ring_members_among_purchasers": len(found_people),
        "threshold": threshold,
        f"precision_at_{k}": _precision_recall(ranked[:k], members, owner, found_people)["precision"],
        **ours,
        "f1": _f1(ours),
        "baseline": {
            "name": "purchasers with a trace of time-to-crime under three years, ranked by how many",
            f"precision_at_{k}": _precision_recall(base_ranked[:k], members, owner, found_people)["precision"],
            **baseline,
            "f1": _f1(baseline),
        },
    }


def _f1(figures: dict[str, Any]) -> float | None:
    p, r = figures["precision"], figures["recall"]
    return round(2 * p * r / (p + r), 4) if p and r else None
