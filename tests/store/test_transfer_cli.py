"""cruce backup, restore and copy as a user runs them — and a backup while cruce serve holds the
DuckDB file: refused locally with what to do instead, taken through the server."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from tests.conftest import PEOPLE_MAPPING

from cruce.cli import main
from cruce.i18n import set_language
from cruce.web.launch import start_server, stop_server


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    out = capsys.readouterr()
    return code, " ".join(out.out.split()), " ".join(out.err.split())


@pytest.fixture
def db(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CRUCE_SECRET_KEY_FILE", raising=False)
    (tmp_path / "p.yaml").write_text(PEOPLE_MAPPING.format(dataset="people"), encoding="utf-8")
    (tmp_path / "p.csv").write_text("pid,name,nationality\nP1,María Pérez,MX\nP2,José Ruiz,US\n", encoding="utf-8")
    path = tmp_path / "a.duckdb"
    assert run(capsys, "--db", str(path), "import", str(tmp_path / "p.csv"), "-m", str(tmp_path / "p.yaml"))[0] == 0
    assert run(capsys, "--db", str(path), "users", "add", "ana", "--role", "admin")[0] == 0
    return path


def test_backup_restore_and_copy(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "a.zip"
    code, out, _ = run(capsys, "--db", str(db), "backup", str(archive))
    assert code == 0
    assert f"Backup written to {archive}" in out
    assert "back up the key file separately" in out
    code, _, err = run(capsys, "--db", str(db), "backup", str(archive))
    assert code == 2
    assert "exists already" in err

    code, out, _ = run(capsys, "restore", str(archive), "--check")
    assert code == 0
    assert "is intact" in out

    target = tmp_path / "b.duckdb"
    code, _, err = run(capsys, "--db", str(target), "restore", str(archive))
    assert code == 2
    assert "has no key yet" in err
    assert not target.exists()

    code, out, _ = run(capsys, "--db", str(db), "backup", str(archive), "--include-key", "--force")
    assert "holds the secret key" in out
    code, out, _ = run(capsys, "--db", str(target), "restore", str(archive))
    assert code == 0
    assert "Restored" in out
    assert run(capsys, "--db", str(target), "audit", "verify")[0] == 0
    code, _, err = run(capsys, "--db", str(target), "restore", str(archive))
    assert code == 2
    assert "already holds data" in err
    assert run(capsys, "--db", str(target), "restore", str(archive), "--replace")[0] == 0

    copied = tmp_path / "c.duckdb"
    code, out, _ = run(capsys, "copy", "--from", str(target), "--to", f"duckdb:{copied}")
    assert code == 0
    assert "Copied" in out
    code, out, _ = run(capsys, "--db", str(copied), "status")
    assert "people" in out
    assert run(capsys, "--db", str(copied), "audit", "verify")[0] == 0

    made, existing = tmp_path / "made", tmp_path / "existing"
    existing.mkdir()
    assert run(capsys, "--db", str(db), "backup", f"{made}/")[0] == 0  # a folder, made
    assert run(capsys, "--db", str(db), "backup", str(existing))[0] == 0
    for folder in (made, existing):
        assert len(list(folder.glob("cruce-backup-*.zip"))) == 1


def test_backup_while_cruce_serve_holds_the_file(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    code, out, _ = run(capsys, "--db", str(db), "users", "token", "ana", "--scopes", "read,admin")
    token = re.search(r"cruce_[A-Za-z0-9_\-]+", out)
    assert token, out
    process, url = start_server(db, tmp_path / "serve.log")
    try:
        code, _, err = run(capsys, "--db", str(db), "backup", str(tmp_path / "x.zip"))
        assert code == 2
        assert "--server http://127.0.0.1:8000" in err
        headers = {"Authorization": f"Bearer {token.group(0)}"}
        made = httpx.post(f"{url}/api/v1/users", json={"username": "nueva", "role": "viewer"}, headers=headers,
                          timeout=30)  # fmt: skip
        assert made.status_code == 201
        code, _, err = run(capsys, "backup", str(tmp_path / "x.zip"), "--server", url)
        assert code == 2
        assert "CRUCE_API_TOKEN" in err
        monkeypatch.setenv("CRUCE_API_TOKEN", token.group(0))
        code, out, err = run(capsys, "backup", str(tmp_path / "x.zip"), "--server", url, "--include-key")
        assert code == 0, err
        assert "Backup written" in out
        audited = httpx.get(f"{url}/api/v1/audit", params={"action": "backup"}, headers=headers, timeout=30).json()
        assert [e["actor"] for e in audited] == ["ana"]
    finally:
        stop_server(process)
    restored = tmp_path / "r.duckdb"
    assert run(capsys, "--db", str(restored), "restore", str(tmp_path / "x.zip"))[0] == 0
    code, out, _ = run(capsys, "--db", str(restored), "users", "list")
    assert "nueva" in out
    assert run(capsys, "--db", str(restored), "audit", "verify")[0] == 0
