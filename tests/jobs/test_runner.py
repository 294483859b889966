"""The runner thread: runs what is queued, reports, stops for a cancel or the server's stop, and
picks up at start the jobs that a killed server left running (DuckDB) or whose heartbeat stopped
(PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cruce.jobs import Job, JobContext, JobError, JobQueue, Runner, RunnerSettings
from cruce.jobs import work as job_work
from cruce.web.services import Services, Settings, View

FAST = RunnerSettings(heartbeat_seconds=0.1, stale_seconds=0.5, poll_seconds=0.1, stop_seconds=10)
STEPS = 40


def slow_work(ctx: JobContext) -> dict[str, Any]:
    for step in range(STEPS):
        ctx.progress(step, STEPS, "Working")
        time.sleep(0.02)
    return {"steps": STEPS}


reached, go = threading.Event(), threading.Event()


def work_kept_before_the_cancel(ctx: JobContext) -> dict[str, Any]:
    ctx.progress(0, 1, "Working")
    reached.set()
    go.wait(30)  # the test asks for a cancel meanwhile: too late, the work below is kept
    ctx.progress(1, 1, "Kept")
    return {"kept": True}


def failing_work(ctx: JobContext) -> dict[str, Any]:
    raise JobError("The file is not a CSV file.")


def buggy_work(ctx: JobContext) -> dict[str, Any]:
    raise ZeroDivisionError("a secret from the data")


@pytest.fixture
def services(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "key"))
    made = Services(store_url, Settings(tmp_path / "uploads", 1 << 20))
    yield made
    made.close()


def _runner(services: Services, settings: RunnerSettings = FAST) -> Runner[View]:
    runner = Runner(services.new_view, services.close_view, backend=services.store.backend, settings=settings)
    services.on_close.append(runner.stop)
    return runner


def _use(monkeypatch: pytest.MonkeyPatch, work: Callable[[JobContext], dict[str, Any]]) -> None:
    monkeypatch.setitem(job_work.KIND_FUNCTIONS, "import", f"{__name__}:{work.__name__}")


def _until(queue: JobQueue, job_id: str, test: Callable[[Job], bool], timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = queue.get(job_id)
        if job is not None and test(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {queue.get(job_id)}")


def test_the_runner_runs_a_job_and_keeps_its_progress_and_result(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, slow_work)
    queue = JobQueue(services.store)
    job = queue.enqueue("import", "ana", {"file": "a.csv"})
    runner = _runner(services)
    runner.start()
    seen = _until(queue, job.id, lambda j: j.state == "running" and j.done > 0)
    assert seen.message == "Working"
    assert 0 < seen.percent < 100
    assert seen.heartbeat_at is not None
    done = _until(queue, job.id, lambda j: j.state == "done")
    assert done.result == {"steps": STEPS}
    assert done.worker == runner.worker


def test_a_failure_is_kept_with_its_message_and_a_bug_with_its_type_only(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = JobQueue(services.store)
    runner = _runner(services)
    runner.start()
    _use(monkeypatch, failing_work)
    failed = queue.enqueue("import", "ana", {})
    runner.wake()
    assert _until(queue, failed.id, lambda j: j.state == "failed").error == "The file is not a CSV file."
    _use(monkeypatch, buggy_work)
    bug = queue.enqueue("import", "ana", {})
    runner.wake()
    error = _until(queue, bug.id, lambda j: j.state == "failed").error
    assert error == "An unexpected error stopped the job: ZeroDivisionError."  # not what it said: the data


def test_a_running_job_stops_when_cancelled(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, slow_work)
    queue = JobQueue(services.store)
    job = queue.enqueue("import", "ana", {})
    _runner(services).start()
    _until(queue, job.id, lambda j: j.state == "running" and j.done > 0)
    queue.cancel(job.id)
    stopped = _until(queue, job.id, lambda j: j.state != "running")
    assert stopped.state == "cancelled"
    assert stopped.done < STEPS - 1


def test_a_cancel_that_comes_once_the_work_is_kept_does_not_undo_it(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, work_kept_before_the_cancel)
    reached.clear()
    go.clear()
    queue = JobQueue(services.store)
    job = queue.enqueue("import", "ana", {})
    _runner(services).start()
    assert reached.wait(30)
    queue.cancel(job.id)
    time.sleep(FAST.heartbeat_seconds * 3)  # the runner has heard of the cancel
    go.set()
    done = _until(queue, job.id, lambda j: not j.active)
    assert (done.state, done.result) == ("done", {"kept": True})


def test_a_job_under_way_when_the_server_stops_waits_for_the_next_start(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, slow_work)
    queue = JobQueue(services.store)
    job = queue.enqueue("import", "ana", {})
    first = _runner(services)
    first.start()
    _until(queue, job.id, lambda j: j.state == "running" and j.done > 0)
    first.stop()
    back = queue.get(job.id)
    assert back is not None
    assert (back.state, back.attempts) == ("queued", 0)
    _runner(services).start()
    assert _until(queue, job.id, lambda j: j.state == "done").attempts == 1


def test_a_new_runner_resumes_the_job_of_a_killed_one(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill leaves the job running with a heartbeat that no longer moves: on DuckDB the next
    runner takes it back at once, on PostgreSQL once its heartbeat is stale."""
    _use(monkeypatch, slow_work)
    queue = JobQueue(services.store)
    job = queue.enqueue("import", "ana", {})
    assert queue.claim("killed-worker") is not None  # claimed, then the process died
    runner = _runner(services)
    runner.start()
    resumed = _until(queue, job.id, lambda j: j.state == "done")
    assert resumed.attempts == 2
    assert runner.recovered["queued"] == [job.id]
