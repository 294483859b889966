"""Background jobs on the pages and the API: a resolution run started from the web with its
progress, jobs seen by their owner and admins only, cancel, and jobs kept across a restart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cruce.demo import write_purchases_csv
from cruce.jobs import JobQueue
from cruce.security.audit import now
from cruce.web import create_app
from tests.web.conftest import PASSWORD, TestClient, World, csrf_of, signin

MAPPING = "example-firearm-purchases"


def _wait(world: World, who: str, job_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = world.client().get(f"/api/v1/jobs/{job_id}", headers=world.api(who)).json()
        if job["state"] in ("done", "failed", "cancelled"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish within {timeout} s")


def test_resolution_started_from_the_page_runs_as_a_job_with_progress(
    fresh: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRUCE_RESOLVE_MAX_BLOCK", "1")  # a name shared by two records is passed by
    client = fresh.session("analyst")
    sales = write_purchases_csv(tmp_path / "sales.csv", 80, seed=4)
    from cruce.ingest.pipeline import import_file

    import_file(fresh.view.store, sales, MAPPING)
    form = client.get("/resolution/runs")
    assert form.status_code == 200
    assert 'id="run-form"' in form.text
    sent = client.post(
        "/resolution/runs", data={"type": "Person", "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert sent.status_code == 303, sent.text[:300]
    job_id = sent.headers["location"].rsplit("/", 1)[-1]
    job = _wait(fresh, "analyst", job_id)
    assert job["state"] == "done", job
    assert job["kind"] == "resolve"
    assert job["type"] == "Person"
    assert job["clusters"] > 0
    assert job["percent"] == 100
    page = client.get(f"/jobs/{job_id}").text
    assert 'data-state="done"' in page
    assert 'id="clusters"' in page
    purged = job["result"]["purged"]
    assert purged, "some keys were held by more than one record"
    assert all(p["limit"] == 1 and p["pairs"] >= 1 and p["records"] >= 2 for p in purged)
    assert f"Rule &#39;{purged[0]['rule']}&#39;" in page or f"Rule '{purged[0]['rule']}'" in page
    assert "were not compared on it" in page
    from cruce.resolve.store import ResolutionStore

    current = ResolutionStore(fresh.view.store).current_run("Person")
    assert current is not None
    assert current.id == job["result"]["run_id"]
    assert current.clusters == job["clusters"]
    audit = fresh.view.security.audit.entries(actor="analyst", action="resolve")
    assert audit[0].target == "Person"
    # the job is the analyst's: another user does not see it, a viewer cannot start one
    assert fresh.session("caseworker").get(f"/jobs/{job_id}").status_code == 404
    assert fresh.client().get(f"/api/v1/jobs/{job_id}", headers=fresh.api("viewer")).status_code == 404
    assert fresh.client().get(f"/api/v1/jobs/{job_id}", headers=fresh.api("admin")).status_code == 200
    viewer = fresh.session("viewer")
    assert viewer.get("/resolution/runs").status_code == 403


def test_a_resolution_run_through_the_api_and_the_list_of_jobs(world: World, tmp_path: Path) -> None:
    from cruce.ingest.pipeline import import_file

    import_file(world.view.store, write_purchases_csv(tmp_path / "sales.csv", 80, seed=5), MAPPING)
    client = world.client()
    sent = client.post("/api/v1/resolution/runs", json={"type": "Person"}, headers=world.api("admin"))
    assert sent.status_code == 202, sent.text
    assert sent.json()["state"] in ("queued", "running", "done")
    job = _wait(world, "admin", sent.json()["id"])
    assert job["state"] == "done", job
    mine = client.get("/api/v1/jobs", params={"kind": "resolve"}, headers=world.api("admin")).json()
    assert sent.json()["id"] in [j["id"] for j in mine]
    assert client.get("/api/v1/jobs", headers=world.api("analyst")).json() == []  # not the analyst's
    refused = client.post("/api/v1/resolution/runs", json={"type": "Person"}, headers=world.api("viewer"))
    assert refused.status_code == 403
    unknown = client.post("/api/v1/resolution/runs", json={"type": "Dragon"}, headers=world.api("admin"))
    assert unknown.status_code == 422
    admin_page = world.session("admin").get("/jobs").text
    assert sent.json()["id"] in admin_page


def test_jobs_are_kept_across_a_restart_and_cancelled_by_their_owner_only(store_url: str, tmp_path: Path) -> None:
    """Jobs live in the store, not in the server: one queued before a stop runs after it, one
    cancelled stays cancelled."""
    sales = write_purchases_csv(tmp_path / "sales.csv", 30, seed=2).read_bytes()
    first = create_app(store_url, upload_dir=tmp_path / "uploads", run_jobs=False)  # a server that runs no job
    try:
        accounts = first.state.services.main.security.accounts
        tokens = {}
        for name in ("ana", "luis"):
            accounts.add(name, PASSWORD, "analyst", now=now())
            token = accounts.create_token(name, "t", {"read", "import"}, now=now())
            tokens[name] = {"Authorization": f"Bearer {token}"}
        client = TestClient(first)
        sent = [
            client.post(
                "/api/v1/imports", data={"mapping": MAPPING, "dataset": dataset},
                files={"file": ("sales.csv", sales, "text/csv")}, headers=tokens["ana"],
            ).json()
            for dataset in ("kept", "dropped")
        ]  # fmt: skip
        assert [j["state"] for j in sent] == ["queued", "queued"]
        assert client.post(f"/api/v1/jobs/{sent[1]['id']}/cancel", headers=tokens["luis"]).status_code == 404
        cancelled = client.post(f"/api/v1/jobs/{sent[1]['id']}/cancel", headers=tokens["ana"])
        assert cancelled.json()["state"] == "cancelled"
        audit = first.state.services.main.security.audit.entries(actor="ana", action="job_cancel")
        assert audit[0].target == sent[1]["id"]
    finally:
        first.state.services.close()
    second = create_app(store_url, upload_dir=tmp_path / "uploads")
    try:
        queue = JobQueue(second.state.services.main.store)
        deadline = time.monotonic() + 60
        while (job := queue.get(sent[0]["id"])) is not None and job.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job is not None
        assert job.state == "done", job
        assert job.result is not None
        assert job.result["rows_stored"] == 30
        assert queue.get(sent[1]["id"]).state == "cancelled"  # type: ignore[union-attr]
        assert [d.name for d in second.state.services.main.store.datasets()] == ["kept"]
        browser = TestClient(second)
        signin(browser, "ana")
        assert 'data-state="done"' in browser.get(f"/import/{job.id}").text
        assert 'data-state="cancelled"' in browser.get("/jobs").text
    finally:
        second.state.services.close()
