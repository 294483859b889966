"""The job runner as a process of its own (``cruce jobs work``), as ``cruce serve --workers N``
starts it on PostgreSQL: it runs the jobs the web workers queue, and ends with its server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.jobs import JobQueue
from cruce.jobs.imports import import_params
from cruce.store import open_store
from tests.conftest import drop_pg_schema, pg_url_or_skip

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = pg_url_or_skip()
    open_store(url).close()  # the schema made, as a server's start makes it
    yield url
    drop_pg_schema(url)


def _until(
    url: str, job_id: str, states: tuple[str, ...], worker: subprocess.Popen[bytes], timeout: float = 120
) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, "the job process stopped"
        with open_store(url) as store:
            job = JobQueue(store).get(job_id)
        assert job is not None
        if job.state in states:
            return job.state
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.state} after {timeout:.0f} s")


def test_the_job_process_runs_a_queued_import_and_ends_with_its_server(pg_url: str, tmp_path: Path) -> None:
    from cruce.synth import generate

    generate(tmp_path / "scenario", scale=600, seed=3, flows=["firearms"])
    upload = tmp_path / "upload-1" / "gunshop-sales.csv"
    upload.parent.mkdir()
    upload.write_bytes((tmp_path / "scenario" / "gunshop-sales.csv").read_bytes())
    sales = len(upload.read_text(encoding="utf-8").splitlines()) - 1
    with open_store(pg_url) as store:
        job = JobQueue(store).enqueue("import", "ana", import_params(upload, "example-firearm-purchases", None, None))
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # stands for ``cruce serve``
    env = {**os.environ, "CRUCE_SECRET_KEY_FILE": str(tmp_path / "secret.key"), "CRUCE_JOB_POLL_SECONDS": "0.2"}
    log = tmp_path / "work.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cruce", "--db", pg_url, "jobs", "work", "--parent", str(server.pid)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    try:
        assert _until(pg_url, job.id, ("done", "failed"), worker) == "done", log.read_text(errors="replace")
        with open_store(pg_url) as store:
            finished = [i for i in store.imports() if i.source_file == str(upload.absolute())]
        assert len(finished) == 1
        assert finished[0].rows_stored == sales > 0
        with open_store(pg_url) as store:  # the search postings written for the web workers to read
            from cruce.search import memory, state
            from cruce.security.db import AppDB

            now = state(AppDB(store))
            shared = memory.load_snapshot(pg_url, now.generation)
        assert shared is not None
        assert shared.p_entity.size > 0
        server.kill()
        server.wait(10)
        assert worker.wait(30) == 0, "the job process ends when its server has gone"
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.kill()
                process.wait(10)
