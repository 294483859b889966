"""The questions analysts ask of the graph, as functions of a ``LinkGraph``.

Each returns node and edge numbers with their figures; the surfaces (``cruce graph``, the API)
add names through the store or the ``Guard``. Filters share one meaning everywhere:

- ``types``: node types walked through and returned (the start and end nodes always are);
- ``relations``: edge types followed (``purchaser``, ``member_of``, ``mentions``…);
- ``since``/``until``: only edges whose time span meets the window; an edge without any date
  (a membership recorded without dates) is kept, since nothing says it lies outside. A window
  that ends before it starts holds no dated edge.
"""

from __future__ import annotations

import random
import threading
import warnings
from dataclasses import dataclass, field
from datetime import date

import igraph as ig  # type: ignore[import-untyped]
import leidenalg  # type: ignore[import-untyped]
import numpy as np

from cruce.graph.graph import NO_DATE_HI, NO_DATE_LO, LinkGraph, day
from cruce.graph.model import FLOWS, graph_model
from cruce.i18n import _

MAX_HOPS = 6
MAX_PATHS = 10
MAX_PATH_LENGTH = 12
LEIDEN_ITERATIONS = 2
"""igraph's default. Iterating until nothing moves (-1) took 445 s instead of 4 s on a 1M-edge synth
graph, for a partition of about the same modularity (benchmarks/results/graph.json)."""
DEFAULT_MAX_NODES = 2_000
EXACT_BETWEENNESS_EDGES = 200_000
BETWEENNESS_SAMPLES = 256


class GraphQuestionError(ValueError):
    """A question that cannot be answered as asked (bad bounds, unknown method); the message says why."""


class NotInGraphError(GraphQuestionError):
    """The entity asked about is not in the graph (or not visible to the one asking)."""


@dataclass(frozen=True)
class Filters:
    types: tuple[str, ...] = ()
    relations: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def edge_ok(self, g: LinkGraph, edges: np.ndarray) -> np.ndarray:
        """Which of ``edges`` pass the relation and time filters (a vector over the edges given)."""
        ok = np.ones(len(edges), dtype=bool)
        codes = g.type_codes(list(self.relations), g.etypes)
        if codes is not None:
            ok &= np.isin(g.etype[edges], codes)
        if self.since is not None:
            ok &= g.last[edges] >= (day(self.since) or 0)
        if self.until is not None:
            ok &= g.first[edges] <= (day(self.until) or 0)
        return ok

    def node_ok(self, g: LinkGraph, nodes: np.ndarray) -> np.ndarray:
        codes = g.type_codes(list(self.types), g.schemas)
        ok: np.ndarray = ~g.hidden[nodes]
        return ok if codes is None else ok & np.isin(g.schema[nodes], codes)

    @property
    def empty(self) -> bool:
        return not (self.types or self.relations or self.since or self.until)


@dataclass(frozen=True)
class Neighbourhood:
    center: int
    nodes: np.ndarray  # node numbers, nearest first
    distance: np.ndarray  # hops from the center, aligned with nodes
    edges: np.ndarray  # edge numbers among the nodes returned
    reached: int  # nodes reached before the limit
    truncated: bool


@dataclass(frozen=True)
class Path:
    nodes: list[int]
    edges: list[int]  # edges[i] joins nodes[i] and nodes[i+1]


@dataclass(frozen=True)
class Community:
    id: int
    size: int
    by_type: dict[str, int]
    people: int
    firearms: int
    dealers: int
    places: int
    organizations: int
    events: int
    flows: list[str]
    top: list[int] = field(default_factory=list)  # best-connected entities (not events)


@dataclass(frozen=True)
class Ranked:
    node: int
    score: float


@dataclass(frozen=True)
class Bridge:
    node: int
    communities: list[int]  # the communities it touches, its own first
    edges_across: int


