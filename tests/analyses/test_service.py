"""The analyses kept in memory for the server (``cruce.analyses.service``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cruce.analyses import service
from cruce.store import Store, open_store
from cruce.web.services import _thread_store

LOADS: list[str] = []


class _Kind:
    """A kind of tables that counts its reads (``analysis`` asks only for ``load``)."""

    pause = 0.0

    @classmethod
    def load(cls, store: Store, imports: Sequence[int] | None = None) -> Any:
        LOADS.append(cls.__name__)
        time.sleep(cls.pause)
        return object()


KINDS = [type(f"Kind{i}", (_Kind,), {}) for i in range(service.KEPT + 2)]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(service, "_HELD", type(service._HELD)())
    LOADS.clear()
    with open_store(tmp_path / "store.duckdb") as opened:
        yield opened


def test_each_kind_keeps_its_tables_whatever_the_others_read(store: Store) -> None:
    """Two dashboards that read five kinds between them once dropped each other's tables at every visit."""
    for _round in range(3):
        for kind in KINDS:
            service.analysis(store, kind)  # type: ignore[type-var]
    assert sorted(LOADS) == sorted(k.__name__ for k in KINDS)


def test_a_kinds_oldest_sets_of_imports_go_first(store: Store) -> None:
    kind = KINDS[0]
    for n in range(service.KEPT + 1):
        service.analysis(store, kind, [n])  # type: ignore[type-var]
    service.analysis(store, kind, [service.KEPT])  # type: ignore[type-var]
    assert len(LOADS) == service.KEPT + 1
    service.analysis(store, kind, [0])  # type: ignore[type-var]  # the oldest, dropped
    assert len(LOADS) == service.KEPT + 2


def test_tables_asked_for_at_once_are_read_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = KINDS[1]
    monkeypatch.setattr(kind, "pause", 0.3)
    got: list[object] = []
    views = [_thread_store(store, store.url) for _ in range(4)]  # each thread its own connection, as the server's

    def ask(view: Store) -> None:
        got.append(service.analysis(view, kind))  # type: ignore[type-var]

    threads = [threading.Thread(target=ask, args=(view,)) for view in views]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert [kind.__name__] == LOADS
    assert len(got) == 4
    assert all(g is got[0] for g in got)


def test_a_failed_read_is_tried_again_by_the_next_request(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    kind = KINDS[2]
    calls: list[int] = []

    def failing(store: Store, imports: Sequence[int] | None = None) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the store went away")
        return object()

    monkeypatch.setattr(kind, "load", failing)
    with pytest.raises(RuntimeError):
        service.analysis(store, kind)  # type: ignore[type-var]
    assert service.analysis(store, kind) is not None  # type: ignore[type-var]
    assert len(calls) == 2


def test_a_figure_asked_for_at_once_is_computed_once() -> None:
    held = service.Analysis(object())
    computed: list[int] = []

    def compute(data: object) -> int:
        computed.append(1)
        time.sleep(0.2)
        return 42

    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(held.answer(("figure",), compute))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert got == [42] * 4
    assert len(computed) == 1
