"""Background jobs: imports and resolution runs that a server runs in a thread, kept in the store.

``JobQueue(store)`` reads and writes the ``job`` table (enqueue, claim, progress, cancel);
``Runner`` is the thread of each server process that claims jobs and runs them; the kinds of
work (``import``, ``resolve``) are in ``cruce.jobs.imports`` and ``cruce.jobs.resolution``.
See docs/guide/web.md#background-jobs.
"""

from cruce.jobs.queue import ACTIVE, KINDS, STATES, Job, JobQueue
from cruce.jobs.runner import Runner, RunnerSettings
from cruce.jobs.work import JobContext, JobError, JobStopped

__all__ = [
    "ACTIVE",
    "KINDS",
    "STATES",
    "Job",
    "JobContext",
    "JobError",
    "JobQueue",
    "JobStopped",
    "Runner",
    "RunnerSettings",
]
