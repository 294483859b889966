"""What the web application holds while it runs: the store, one connection per worker thread, settings.

FastAPI runs each (synchronous) route in a worker thread. Neither DuckDB nor psycopg lets
threads share one connection, so each thread gets its own view of the same store: a DuckDB
cursor (a second connection to the same database, opened without re-running the start-up
checks, which would take a running import for an interrupted one) or a new PostgreSQL
connection. Each view has its own ``Security`` and ``Guard``; writes to the application tables
are serialised across them by ``cruce.security.db``.
"""

from __future__ import annotations

import contextlib
import copy
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cruce.i18n import _
from cruce.schema.loader import default_schema
from cruce.schema.model import Schema
from cruce.security import Guard, Security
from cruce.store import Store, open_store

DEFAULT_MAX_UPLOAD_MB = 200
READ_THREADS = 1
"""DuckDB threads per query while the web application holds the store. The server answers many
requests at once on a small machine: splitting each one's scans over the cores cost a quarter
more CPU a request in coordination (measured on the entity page and search), for no gain once
the requests themselves keep the cores busy. Imports set their own (``tune`` puts this back
after each web import)."""


TIP_LIMIT, TIP_WINDOW_SECONDS, TIP_FLOOD_CAP = 5, 600.0, 200
"""The tip form's limits: tips per client per window, the window, tips from everyone per window.
A deployment changes them with ``CRUCE_TIP_LIMIT``, ``CRUCE_TIP_WINDOW_SECONDS`` and
``CRUCE_TIP_FLOOD_CAP`` (a load test raises them: its users all come from one address)."""


class SettingError(ValueError):
    """A setting from the environment that cannot be used; the message names the variable."""


def _positive(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise SettingError(
            _("{name}={value}: a positive number is needed (default {default}).").format(
                name=name, value=repr(text), default=f"{default:g}"
            )
        )
    return value


def env_tip_limit() -> int:
    return max(1, int(_positive("CRUCE_TIP_LIMIT", TIP_LIMIT)))


def env_tip_window_seconds() -> float:
    return _positive("CRUCE_TIP_WINDOW_SECONDS", TIP_WINDOW_SECONDS)


def env_tip_flood_cap() -> int:
    return max(1, int(_positive("CRUCE_TIP_FLOOD_CAP", TIP_FLOOD_CAP)))


@dataclass(frozen=True)
class Settings:
    upload_dir: Path
    max_upload_bytes: int
    tip_limit: int = field(default_factory=env_tip_limit)  # tips per client per window
    tip_window_seconds: float = field(default_factory=env_tip_window_seconds)
    tip_flood_cap: int = field(default_factory=env_tip_flood_cap)  # tips from everyone per window
    retention_days: int = 365
    screening_cutoffs: dict[str, int] | None = None  # replaces the instrument's (cruce.people.screening)


@dataclass
class View:
    """One thread's connection to the store, with the security tables and the guard over it."""

    store: Store
    security: Security
    guard: Guard


def default_upload_dir(store_url: str) -> Path:
    """``var/uploads`` beside a DuckDB file, else ``./var/uploads``."""
    if env := os.environ.get("CRUCE_UPLOAD_DIR"):
        return Path(env)
    path = store_url.removeprefix("duckdb:")
    if not path.startswith(("postgresql://", "postgres://")) and path != ":memory:":
        return Path(path).resolve().parent / "uploads"
    return Path("var/uploads").resolve()


def default_max_upload_bytes() -> int:
    return int(float(os.environ.get("CRUCE_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * 1024 * 1024)


def _thread_store(store: Store, url: str) -> Store:
    """Another connection to the same store for another thread, sharing the store's caches (the
    entities read: on PostgreSQL a store opened again per thread kept a cache of its own, and each
    of a worker's threads read the same entities once more)."""
    if store.backend == "duckdb":
        clone = copy.copy(store)
        clone.con = store.con.cursor()  # type: ignore[attr-defined]
        clone._compute = None  # type: ignore[attr-defined]
        return clone
    sibling = getattr(store, "sibling", None)
    return sibling() if sibling is not None else open_store(url)


@dataclass
class Services:
    store_url: str
    settings: Settings
    store: Store = field(init=False)
    schema: Schema = field(init=False)
    _local: threading.local = field(init=False, default_factory=threading.local)
    _views: list[View] = field(init=False, default_factory=list)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    on_close: list[Callable[[], None]] = field(init=False, default_factory=list)
    """Run first by ``close`` (the job runner stops before the connections it uses close)."""
    closed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.store = open_store(self.store_url)
        self.tune()
        self.schema = default_schema()
        try:
            security = Security(self.store)
        except BaseException:
            self.store.close()
            raise
        self._main = View(self.store, security, Guard(self.store, security, self.schema))

    def tune(self, store: Store | None = None) -> None:
        """The store's settings for serving (``READ_THREADS``); an import writer resets them when it ends.

        An import job passes its own view's store: run on the main connection from the job's
        thread, the SET's result was taken by a statement the main thread ran meanwhile (a test
        reading the audit log got no rows that way; another, resolving, a table of "Success").
        The setting belongs to the database, whichever connection of it sets it.
        """
        target = store or self.store
        if target.backend == "duckdb":
            target.con.execute(f"SET threads = {READ_THREADS}")  # type: ignore[attr-defined]

    @property
    def main(self) -> View:
        """The view of the thread that opened the store (start-up, tests' set-up)."""
        return self._main

    def view(self) -> View:
        """This thread's view, made on first use."""
        view: View | None = getattr(self._local, "view", None)
        if view is None:
            store = _thread_store(self.store, self.store_url)
            security = Security(store)
            view = View(store, security, Guard(store, security, self.schema))
            self._local.view = view
            with self._lock:
                self._views.append(view)
        return view

    def new_view(self) -> View:
        """A view for a background thread, to be closed with ``close_view``."""
        store = _thread_store(self.store, self.store_url)
        security = Security(store)
        return View(store, security, Guard(store, security, self.schema))

    @staticmethod
    def close_view(view: View) -> None:
        view.store.close()

    def close(self) -> None:
        """Close every connection (once: a server's shut-down and whoever made it may both ask)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            closers, self.on_close = self.on_close, []
        for closer in closers:
            closer()
        with self._lock:
            views, self._views = self._views, []
        for view in views:
            with contextlib.suppress(Exception):  # closing at shut-down; the main store is closed next
                view.store.close()
        self.store.close()
