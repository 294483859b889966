"""One lead in full: the purchaser's flags, what they bought, where their guns were recovered, and
the people their flags link them to (who bought beside them, whose guns were recovered with
theirs, who shares an address or phone with them) — the network around a lead, as rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cruce.analyses.firearms.data import FirearmsData
from cruce.analyses.firearms.indicators import purchaser_flags
from cruce.analyses.firearms.score import Lead, as_dict, score_purchasers

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


def people_of(found: dict[str, Any]) -> list[str]:
    """The purchasers a lead in full names: itself, and those linked to it (to be named by the caller)."""
    return [found["purchaser"], *(x["purchaser"] for x in found["linked"])]


def lead_out(found: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """A lead in full as the API, ``--json`` and the page give it: flags labelled in the current
    language, dates as text, each purchaser with the name the caller may show (None otherwise)."""

    def plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()} for row in rows]

    return {
        "purchaser": found["purchaser"],
        "name": names.get(found["purchaser"]),
        "score": found["score"],
        "flags": as_dict(found["lead"])["flags"] if found["lead"] else [],
        "purchases": plain(found["purchases"]),
        "traces": plain(found["traces"]),
        "linked": [{**x, "name": names.get(x["purchaser"])} for x in found["linked"]],
    }
