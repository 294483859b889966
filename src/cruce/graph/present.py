"""Answers as plain data (dicts and lists), with names, for the command line and the API alike.

Names come from a ``Namer``: ``StoreNamer`` for the command line (the operator of the database;
protected people stay redacted unless asked for), ``GuardNamer`` for the API, which reads every
entity and record through ``cruce.security.Guard`` — what the principal may not see is left out,
and a protected person's name is redacted for a role that may not read it, as on the entity API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from cruce.graph import questions as q
from cruce.graph.graph import LinkGraph
from cruce.graph.model import FLOWS
from cruce.security.guard import caption
from cruce.security.policy import REDACTED
from cruce.store.base import Entity, Store


@dataclass(frozen=True)
class Label:
    caption: str
    datasets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Evidence:
    id: str
    schema: str
    caption: str
    dataset: str
    file: str
    row: int | None


class Namer(Protocol):
    def labels(self, g: LinkGraph, nodes: list[int]) -> dict[int, Label]:
        """A label for each node that may be shown (nodes left out are hidden)."""
        ...

    def evidence(self, records: list[str]) -> list[Evidence]:
        """The records behind an edge that may be shown."""
        ...


def _evidence(entity: Entity) -> Evidence:
    first = min(entity.statements, key=lambda st: (st.first_seen, st.source_row or 0))
    return Evidence(
        entity.id, entity.schema, caption(entity), first.dataset, first.source_file.rsplit("/", 1)[-1],
        first.source_row,
    )  # fmt: skip


class StoreNamer:
    """Names straight from the store (the command line); protected people redacted unless ``include_protected``."""

    def __init__(self, store: Store, include_protected: bool = False) -> None:
        self.store = store
        self.include_protected = include_protected

    def _entities(self, ids: list[str]) -> dict[str, Entity]:
        found = {}
        for eid, statements in self.store.statements_of(ids).items():
            entity = found[eid] = Entity(eid, statements[0].schema)
            for st in statements:
                entity.add(st)
        return found

    def labels(self, g: LinkGraph, nodes: list[int]) -> dict[int, Label]:
        entities = self._entities([g.id_of(i) for i in nodes])
        out = {}
        for i in nodes:
            entity = entities.get(g.id_of(i))
            text = caption(entity) if entity else g.schema_of(i)
            if g.protected[i] and not self.include_protected:
                text = REDACTED
            out[i] = Label(text, tuple(entity.datasets) if entity else ())
        return out

    def evidence(self, records: list[str]) -> list[Evidence]:
        entities = self._entities(records)
        return [_evidence(entities[r]) for r in records if r in entities]


class GuardNamer:
    """Names through the guard, for one principal (the API)."""

    def __init__(self, guard: Any, principal: Any, address: str | None = None) -> None:
        self.guard = guard
        self.principal = principal
        self.address = address
        self.access = guard.access(principal)

    def labels(self, g: LinkGraph, nodes: list[int]) -> dict[int, Label]:
        ids = {g.id_of(i): i for i in nodes}
        shown = self.guard.entities_by_id(self.principal, list(ids), access=self.access, address=self.address)
        out = {}
        for eid, i in ids.items():
            entity = shown.get(eid)
            if entity is None:
                continue  # the canonical record is not visible to this principal: the node is hidden
            text = caption(entity)
            if g.protected[i] and not set(g.datasets_of(i)) <= set(self.access.caseload):
                text = REDACTED  # a protected person merged with other records stays protected
            out[i] = Label(text, tuple(entity.datasets))
        return out

    def evidence(self, records: list[str]) -> list[Evidence]:
        shown = self.guard.entities_by_id(self.principal, records, access=self.access, address=self.address)
        return [_evidence(shown[r]) for r in records if r in shown]


# -- shapes ------------------------------------------------------------------------------------------
def node_out(g: LinkGraph, i: int, label: Label, **extra: Any) -> dict[str, Any]:
    return {
        "id": g.id_of(i), "schema": g.schema_of(i), "caption": label.caption, "flows": g.flows_of(i),
        "degree": int(g.degree[i]), **extra,
    }  # fmt: skip


def edge_out(g: LinkGraph, e: int, namer: Namer | None = None) -> dict[str, Any]:
    first, last = q.edge_span(g, e)
    bits = int(g.edge_flows[e])
    out: dict[str, Any] = {
        "source": g.id_of(int(g.src[e])), "target": g.id_of(int(g.dst[e])), "type": g.etypes[int(g.etype[e])],
        "count": int(g.count[e]), "first": first, "last": last,
        "flows": [f for k, f in enumerate(FLOWS) if bits >> k & 1], "datasets": g.edge_datasets(e),
        "records": g.edge_records(e),
    }  # fmt: skip
    if namer is not None:
        out["evidence"] = [ev.__dict__ for ev in namer.evidence(out["records"])]
        out["records"] = [ev["id"] for ev in out["evidence"]]
    return out


def neighbourhood_out(g: LinkGraph, nb: q.Neighbourhood, namer: Namer) -> dict[str, Any]:
    labels = namer.labels(g, [int(i) for i in nb.nodes])
    nodes = [node_out(g, int(i), labels[int(i)], distance=int(d)) for i, d in zip(nb.nodes, nb.distance, strict=True)
             if int(i) in labels]  # fmt: skip
    shown = {int(i) for i in labels}
    edges = [edge_out(g, int(e)) for e in nb.edges if int(g.src[e]) in shown and int(g.dst[e]) in shown]
    by_type: dict[str, int] = {}
    for node in nodes:
        by_type[node["schema"]] = by_type.get(node["schema"], 0) + 1
    return {
        "center": g.id_of(nb.center), "nodes": nodes, "edges": edges, "by_type": by_type,
        "reached": len(nodes), "truncated": nb.truncated,
    }  # fmt: skip


def paths_out(g: LinkGraph, found: list[q.Path], namer: Namer) -> list[dict[str, Any]]:
    """Each path with its nodes and, for every edge, the records behind it; a path with a node or
    an edge the namer may not show is left out whole."""
    labels = namer.labels(g, sorted({i for p in found for i in p.nodes}))
    out = []
    for p in found:
        if any(i not in labels for i in p.nodes):
            continue
        edges = [edge_out(g, e, namer) for e in p.edges]
        if any(not e["evidence"] for e in edges):
            continue
        out.append({"length": len(p.edges), "nodes": [node_out(g, i, labels[i]) for i in p.nodes], "edges": edges})
    return out


def ranked_out(g: LinkGraph, ranked: list[q.Ranked], namer: Namer, key: str = "score") -> list[dict[str, Any]]:
    labels = namer.labels(g, [r.node for r in ranked])
    return [node_out(g, r.node, labels[r.node], **{key: r.score}) for r in ranked if r.node in labels]


def communities_out(g: LinkGraph, total: int, found: list[q.Community], namer: Namer, method: str) -> dict[str, Any]:
    labels = namer.labels(g, sorted({i for c in found for i in c.top}))
    items = []
    for c in found:
        item = {k: v for k, v in c.__dict__.items() if k != "top"}
        item["top"] = [node_out(g, i, labels[i]) for i in c.top if i in labels]
        items.append(item)
    return {"method": method, "communities": total, "items": items}


def bridges_out(g: LinkGraph, found: list[q.Bridge], namer: Namer) -> list[dict[str, Any]]:
    labels = namer.labels(g, [b.node for b in found])
    return [
        node_out(g, b.node, labels[b.node], community=b.communities[0], reaches=b.communities[1:],
                 edges_across=b.edges_across)
        for b in found if b.node in labels
    ]  # fmt: skip


def growth_out(g: LinkGraph, grown: q.Growth, namer: Namer) -> dict[str, Any]:
    out = {k: v for k, v in grown.__dict__.items() if k != "top"}
    out["top"] = ranked_out(g, grown.top, namer, key="new_edges")
    return out


def as_int_list(values: np.ndarray) -> list[int]:
    return [int(v) for v in values]