@dataclass(frozen=True)
class Growth:
    since: str
    until: str
    nodes_since: int
    edges_since: int
    nodes_until: int
    edges_until: int
    new_nodes: int
    new_edges: int
    new_edges_by_type: dict[str, int]
    components_until: int
    largest_component_until: int
    undated_edges: int
    top: list[Ranked]  # entities with most new edges


# -- helpers -----------------------------------------------------------------------------------------
def node_of(g: LinkGraph, entity_id: str, canonical: dict[str, str] | None = None) -> int:
    """The node of an entity id (a record id is taken to its canonical entity through ``canonical``)."""
    i = g.index((canonical or {}).get(entity_id, entity_id))
    if i is None:
        raise NotInGraphError(_("No entity {id} in the graph (or it is not visible).").format(id=entity_id))
    return i


def _entity_nodes(g: LinkGraph) -> np.ndarray:
    """A mask of the nodes that are not events (people, organizations, guns, places…)."""
    events = graph_model().event_types
    codes = np.array([i for i, s in enumerate(g.schemas) if s not in events], dtype=np.int16)
    return np.isin(g.schema, codes) & ~g.hidden


def _type_mask(g: LinkGraph, types: tuple[str, ...] | list[str] | None) -> np.ndarray:
    if not types:
        return _entity_nodes(g)
    codes = g.type_codes(list(types), g.schemas)
    return np.isin(g.schema, codes if codes is not None else []) & ~g.hidden


def _gather(indptr: np.ndarray, frontier: np.ndarray) -> np.ndarray:
    """Positions in the CSR arrays of every neighbour slot of the frontier nodes, vectorised."""
    starts, ends = indptr[frontier], indptr[frontier + 1]
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    positions: np.ndarray = np.arange(total, dtype=np.int64) + offsets
    return positions


