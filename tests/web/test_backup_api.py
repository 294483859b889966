"""POST /api/v1/admin/backup: admins only, audited, and consistent while the server keeps writing —
every archive taken during an import and a stream of tips restores to a state that existed."""

from __future__ import annotations

import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.security import Security
from cruce.security.audit import now
from cruce.security.db import AppDB
from cruce.store import open_store
from cruce.store.transfer import Archive, Audit, restore
from cruce.web.services import Services, View
from tests.conftest import PEOPLE_MAPPING
from tests.web.conftest import World

TIMEOUT = 60.0


def _take(world: World, who: str = "admin", **params: str) -> tuple[int, bytes]:
    response = world.client().post("/api/v1/admin/backup", headers=world.api(who), params=params)
    return response.status_code, response.content


def test_only_an_admin_takes_a_backup_and_it_is_audited(world: World, tmp_path: Path) -> None:
    assert world.client().post("/api/v1/admin/backup").status_code == 401
    for who in ("analyst", "caseworker", "viewer"):
        assert _take(world, who)[0] == 403
    status, body = _take(world)
    assert status == 200
    (tmp_path / "b.zip").write_bytes(body)
    with Archive(tmp_path / "b.zip") as archive:
        archive.verify()
        assert archive.manifest.secret_key_sha256 is None  # the key only when asked
        assert archive.manifest.entry("app_user").rows == 5  # type: ignore[union-attr]
    entry = world.view.security.audit.entries(limit=1, action="backup")[0]
    assert (entry.actor, entry.outcome) == ("admin", "ok")
    status, body = _take(world, include_key="true")
    (tmp_path / "k.zip").write_bytes(body)
    with zipfile.ZipFile(tmp_path / "k.zip") as zf:
        assert "secret.key" in zf.namelist()


class _PausedImport:
    """An import (on a view of its own) that stops after its first batch until released."""

    def __init__(self, services: Services, folder: Path) -> None:
        rows = "".join(f"Q{i},Persona {i},MX\n" for i in range(400))
        (folder / "q.csv").write_text("pid,name,nationality\n" + rows, encoding="utf-8")
        (folder / "q.yaml").write_text(PEOPLE_MAPPING.format(dataset="during-backup"), encoding="utf-8")
        self.folder = folder
        self.view: View = services.new_view()
        self.paused = threading.Event()
        self.release = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _progress(self, done: int, total: int) -> None:
        if not self.paused.is_set():
            self.paused.set()
            assert self.release.wait(TIMEOUT)

    def _run(self) -> None:
        try:
            import_file(self.view.store, self.folder / "q.csv", self.folder / "q.yaml", batch_rows=50,
                        on_progress=self._progress)  # fmt: skip
        except BaseException as exc:
            self.error = exc


class _TipWriter:
    """Tips with their audit entries, each pair in one transaction, as fast as they go."""

    def __init__(self, services: Services) -> None:
        self.view = services.new_view()
        self.stop = threading.Event()
        self.written = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        security = self.view.security
        while not self.stop.is_set():
            with security.db.transaction():
                tip = security.tips.submit(what=f"tip {self.written}", contact="555 0101", now=now())
                security.audit.record("writer", "tip_written", target=tip)
            self.written += 1


@pytest.fixture
def running(fresh: World, tmp_path: Path) -> Iterator[tuple[World, _PausedImport, _TipWriter]]:
    services = fresh.app.state.services
    paused, writer = _PausedImport(services, tmp_path), _TipWriter(services)
    yield fresh, paused, writer
    paused.release.set()
    writer.stop.set()
    for thread in (paused.thread, writer.thread):
        if thread.is_alive():
            thread.join(TIMEOUT)
    Services.close_view(paused.view)
    Services.close_view(writer.view)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _check_restored(archive: Path, folder: Path) -> dict[str, int]:
    """Restore into a new DuckDB file and check it is a state that existed; return what it holds."""
    db = folder / f"{archive.stem}.duckdb"
    restore(archive, str(db), audit=Audit("tests"))
    with open_store(db) as store:
        assert store.interrupted_imports == []  # type: ignore[attr-defined]
        security = Security(store)
        assert security.audit.verify().ok
        db_ = AppDB(store)
        tips = {str(r[0]) for r in db_.fetch("SELECT id FROM tip_submission")}
        audited = {str(r[0]) for r in db_.fetch("SELECT target FROM audit_log WHERE action = 'tip_written'")}
        assert tips == audited  # no tip without its entry, no entry without its tip
        orphans = db_.one("SELECT count(*) FROM statement WHERE import_no NOT IN (SELECT no FROM import_run)")
        assert orphans == (0,)  # nothing of an unfinished import
        counted = db_.one("SELECT (SELECT count(*) FROM statement), (SELECT sum(statements_added) FROM import_run)")
        assert counted is not None
        assert counted[0] == counted[1]
        return {"tips": len(tips), "during": len([d for d in store.datasets() if d.name == "during-backup"])}


def test_a_backup_taken_during_writes_restores_to_a_state_that_existed(
    running: tuple[World, _PausedImport, _TipWriter], tmp_path: Path
) -> None:
    world, paused, writer = running
    writer.thread.start()
    paused.thread.start()
    assert paused.paused.wait(TIMEOUT), paused.error
    _wait_for(lambda: writer.written >= 1)
    archives = []
    for i in range(2):  # while the import is half-written and tips keep coming
        status, body = _take(world)
        assert status == 200, body[:300]
        archives.append(tmp_path / f"during-{i}.zip")
        archives[-1].write_bytes(body)
    paused.release.set()
    paused.thread.join(TIMEOUT)
    assert paused.error is None
    _wait_for(lambda: writer.written >= 5)
    status, body = _take(world)
    archives.append(tmp_path / "after.zip")
    archives[-1].write_bytes(body)
    writer.stop.set()
    writer.thread.join(TIMEOUT)

    found = [_check_restored(a, tmp_path) for a in archives]
    assert [f["during"] for f in found] == [0, 0, 1]  # the import only once it had finished
    assert 0 < found[0]["tips"] <= found[1]["tips"] <= found[2]["tips"] <= writer.written
    with Archive(archives[0]) as first:
        assert first.manifest.pending_imports_left_out == (1 if first.manifest.backend == "duckdb" else 0)
