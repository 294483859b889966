"""The graph in memory: numpy arrays for the attributes, a CSR adjacency, igraph for the algorithms.

Attributes stay in flat arrays indexed by node and edge number (never Python objects per edge),
so that a graph of ten million edges loads in seconds and a filter is one vectorised mask. The
igraph ``Graph`` (undirected: link analysis follows a link either way; each edge keeps the
direction its records gave it in ``src``/``dst``) is made on first use by the questions that need
it (paths, communities, centralities).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import igraph as ig  # type: ignore[import-untyped]
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cruce.graph.build import MAX_DATASET_BITS, Snapshot, build, cache_dir, fingerprint, load, save
from cruce.graph.model import FLOWS
from cruce.graph.stage import drop_stage
from cruce.store.base import Store
from cruce.store.memo import import_landing

NO_DATE_LO = np.iinfo(np.int32).min
NO_DATE_HI = np.iinfo(np.int32).max
EPOCH = date(1970, 1, 1)


def day(value: date | str | None) -> int | None:
    """Days since 1970-01-01 (the unit of ``first``/``last``), or None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return (value - EPOCH).days


OPEN_END = (date(9999, 1, 1) - EPOCH).days  # a relation without an end date is still going on


def to_date(days: int) -> str | None:
    if days in (NO_DATE_LO, NO_DATE_HI) or days >= OPEN_END:
        return None
    return date.fromordinal(EPOCH.toordinal() + int(days)).isoformat()


def _days(column: pa.ChunkedArray, missing: int) -> np.ndarray:
    as_int = (
        pc.cast(column, pa.int32())
        if pa.types.is_date32(column.type)
        else pc.cast(pc.cast(column, pa.date32()), pa.int32())
    )
    return np.asarray(pc.fill_null(as_int, missing).to_numpy(zero_copy_only=False), dtype=np.int32)


def _codes(column: pa.ChunkedArray) -> tuple[np.ndarray, tuple[str, ...]]:
    encoded = pc.dictionary_encode(column).combine_chunks()
    names = tuple(str(x) for x in encoded.dictionary.to_pylist())
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int16), names


def _ids(column: pa.ChunkedArray) -> np.ndarray:
    """Node ids as a sorted fixed-width byte array, for ``np.searchsorted``."""
    if len(column) == 0:
        return np.array([], dtype="S36")
    fixed = pc.cast(pc.cast(column, pa.binary()), pa.binary(36)).combine_chunks()
    return np.frombuffer(fixed.buffers()[1], dtype="S36", count=len(fixed)).copy()


