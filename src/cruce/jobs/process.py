"""The job runner as a process of its own: what ``cruce serve --workers N`` starts beside its web
workers on PostgreSQL (``cruce jobs work``).

Run in a web worker, an import's work took that worker's interpreter from the requests it served
(one Python thread runs at a time in a process), and the requests queued for seconds behind it
(load test, issue #10). In a process of its own, at a lower CPU priority (``CRUCE_JOB_NICE``),
the operating system gives the web workers the CPU first, and the import has what they leave.
The jobs are in the store, so the web workers enqueue and read them as before; this process
claims them (within ``CRUCE_JOB_POLL_SECONDS``). It stops on SIGTERM or SIGINT, or when the
server that started it has ended (``parent``): the job under way goes back to the queue, for the
next start to resume.
"""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from types import FrameType

from cruce.jobs.runner import Runner, RunnerSettings
from cruce.priority import lower_process_priority
from cruce.security import Security
from cruce.store import Store, open_store

PARENT_CHECK_SECONDS = 1.0


@dataclass
class JobView:
    """A connection of the runner's own, with the security tables over it (for the audit)."""

    store: Store
    security: Security


def open_view(db: str) -> JobView:
    store = open_store(db)
    try:
        return JobView(store, Security(store))
    except BaseException:
        store.close()
        raise


def close_view(view: JobView) -> None:
    view.store.close()


def work_until_stopped(db: str, *, parent: int | None = None) -> None:
    """Claim and run jobs until a signal comes or ``parent`` has ended."""
    stop = threading.Event()

    def stopping(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    from cruce.jobs import imports

    imports.SERVES_SEARCHES = False  # the web workers load the search postings they answer from
    lower_process_priority()  # the web workers' requests first
    signal.signal(signal.SIGTERM, stopping)
    signal.signal(signal.SIGINT, stopping)
    close_view(open_view(db))  # the store opens (and is upgraded) before the runner starts
    with open_store(db) as store:
        backend = store.backend
    runner: Runner[JobView] = Runner(
        lambda: open_view(db), close_view, backend=backend, settings=RunnerSettings.from_env()
    )
    runner.start()
    try:
        while not stop.wait(PARENT_CHECK_SECONDS):
            if parent is not None and os.getppid() != parent:
                break  # the server is gone (killed): no job runs without it
    finally:
        runner.stop()
