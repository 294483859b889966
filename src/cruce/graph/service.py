"""Each question from the store to its answer, for the command line and the API alike.

The graph comes from ``open_graph`` (rebuilt when the store changed); an entity may be named by
any of its record ids, which is taken to its canonical entity; names come from the ``Namer``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cruce.graph import present
from cruce.graph import questions as q
from cruce.graph.graph import LinkGraph
from cruce.graph.present import Namer
from cruce.i18n import _
from cruce.store.base import Store


def canonical_of(store: Store, entity_id: str) -> str:
    """The canonical id of a record (itself when it was never resolved, or is not an id)."""
    from cruce.resolve.store import ResolutionStore
    from cruce.security.guard import _is_uuid

    if not _is_uuid(entity_id.strip()):
        return entity_id
    found = ResolutionStore(store).canonical_of(entity_id.strip())
    return found[0] if found else entity_id.strip()


def node(store: Store, g: LinkGraph, entity_id: str) -> int:
    i = g.index(canonical_of(store, entity_id))
    if i is None:
        raise q.NotInGraphError(_("No entity {id} in the graph (or it is not visible).").format(id=entity_id))
    return i


def filters(
    types: list[str] | None = None,
    relations: list[str] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> q.Filters:
    return q.Filters(tuple(types or ()), tuple(relations or ()), since, until)


def neighbourhood(
    store: Store, g: LinkGraph, namer: Namer, entity_id: str, hops: int, f: q.Filters, max_nodes: int
) -> dict[str, Any]:
    nb = q.neighbourhood(g, node(store, g, entity_id), hops=hops, filters=f, max_nodes=max_nodes)
    return present.neighbourhood_out(g, nb, namer)


def paths(
    store: Store, g: LinkGraph, namer: Namer, a: str, b: str, k: int, f: q.Filters, max_length: int
) -> list[dict[str, Any]]:
    found = q.paths(g, node(store, g, a), node(store, g, b), k=k, filters=f, max_length=max_length)
    return present.paths_out(g, found, namer)


def communities(
    g: LinkGraph, namer: Namer, method: str, resolution: float, seed: int, min_size: int, limit: int
) -> dict[str, Any]:
    membership = q.partition(g, method, resolution, seed)
    total, found = q.communities(g, membership, min_size=min_size, limit=limit)
    return present.communities_out(g, total, found, namer, method)


def key_players(g: LinkGraph, namer: Namer, measure: str, types: list[str], limit: int) -> list[dict[str, Any]]:
    return present.ranked_out(g, q.key_players(g, measure, tuple(types), limit), namer)


def bridges(
    g: LinkGraph, namer: Namer, method: str, resolution: float, seed: int, types: list[str], limit: int
) -> list[dict[str, Any]]:
    membership = q.partition(g, method, resolution, seed)
    return present.bridges_out(g, q.bridges(g, membership, tuple(types), limit), namer)


def cross_flow(g: LinkGraph, namer: Namer, types: list[str], min_flows: int, limit: int) -> list[dict[str, Any]]:
    return present.ranked_out(g, q.cross_flow(g, tuple(types), min_flows, limit), namer, key="flow_count")


def growth(g: LinkGraph, namer: Namer, since: date, until: date, types: list[str], limit: int) -> dict[str, Any]:
    return present.growth_out(g, q.growth(g, since, until, tuple(types), limit), namer)
