"""The runner: one background thread per server process that claims jobs and runs them.

It runs one job at a time on a connection of its own (the job's work never shares a connection
with the queue's writes: an import's transaction would hold its progress back), while a second
thread stamps the job's heartbeat every few seconds, however long a step takes without
reporting. At start, and every half stale period on PostgreSQL, it looks for jobs whose process
died (``JobQueue.recover``): on DuckDB only one process holds the file, so every job still marked
running at start is one; on PostgreSQL a job is dead when its heartbeat is older than the stale
limit. When the server stops, the job under way is stopped at its next report and put back in
the queue without using up an attempt.

Settings (environment): ``CRUCE_JOB_HEARTBEAT_SECONDS`` (5), ``CRUCE_JOB_STALE_SECONDS`` (60),
``CRUCE_JOB_POLL_SECONDS`` (2: how often an idle runner looks for jobs that another process
queued), ``CRUCE_JOB_ATTEMPTS`` (3: runs of a job before it is failed), ``CRUCE_JOB_KEEP_DAYS``
(90: jobs that ended longer ago are deleted, once an hour; 0 keeps them all).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from cruce.i18n import _
from cruce.jobs.queue import DEFAULT_ATTEMPTS, Job, JobQueue
from cruce.jobs.work import JobContext, JobError, JobStopped, WorkView, work_for

log = logging.getLogger(__name__)
REPORT_EVERY = 0.5  # seconds between two progress writes of one job (a heartbeat each)

V = TypeVar("V", bound=WorkView)


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


PRUNE_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class RunnerSettings:
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 60.0
    poll_seconds: float = 2.0
    stop_seconds: float = 10.0
    attempts: int = DEFAULT_ATTEMPTS
    keep_days: float = 90.0

    @classmethod
    def from_env(cls) -> RunnerSettings:
        return cls(
            heartbeat_seconds=max(0.05, _env_float("CRUCE_JOB_HEARTBEAT_SECONDS", cls.heartbeat_seconds)),
            stale_seconds=max(0.1, _env_float("CRUCE_JOB_STALE_SECONDS", cls.stale_seconds)),
            poll_seconds=max(0.05, _env_float("CRUCE_JOB_POLL_SECONDS", cls.poll_seconds)),
            attempts=max(1, int(_env_float("CRUCE_JOB_ATTEMPTS", cls.attempts))),
            keep_days=max(0.0, _env_float("CRUCE_JOB_KEEP_DAYS", cls.keep_days)),
        )


def worker_name() -> str:
    """This process's name in the job table: host, process id and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _Running:
    """The job under way, and what its heartbeat thread learnt about it."""

    job: Job
    cancel: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    last_report: float = 0.0
    last_message: str | None = None


