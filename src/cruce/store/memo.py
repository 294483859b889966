"""Answers read once per web request: the same small query asked again within one page is not run again.

An entity page asks the store several times which imports have finished, what the datasets'
policies are and which entities are protected people — the entity, its links and its timeline
each need them. On DuckDB each of those small queries costs about a millisecond of planning, so
the page spent more time asking again than reading what it shows (issue #4). Within a read-only
request (a GET) nothing it reads changes its answer, except what other threads commit meanwhile,
which the request may as well not see: a request is one moment.

``per_import`` keeps, between requests, what only an import changes (protected people, property
names, the imports themselves, the search index's state on DuckDB), keyed by the store's import
generation, which each request reads once.

``one_request`` opens the memo (the web application does it for GET and HEAD requests; writes
never use it, so a POST that changes a policy and reads it back sees its change); ``once``
answers from it when one is open, and computes every time otherwise (command line, jobs, tests).
The memo lives in a context variable, which Starlette copies into the thread that runs a sync
endpoint; background threads started with ``threading.Thread`` do not inherit it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from cruce.store.base import Store

T = TypeVar("T")

_MEMO: ContextVar[dict[Hashable, Any] | None] = ContextVar("cruce_request_memo", default=None)


@contextmanager
def one_request() -> Iterator[None]:
    """Answers given within this block are kept for the rest of it."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def once(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its answer already given for ``key`` within the current request."""
    memo = _MEMO.get()
    if memo is None:
        return compute()
    if key in memo:
        return memo[key]  # type: ignore[no-any-return]
    value = memo[key] = compute()
    return value


_PER_IMPORT: dict[tuple[str, str], tuple[tuple[Hashable, ...], Any]] = {}  # (store, what) -> (key, answer)
_PER_IMPORT_LOCK = threading.Lock()


def per_import(store: Store, what: str, read: Callable[[], T], *, also: tuple[Hashable, ...] = ()) -> T:
    """``read()``, kept per store until an import finishes (or ``also`` changes). The generation is
    read before the answer, so an answer read while an import commits is at worst a newer one,
    kept until the next request sees the new generation."""
    key = (*store.import_generation(), *also)
    with _PER_IMPORT_LOCK:
        held = _PER_IMPORT.get((store.url, what))
    if held is not None and held[0] == key:
        return held[1]  # type: ignore[no-any-return]
    found = read()
    with _PER_IMPORT_LOCK:
        _PER_IMPORT[(store.url, what)] = (key, found)
    return found


def import_landing(store: Store) -> bool:
    """Whether an import job is under way (in any process: a team server's job process too), read
    once per request. While one is, the search index, the analyses' tables and the graph answer
    from the state before it (ADR 0014): the job brings them up to date itself once its records
    are in, and a worker that did it too spent its interpreter on what the job was doing."""

    def read() -> bool:
        rows = store._fetch("SELECT count(*) FROM job WHERE kind = 'import' AND state = 'running'")  # type: ignore[attr-defined]
        return bool(rows and rows[0][0])

    return once(("import landing", store.url), read)
