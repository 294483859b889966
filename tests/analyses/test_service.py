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
    def reads(cls) -> None:
        return None  # anything: the store's whole state is the key

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


def test_an_earlier_answer_is_given_while_the_new_state_computes_it() -> None:
    """After an import, a dashboard's requests once all waited for the one computing each figure
    of the new state, and took every worker thread of the server."""
    before = service.Analysis(object())
    assert before.answer(("figure",), lambda _d: "as it was") == "as it was"
    after = service.Analysis(object(), before)
    started, release = threading.Event(), threading.Event()

    def slow(_data: object) -> str:
        started.set()
        release.wait(10)
        return "new"

    computing = threading.Thread(target=lambda: after.answer(("figure",), slow))
    computing.start()
    assert started.wait(10)
    assert after.answer(("figure",), lambda _d: "never asked") == "as it was"
    release.set()
    computing.join(10)
    assert after.answer(("figure",), lambda _d: "never asked") == "new"
    assert after.earlier is None  # every figure the state before answered is answered now: let go


def test_a_request_gets_the_state_before_while_another_reads_the_new(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = KINDS[3]
    first = service.analysis(store, kind)  # type: ignore[type-var]
    monkeypatch.setattr(service, "_key", lambda _s, k, _i: (k.__name__, store.url, "new state", None))
    monkeypatch.setattr(kind, "pause", 1.0)
    reader = threading.Thread(target=lambda: service.analysis(store, kind))  # type: ignore[type-var]
    reader.start()
    deadline = time.monotonic() + 10
    while not service._READING and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    assert service.analysis(store, kind) is first  # type: ignore[type-var]  # at once, not after the read
    assert time.monotonic() - started < 0.5
    reader.join(10)
    assert service.analysis(store, kind) is not first  # type: ignore[type-var]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cruce.synth import generate

    out = tmp_path_factory.mktemp("service-scenario")
    generate(out, scale=3_000, seed=5, flows=["drugs", "firearms"])
    return out


def test_an_import_of_other_records_keeps_a_kinds_tables(scenario: Path, tmp_path: Path) -> None:
    """A gun-sales import leaves the violence tables as they were (once every import had every
    dashboard's tables read again); a violence import has them read again, with its events."""
    from cruce.analyses.firearms.data import FirearmsData
    from cruce.analyses.violence import ViolenceData
    from cruce.ingest.pipeline import import_file

    with open_store(tmp_path / "store.duckdb") as store:
        import_file(store, scenario / "violence-events.csv", "acled-events")
        violence = service.analysis(store, ViolenceData)
        events = violence.data.rows("SELECT count(*) AS n FROM events")[0]["n"]
        assert events > 0
        firearms = service.analysis(store, FirearmsData)
        import_file(store, scenario / "gunshop-sales.csv", "example-firearm-purchases")
        assert service.analysis(store, ViolenceData) is violence
        assert service.analysis(store, FirearmsData) is not firearms
        import_file(store, scenario / "violence-events.csv", "acled-events", dataset="violence-again")
        again = service.analysis(store, ViolenceData)
        assert again is not violence
        assert again.data.rows("SELECT count(*) AS n FROM events")[0]["n"] == 2 * events


def test_while_an_import_job_runs_the_tables_before_it_answer(scenario: Path, tmp_path: Path) -> None:
    """The job's records are in before it has linked them: a worker that read the tables then read
    them again once the job was done. While it runs, the state before answers; after, the new."""
    from cruce.analyses.firearms.data import FirearmsData
    from cruce.ingest.pipeline import import_file
    from cruce.jobs.queue import JobQueue

    with open_store(tmp_path / "store.duckdb") as store:
        import_file(store, scenario / "gunshop-sales.csv", "example-firearm-purchases")
        before = service.analysis(store, FirearmsData)
        queue = JobQueue(store)
        job = queue.enqueue("import", "analyst", {"path": "gunshop-sales.csv"})
        assert queue.claim("test-worker") is not None  # the job is under way
        import_file(store, scenario / "gunshop-sales.csv", "example-firearm-purchases", dataset="sales-again")
        assert service.analysis(store, FirearmsData) is before
        assert queue.finish(job.id, "test-worker", {})
        after = service.analysis(store, FirearmsData)
        assert after is not before
        sales = "SELECT count(*) AS n FROM purchases"
        assert after.data.rows(sales)[0]["n"] == 2 * before.data.rows(sales)[0]["n"]


def test_what_a_kind_reads_covers_every_type_its_queries_read() -> None:
    from cruce.analyses.drugs import DrugsData
    from cruce.analyses.firearms.data import FirearmsData

    assert {"DrugSeizure", "CrossingCount", "Location"} <= DrugsData.reads().schemas
    assert not DrugsData.reads().resolved  # ports are places, which are not resolved
    assert {"Person", "Organization", "Firearm"} <= FirearmsData.reads().resolved  # buyers, dealers, guns