@dataclass
class LinkGraph:
    """One snapshot of the graph, ready for the questions."""

    snapshot: Snapshot
    ids: np.ndarray = field(init=False)
    schema: np.ndarray = field(init=False)
    schemas: tuple[str, ...] = field(init=False)
    src: np.ndarray = field(init=False)
    dst: np.ndarray = field(init=False)
    etype: np.ndarray = field(init=False)
    etypes: tuple[str, ...] = field(init=False)
    first: np.ndarray = field(init=False)
    last: np.ndarray = field(init=False)
    count: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        nodes, edges = self.snapshot.nodes, self.snapshot.edges
        self.ids = _ids(nodes["id"])
        self.schema, self.schemas = _codes(nodes["schema"])
        self.protected = np.asarray(nodes["protected"].to_numpy(zero_copy_only=False), dtype=bool)
        self.node_mask = np.asarray(nodes["datasets_mask"].to_numpy(zero_copy_only=False), dtype=np.uint64)
        self.src = np.asarray(edges["src"].to_numpy(zero_copy_only=False), dtype=np.int32)
        self.dst = np.asarray(edges["dst"].to_numpy(zero_copy_only=False), dtype=np.int32)
        self.etype, self.etypes = _codes(edges["type"])
        self.first = _days(edges["first"], NO_DATE_LO)
        self.last = _days(edges["last"], NO_DATE_HI)
        self.count = np.asarray(edges["count"].to_numpy(zero_copy_only=False), dtype=np.int32)
        self.edge_flows = np.asarray(edges["flows"].to_numpy(zero_copy_only=False), dtype=np.uint8)
        self.edge_mask = np.asarray(edges["datasets_mask"].to_numpy(zero_copy_only=False), dtype=np.uint64)
        own = np.asarray(nodes["flows"].to_numpy(zero_copy_only=False), dtype=np.uint8)
        self.flows = own.copy()  # a node's flows: its own and those of every edge it has
        np.bitwise_or.at(self.flows, self.src, self.edge_flows)
        np.bitwise_or.at(self.flows, self.dst, self.edge_flows)
        self.hidden = np.zeros(self.n, dtype=bool)  # nodes a principal may not see (``restricted``)
        self.partitions: dict[tuple[Any, ...], np.ndarray] = {}
        self._lock = threading.Lock()
        self._scratch = threading.local()

    # -- sizes and lookups ------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def m(self) -> int:
        return len(self.src)

    def index(self, entity_id: str) -> int | None:
        """The node of a canonical id, or None."""
        key = entity_id.strip().lower().encode()
        i = int(np.searchsorted(self.ids, key))
        return i if i < self.n and self.ids[i] == key and not self.hidden[i] else None

    def id_of(self, i: int) -> str:
        return bytes(self.ids[i]).decode()

    def schema_of(self, i: int) -> str:
        return self.schemas[int(self.schema[i])]

    def datasets_of(self, i: int) -> list[str]:
        """The datasets of a node's records (those past the 63rd all, when it has their shared bit)."""
        bits, names = int(self.node_mask[i]), self.snapshot.datasets
        found = [d for k, d in enumerate(names[:MAX_DATASET_BITS]) if bits >> k & 1]
        return found + (list(names[MAX_DATASET_BITS:]) if bits >> MAX_DATASET_BITS & 1 else [])

    def flows_of(self, i: int) -> list[str]:
        bits = int(self.flows[i])
        return [f for k, f in enumerate(FLOWS) if bits >> k & 1]

    def type_codes(self, names: list[str] | None, known: tuple[str, ...]) -> np.ndarray | None:
        """Codes of the names asked for (unknown names match nothing), or None for "all"."""
        if not names:
            return None
        return np.array([known.index(t) for t in names if t in known], dtype=np.int16)

    def marks(self) -> tuple[np.ndarray, int]:
        """(mark, stamp): this thread's array of node marks and a stamp no node carries yet, so that
        a traversal marks what it visits without clearing an array of every node each time."""
        local = self._scratch
        if getattr(local, "mark", None) is None or local.stamp >= np.iinfo(np.int32).max - 1:
            local.mark, local.stamp = np.zeros(self.n, dtype=np.int32), 0
        local.stamp += 1
        return local.mark, int(local.stamp)

    def slots(self, size: int) -> np.ndarray:
        """This thread's scratch array of ``size`` integers (``questions._distinct``), never cleared."""
        local = self._scratch
        found: np.ndarray | None = getattr(local, f"slots_{size}", None)
        if found is None:
            found = np.empty(size, dtype=np.int64)
            setattr(local, f"slots_{size}", found)
        return found

    def depths(self) -> np.ndarray:
        """This thread's array of node depths, meaningful only where ``marks`` stamped a node now."""
        local = self._scratch
        if getattr(local, "depth", None) is None:
            local.depth = np.zeros(self.n, dtype=np.int16)
        depth: np.ndarray = local.depth
        return depth

    @cached_property
    def degree(self) -> np.ndarray:
        return np.bincount(np.concatenate([self.src, self.dst]), minlength=self.n).astype(np.int64)

    @cached_property
    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(indptr, neighbour, edge): both directions of every edge, grouped by node."""
        heads = np.concatenate([self.src, self.dst])
        tails = np.concatenate([self.dst, self.src])
        eids = np.concatenate([np.arange(self.m, dtype=np.int32)] * 2)
        order = np.argsort(heads, kind="stable")
        indptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(heads, minlength=self.n), out=indptr[1:])
        return indptr, tails[order], eids[order]

    @cached_property
    def igraph(self) -> ig.Graph:
        with self._lock:
            edges = np.stack([self.src, self.dst], axis=1).tolist()
            return ig.Graph(n=self.n, edges=edges, directed=False)

    # -- edge records ------------------------------------------------------------------------------
    def edge_records(self, e: int) -> list[str]:
        return [str(x) for x in self.snapshot.edges["records"][e].as_py() or []]

    def edge_datasets(self, e: int) -> list[str]:
        return [str(x) for x in self.snapshot.edges["datasets"][e].as_py() or []]

    # -- what a principal may see ----------------------------------------------------------------
    def visible_mask(self, visible: set[str] | frozenset[str]) -> int | None:
        """The dataset bits of ``visible``, or None when every dataset is visible."""
        names = self.snapshot.datasets
        if all(d in visible for d in names):
            return None
        mask = 0
        for i, name in enumerate(names):
            bit = min(i, MAX_DATASET_BITS)
            if bit < MAX_DATASET_BITS and name in visible:
                mask |= 1 << bit
        if len(names) > MAX_DATASET_BITS and all(d in visible for d in names[MAX_DATASET_BITS:]):
            mask |= 1 << MAX_DATASET_BITS  # the shared last bit counts only when all its datasets are visible
        return mask

    def restricted(self, mask: int) -> LinkGraph:
        """The graph made of the edges (and nodes) with a record in the datasets of ``mask``."""
        bits = np.uint64(mask)
        node_ok = (self.node_mask & bits) != 0
        keep = ((self.edge_mask & bits) != 0) & node_ok[self.src] & node_ok[self.dst]
        edges = self.snapshot.edges.filter(pa.array(keep))
        view = LinkGraph(Snapshot(self.snapshot.nodes, edges, self.snapshot.datasets, self.snapshot.fingerprint,
                                  self.snapshot.built_at, self.snapshot.seconds))  # fmt: skip
        view.hidden = ~node_ok
        return view


# -- the snapshot kept up to date -----------------------------------------------------------------
_LOADED: dict[str, LinkGraph] = {}
_VIEWS: dict[tuple[str, int], LinkGraph] = {}
_GUARD = threading.Lock()


@contextmanager
def _folder_lock(folder: Path, *, wait: bool = True) -> Iterator[bool]:
    """The snapshot folder to this process alone while it is read or built (``flock`` on a file
    beside it): the workers of a team server share the folder, and after an import the one that
    ran it and another asked a question both built into it at once. The second now waits, then
    finds the first one's snapshot; unless ``wait``, it is told the folder is taken (False)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: one process serves
        yield True
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{folder}.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class GraphState:
    graph: LinkGraph
    rebuilt: bool
    folder: Path