class Runner(Generic[V]):
    """Claims and runs jobs in a thread; ``start`` once, ``wake`` after enqueueing, ``stop`` at the end."""

    def __init__(
        self,
        open_view: Callable[[], V],
        close_view: Callable[[V], None],
        *,
        backend: str,
        settings: RunnerSettings | None = None,
        after: Callable[[V], None] | None = None,
    ) -> None:
        self.open_view = open_view
        self.close_view = close_view
        self.backend = backend
        self.settings = settings or RunnerSettings.from_env()
        self.after = after
        self.worker = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue_view: V | None = None
        self._queue: JobQueue | None = None
        self._queue_lock = threading.Lock()
        self.recovered: dict[str, list[str]] = {}

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cruce-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for work now (a job was just queued by this process)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the job under way at its next report (back to the queue), then the thread."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.settings.stop_seconds)
            if self._thread.is_alive():  # a step that does not report: the next start resumes the job
                log.warning("the job runner did not stop within %.0f s", self.settings.stop_seconds)
                return
        self._close_queue()

    # -- the loop --------------------------------------------------------------------------------
    def _queue_now(self) -> JobQueue:
        with self._queue_lock:
            if self._queue is None:
                self._queue_view = self.open_view()
                self._queue = JobQueue(self._queue_view.store)
            return self._queue

    def _close_queue(self) -> None:
        with self._queue_lock:
            view, self._queue_view, self._queue = self._queue_view, None, None
        if view is not None:
            try:
                self.close_view(view)
            except Exception as exc:  # closing a broken connection
                log.debug("closing the job queue's connection failed: %s", type(exc).__name__)

    def _loop(self) -> None:
        next_recovery = next_prune = 0.0
        first = True
        while not self._stop.is_set():
            try:
                queue = self._queue_now()
                if time.monotonic() >= next_recovery:
                    self._recover(queue, first)
                    first = False
                    next_recovery = time.monotonic() + self.settings.stale_seconds / 2
                if self.settings.keep_days > 0 and time.monotonic() >= next_prune:
                    queue.prune(self.settings.keep_days)
                    next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                job = queue.claim(self.worker)
            except Exception as exc:  # the database is away: try again later on a new connection
                log.warning("the job runner cannot reach the store: %s", type(exc).__name__)
                self._close_queue()
                self._stop.wait(self.settings.poll_seconds)
                continue
            if job is None:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()
                continue
            try:
                self._run(queue, job)
            except Exception as exc:  # its end could not be written: the job is recovered as stale
                log.warning("job %s: its outcome could not be written: %s", job.id, type(exc).__name__)
                self._close_queue()
        self._close_queue()

    def _recover(self, queue: JobQueue, first: bool) -> None:
        # No job of this runner is under way now (it runs one at a time, in this thread), so any
        # job marked running is another process's or one this runner could not end.
        if self.backend == "duckdb":
            if not first:
                return  # nobody else runs jobs on this file
            found = queue.recover(None)
        else:
            found = queue.recover(self.settings.stale_seconds)
        for state, ids in found.items():
            if ids:
                log.warning("%d job(s) whose server stopped while they ran: %s", len(ids), state)
                self.recovered.setdefault(state, []).extend(ids)

    # -- one job ---------------------------------------------------------------------------------
    def _run(self, queue: JobQueue, job: Job) -> None:
        running = _Running(job)
        beat = threading.Thread(target=self._heartbeat, args=(queue, running), name=f"job-{job.id}", daemon=True)
        beat.start()
        view: V | None = None
        try:
            view = self.open_view()
            context = JobContext(job, view, lambda d, t, m: self._report(queue, running, d, t, m))
            result = work_for(job.kind)(context)
            self._end(queue.finish(job.id, self.worker, result), job, "done")
        except JobStopped as stop:
            self._stopped(queue, job, stop.reason)
        except JobError as exc:
            self._end(queue.fail(job.id, self.worker, str(exc)), job, "failed")
        except Exception as exc:  # a bug: keep the server up, tell the user, log the type only
            log.error("job %s (%s) failed: %s", job.id, job.kind, type(exc).__name__)
            error = _("An unexpected error stopped the job: {name}.").format(name=type(exc).__name__)
            self._end(queue.fail(job.id, self.worker, error), job, "failed")
        finally:
            running.ended.set()
            beat.join(self.settings.heartbeat_seconds + 5)
            if view is not None:
                if self.after is not None:
                    self._quietly(self.after, view)
                self._quietly(self.close_view, view)

    def _stopped(self, queue: JobQueue, job: Job, reason: str) -> None:
        if reason == "cancelled":
            self._end(queue.cancelled(job.id, self.worker), job, "cancelled")
        elif reason == "stopping":
            queue.release(job.id, self.worker)
        else:  # lost: another process took the job over; what it does stands
            log.warning("job %s was taken over by another process", job.id)

    @staticmethod
    def _end(written: bool, job: Job, state: str) -> None:
        if not written:
            log.warning("job %s ended (%s) after another process had taken it over", job.id, state)

    @staticmethod
    def _quietly(step: Callable[[Any], None], view: Any) -> None:
        try:
            step(view)
        except Exception as exc:
            log.warning("after a job: %s", type(exc).__name__)

    def _report(self, queue: JobQueue, running: _Running, done: int, total: int, message: str | None) -> None:
        """A job's progress: written at most every ``REPORT_EVERY`` seconds (or when its step
        changes), and the one place where the work is stopped — except a report of completion
        (``done == total``): what the work did is kept by then, so it is not stopped any more."""
        final = 0 < total <= done
        if not final:
            self._check(running)
        now = time.monotonic()
        if message == running.last_message and now - running.last_report < REPORT_EVERY and not final:
            return
        running.last_report, running.last_message = now, message
        try:
            cancel = queue.report(running.job.id, self.worker, done, total, message)
        except Exception as exc:  # the page's progress waits; the work goes on
            log.warning("job %s: progress not written: %s", running.job.id, type(exc).__name__)
            return
        if cancel is None:
            running.lost.set()
        elif cancel:
            running.cancel.set()
        if not final:
            self._check(running)

    def _check(self, running: _Running) -> None:
        if running.lost.is_set():
            raise JobStopped("lost")
        if running.cancel.is_set():
            raise JobStopped("cancelled")
        if self._stop.is_set():
            raise JobStopped("stopping")

    def _heartbeat(self, queue: JobQueue, running: _Running) -> None:
        """Stamp the job alive until it ends (also while the server stops: the job is still under
        way until its next report); note a cancel asked for, or the job lost."""
        while not running.ended.wait(self.settings.heartbeat_seconds):
            try:
                cancel = queue.heartbeat(running.job.id, self.worker)
            except Exception as exc:  # the database is away for a moment; the next beat tries again
                log.warning("job heartbeat failed: %s", type(exc).__name__)
                continue
            if cancel is None:
                running.lost.set()
                return
            if cancel:
                running.cancel.set()
