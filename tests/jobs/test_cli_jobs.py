"""``cruce jobs list|show|cancel`` and ``cruce serve --workers`` refused on DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from cruce.jobs import JobQueue
from cruce.store import open_store
from tests.test_cli import run


@pytest.fixture
def jobs(store_url: str) -> dict[str, str]:
    with open_store(store_url) as store:
        queue = JobQueue(store)
        running = queue.enqueue("import", "ana", {"file": "sales.csv", "mapping": "example-firearm-purchases"})
        waiting = queue.enqueue("resolve", "luis", {"type": "Person"})
        queue.claim("host:1:abc", kinds=["import"])
        queue.report(running.id, "host:1:abc", 30, 100, "Importing")
    return {"running": running.id, "waiting": waiting.id}


def test_jobs_list_show_and_cancel(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    store_url: str,
    jobs: dict[str, str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "cruce.key"))  # the audit's key (PostgreSQL)
    code, out, _err = run(capsys, "--db", store_url, "jobs", "list")
    assert code == 0
    assert jobs["running"] in out
    assert jobs["waiting"] in out
    assert "sales.csv (example-firearm-purchases)" in out
    code, out, _err = run(capsys, "--db", store_url, "jobs", "list", "--kind", "resolve", "--owner", "luis")
    assert jobs["waiting"] in out
    assert jobs["running"] not in out
    code, out, _err = run(capsys, "--db", store_url, "jobs", "show", jobs["running"])
    assert code == 0
    assert "30 % (30/100)" in out
    assert "Importing" in out
    code, out, _err = run(capsys, "--db", store_url, "jobs", "cancel", jobs["waiting"])
    assert (code, out.strip()) == (0, f"Job {jobs['waiting']} cancelled.")
    code, out, _err = run(capsys, "--db", store_url, "jobs", "cancel", jobs["running"])
    assert "stops at its next progress report" in out
    code, out, _err = run(capsys, "--db", store_url, "jobs", "cancel", jobs["waiting"])
    assert "had already ended (cancelled)" in out
    with open_store(store_url) as store:
        queue = JobQueue(store)
        assert queue.get(jobs["waiting"]).state == "cancelled"  # type: ignore[union-attr]
        assert queue.get(jobs["running"]).cancel_requested  # type: ignore[union-attr]
        from cruce.security import Security

        cancels = Security(store).audit.entries(action="job_cancel")
        assert sorted(e.target or "" for e in cancels) == sorted(jobs.values())
    code, _out, err = run(capsys, "--db", store_url, "jobs", "show", "nope")
    assert code == 2
    assert "No job nope." in err
    code, _out, err = run(capsys, "--db", store_url, "jobs", "list", "--state", "sleeping")
    assert code == 2


def test_serve_refuses_several_workers_on_duckdb(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _out, err = run(capsys, "--db", f"{tmp_path}/one.duckdb", "serve", "--workers", "2")
    assert code == 2
    assert "--workers 2 needs a PostgreSQL database" in " ".join(err.split())