def _distinct(values: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """``values`` without repeats, in the order of their last occurrence, in linear time: each
    value writes its position into ``scratch`` (one slot per possible value, never cleared: only
    the slots just written are read), and the occurrence whose position stayed is kept."""
    if len(values) < 2:
        return values
    order = np.arange(len(values))
    scratch[values] = order
    kept: np.ndarray = values[scratch[values] == order]
    return kept


# -- neighbourhood ---------------------------------------------------------------------------------
def neighbourhood(
    g: LinkGraph, center: int, hops: int = 2, filters: Filters | None = None, max_nodes: int = DEFAULT_MAX_NODES
) -> Neighbourhood:
    """Everything within ``hops`` of ``center`` along edges that pass the filters, breadth first.

    Stops adding nodes once ``max_nodes`` are reached (``truncated``): the nearest come first, so a
    hub (a port, a big dealer) does not drown the answer."""
    if not 1 <= hops <= MAX_HOPS:
        raise GraphQuestionError(_("hops must be between 1 and {n}").format(n=MAX_HOPS))
    filters = filters or Filters()
    filtered = not filters.empty or bool(g.hidden.any())
    indptr, neighbour, edge = g.csr
    mark, stamp = g.marks()  # mark[i] == stamp: node i is in the answer (no set operations per hop)
    mark[center] = stamp
    order = [np.array([center], dtype=np.int64)]
    distance = [np.zeros(1, dtype=np.int16)]
    kept_edges: list[np.ndarray] = []
    frontier, count, truncated = order[0], 1, False
    for hop in range(1, hops + 1):
        slots = _gather(indptr, frontier)
        if not len(slots):
            break
        nb, ee = neighbour[slots], edge[slots]
        if filtered:
            ok = filters.edge_ok(g, ee) & (filters.node_ok(g, nb) | (nb == center))
            nb, ee = nb[ok], ee[ok]
        kept_edges.append(ee)
        new = _distinct(nb[mark[nb] != stamp], g.slots(g.n)).astype(np.int64)
        if not len(new):
            break
        if len(new) > max_nodes - count:
            truncated = True
            new = new[np.argsort(-g.degree[new], kind="stable")][: max(max_nodes - count, 0)]
        mark[new] = stamp
        order.append(new)
        distance.append(np.full(len(new), hop, dtype=np.int16))
        frontier, count = new, count + len(new)
        if truncated:
            break
    nodes, dist = np.concatenate(order), np.concatenate(distance)
    edges = np.concatenate(kept_edges) if kept_edges else np.zeros(0, dtype=np.int64)
    edges = np.sort(_distinct(edges[(mark[g.src[edges]] == stamp) & (mark[g.dst[edges]] == stamp)], g.slots(g.m)))
    return Neighbourhood(center, nodes, dist, edges, len(nodes), truncated)


# -- paths -------------------------------------------------------------------------------------------
def _filtered_igraph(g: LinkGraph, filters: Filters, ends: tuple[int, int]) -> tuple[object, np.ndarray | None]:
    """igraph of the edges passing the filters (with the map back to edge numbers), or the whole."""
    if filters.empty and not g.hidden.any():
        return g.igraph, None
    all_edges = np.arange(g.m)
    node_ok = filters.node_ok(g, np.arange(g.n))
    node_ok[list(ends)] = True
    keep = filters.edge_ok(g, all_edges) & node_ok[g.src] & node_ok[g.dst]
    kept = np.flatnonzero(keep)
    return g.igraph.subgraph_edges(kept.tolist(), delete_vertices=False), kept


def paths(
    g: LinkGraph, a: int, b: int, k: int = 1, filters: Filters | None = None, max_length: int = MAX_PATH_LENGTH
) -> list[Path]:
    """The shortest path from ``a`` to ``b`` (``k=1``), or the ``k`` shortest loop-free paths
    (Yen's algorithm, in igraph), none longer than ``max_length`` edges."""
    if not 1 <= k <= MAX_PATHS:
        raise GraphQuestionError(_("k must be between 1 and {n}").format(n=MAX_PATHS))
    if not 1 <= max_length <= MAX_PATH_LENGTH:
        raise GraphQuestionError(_("the length of a path must be between 1 and {n}").format(n=MAX_PATH_LENGTH))
    if a == b:
        return [Path([a], [])]
    if k == 1:
        found = _shortest(g, a, b, filters or Filters(), max_length)
        return [found] if found is not None else []
    h, kept = _filtered_igraph(g, filters or Filters(), (a, b))
    with warnings.catch_warnings():  # igraph warns when the two are not connected: that is an empty answer
        warnings.simplefilter("ignore", RuntimeWarning)
        found_paths = h.get_k_shortest_paths(a, b, k=k, mode="all", output="epath")  # type: ignore[attr-defined]
    out = []
    for epath in found_paths:
        if not epath or len(epath) > max_length:
            continue
        edges = [int(kept[e]) if kept is not None else int(e) for e in epath]
        nodes = [a]
        for e in edges:
            u, v = int(g.src[e]), int(g.dst[e])
            nodes.append(v if u == nodes[-1] else u)
        out.append(Path(nodes, edges))
    return out


def _shortest(g: LinkGraph, a: int, b: int, filters: Filters, max_length: int) -> Path | None:
    """One shortest path, by breadth-first search from both ends at once (the smaller frontier
    grows first), over the CSR arrays: it visits the two small balls around the ends instead of
    the ball around one end that reaches the other, and needs no filtered copy of the graph."""
    indptr, neighbour, edge = g.csr
    filtered = not filters.empty or bool(g.hidden.any())
    mark, stamp_a = g.marks()
    _, stamp_b = g.marks()  # one array, two stamps: a node is reached by one side only
    depth = g.depths()
    mark[a], mark[b], depth[a], depth[b] = stamp_a, stamp_b, 0, 0
    sides = {stamp_a: [(np.array([a]), np.array([-1]))], stamp_b: [(np.array([b]), np.array([-1]))]}
    while len(sides[stamp_a]) + len(sides[stamp_b]) - 2 < max_length:
        own = stamp_a if len(sides[stamp_a][-1][0]) <= len(sides[stamp_b][-1][0]) else stamp_b
        other = stamp_b if own == stamp_a else stamp_a
        slots = _gather(indptr, sides[own][-1][0])
        nb, ee = neighbour[slots], edge[slots]
        if filtered:
            ok = filters.edge_ok(g, ee) & (filters.node_ok(g, nb) | (nb == a) | (nb == b))
            nb, ee = nb[ok], ee[ok]
        meets = np.flatnonzero(mark[nb] == other)
        if len(meets):
            best = meets[np.argmin(depth[nb[meets]])]  # the nearest of the other side's nodes met
            return _joined(g, sides, own, other, int(nb[best]), int(ee[best]), a)
        fresh = mark[nb] != own
        nb, ee = nb[fresh], ee[fresh]
        nb, first = np.unique(nb, return_index=True)
        if not len(nb):
            return None
        mark[nb], depth[nb] = own, len(sides[own])
        sides[own].append((nb, ee[first]))
    return None


Levels = list[tuple[np.ndarray, np.ndarray]]  # per breadth-first level: (nodes reached, edge each came by)


def _joined(g: LinkGraph, sides: dict[int, Levels], own: int, other: int, met: int, via: int, a: int) -> Path:
    """The path through edge ``via`` from ``own``'s frontier to ``met``, a node ``other`` reached."""
    u = int(g.src[via]) if int(g.dst[via]) == met else int(g.dst[via])
    own_half, other_half = _back_to_start(g, sides[own], u), _back_to_start(g, sides[other], met)
    nodes = own_half[0][::-1] + other_half[0]
    edges = own_half[1][::-1] + [via] + other_half[1]
    if nodes[0] != a:
        nodes, edges = nodes[::-1], edges[::-1]
    return Path(nodes, edges)


def _back_to_start(g: LinkGraph, levels: Levels, node: int) -> tuple[list[int], list[int]]:
    """(nodes from ``node`` back to the side's start, the edges between them), level by level."""
    nodes, edges = [node], []
    for level in range(len(levels) - 1, 0, -1):
        found = np.flatnonzero(levels[level][0] == node)
        if not len(found):
            continue  # reached at an earlier level
        e = int(levels[level][1][found[0]])
        node = int(g.src[e]) if int(g.dst[e]) == node else int(g.dst[e])
        nodes.append(node)
        edges.append(e)
    return nodes, edges


# -- communities -------------------------------------------------------------------------------------
_RNG_LOCK = threading.Lock()


def partition(g: LinkGraph, method: str = "leiden", resolution: float = 1.0, seed: int = 42) -> np.ndarray:
    """Community of every node: ``leiden`` (igraph's Leiden, modularity with a resolution, fixed
    seed), ``leidenalg`` (the same objective through the leidenalg package: the reference
    implementation, five to seven times slower here, see docs/guide/graph.md) or ``components``.
    Kept on the graph, so that the summary, the bridges and a second call cost nothing."""
    key = (method, float(resolution), int(seed))
    found = g.partitions.get(key)
    if found is not None:
        return found
    if method == "components":
        membership = np.asarray(g.igraph.connected_components().membership, dtype=np.int64)
    elif method == "leiden":
        with _RNG_LOCK:  # igraph draws from one process-wide generator: seed it for this call only
            ig.set_random_number_generator(random.Random(seed))  # noqa: S311 - a seed, for the same answer again
            try:
                part = g.igraph.community_leiden(
                    objective_function="modularity", resolution=resolution, n_iterations=LEIDEN_ITERATIONS
                )
            finally:
                ig.set_random_number_generator(random)
        membership = np.asarray(part.membership, dtype=np.int64)
    elif method == "leidenalg":
        part = leidenalg.find_partition(
            g.igraph, leidenalg.RBConfigurationVertexPartition, resolution_parameter=resolution, seed=seed
        )
        membership = np.asarray(part.membership, dtype=np.int64)
    else:
        raise GraphQuestionError(_("method must be leiden, leidenalg or components"))
    membership = np.where(g.hidden, -1, membership)
    g.partitions[key] = membership
    return membership


def dealer_mask(g: LinkGraph) -> np.ndarray:
    """Organizations that are the dealer of a purchase or a trace."""
    mask = np.zeros(g.n, dtype=bool)
    if "dealer" in g.etypes:
        mask[g.dst[g.etype == g.etypes.index("dealer")]] = True
    return mask


def communities(
    g: LinkGraph, membership: np.ndarray, min_size: int = 3, limit: int = 50, top: int = 5
) -> tuple[int, list[Community]]:
    """(number of communities, a summary of the largest ``limit`` with at least ``min_size`` nodes)."""
    valid = membership >= 0
    sizes = np.bincount(membership[valid]) if valid.any() else np.zeros(0, dtype=np.int64)
    wanted = [int(c) for c in np.argsort(-sizes, kind="stable") if sizes[c] >= min_size][:limit]
    if not wanted:
        return int((sizes > 0).sum()), []
    ns = len(g.schemas)
    counts = np.bincount(membership[valid] * ns + g.schema[valid], minlength=len(sizes) * ns).reshape(-1, ns)
    dealers = np.bincount(membership[valid & dealer_mask(g)], minlength=len(sizes))
    flow_bits = np.zeros(len(sizes), dtype=np.uint8)
    np.bitwise_or.at(flow_bits, membership[valid], g.flows[valid])
    events = graph_model().event_types
    entities = _entity_nodes(g)
    out = []
    for c in wanted:
        by_type = {g.schemas[i]: int(counts[c, i]) for i in range(ns) if counts[c, i]}
        members = np.flatnonzero((membership == c) & entities)
        best = members[np.argsort(-g.degree[members], kind="stable")][:top]
        out.append(
            Community(
                id=c, size=int(sizes[c]), by_type=by_type, people=by_type.get("Person", 0),
                firearms=by_type.get("Firearm", 0), dealers=int(dealers[c]), places=by_type.get("Location", 0),
                organizations=by_type.get("Organization", 0),
                events=sum(n for t, n in by_type.items() if t in events),
                flows=[f for k, f in enumerate(FLOWS) if int(flow_bits[c]) >> k & 1], top=[int(x) for x in best],
            )
        )  # fmt: skip
    return int((sizes > 0).sum()), out


# -- key players and bridges -------------------------------------------------------------------------
def scores(g: LinkGraph, measure: str, seed: int = 42, samples: int = BETWEENNESS_SAMPLES) -> np.ndarray:
    """Degree, PageRank, or betweenness (exact up to ``EXACT_BETWEENNESS_EDGES`` edges; above, from
    ``samples`` random sources, scaled to the whole: Brandes' estimate)."""
    if measure == "degree":
        return g.degree.astype(float)
    if measure == "pagerank":
        return np.asarray(g.igraph.pagerank(directed=False), dtype=float)
    if measure != "betweenness":
        raise GraphQuestionError(_("measure must be degree, pagerank or betweenness"))
    if g.m <= EXACT_BETWEENNESS_EDGES or g.n <= samples:
        return np.asarray(g.igraph.betweenness(directed=False), dtype=float)
    rng = np.random.default_rng(seed)
    sources = rng.choice(np.flatnonzero(g.degree > 0), size=samples, replace=False).tolist()
    partial = np.asarray(g.igraph.betweenness(directed=False, sources=sources), dtype=float)
    return partial * (g.n / samples)


def key_players(
    g: LinkGraph, measure: str = "pagerank", types: tuple[str, ...] = (), limit: int = 20, seed: int = 42
) -> list[Ranked]:
    """The highest-scoring nodes of the types asked for (entities, not events, by default)."""
    values = scores(g, measure, seed=seed)
    candidates = np.flatnonzero(_type_mask(g, types))
    best = candidates[np.argsort(-values[candidates], kind="stable")][:limit]
    return [Ranked(int(i), float(values[i])) for i in best]


def bridges(g: LinkGraph, membership: np.ndarray, types: tuple[str, ...] = (), limit: int = 20) -> list[Bridge]:
    """Nodes whose edges reach into the most other communities: the brokers between groups."""
    cs, cd = membership[g.src], membership[g.dst]
    across = cs != cd
    node = np.concatenate([g.src[across], g.dst[across]]).astype(np.int64)
    other = np.concatenate([cd[across], cs[across]])
    if not len(node):
        return []
    pairs = np.unique(np.stack([node, other], axis=1), axis=0)
    reach = np.bincount(pairs[:, 0], minlength=g.n)
    edges_across = np.bincount(node, minlength=g.n)
    candidates = np.flatnonzero(_type_mask(g, types) & (reach > 0))
    order = np.lexsort((-edges_across[candidates], -reach[candidates]))
    out = []
    for i in candidates[order][:limit]:
        others = pairs[pairs[:, 0] == i, 1].tolist()
        out.append(Bridge(int(i), [int(membership[i]), *[int(c) for c in others]], int(edges_across[i])))
    return out


# -- cross-flow --------------------------------------------------------------------------------------
def popcount(bits: np.ndarray) -> np.ndarray:
    return sum(((bits >> k) & 1).astype(np.int64) for k in range(len(FLOWS)))  # type: ignore[return-value]


def cross_flow(g: LinkGraph, types: tuple[str, ...] = (), min_flows: int = 2, limit: int = 50) -> list[Ranked]:
    """Entities with records or links in at least ``min_flows`` of the three flows (score: how many)."""
    n_flows = popcount(g.flows)
    candidates = np.flatnonzero(_type_mask(g, types) & (n_flows >= min_flows))
    order = np.lexsort((-g.degree[candidates], -n_flows[candidates]))
    return [Ranked(int(i), float(n_flows[i])) for i in candidates[order][:limit]]


# -- growth ------------------------------------------------------------------------------------------
def _nodes_of(g: LinkGraph, edges: np.ndarray) -> np.ndarray:
    return np.unique(np.concatenate([g.src[edges], g.dst[edges]]))


def growth(g: LinkGraph, since: date, until: date, types: tuple[str, ...] = (), limit: int = 10) -> Growth:
    """The network as of ``since`` and as of ``until`` (the dated edges that had begun by then):
    what was added between, by type, and who gained most links (nothing, when ``until`` is not
    after ``since``)."""
    d0, d1 = day(since) or 0, day(until) or 0
    dated = g.first != NO_DATE_LO
    before = np.flatnonzero(dated & (g.first <= d0))
    after = np.flatnonzero(dated & (g.first <= d1))
    new = np.flatnonzero(dated & (g.first > d0) & (g.first <= d1))
    nodes0, nodes1 = _nodes_of(g, before), _nodes_of(g, after)
    by_type = np.bincount(g.etype[new], minlength=len(g.etypes))
    sub = g.igraph.subgraph_edges(after.tolist(), delete_vertices=True)
    sizes = sub.connected_components().sizes() if sub.vcount() else []
    gained = np.bincount(np.concatenate([g.src[new], g.dst[new]]), minlength=g.n)
    candidates = np.flatnonzero(_type_mask(g, types) & (gained > 0))
    best = candidates[np.argsort(-gained[candidates], kind="stable")][:limit]
    return Growth(
        since=since.isoformat(), until=until.isoformat(), nodes_since=len(nodes0), edges_since=len(before),
        nodes_until=len(nodes1), edges_until=len(after), new_nodes=len(np.setdiff1d(nodes1, nodes0)),
        new_edges=len(new), new_edges_by_type={g.etypes[i]: int(n) for i, n in enumerate(by_type) if n},
        components_until=len(sizes), largest_component_until=max(sizes, default=0),
        undated_edges=int((~dated).sum()), top=[Ranked(int(i), float(gained[i])) for i in best],
    )  # fmt: skip


def edge_span(g: LinkGraph, e: int) -> tuple[str | None, str | None]:
    from cruce.graph.graph import to_date

    return to_date(int(g.first[e])), to_date(int(g.last[e])) if g.last[e] != NO_DATE_HI else None
