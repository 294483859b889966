"""A real ``cruce serve`` killed with SIGKILL — on DuckDB, and on PostgreSQL with two workers —
during an import job, during a resolution run and during a screening interview's saves; then
started again.

What must hold after the restart: nothing the server had acknowledged is lost (every answer saved
with a 2xx is there, with that answer or a later one of the same question); nothing half-written is
visible (an import's statements are all there or none, a resolution run's clusters replace the
previous ones whole or not at all); and the interrupted job resumes by itself and completes, on
its second attempt. The whole process group is killed, as a power cut or the OOM killer of a
service's cgroup would: no worker survives to finish the work. Servers listen on 127.0.0.1 only
and every wait has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cruce.demo import write_purchases_csv
from cruce.ingest.pipeline import import_file
from cruce.jobs import JobQueue
from cruce.people.screening import instrument
from cruce.security import Security
from cruce.security.audit import now
from cruce.store import Store, open_store
from cruce.web.launch import free_port

pytestmark = pytest.mark.slow

MAPPING = "example-firearm-purchases"
PASSWORD = "kill-test-password"
START_TIMEOUT = 90.0
JOB_TIMEOUT = 240.0
REQUEST_TIMEOUT = 60.0  # a request on a busy machine (two cores, a job training a model)
STEP = 0.02  # seconds between two looks at what the server does
# The import is read in batches of BATCH rows: the kill comes once the first is written, with
# several still to go.
ROWS = 10_000
BATCH = 2_000
JOB_SETTINGS = {
    "CRUCE_JOB_HEARTBEAT_SECONDS": "0.5",
    "CRUCE_JOB_STALE_SECONDS": "3",
    "CRUCE_JOB_POLL_SECONDS": "0.5",
    "CRUCE_IMPORT_BATCH_ROWS": str(BATCH),
}


@dataclass
class Deployment:
    """A store, its users, and the ``cruce serve`` running over it (or killed)."""

    db: str
    backend: str
    folder: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    url: str = ""
    starts: int = 0

    @property
    def workers(self) -> int:
        return 2 if self.backend == "postgresql" else 1

    @property
    def log(self) -> Path:
        return self.folder / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        self.url = f"http://127.0.0.1:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        command = [sys.executable, "-m", "cruce", "--db", self.db, "serve", "--host", "127.0.0.1", "--port", port,
                   "--workers", str(self.workers)]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env,
                start_new_session=True,  # its own process group: the kill takes the workers too
            )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"cruce serve exited:\n{self.output()}"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/static/cruce.css", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"cruce serve did not answer within {START_TIMEOUT:.0f} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL to the server and all its workers at once."""
        assert self.process is not None
        assert self.process.poll() is None, f"the server had stopped before the kill:\n{self.output()}"
        os.killpg(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL
        self._reap_group()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self._reap_group()
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)
        self._reap_group()

    def _reap_group(self) -> None:
        """No worker of the group outlives it (a worker holding the DuckDB file would block the restart)."""
        if self.process is None:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            time.sleep(0.05)
        raise AssertionError("processes of the killed server are still alive")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def api(self, method: str, path: str, who: str = "analyst", **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return httpx.request(method, f"{self.url}/api/v1{path}", headers=headers, **kwargs)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.api("GET", f"/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_job(self, job_id: str, until: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + JOB_TIMEOUT
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if until(job):
                return job
            assert job["state"] not in ("failed", "cancelled"), f"{job}\n{self.output()}"
            time.sleep(STEP)
        raise AssertionError(f"job {job_id}: {what} did not happen within {JOB_TIMEOUT:.0f} s:\n{self.output()}")

    def store(self) -> Store:
        """The store, opened by the test (the server killed: DuckDB's file is free)."""
        return open_store(self.db)

    @contextlib.contextmanager
    def paused(self) -> Iterator[Store]:
        """The store, read by the test while the server runs: on DuckDB, whose file one process
        holds, the server is stopped meanwhile (gracefully) and started again after."""
        if self.backend == "duckdb":
            self.stop()
        try:
            with self.store() as store:
                yield store
        finally:
            if self.backend == "duckdb":
                self.start()


@pytest.fixture
def deployment(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    """An empty store with an analyst and a caseworker; the server is started by the test."""
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "cruce.key"))  # the test's own reads and writes
    env = {**os.environ, **JOB_SETTINGS, "CRUCE_UPLOAD_DIR": str(tmp_path / "uploads"), "PYTHONUNBUFFERED": "1"}
    backend = "postgresql" if store_url.startswith("postgresql") else "duckdb"
    made = Deployment(store_url, backend, tmp_path, env)
    with open_store(store_url) as store:
        import_file(store, write_purchases_csv(tmp_path / "earlier.csv", 40, seed=1), MAPPING, dataset="earlier")
        accounts = Security(store).accounts
        accounts.add("analyst", PASSWORD, "analyst", now=now())
        accounts.add("caseworker", PASSWORD, "caseworker", now=now())
        made.tokens["analyst"] = accounts.create_token("analyst", "kill", {"read", "import"}, now=now())
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_purchases_csv(tmp_path_factory.mktemp("kill-files") / "sales.csv", ROWS, seed=11)


def test_a_server_killed_mid_work_loses_nothing_acknowledged_shows_nothing_half_written_and_resumes(
    deployment: Deployment, big_file: Path, tmp_path: Path
) -> None:
    """Three kills in a row, each fault's checks made after the restart that hosts the next one."""
    from cruce.resolve.engine import resolve

    with deployment.store() as store:  # people to resolve, resolved once already
        import_file(store, write_purchases_csv(tmp_path / "people.csv", 1000, seed=5), MAPPING, dataset="people")
        first = resolve(store, "Person")
    deployment.start()
    resolution = kill_during_a_resolution_run(deployment, first.run_id, first.records)
    deployment.start()
    before = resumed_resolution(deployment, resolution, first.records)
    saves = kill_during_screening_saves(deployment)
    deployment.start()
    every_acknowledged_answer_kept(deployment, *saves)
    import_job = kill_during_an_import(deployment, big_file, before)
    deployment.start()
    resumed_import(deployment, import_job, before)


# -- (a) an import job -------------------------------------------------------------------------------
def _counts(store: Store) -> tuple[int, int, dict[str, int]]:
    return store.statement_count(), len(store.imports()), store.counts_by_schema()


def _import_under_way(job: dict[str, Any]) -> bool:
    """The job's first batch is written (uncommitted), the next ones are under way."""
    return bool(job["state"] == "running" and job["message"] == "Importing" and int(job["done"]) > 0)


def kill_during_an_import(deployment: Deployment, big: Path, before: tuple[int, int, dict[str, int]]) -> str:
    sent = deployment.api(
        "POST", "/imports", data={"mapping": MAPPING, "dataset": "big"},
        files={"file": ("sales.csv", big.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert sent.status_code == 202, sent.text
    job_id = str(sent.json()["id"])
    deployment.wait_job(job_id, _import_under_way, "the import writing")
    deployment.kill()

    with deployment.store() as store:
        killed = JobQueue(store).get(job_id)
        assert killed is not None
        assert (killed.state, killed.message) == ("running", "Importing")  # it died with the server, mid-import
        assert _counts(store) == before  # nothing of the import is visible
    return job_id


def resumed_import(deployment: Deployment, job_id: str, before: tuple[int, int, dict[str, int]]) -> None:
    deployment.wait_job(job_id, lambda j: j["state"] == "running" and j["attempts"] == 2, "the import resumed")
    # the import runs in the background: reads are answered meanwhile
    assert deployment.api("GET", "/search", params={"q": "earlier"}).status_code == 200
    done = deployment.wait_job(job_id, lambda j: j["state"] == "done", "the resumed import")
    assert done["attempts"] == 2
    assert done["rows_stored"] == ROWS
    assert done["dataset"] == "big"
    deployment.stop()
    with deployment.store() as store:
        statements, imports, counts = _counts(store)
    assert imports == before[1] + 1
    assert counts["FirearmPurchase"] == before[2]["FirearmPurchase"] + ROWS  # all of it, once
    assert statements > before[0]


# -- (b) a resolution run ---------------------------------------------------------------------------
def _clusters(store: Store) -> tuple[str | None, int, set[str], int]:
    """The current Person run, its cluster rows, the runs those rows belong to, and the models."""
    from cruce.resolve.store import ResolutionStore

    rs = ResolutionStore(store)
    current = rs.current_run("Person")
    rows = rs.db.fetch("SELECT run_id, count(*) FROM entity_cluster WHERE entity_type = 'Person' GROUP BY run_id")
    models = rs.db.one("SELECT count(*) FROM resolution_model WHERE entity_type = 'Person'")
    return (
        current.id if current else None,
        sum(int(r[1]) for r in rows),
        {str(r[0]) for r in rows},
        int(models[0]) if models else 0,
    )


def kill_during_a_resolution_run(deployment: Deployment, first_run: str, records: int) -> str:
    sent = deployment.api("POST", "/resolution/runs", json={"type": "Person", "retrain": True})
    assert sent.status_code == 202, sent.text
    job_id = str(sent.json()["id"])
    deployment.wait_job(job_id, lambda j: j["state"] == "running" and j["message"] == "Training the model", "training")
    deployment.kill()

    with deployment.store() as store:
        assert JobQueue(store).get(job_id).state == "running"  # type: ignore[union-attr]
        assert _clusters(store) == (first_run, records, {first_run}, 1)  # the first run's entities, whole
    return job_id


def resumed_resolution(deployment: Deployment, job_id: str, records: int) -> tuple[int, int, dict[str, int]]:
    """Checks the resumed run; returns the store's counts (for the import's checks)."""
    done = deployment.wait_job(job_id, lambda j: j["state"] == "done", "the resumed run")
    assert done["attempts"] == 2
    run = done["result"]["run_id"]
    with deployment.paused() as store:
        current, rows, runs, models = _clusters(store)
        counts = _counts(store)
    assert (current, runs) == (run, {run})  # the new run's clusters, and only them
    assert rows == records  # every record in one cluster
    assert models == 2  # the resumed attempt trained the model the killed one had not saved
    return counts


# -- (c) a screening interview's saves -----------------------------------------------------------------
def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def _signed_in(url: str, who: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT, follow_redirects=False)
    token = _csrf(client.get("/signin").text)
    response = client.post("/signin", data={"username": who, "password": PASSWORD, "csrf_token": token, "next": "/"})
    assert response.status_code == 303, response.text[:300]
    return client


@dataclass
class Saves:
    """Answers posted one by one until the server stops answering, and which of them it acknowledged."""

    sent: dict[int, tuple[str, str]] = field(default_factory=dict)  # seq -> (question, answer)
    acknowledged: dict[str, int] = field(default_factory=dict)  # question -> greatest seq acknowledged

    def post(self, client: httpx.Client, path: str, csrf: str, questions: list[str]) -> None:
        choices = ("yes", "no", "unsure", "declined")
        seq = 0
        try:
            while seq < 100_000:
                seq += 1
                question, answer = questions[seq % len(questions)], choices[seq % len(choices)]
                self.sent[seq] = (question, answer)
                body = {"answers": [{"question": question, "answer": answer, "seq": seq}]}
                response = client.post(path, json=body, headers={"X-CSRF-Token": csrf})
                if response.status_code // 100 == 2:
                    for saved in response.json()["saved"]:
                        q, s = saved["question"], int(saved["seq"])
                        self.acknowledged[q] = max(self.acknowledged.get(q, 0), s)
        except httpx.HTTPError:
            return  # the server is gone: this answer was not acknowledged


def kill_during_screening_saves(deployment: Deployment) -> tuple[str, Saves]:
    questions = [q.id for q in instrument().questions]
    with contextlib.closing(_signed_in(deployment.url, "caseworker")) as client:
        csrf = _csrf(client.get("/screenings/new").text)
        made = client.post("/screenings/new", data={"csrf_token": csrf, "language": "es", "subject": "K-9"})
        assert made.status_code == 303, made.text[:300]
        interview = made.headers["location"].rsplit("/", 1)[-1]
        saves = Saves()
        sender = threading.Thread(
            target=saves.post, args=(client, f"/screenings/{interview}/answers", csrf, questions), daemon=True
        )
        sender.start()
        deadline = time.monotonic() + 60
        while len(saves.sent) < 40 or not saves.acknowledged:
            assert time.monotonic() < deadline, f"the answers were not saved:\n{deployment.output()}"
            assert sender.is_alive(), f"the saves stopped before the kill:\n{deployment.output()}"
            time.sleep(STEP)
        deployment.kill()  # while answers are being posted
        sender.join(30)
        assert not sender.is_alive()
    return interview, saves


def every_acknowledged_answer_kept(deployment: Deployment, interview: str, saves: Saves) -> None:
    assert saves.acknowledged
    with contextlib.closing(_signed_in(deployment.url, "caseworker")) as client:
        stored = client.get(f"/screenings/{interview}/answers")
    assert stored.status_code == 200, stored.text[:300]
    answers = stored.json()["answers"]
    for question, seq in saves.acknowledged.items():  # nothing acknowledged is lost
        assert question in answers, question
        assert int(answers[question]["seq"]) >= seq
    for question, kept in answers.items():  # and what is kept is whole: an answer that was sent, as sent
        assert saves.sent[int(kept["seq"])] == (question, kept["answer"])
