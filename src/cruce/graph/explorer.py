"""What the network explorer page asks beyond the plain questions: a neighbourhood whose cut-off
part is summarised by type, one type of that part brought in on demand, and the links among a
chosen set of entities (a saved chart, a community's members on the chart).

Analysts complain that big graphs become unusable, so a neighbourhood larger than the page's
limit is not dumped: the nearest entities come (``questions.neighbourhood`` keeps the nearest
and best connected), and the rest is counted per type ("+ 1,234 people"). Those counts come from
the graph as the user may see it (``view_for``: only entities with records in datasets they may
see); no name is given for anything counted. Every entity and link that *is* shown is named
through the ``Namer``, as in ``present``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cruce.graph import present, service
from cruce.graph import questions as q
from cruce.graph.graph import LinkGraph
from cruce.graph.present import Namer
from cruce.store.base import Store


def _everything(g: LinkGraph, center: int, hops: int, f: q.Filters) -> q.Neighbourhood:
    """The whole neighbourhood, uncut (numbers only: nothing is named here)."""
    return q.neighbourhood(g, center, hops=hops, filters=f, max_nodes=max(g.n, 1))


def _by_type(g: LinkGraph, nodes: np.ndarray) -> dict[str, int]:
    counts = np.bincount(g.schema[nodes], minlength=len(g.schemas)) if len(nodes) else np.zeros(0, dtype=np.int64)
    return {g.schemas[k]: int(n) for k, n in enumerate(counts) if n}


def neighbourhood(
    store: Store, g: LinkGraph, namer: Namer, entity_id: str, hops: int, f: q.Filters, max_nodes: int
) -> dict[str, Any]:
    """The neighbourhood as ``present.neighbourhood_out`` gives it, plus ``left_out``: how many
    entities of each type lie within ``hops`` but past the limit (empty when nothing was cut)."""
    center = service.node(store, g, entity_id)
    nb = q.neighbourhood(g, center, hops=hops, filters=f, max_nodes=max_nodes)
    out = present.neighbourhood_out(g, nb, namer)
    out["left_out"] = {}
    if nb.truncated:
        full = _everything(g, center, hops, f)
        out["left_out"] = _by_type(g, np.setdiff1d(full.nodes, nb.nodes))
    return out


def _parents(g: LinkGraph, chosen: np.ndarray, distance: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Nodes that join each chosen node back towards the center: for a node at distance d, a
    neighbour at distance d - 1 along an allowed edge, and so on up (one chain per node)."""
    indptr, neighbour, edge = g.csr
    found: set[int] = set()
    pending = [int(i) for i in chosen]
    while pending:
        i = pending.pop()
        d = distance[i]
        if d <= 0:
            continue
        slots = np.arange(indptr[i], indptr[i + 1])
        ok = slots[allowed[edge[slots]] & (distance[neighbour[slots]] == d - 1)]
        if not len(ok):
            continue
        parent = int(neighbour[ok[np.argmax(g.degree[neighbour[ok]])]])
        if parent not in found:
            found.add(parent)
            pending.append(parent)
    return np.array(sorted(found), dtype=np.int64)


def group(
    store: Store,
    g: LinkGraph,
    namer: Namer,
    entity_id: str,
    hops: int,
    f: q.Filters,
    max_nodes: int,
    schema: str,
    limit: int,
) -> dict[str, Any]:
    """Up to ``limit`` entities of type ``schema`` that the neighbourhood cut off (nearest and best
    connected first), with the entities that join them to the chart and the links among them all;
    ``left_out`` counts what is still not shown, by type."""
    center = service.node(store, g, entity_id)
    shown = q.neighbourhood(g, center, hops=hops, filters=f, max_nodes=max_nodes).nodes
    full = _everything(g, center, hops, f)
    distance = np.full(g.n, -1, dtype=np.int64)
    distance[full.nodes] = full.distance
    rest = np.setdiff1d(full.nodes, shown)
    code = g.schemas.index(schema) if schema in g.schemas else -1
    wanted = rest[g.schema[rest] == code]
    wanted = wanted[np.lexsort((-g.degree[wanted], distance[wanted]))][:limit]
    allowed = np.zeros(g.m, dtype=bool)
    allowed[full.edges] = True
    joining = np.setdiff1d(_parents(g, wanted, distance, allowed), shown)
    added = np.union1d(wanted, joining)
    keep = np.zeros(g.n, dtype=bool)
    keep[shown] = True
    keep[added] = True
    new = np.zeros(g.n, dtype=bool)
    new[added] = True
    edges = full.edges[
        keep[g.src[full.edges]] & keep[g.dst[full.edges]] & (new[g.src[full.edges]] | new[g.dst[full.edges]])
    ]
    labels = namer.labels(g, [int(i) for i in added])
    named = {int(i) for i in labels} | {int(i) for i in shown}
    return {
        "center": g.id_of(center),
        "nodes": [present.node_out(g, int(i), labels[int(i)], distance=int(distance[i])) for i in added
                  if int(i) in labels],
        "edges": [present.edge_out(g, int(e)) for e in edges if int(g.src[e]) in named and int(g.dst[e]) in named],
        "left_out": _by_type(g, np.setdiff1d(rest, added)),
    }  # fmt: skip


def indices(g: LinkGraph, ids: list[str]) -> np.ndarray:
    """The nodes of the canonical ids given that are in the graph (as its viewer may see it)."""
    found = (g.index(i) for i in dict.fromkeys(ids))
    return np.array(sorted({i for i in found if i is not None}), dtype=np.int64)


def among(g: LinkGraph, namer: Namer, ids: list[str], membership: np.ndarray | None = None) -> dict[str, Any]:
    """The entities of ``ids`` the namer may show and every link among them; with ``membership``
    (a partition of the graph), each shown entity's community too."""
    labels = namer.labels(g, [int(i) for i in indices(g, ids)])
    shown = np.array(sorted(labels), dtype=np.int64)
    mark = np.zeros(g.n, dtype=bool)
    mark[shown] = True
    indptr, neighbour, edge = g.csr
    slots = q._gather(indptr, shown)  # the CSR walk questions.py already vectorised
    edges = np.unique(edge[slots][mark[neighbour[slots]]])
    out: dict[str, Any] = {
        "nodes": [present.node_out(g, int(i), labels[int(i)]) for i in shown],
        "edges": [present.edge_out(g, int(e)) for e in edges],
    }
    if membership is not None:
        out["membership"] = {g.id_of(int(i)): int(membership[i]) for i in shown}
    return out
