"""Clusters from scored pairs, with an analyst's decisions as must-link and cannot-link constraints.

Pairs at or above the threshold are joined strongest first (union-find). An analyst's "same"
joins two records whatever the model says; "not same" forbids two records from ending in one
cluster, so a link that would join them is skipped — the weaker side of a chain gives way;
"unsure" leaves the pair to the model. A "same" that would break a "not same" is skipped too
(the "not same" is the more cautious decision) and reported. The canonical id of a cluster is
its smallest record id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Clustering:
    table: pa.Table  # entity_id, canonical_id
    conflicts: list[tuple[str, str]] = field(default_factory=list)


class _Forest:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.cannot: dict[int, set[int]] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def forbidden(self, ra: int, rb: int) -> bool:
        small, other = (ra, rb) if len(self.cannot.get(ra, ())) <= len(self.cannot.get(rb, ())) else (rb, ra)
        return any(self.find(x) == other for x in self.cannot.get(small, ()))

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.forbidden(ra, rb):
            return False
        self.parent[rb] = ra
        if rb in self.cannot:
            self.cannot.setdefault(ra, set()).update(self.cannot.pop(rb))
        return True


def cluster(
    ids: Iterable[str],
    pairs: pa.Table,
    threshold: float,
    decisions: Mapping[tuple[str, str], str] | None = None,
) -> Clustering:
    """Cluster ``ids`` from ``pairs`` (id_l, id_r, probability) and the analysts' ``decisions``."""
    names = sorted(set(ids))
    index = {name: i for i, name in enumerate(names)}
    forest = _Forest(len(names))
    decisions = {k: v for k, v in (decisions or {}).items() if k[0] in index and k[1] in index}
    for (a, b), decision in decisions.items():
        if decision == "not_same":
            ia, ib = index[a], index[b]
            forest.cannot.setdefault(ia, set()).add(ib)
            forest.cannot.setdefault(ib, set()).add(ia)
    conflicts = []
    for (a, b), decision in sorted(decisions.items()):
        if decision == "same" and not forest.union(index[a], index[b]):
            conflicts.append((a, b))
    strong = pairs.filter(pc.greater_equal(pairs.column("probability"), threshold))
    if strong.num_rows:
        strong = strong.sort_by([("probability", "descending"), ("id_l", "ascending"), ("id_r", "ascending")])
        judged = set(decisions)
        for a, b in zip(strong.column("id_l").to_pylist(), strong.column("id_r").to_pylist(), strict=True):
            if a not in index or b not in index:
                continue
            ia, ib = index[a], index[b]
            key = (a, b) if a <= b else (b, a)
            if key in judged and decisions[key] != "unsure":
                continue  # the analyst's decision stands instead of the model's
            forest.union(ia, ib)
    smallest: dict[int, str] = {}
    for name, i in index.items():
        root = forest.find(i)
        if root not in smallest or name < smallest[root]:
            smallest[root] = name
    canonical = [smallest[forest.find(index[name])] for name in names]
    table = pa.table({"entity_id": pa.array(names, pa.string()), "canonical_id": pa.array(canonical, pa.string())})
    return Clustering(table, conflicts)
