"""k-anonymous release of counted records: every combination of quasi-identifiers that is released
stands for at least ``k`` victims.

Each quasi-identifier has a generalisation hierarchy (``HIERARCHIES``: age band → wider bands →
minor or adult → any; citizenship → world sub-region → region → any; year → two-year → five-year
period → any; exploitation type → family → any; any other dimension → any). The release is full-
domain generalisation with suppression, as ARX and Sweeney's Datafly do it: one level is chosen
per quasi-identifier, every value is generalised to that level, and the combinations still rarer
than ``k`` are suppressed (left out). The levels are chosen by trying every combination of levels
(the lattice; a few hundred for CTDC's dimensions) and keeping the one that loses the least
information among those that suppress at most ``max_suppressed`` of the records. Information
loss is that of each released record (the mean over the quasi-identifiers of the level it is
generalised to, over the hierarchy's height: Sweeney's precision loss) plus 1 for each suppressed
record, over all records: 0 when everything is released unchanged, 1 when nothing is released.
Past ``MAX_LATTICE`` levels to try, the levels are raised greedily instead (Datafly: the
quasi-identifier with the most distinct values first) until the suppression limit is met.

ANJANA (PyPI ``anjana``, Apache-2.0) was checked first: it is Datafly only, prints rather than
reports what it suppressed, and brings pandas-based pycanon with reportlab and pyreadstat; the
lattice search here is a few dozen lines and gives the report the release needs.

The report names the suppressed combinations and their counts: it is for the analyst who makes
the release, not to be published with it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

ANY = "*"
DEFAULT_K = 10
MAX_SUPPRESSED = 0.05
MAX_LATTICE = 20_000
Value = str | int | None


@dataclass(frozen=True)
class Hierarchy:
    """A quasi-identifier's levels, from its own values (level 0) to ``ANY``: ``levels`` names
    them, ``up(value, level)`` generalises a value to a level."""

    levels: tuple[str, ...]
    up: Callable[[Value, int], Value]

    @property
    def height(self) -> int:
        return len(self.levels) - 1


def _top_only(value: Value, level: int) -> Value:
    return value if level == 0 else ANY


def _year(value: Value, level: int) -> Value:
    if level == 0 or value is None:
        return value if level < 3 else ANY
    if level == 3:
        return ANY
    year = int(value)
    span = 2 if level == 1 else 5
    start = year - year % span
    return f"{start}-{start + span - 1}"


AGE_WIDER = {
    "age_0_8": "0-17", "age_9_17": "0-17", "age_18_20": "18-23", "age_21_23": "18-23",
    "age_24_26": "24-29", "age_27_29": "24-29", "age_30_38": "30-47", "age_39_47": "30-47", "age_48_plus": "48+",
}  # fmt: skip


def _age(value: Value, level: int) -> Value:
    if level == 0 or value is None:
        return value if level < 3 else ANY
    if level == 1:
        return AGE_WIDER.get(str(value), str(value))
    if level == 2:
        return "minor" if value in ("age_0_8", "age_9_17") else "adult"
    return ANY


@cache
def regions() -> dict[str, tuple[str, str]]:
    """ISO alpha-2 code → (M49 sub-region, region), from ``m49_regions.yaml`` (UN Statistics Division)."""
    text = resources.files("cruce.people").joinpath("m49_regions.yaml").read_text(encoding="utf-8")
    table: dict[str, dict[str, list[str]]] = yaml.safe_load(text)
    return {code: (sub, region) for region, subs in table.items() for sub, codes in subs.items() for code in codes}


def _country(value: Value, level: int) -> Value:
    if level == 0 or value is None:
        return value if level < 3 else ANY
    if level == 3:
        return ANY
    found = regions().get(str(value).upper())
    return ANY if found is None else found[level - 1]


EXPLOITATION_FAMILY = {
    "sexual_exploitation": "sexual",
    "forced_labour": "labour", "slavery_and_similar_practices": "labour", "forced_criminality": "labour",
    "forced_military": "labour",
    "forced_marriage": "other", "organ_removal": "other", "other": "other",
}  # fmt: skip


def _exploitation(value: Value, level: int) -> Value:
    if level == 0 or value is None:
        return value if level < 2 else ANY
    return EXPLOITATION_FAMILY.get(str(value), "other") if level == 1 else ANY


HIERARCHIES = {
    "year": Hierarchy(("year", "2-year period", "5-year period", "any"), _year),
    "age_band": Hierarchy(("age band", "wider band", "minor or adult", "any"), _age),
    "citizenship": Hierarchy(("country", "sub-region", "region", "any"), _country),
    "country_of_exploitation": Hierarchy(("country", "sub-region", "region", "any"), _country),
    "exploitation_type": Hierarchy(("type", "family", "any"), _exploitation),
}
FLAT = Hierarchy(("value", "any"), _top_only)


def hierarchy(dimension: str) -> Hierarchy:
    """The generalisation hierarchy of a dimension (value → any, for those without one)."""
    return HIERARCHIES.get(dimension, FLAT)


@dataclass
class Release:
    """The released rows (each combination with ``records`` ≥ k) and the report of how."""

    rows: list[dict[str, Any]]
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    levels: tuple[int, ...]
    counts: Counter[tuple[Value, ...]]
    suppressed: int
    total: int
    loss: float


class _Table:
    """The records grouped by their set of combinations (a victim with several values of a
    multi-valued dimension has several), each group weighed by its records."""

    def __init__(self, records: Iterable[tuple[Hashable, tuple[Value, ...]]], qis: Sequence[str]) -> None:
        per_record: dict[Hashable, set[tuple[Value, ...]]] = {}
        for key, combination in records:
            per_record.setdefault(key, set()).add(combination)
        self.groups = Counter(frozenset(c) for c in per_record.values())
        self.hierarchies = [hierarchy(q) for q in qis]
        self.distinct = [{c[i] for g in self.groups for c in g} for i in range(len(qis))]

    def outcome(self, levels: tuple[int, ...], k: int) -> _Outcome:
        ups = [
            {v: h.up(v, lvl) for v in self.distinct[i]}
            for i, (h, lvl) in enumerate(zip(self.hierarchies, levels, strict=True))
        ]
        counts: Counter[tuple[Value, ...]] = Counter()
        for group, weight in self.groups.items():
            for combination in {tuple(ups[i][v] for i, v in enumerate(c)) for c in group}:
                counts[combination] += weight
        total = sum(counts.values())
        suppressed = sum(n for n in counts.values() if n < k)
        precision = sum(lvl / h.height for h, lvl in zip(self.hierarchies, levels, strict=True)) / len(levels)
        loss = ((total - suppressed) * precision + suppressed) / total if total else 0.0
        return _Outcome(levels, counts, suppressed, total, loss)


def _best(outcomes: Iterable[_Outcome], max_suppressed: float) -> _Outcome | None:
    allowed = [o for o in outcomes if o.suppressed <= max_suppressed * o.total]
    return min(allowed, key=lambda o: (o.loss, o.suppressed, sum(o.levels)), default=None)


def _lattice(table: _Table, k: int, max_suppressed: float) -> _Outcome:
    """The least lossy levels within the suppression limit, every combination of levels tried."""
    heights = [range(h.height + 1) for h in table.hierarchies]
    outcomes = [table.outcome(levels, k) for levels in itertools.product(*heights)]
    top = outcomes[-1]  # everything generalised to ANY: one combination
    return _best(outcomes, max_suppressed) or top


def _greedy(table: _Table, k: int, max_suppressed: float) -> _Outcome:
    """Datafly: raise the level of the quasi-identifier with the most distinct values until the
    suppression limit is met (for lattices too large to try whole)."""
    levels = [0] * len(table.hierarchies)
    found = table.outcome(tuple(levels), k)
    while found.suppressed > max_suppressed * found.total:
        raisable = [i for i, h in enumerate(table.hierarchies) if levels[i] < h.height]
        if not raisable:
            break
        widest = max(raisable, key=lambda i: len({c[i] for c in found.counts}))
        levels[widest] += 1
        found = table.outcome(tuple(levels), k)
    return found


def release(
    records: Iterable[tuple[Hashable, tuple[Value, ...]]],
    qis: Sequence[str],
    k: int = DEFAULT_K,
    max_suppressed: float = MAX_SUPPRESSED,
) -> Release:
    """The k-anonymous counts of ``records`` (``(record, combination of the qis' values)`` pairs)
    over the quasi-identifiers ``qis``: generalised level by level, then the combinations still
    under ``k`` suppressed. Counts are of records: with a multi-valued dimension, a record is counted
    once under each of its (generalised) combinations."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0 <= max_suppressed <= 1:
        raise ValueError("max_suppressed is a share of the records, from 0 to 1")
    table = _Table(records, qis)
    size = 1
    for h in table.hierarchies:
        size *= h.height + 1
    chosen = _lattice(table, k, max_suppressed) if size <= MAX_LATTICE else _greedy(table, k, max_suppressed)
    return Release(_rows(chosen, qis, k), _report(chosen, table, qis, k, max_suppressed, size))


def _order(combination: tuple[Value, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, str(v)) for v in combination)


def _rows(chosen: _Outcome, qis: Sequence[str], k: int) -> list[dict[str, Any]]:
    kept = sorted((c for c, n in chosen.counts.items() if n >= k), key=_order)
    return [{**dict(zip(qis, c, strict=True)), "records": chosen.counts[c]} for c in kept]


def _report(
    chosen: _Outcome, table: _Table, qis: Sequence[str], k: int, max_suppressed: float, size: int
) -> dict[str, Any]:
    rare = sorted((c for c, n in chosen.counts.items() if n < k), key=_order)
    precision = sum(lvl / h.height for h, lvl in zip(table.hierarchies, chosen.levels, strict=True)) / len(qis)
    return {
        "k": k,
        "quasi_identifiers": list(qis),
        "levels": {q: h.levels[lvl] for q, h, lvl in zip(qis, table.hierarchies, chosen.levels, strict=True)},
        "search": "lattice" if size <= MAX_LATTICE else "greedy",
        "max_suppressed": max_suppressed,
        "records": chosen.total,
        "records_released": chosen.total - chosen.suppressed,
        "records_suppressed": chosen.suppressed,
        "rows_released": sum(1 for n in chosen.counts.values() if n >= k),
        "rows_suppressed": len(rare),
        "generalisation_loss": round(precision, 4),
        "information_loss": round(chosen.loss, 4),
        "suppressed": [{**dict(zip(qis, c, strict=True)), "records": chosen.counts[c]} for c in rare],
    }
