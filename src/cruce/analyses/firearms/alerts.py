"""Firearms alerts, raised after an import (and its incremental linking) for the watches of the
firearms flow (``cruce.resolve.watch``):

- ``flagged``: the import brings a trace whose purchaser was already a lead — a risk score at or
  above the watch's threshold (the leads' default when it has none) over the imports before;
- ``purchases``: the import brings a purchase by a watched purchaser (a record id, followed to its
  resolved entity) that is part of a multiple sale, counting every purchase of theirs.

An alert names the new record (the trace, or the purchase), and ``probability`` holds the
purchaser's score (``flagged``) or the guns in the multiple sale (``purchases``). As for the
linking alerts, a user is alerted only for a record they may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cruce.analyses.firearms.data import FirearmsData
from cruce.analyses.firearms.indicators import purchaser_flags
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, score_purchasers
from cruce.resolve.store import ResolutionStore
from cruce.resolve.watch import AlertChecker, Watch, Watchlists, guard_for

KINDS = ("flagged", "purchases")


def alert_after_import(store: Any, import_ids: Sequence[str]) -> int:
    """Alerts for the firearms watches about what ``import_ids`` brought; how many were written."""
    watchlists = Watchlists(store)
    watches = [w for w in watchlists.watches() if w.kind in KINDS]
    if not watches:
        return 0
    guard = guard_for(store)
    new = {n for n in (guard.import_number(i) for i in import_ids) if n is not None}
    if not new:
        return 0
    import_of = {n: i for i in import_ids if (n := guard.import_number(i)) is not None}
    checker = AlertChecker(store, guard)
    rows: list[tuple[Watch, str, float, str | None]] = []
    flagged = [w for w in watches if w.kind == "flagged"]
    if flagged:
        rows += _flagged(store, guard, checker, watchlists, flagged, new, import_of)
    watched = [w for w in watches if w.kind == "purchases"]
    if watched:
        rows += _multiple_sales(store, checker, watchlists, watched, new, import_of)
    if rows:
        watchlists.write_alerts(rows)
    return len(rows)


def _new_records(store: Any, schema: str, prop: str, numbers: set[int]) -> list[tuple[str, str, int]]:
    """(record, canonical entity it names under ``prop``, import number) of the new ``schema`` records."""
    which = ", ".join(str(int(n)) for n in sorted(numbers))
    rows = store._fetch(
        "SELECT CAST(r.entity_id AS VARCHAR), CAST(COALESCE(c.canonical_id, r.target) AS VARCHAR), r.import_no "
        "FROM entity_ref r JOIN property p ON p.prop_id = r.prop_id "
        "LEFT JOIN entity_cluster c ON c.entity_id = r.target "
        f"WHERE p.schema = ? AND p.prop = ? AND r.import_no IN ({which})",
        (schema, prop),
    )
    return [(str(a), str(b), int(n)) for a, b, n in rows]


def _flagged(
    store: Any, guard: Any, checker: AlertChecker, watchlists: Watchlists, watches: list[Watch], new: set[int],
    import_of: dict[int, str],
) -> list[tuple[Watch, str, float, str | None]]:  # fmt: skip
    traces = _new_records(store, "Trace", "purchaser", new)
    if not traces:
        return []
    before = [n for n in guard.dataset_of_import() if n not in new]
    data = FirearmsData.load(store, before)
    try:
        lowest = min(w.threshold or DEFAULT_THRESHOLD for w in watches)
        scores = {lead.purchaser: lead.score for lead in score_purchasers(data, threshold=lowest)}
    finally:
        data.close()
    rows = []
    for watch in watches:
        principal = checker.principal(watch.username)
        if principal is None:
            continue
        done = watchlists.alerted(watch.id)
        threshold = watch.threshold or DEFAULT_THRESHOLD
        for trace, purchaser, number in traces:
            score = scores.get(purchaser)
            if score is None or score < threshold or trace in done or not checker.visible(principal, trace):
                continue
            rows.append((watch, trace, score, import_of.get(number)))
    return rows


def _multiple_sales(
    store: Any, checker: AlertChecker, watchlists: Watchlists, watches: list[Watch], new: set[int],
    import_of: dict[int, str],
) -> list[tuple[Watch, str, float, str | None]]:  # fmt: skip
    purchases = _new_records(store, "FirearmPurchase", "purchaser", new)
    if not purchases:
        return []
    rs = ResolutionStore(store)
    wanted = {w.id: (found[0] if (found := rs.canonical_of(w.target)) else w.target) for w in watches}
    theirs = [p for p in purchases if p[1] in set(wanted.values())]
    if not theirs:
        return []
    data = FirearmsData.load(store)
    try:
        multiple = data.rows(
            f"SELECT subject, count, evidence FROM {purchaser_flags(data)} "
            "WHERE indicator IN ('multiple_handguns', 'multiple_rifles')"
        )
    finally:
        data.close()
    in_multiple: dict[str, float] = {}
    for row in multiple:
        for purchase in row["evidence"]:
            in_multiple[purchase] = max(in_multiple.get(purchase, 0.0), float(row["count"]))
    rows = []
    for watch in watches:
        principal = checker.principal(watch.username)
        if principal is None:
            continue
        done = watchlists.alerted(watch.id)
        for purchase, purchaser, number in theirs:
            if purchaser != wanted[watch.id] or purchase not in in_multiple or purchase in done:
                continue
            if checker.visible(principal, purchase):
                rows.append((watch, purchase, in_multiple[purchase], import_of.get(number)))
    return rows
