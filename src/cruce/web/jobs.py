"""Imports started from the web page: each runs in a background thread with live progress.

The upload has already been saved (``cruce.web.uploads``); the job opens its own connection to
the store, runs ``cruce.ingest.pipeline.import_file`` with a progress callback, and records the
outcome in the audit log. A job is visible only to the user who started it (and to admins).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cruce.ingest.mapping import MappingError
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.ingest.readers import ReadError
from cruce.schema.loader import SchemaError
from cruce.security import Principal
from cruce.store import Store, StoreError
from cruce.web.services import Services

log = logging.getLogger(__name__)

KEEP_FINISHED = 200


@dataclass
class Job:
    id: str
    owner: str
    filename: str
    mapping: str
    dataset: str | None
    state: str = "queued"  # queued, running, linking, done, failed
    done_bytes: int = 0
    total_bytes: int = 0
    result: ImportResult | None = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        if not self.total_bytes:
            return 0
        return min(99, int(100 * self.done_bytes / self.total_bytes))


class ImportJobs:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, principal: Principal, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        if job is None or (job.owner != principal.username and not principal.is_admin):
            return None
        return job

    def mine(self, principal: Principal) -> list[Job]:
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.owner == principal.username]
        return sorted(jobs, key=lambda j: j.started, reverse=True)

    def start(
        self,
        principal: Principal,
        path: Path,
        mapping: str,
        dataset: str | None,
        *,
        address: str | None,
        wait: bool = False,
    ) -> Job:
        job = Job(secrets.token_hex(8), principal.username, path.name, mapping, dataset)
        with self._lock:
            self._jobs[job.id] = job
            if len(self._jobs) > KEEP_FINISHED:
                finished = sorted((j for j in self._jobs.values() if j.finished), key=lambda j: j.started)
                for old in finished[: len(self._jobs) - KEEP_FINISHED]:
                    del self._jobs[old.id]
        thread = threading.Thread(
            target=self._run, args=(job, principal, path, address), name=f"import-{job.id}", daemon=True
        )
        thread.start()
        if wait:
            thread.join()
        return job

    @staticmethod
    def _link(store: Store, import_id: str, principal: Principal) -> None:
        """Link the import's new records to the resolved entities (and raise watchlist alerts).

        Resolution is an extra: when it fails the import stands, and the analyst can run
        ``cruce resolve --incremental`` later; only the exception's type is logged.
        """
        from cruce.resolve.incremental import link_imports

        try:
            link_imports(store, [import_id], actor=principal.username)
        except Exception as exc:  # the import is committed whatever happens here
            log.warning("incremental linking after import %s failed: %s", import_id, type(exc).__name__)
        from cruce.analyses.firearms.alerts import alert_after_import

        try:
            alert_after_import(store, [import_id])
        except Exception as exc:  # alerts are an extra too
            log.warning("firearms alerts after import %s failed: %s", import_id, type(exc).__name__)
        ImportJobs._update_graph(store, import_id)
        ImportJobs._update_search(store, import_id)
        refresh = getattr(store, "refresh_lookup", None)  # DuckDB: entities by key for the pages (ADR 0008)
        if refresh is not None:
            try:
                refresh()
            except Exception as exc:  # reads scan until the next catch-up
                log.warning("entity lookup update after import %s failed: %s", import_id, type(exc).__name__)

    @staticmethod
    def _update_search(store: Store, import_id: str) -> None:
        """Add the import's terms to the search index and load the new index into memory now
        (ADR 0009), so that the first search after the import does not wait for them. An extra:
        the next search does both when this fails."""
        from cruce.schema.loader import default_schema
        from cruce.search import catch_up, state
        from cruce.search import memory as search_memory
        from cruce.security.db import AppDB

        try:
            db = AppDB(store)
            catch_up(db, default_schema())
            now = state(db)
            search_memory.held(db, now.generation, now.entities, wait=True)
        except Exception as exc:
            log.warning("search index update after import %s failed: %s", import_id, type(exc).__name__)

    @staticmethod
    def _update_graph(store: Store, import_id: str) -> None:
        """Bring the link graph up to date now (reading the new import's records only), so that the
        next network question does not wait for it. Like linking, an extra: failures are logged."""
        from cruce.graph.graph import open_graph

        try:
            open_graph(store)
        except Exception as exc:  # the next question builds it again
            log.warning("graph update after import %s failed: %s", import_id, type(exc).__name__)

    def _run(self, job: Job, principal: Principal, path: Path, address: str | None) -> None:
        view = self.services.new_view()
        job.state = "running"

        def on_progress(done: int, total: int) -> None:
            job.done_bytes, job.total_bytes = done, total

        try:
            result = import_file(view.store, path, job.mapping, dataset=job.dataset or None, on_progress=on_progress)
            job.result = result
            if result.statements_added:
                job.state = "linking"
                self._link(view.store, result.import_id, principal)
            job.state = "done"
            view.security.audit.record(
                principal.username,
                "import",
                target=result.dataset,
                detail={
                    "import": result.import_id,
                    "file": path.name,
                    "mapping": job.mapping,
                    "rows_stored": result.rows_stored,
                    "rows_rejected": result.rows_rejected,
                },
                address=address,
            )
        except (ReadError, MappingError, StoreError, SchemaError) as exc:
            job.error = str(exc).replace(str(path.parent), "").lstrip("/")
            job.state = "failed"
            view.security.audit.record(
                principal.username,
                "import",
                target=job.dataset,
                outcome="failed",
                detail={"file": path.name, "mapping": job.mapping},
                address=address,
            )
        except Exception as exc:  # a bug: keep the server up, tell the user, log the type only
            job.error = type(exc).__name__
            job.state = "failed"
        finally:
            job.finished = time.time()
            self.services.tune(view.store)  # the import writer put DuckDB's threads back to its default
            self.services.close_view(view)
            if job.state == "failed":
                shutil.rmtree(path.parent, ignore_errors=True)
