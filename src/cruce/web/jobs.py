"""The web side of background jobs: start one (an upload to import, a resolution run), read it,
cancel it; and the runner of this server process.

Jobs live in the store's ``job`` table (``cruce.jobs``), not in this process: any server process
answers for any job (with several workers, the page that polls may reach another process than
the one running the job), and a job survives a restart of the server. A job is visible only to
the user who started it and to admins; to anyone else it does not exist (404).
"""

from __future__ import annotations

from pathlib import Path

from cruce.jobs import Job, JobQueue, Runner, RunnerSettings
from cruce.jobs.imports import import_params
from cruce.jobs.resolution import resolution_params
from cruce.security import Principal
from cruce.web.services import Services, View


class WebJobs:
    """Jobs for the routes of one application; each call uses the calling thread's connection."""

    def __init__(self, services: Services, *, run: bool = True) -> None:
        self.services = services
        self.settings = RunnerSettings.from_env()
        self.runner: Runner[View] | None = None
        if run:
            self.runner = Runner(
                services.new_view, services.close_view, backend=services.store.backend,
                settings=self.settings, after=lambda view: services.tune(view.store),
            )  # fmt: skip
            services.on_close.append(self.runner.stop)
            self.runner.start()

    def _queue(self) -> JobQueue:
        return JobQueue(self.services.view().store)

    def _enqueue(self, kind: str, principal: Principal, params: dict[str, object]) -> Job:
        job = self._queue().enqueue(kind, principal.username, params, max_attempts=self.settings.attempts)
        if self.runner is not None:
            self.runner.wake()
        return job

    def start_import(
        self, principal: Principal, path: Path, mapping: str, dataset: str | None, *, address: str | None
    ) -> Job:
        return self._enqueue("import", principal, import_params(path, mapping, dataset, address))

    def start_resolution(
        self, principal: Principal, entity_type: str, *, retrain: bool, threshold: float | None, address: str | None
    ) -> Job:
        return self._enqueue("resolve", principal, resolution_params(entity_type, retrain, threshold, address))

    def get(self, principal: Principal, job_id: str) -> Job | None:
        return self._queue().visible(job_id, principal.username, principal.is_admin)

    def mine(self, principal: Principal, kind: str | None = None, limit: int = 50) -> list[Job]:
        return self._queue().jobs(owner=principal.username, kind=kind, limit=limit)

    def everyone(self, limit: int = 100) -> list[Job]:
        return self._queue().jobs(limit=limit)

    def cancel(self, principal: Principal, job_id: str) -> Job | None:
        if self.get(principal, job_id) is None:
            return None
        return self._queue().cancel(job_id)
