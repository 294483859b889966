"""The job table on both backends: claims, progress, cancel, visibility, and the jobs of dead processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest

from cruce.jobs import JobQueue
from cruce.jobs.queue import GAVE_UP, RESUMED
from cruce.security.audit import now
from cruce.store import Store, open_store
from tests.conftest import drop_pg_schema, pg_url_or_skip


def _age(queue: JobQueue, job_id: str, seconds: float) -> None:
    """Make a running job's heartbeat ``seconds`` old, as if its process had died then."""
    queue.db.execute("UPDATE job SET heartbeat_at = ? WHERE id = ?", (now() - timedelta(seconds=seconds), job_id))


def test_a_job_is_claimed_reported_and_finished(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("import", "ana", {"file": "sales.csv", "mapping": "m"})
    assert (job.state, job.attempts, job.percent) == ("queued", 0, 0)
    claimed = queue.claim("w1")
    assert claimed is not None
    assert (claimed.id, claimed.state, claimed.worker, claimed.attempts) == (job.id, "running", "w1", 1)
    assert queue.claim("w2") is None  # nothing else is queued
    assert queue.report(job.id, "w1", 50, 200, "Importing") is False
    running = queue.get(job.id)
    assert running is not None
    assert (running.percent, running.message) == (25, "Importing")
    assert queue.report(job.id, "w2", 60, 200, None) is None  # not w2's job
    assert queue.finish(job.id, "w1", {"rows_stored": 3})
    done = queue.get(job.id)
    assert done is not None
    assert (done.state, done.result, done.percent) == ("done", {"rows_stored": 3}, 100)
    assert done.finished_at is not None
    assert not queue.finish(job.id, "w1", {})  # a finished job stays as it ended


def test_jobs_are_claimed_oldest_first_and_only_of_the_kinds_asked(store: Store) -> None:
    queue = JobQueue(store)
    first = queue.enqueue("resolve", "ana", {"type": "Person"})
    second = queue.enqueue("import", "ana", {"file": "a.csv"})
    third = queue.enqueue("import", "ana", {"file": "b.csv"})
    assert queue.claim("w", kinds=["import"]).id == second.id  # type: ignore[union-attr]
    assert queue.claim("w").id == first.id  # type: ignore[union-attr]
    assert queue.claim("w").id == third.id  # type: ignore[union-attr]


def test_a_job_is_visible_to_its_owner_and_admins_only(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("import", "ana", {"file": "sales.csv"})
    assert queue.visible(job.id, "ana", False) is not None
    assert queue.visible(job.id, "boss", True) is not None
    assert queue.visible(job.id, "luis", False) is None
    queue.enqueue("resolve", "luis", {"type": "Person"})
    assert [j.owner for j in queue.jobs(owner="ana")] == ["ana"]
    assert len(queue.jobs()) == 2


def test_cancel_a_waiting_job_at_once_and_a_running_one_at_its_next_report(store: Store) -> None:
    queue = JobQueue(store)
    waiting = queue.enqueue("import", "ana", {})
    running = queue.enqueue("import", "ana", {})
    assert queue.claim("w", kinds=["import"]).id == waiting.id  # type: ignore[union-attr]
    queue.enqueue("import", "ana", {})
    cancelled = queue.cancel(running.id)  # still queued: cancelled now, never claimed
    assert cancelled is not None
    assert cancelled.state == "cancelled"
    asked = queue.cancel(waiting.id)
    assert asked is not None
    assert (asked.state, asked.cancel_requested) == ("running", True)
    assert queue.heartbeat(waiting.id, "w") is True  # the runner learns it at its next beat or report
    assert queue.cancelled(waiting.id, "w")
    assert queue.get(waiting.id).state == "cancelled"  # type: ignore[union-attr]
    assert queue.claim("w").id not in (waiting.id, running.id)  # type: ignore[union-attr]


def test_a_job_whose_worker_died_is_queued_again_then_resumed(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("import", "ana", {"file": "sales.csv"})
    queue.claim("dead")
    alive = queue.enqueue("import", "ana", {"file": "other.csv"})
    queue.claim("alive")
    _age(queue, job.id, 120)
    assert queue.recover(60) == {"cancelled": [], "failed": [], "queued": [job.id]}
    again = queue.get(job.id)
    assert again is not None
    assert (again.state, again.worker, again.message) == ("queued", None, RESUMED)
    assert queue.get(alive.id).state == "running"  # type: ignore[union-attr]  # its heartbeat is fresh
    assert queue.heartbeat(job.id, "dead") is None  # the dead worker, back, no longer holds it
    resumed = queue.claim("new")
    assert resumed is not None
    assert (resumed.id, resumed.attempts) == (job.id, 2)


def test_a_job_that_used_its_attempts_fails_with_the_reason(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("resolve", "ana", {"type": "Person"}, max_attempts=2)
    for attempt in (1, 2):
        claimed = queue.claim(f"w{attempt}")
        assert claimed is not None
        assert claimed.attempts == attempt
        _age(queue, job.id, 120)
        queue.recover(60)
    failed = queue.get(job.id)
    assert failed is not None
    assert (failed.state, failed.error, failed.attempts) == ("failed", GAVE_UP, 2)
    assert queue.claim("w3") is None


def test_a_cancel_asked_of_a_dead_job_cancels_it(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("import", "ana", {})
    queue.claim("dead")
    queue.cancel(job.id)
    _age(queue, job.id, 120)
    assert queue.recover(60)["cancelled"] == [job.id]


def test_at_start_on_one_process_every_running_job_is_recovered(store: Store) -> None:
    queue = JobQueue(store)
    dead = queue.enqueue("import", "ana", {})
    queue.claim("before-the-crash")
    assert queue.recover(None)["queued"] == [dead.id]  # however fresh its heartbeat


def test_a_job_stopped_with_the_server_waits_for_it_without_using_an_attempt(store: Store) -> None:
    queue = JobQueue(store)
    job = queue.enqueue("import", "ana", {})
    queue.claim("w")
    assert queue.release(job.id, "w")
    back = queue.get(job.id)
    assert back is not None
    assert (back.state, back.attempts) == ("queued", 0)


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = pg_url_or_skip()
    yield url
    drop_pg_schema(url)


@pytest.mark.postgres
def test_two_processes_claiming_at_once_never_take_the_same_job(pg_url: str) -> None:
    """FOR UPDATE SKIP LOCKED: each claimer takes the next job that no one holds. (PostgreSQL
    only: one process holds a DuckDB file, and its claims are serialised in that process.)"""
    store_url = pg_url
    jobs = 200
    with open_store(store_url) as store:
        queue = JobQueue(store)
        ids = {queue.enqueue("import", "ana", {"n": n}).id for n in range(jobs)}
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def claimer(name: str) -> None:
        try:
            with open_store(store_url) as own:  # a connection of its own, like a second server process
                queue = JobQueue(own)
                start.wait()
                while (job := queue.claim(name)) is not None:
                    claimed[name].append(job.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    both = claimed["a"] + claimed["b"]
    assert len(both) == len(set(both))  # no job twice
    assert set(both) == ids  # and none left behind while the other held a row
    assert claimed["a"]
    assert claimed["b"]
    with open_store(store_url) as store:
        owners = {j.id: j.worker for j in JobQueue(store).jobs(limit=jobs)}
    assert all(owners[i] == "a" for i in claimed["a"])
    assert all(owners[i] == "b" for i in claimed["b"])


def test_jobs_that_ended_long_ago_are_pruned_and_no_other(store: Store) -> None:
    """Old finished, failed and cancelled jobs go; a recent one, and queued or running ones of any
    age, stay (a job table that only grows slows every page that lists jobs)."""
    queue = JobQueue(store)
    ids: dict[str, str] = {}
    for name in ("old_done", "old_failed", "new_done", "running", "old_cancelled", "queued"):
        ids[name] = queue.enqueue("import", "ana", {"file": f"{name}.csv", "mapping": "m"}).id
        if name in ("old_done", "old_failed", "new_done", "running"):
            claimed = queue.claim("w1")
            assert claimed is not None
            assert claimed.id == ids[name]
    queue.cancel(ids["old_cancelled"])
    assert queue.finish(ids["old_done"], "w1", {})
    assert queue.fail(ids["old_failed"], "w1", "bad file")
    assert queue.finish(ids["new_done"], "w1", {})
    long_ago = now() - timedelta(days=120)
    for name in ("old_done", "old_failed", "old_cancelled"):
        queue.db.execute("UPDATE job SET finished_at = ? WHERE id = ?", (long_ago, ids[name]))
    queue.db.execute("UPDATE job SET created_at = ? WHERE id IN (?, ?)", (long_ago, ids["running"], ids["queued"]))
    assert queue.prune(90) == 3
    left = {job.id for job in queue.jobs(limit=100)}
    assert {ids[n] for n in ("old_done", "old_failed", "old_cancelled")}.isdisjoint(left)
    assert {ids[n] for n in ("new_done", "running", "queued")} <= left
    assert queue.prune(90) == 0