def open_graph(
    store: Store,
    *,
    rebuild: bool = False,
    folder: Path | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    current: bool = False,
) -> GraphState:
    """The store's graph, rebuilt when imports, resolution runs or decisions changed since the
    snapshot was made (or when ``rebuild``), on ``engine`` (``cruce.graph.build``); kept in memory
    per process until then. The graph held answers as it is, rather than wait seconds (ADR 0014),
    while another thread or process rebuilds it, and while an import job is under way (the job
    brings it up to date itself, with ``current``, once its records are linked): after an import,
    every network question of a server once waited for the one rebuilding it."""
    folder = folder or cache_dir(store)
    key = fingerprint(store)
    held = _LOADED.get(str(folder))
    if not rebuild and held is not None and held.snapshot.fingerprint == key:
        return GraphState(held, False, folder)
    wait = True  # for another process building into the folder
    if held is not None and not (rebuild or current):
        # an import under way, or another thread bringing it up to date: the graph as it was meanwhile
        if import_landing(store) or not _GUARD.acquire(blocking=False):
            return GraphState(held, False, folder)
        wait = False
    else:
        _GUARD.acquire()
    try:
        return _brought_up_to_date(store, folder, key, rebuild, engine, spark_master, wait=wait)
    finally:
        _GUARD.release()


def _brought_up_to_date(
    store: Store, folder: Path, key: str, rebuild: bool, engine: str, spark_master: str | None, *, wait: bool
) -> GraphState:
    """``open_graph``'s work, with ``_GUARD`` held; unless ``wait``, the graph held while another
    process builds into the folder."""
    held = _LOADED.get(str(folder))
    if held is not None and held.snapshot.fingerprint == key and not rebuild:
        return GraphState(held, False, folder)
    with _folder_lock(folder, wait=wait or held is None) as locked:  # another process may be building
        if not locked and held is not None:
            return GraphState(held, False, folder)
        snapshot = None if rebuild else load(folder)
        rebuilt = snapshot is None or snapshot.fingerprint != key
        if rebuild:
            drop_stage(folder)  # read every record from the store again
        if rebuilt:
            snapshot = build(store, folder, engine=engine, spark_master=spark_master)
            save(snapshot, folder)
    assert snapshot is not None
    graph = LinkGraph(snapshot)
    _LOADED[str(folder)] = graph
    for stale in [k for k in _VIEWS if k[0] == str(folder)]:
        del _VIEWS[stale]
    return GraphState(graph, rebuilt, folder)


def view_for(state: GraphState, visible: set[str] | frozenset[str]) -> LinkGraph:
    """The graph as a principal who sees ``visible`` datasets may see it (cached per mask)."""
    mask = state.graph.visible_mask(visible)
    if mask is None:
        return state.graph
    key = (str(state.folder), mask)
    with _GUARD:
        found = _VIEWS.get(key)
        if found is None or found.snapshot.fingerprint != state.graph.snapshot.fingerprint:
            found = _VIEWS[key] = state.graph.restricted(mask)
        return found


def describe(graph: LinkGraph) -> dict[str, Any]:
    """Sizes and when it was built, for ``cruce graph status`` and the API."""
    return {
        "nodes": graph.n, "edges": graph.m, "built_at": graph.snapshot.built_at,
        "build_seconds": round(graph.snapshot.seconds, 3), "fingerprint": graph.snapshot.fingerprint,
        "datasets": list(graph.snapshot.datasets),
    }  # fmt: skip
