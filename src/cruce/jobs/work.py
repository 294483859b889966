"""What a job's work is given (``JobContext``), how it stops early, and the registry of kinds.

A kind is a function ``(JobContext) -> dict``: it does the work on the context's store (a
connection of its own) and returns what the job's page shows when it is done. It reports its
progress through ``ctx.progress(done, total, message)``, which is also where it is stopped: a
cancel asked for, the server shutting down, or the job lost to another process all raise there,
so the work ends at a point where it can (an import rolls back; a resolution run is not made
current). A report with ``done == total`` never stops the work: a kind makes it once what it did
is kept (an import committed, a run made current), for the steps that follow. A failure the user
can act on is ``JobError`` with the message to show; anything else is a bug, logged by its type
only.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cruce.jobs.queue import Job
from cruce.security import Security
from cruce.store.base import Store


class JobError(Exception):
    """The job cannot be done; ``str(exc)`` is the message its page shows."""


class JobStopped(BaseException):
    """The work must end now; ``reason`` is why: cancelled, stopping (the server) or lost."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkView(Protocol):
    """A connection to the store for one job, with the security tables over it (for the audit)."""

    store: Store
    security: Security


@dataclass
class JobContext:
    job: Job
    view: WorkView
    progress: Callable[[int, int, str | None], None]

    @property
    def store(self) -> Store:
        return self.view.store

    def audit(self, action: str, *, target: str | None = None, outcome: str = "ok", **detail: Any) -> None:
        """An audit entry in the name of whoever started the job, from where they started it."""
        self.view.security.audit.record(
            self.job.owner, action, target=target, outcome=outcome, detail=detail or None,
            address=self.job.params.get("address"),
        )  # fmt: skip


Work = Callable[[JobContext], dict[str, Any]]

KIND_FUNCTIONS = {
    "import": "cruce.jobs.imports:run_import",
    "resolve": "cruce.jobs.resolution:run_resolution",
}
"""Each kind's work, as "module:function" (imported when a job of the kind first runs)."""


def work_for(kind: str) -> Work:
    module, function = KIND_FUNCTIONS[kind].split(":")
    work: Work = getattr(importlib.import_module(module), function)
    return work
