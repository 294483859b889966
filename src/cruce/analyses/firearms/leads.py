"""One lead in full: the purchaser's flags, what they bought, where their guns were recovered, and
the people their flags link them to (who bought beside them, whose guns were recovered with
theirs, who shares an address or phone with them) — the network around a lead, as rows.
"""

from __future__ import annotations

from typing import Any

from cruce.analyses.firearms.data import FirearmsData
from cruce.analyses.firearms.indicators import purchaser_flags
from cruce.analyses.firearms.score import Lead, score_purchasers

LINKING_RULES = ("recovered_together", "bought_beside_flagged", "shared_contact")


def lead_detail(
    data: FirearmsData, purchaser: str, weights: dict[str, tuple[float, int]] | None = None
) -> dict[str, Any] | None:
    """The lead's score and flags, purchases, traces and linked purchasers (None: no such purchaser)."""
    purchases = data.rows(
        "SELECT purchase, transaction, purchase_date, purchase_state, dealer_ffl, f_type, caliber, model, "
        "multiple_sale FROM purchases WHERE purchaser = ? ORDER BY purchase_date, purchase",
        [purchaser],
    )
    traces = data.rows(
        "SELECT trace, trace_number, recovery_date, recovery_state, municipality, status, purchase_date, "
        "purchase_state, dealer_ffl, ttc AS ttc_days, f_type, caliber, possessor FROM traces "
        "WHERE purchaser = ? ORDER BY recovery_date, trace",
        [purchaser],
    )
    if not purchases and not traces:
        return None
    lead = _lead_of(data, purchaser, weights)
    linked = data.rows(
        f"SELECT DISTINCT unnest(evidence) AS other, indicator FROM {purchaser_flags(data)} "
        f"WHERE subject = ? AND indicator IN ({', '.join(repr(r) for r in LINKING_RULES)}) ORDER BY other, indicator",
        [purchaser],
    )
    others: dict[str, list[str]] = {}
    for row in linked:
        others.setdefault(row["other"], []).append(row["indicator"])
    scores = _scores(data, list(others), weights)
    return {
        "purchaser": purchaser,
        "score": lead.score if lead else 0.0,
        "lead": lead,
        "purchases": purchases,
        "traces": traces,
        "linked": [{"purchaser": other, "through": rules, "score": scores.get(other, 0.0)}
                   for other, rules in sorted(others.items(), key=lambda kv: (-scores.get(kv[0], 0.0), kv[0]))],
    }  # fmt: skip


def _lead_of(data: FirearmsData, purchaser: str, weights: dict[str, tuple[float, int]] | None) -> Lead | None:
    found = score_purchasers(data, weights, only=[purchaser])
    return found[0] if found else None


def _scores(
    data: FirearmsData, purchasers: list[str], weights: dict[str, tuple[float, int]] | None
) -> dict[str, float]:
    if not purchasers:
        return {}
    return {lead.purchaser: lead.score for lead in score_purchasers(data, weights, only=purchasers)}
