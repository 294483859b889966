"""An analysis kept in memory for the server: its tables read once per store state and per set of
visible imports, and each answer computed once, so a dashboard asked again answers at once.

The state is the graph's fingerprint (imports, resolution runs, analysts' decisions): any of them
changes who a purchaser is, so a new one reads the store again, and the states before it are
dropped. A few sets of visible imports are kept for each kind of tables (users of different roles
see different imports); the oldest is dropped first. They were once counted together, four for
every kind: the drugs and violence dashboard alone reads four kinds, so the firearms dashboard
and it dropped each other's tables at every visit, and each visit read the store again (1-6 s a
page under load). Tables not yet read are read by one request; the others asking for them at the
same time wait for it rather than read them too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from cruce.analyses.tables import Tables
from cruce.graph.build import fingerprint

T = TypeVar("T")
D = TypeVar("D", bound=Tables)
KEPT = 4
"""Sets of visible imports kept per kind of tables (and store)."""

_HELD: OrderedDict[tuple[Hashable, ...], Analysis[Any]] = OrderedDict()
_READING: dict[tuple[Hashable, ...], threading.Event] = {}  # tables being read, set when done
_LOCK = threading.Lock()


class Analysis(Generic[D]):
    """The tables of one store state as one set of users sees them, and the answers given so far."""

    def __init__(self, data: D) -> None:
        self.data = data
        self._answers: dict[Hashable, Any] = {}
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def answer(self, key: Hashable, compute: Callable[[D], T]) -> T:
        """``compute(data)``, once per ``key`` (a figure and its arguments): a request asking while
        another computes it waits for that answer (after an import, every request for the drugs
        and violence dashboard computed its change points at once, each taking the CPU from the
        others)."""
        while True:
            with self._lock:
                if key in self._answers:
                    return self._answers[key]  # type: ignore[no-any-return]
                computing = self._computing.get(key)
                if computing is None:
                    computing = self._computing[key] = threading.Event()
                    break
            computing.wait()  # then look again: answered, or its computation failed
        try:
            found = compute(self.data)
            with self._lock:
                self._answers[key] = found
            return found
        finally:
            with self._lock:
                del self._computing[key]
            computing.set()


def analysis(store: Any, kind: type[D], imports: Sequence[int] | None = None) -> Analysis[D]:
    """The ``kind`` tables (``FirearmsData``…: a ``Tables`` with a ``load(store, imports)``) of
    the store as it is now, over ``imports`` (None: all finished imports)."""
    key = (kind.__name__, store.url, fingerprint(store), tuple(imports) if imports is not None else None)
    while True:
        with _LOCK:
            held = _HELD.get(key)
            if held is not None:
                _HELD.move_to_end(key)
                return held
            reading = _READING.get(key)
            if reading is None:
                reading = _READING[key] = threading.Event()
                break
        reading.wait()  # then look again: read by the other request, or its read failed
    try:
        made = Analysis(kind.load(store, imports))
        with _LOCK:
            _keep(key, made)
        return made
    finally:
        with _LOCK:
            del _READING[key]
        reading.set()


def _keep(key: tuple[Hashable, ...], made: Analysis[Any]) -> None:
    """Hold ``made``; drop the older states of its kind and store, and its kind's oldest past ``KEPT``
    (closed when the last request holding one ends). Called with ``_LOCK`` held."""
    name, url, state = key[0], key[1], key[2]
    for old in [k for k in _HELD if k[0] == name and k[1] == url and k[2] != state]:
        del _HELD[old]
    _HELD[key] = made
    same = [k for k in _HELD if k[0] == name and k[1] == url]
    for old in same[: max(0, len(same) - KEPT)]:
        del _HELD[old]


@cache
def _schemas_of(mapping: str) -> frozenset[str]:
    """The record types a mapping makes (none when it can no longer be read: a custom mapping file
    moved since its import)."""
    from cruce.ingest.mapping import MappingError, load_mapping

    try:
        return frozenset(spec.schema_ for spec in load_mapping(mapping).entities.values())
    except (MappingError, OSError):
        return frozenset()


def sources_of(imports: Sequence[Any], schemas: Sequence[str]) -> list[dict[str, Any]]:
    """The imports (dataset, file, mapping, rows stored) whose mapping makes records of
    ``schemas``: what a figure over those records was computed from."""
    return [
        {"dataset": r.dataset, "file": r.source_file, "mapping": r.mapping, "rows": r.rows_stored,
         "imported": r.finished_at.date().isoformat() if r.finished_at else ""}
        for r in sorted(imports, key=lambda r: (r.dataset, r.source_file))
        if _schemas_of(r.mapping) & set(schemas)
    ]  # fmt: skip
