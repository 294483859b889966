"""An analysis kept in memory for the server: its tables read once per store state and per set of
visible imports, and each answer computed once, so a dashboard asked again answers at once.

The state is the graph's fingerprint (imports, resolution runs, analysts' decisions): any of them
changes who a purchaser is, so a new one reads the store again, and the states before it are
dropped. A few sets of visible imports are kept for each kind of tables (users of different roles
see different imports); the oldest is dropped first. They were once counted together, four for
every kind: the drugs and violence dashboard alone reads four kinds, so the firearms dashboard
and it dropped each other's tables at every visit, and each visit read the store again (1-6 s a
page under load). Tables not yet read are read by one request; the others asking for them at the
same time wait for it rather than read them too, or, where the tables of the state before are
held, answer from those meanwhile: after an import every dashboard request once queued for seconds
behind the one reading the new state (load test, issue #10), and the state before is a page the
users saw a moment ago. While an import job is under way, the state before answers and the new
one is not read at all: the job's records are in before it has linked them, and each worker read
the tables then, and again once the job was done.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from cruce.analyses.tables import Tables
from cruce.graph.build import fingerprint
from cruce.security.db import AppDB
from cruce.store.memo import import_landing, once, per_import

T = TypeVar("T")
D = TypeVar("D", bound=Tables)
KEPT = 4
"""Sets of visible imports kept per kind of tables (and store)."""

_HELD: OrderedDict[tuple[Hashable, ...], Analysis[Any]] = OrderedDict()
_READING: dict[tuple[Hashable, ...], threading.Event] = {}  # tables being read, set when done
_LOCK = threading.Lock()


class Analysis(Generic[D]):
    """The tables of one store state as one set of users sees them, and the answers given so far."""

    def __init__(self, data: D, earlier: Analysis[D] | None = None) -> None:
        self.data = data
        self.earlier = earlier  # the state before, answering while this one computes (see ``answer``)
        self._answers: dict[Hashable, Any] = {}
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def answer(self, key: Hashable, compute: Callable[[D], T]) -> T:
        """``compute(data)``, once per ``key`` (a figure and its arguments): a request asking while
        another computes it waits for that answer (after an import, every request for the drugs
        and violence dashboard computed its change points at once, each taking the CPU from the
        others). Where the state before this one answered ``key``, a request asking meanwhile gets
        that answer, the figure as it was a moment ago: waiting, a dashboard's requests after an
        import took every worker thread, and the whole server stopped for seconds (issue #10)."""
        while True:
            with self._lock:
                if key in self._answers:
                    return self._answers[key]  # type: ignore[no-any-return]
                computing = self._computing.get(key)
                if computing is None:
                    computing = self._computing[key] = threading.Event()
                    break
                earlier = self.earlier
            if earlier is not None and (before := earlier.answered(key)) is not None:
                return before[0]  # type: ignore[no-any-return]
            computing.wait()  # then look again: answered, or its computation failed
        try:
            found = compute(self.data)
            with self._lock:
                self._answers[key] = found
                if self.earlier is not None and self.earlier.answered_keys() <= self._answers.keys():
                    self.earlier = None  # every figure asked of it is answered here now: let it go
            return found
        finally:
            with self._lock:
                del self._computing[key]
            computing.set()

    def answered(self, key: Hashable) -> tuple[Any] | None:
        """``(answer,)`` when ``key`` was answered here, else None."""
        with self._lock:
            return (self._answers[key],) if key in self._answers else None

    def answered_keys(self) -> set[Hashable]:
        with self._lock:
            return set(self._answers)


def analysis(store: Any, kind: type[D], imports: Sequence[int] | None = None) -> Analysis[D]:
    """The ``kind`` tables (``FirearmsData``…: a ``Tables`` with a ``load(store, imports)``) of
    the store as it is now, over ``imports`` (None: all finished imports)."""
    key = _key(store, kind, imports)
    landing: bool | None = None  # an import job under way: asked only when the state before is held
    while True:
        with _LOCK:
            held = _HELD.get(key)
            if held is not None:
                _HELD.move_to_end(key)
                return held
            reading = _READING.get(key)
            earlier = _earlier(key)
            if reading is None and (earlier is None or landing is False):
                reading = _READING[key] = threading.Event()
                break
            if earlier is not None and (reading is not None or landing):
                return earlier  # another request reads the new state, or the import is not done
        if reading is None:
            landing = import_landing(store)
            continue
        reading.wait()  # then look again: read by the other request, or its read failed
    try:
        with _LOCK:
            earlier = _earlier(key)
        made = Analysis(kind.load(store, imports), earlier)
        if earlier is not None:
            earlier.earlier = None  # one state back at most
        with _LOCK:
            _keep(key, made)
        return made
    finally:
        with _LOCK:
            del _READING[key]
        reading.set()


def _key(store: Any, kind: type[Tables], imports: Sequence[int] | None) -> tuple[Hashable, ...]:
    """The tables' kind, store, state and imports. The state is what the kind reads (``Tables.reads``):
    the finished imports of the record types it reads and the resolution of the types it follows,
    so that an import of gun sales leaves the drugs and violence tables as they are (every import
    once had every kind read again, and a dashboard after an import waited for all of them). Of
    ``imports``, those it reads."""
    reads = kind.reads()
    if reads is None:
        return (kind.__name__, store.url, fingerprint(store), tuple(imports) if imports is not None else None)
    feeding = _feeding(store, reads.schemas)
    state = (feeding, tuple(_resolution(store).get(t) for t in sorted(reads.resolved)))
    shown = None if imports is None else tuple(n for n in imports if n in feeding)
    return (kind.__name__, store.url, state, shown)


def _feeding(store: Any, schemas: frozenset[str]) -> frozenset[int]:
    """The finished imports whose mapping makes records of ``schemas`` (and those whose mapping
    can no longer be read: they may)."""
    mappings: dict[int, str] = per_import(
        store,
        "import mappings",
        lambda: {int(n): str(m) for n, m in store._fetch("SELECT no, mapping FROM import_run")},
    )
    return frozenset(n for n, m in mappings.items() if not _schemas_of(m) or _schemas_of(m) & schemas)


def _resolution(store: Any) -> dict[str, tuple[str, ...]]:
    """Per resolved type, its finished runs and the analysts' decisions (count and latest), read
    once per request."""

    def read() -> dict[str, tuple[str, ...]]:
        db = AppDB(store)
        runs = db.fetch(
            "SELECT entity_type, count(*), max(finished_at) FROM resolution_run WHERE finished_at IS NOT NULL "
            "GROUP BY entity_type"
        )
        decisions = {
            str(r[0]): r[1:]
            for r in db.fetch(
                "SELECT entity_type, count(*), max(made_at), max(undone_at) FROM judgement GROUP BY entity_type"
            )
        }
        found = {str(r[0]): tuple(str(v) for v in r[1:]) for r in runs}
        for kind_of, row in decisions.items():
            found[kind_of] = (*found.get(kind_of, ()), *(str(v) for v in row))
        return found

    return once(("resolution state", store.url), read)


def _earlier(key: tuple[Hashable, ...]) -> Analysis[Any] | None:
    """Tables held for the same kind and store at an earlier state (before an import, a resolution
    run or a decision), over the most of ``key``'s imports and no other (the new import is not
    among them yet, and nothing the reader may not see is). Called with ``_LOCK`` held."""
    name, url, imports = key[0], key[1], key[3]
    best: tuple[int, Analysis[Any]] | None = None
    for (held_name, held_url, _state, held_imports), held in _HELD.items():
        if (held_name, held_url) != (name, url):
            continue
        if not isinstance(imports, tuple) or not isinstance(held_imports, tuple):
            if imports is None and held_imports is None:
                return held
            continue
        if set(held_imports) <= set(imports) and (best is None or len(held_imports) > best[0]):
            best = (len(held_imports), held)
    return best[1] if best else None


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
