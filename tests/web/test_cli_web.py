"""The web side's commands: users, dataset markings, and `cruce audit verify` failing after tampering."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cruce.cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, " ".join((out + err).split())


def test_users_markings_and_audit_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.duckdb")
    code, out = _run(
        ["--db", db, "users", "add", "rosa", "--role", "caseworker", "--groups", "victim-services"], capsys
    )
    assert code == 0
    assert "User rosa added" in out
    password = out.rsplit(" ", 1)[-1]
    assert len(password) >= 12
    assert _run(["--db", db, "users", "add", "rosa"], capsys)[0] == 2  # already there: a clear error
    assert _run(["--db", db, "users", "add", "x", "--role", "boss"], capsys)[0] == 2
    code, out = _run(["--db", db, "users", "list"], capsys)
    assert "rosa" in out
    assert "victim-services" in out
    code, out = _run(["--db", db, "users", "token", "rosa", "--scopes", "read,triage"], capsys)
    assert code == 0
    assert "cruce_" in out
    assert _run(["--db", db, "users", "token", "rosa", "--scopes", "admin"], capsys)[0] == 2
    assert _run(["--db", db, "users", "reset", "rosa"], capsys)[0] == 0
    assert _run(["--db", db, "users", "disable", "rosa"], capsys)[0] == 0
    assert "disabled" in _run(["--db", db, "users", "list"], capsys)[1]
    assert _run(["--db", db, "users", "enable", "rosa"], capsys)[0] == 0
    assert _run(["--db", db, "users", "role", "rosa", "--role", "analyst"], capsys)[0] == 0
    assert "otpauth://" in _run(["--db", db, "users", "totp", "rosa"], capsys)[1]
    assert (
        _run(["--db", db, "datasets", "mark", "htcds-cases", "--marking", "amber", "--groups", "a,b"], capsys)[0] == 0
    )
    assert _run(["--db", db, "datasets", "mark", "x", "--marking", "purple"], capsys)[0] == 2

    code, out = _run(["--db", db, "audit", "verify"], capsys)
    assert code == 0, out
    assert "intact" in out
    code, out = _run(["--db", db, "audit", "list", "--action", "dataset_mark"], capsys)
    assert code == 0
    assert "amber" in out  # (the table is narrow in a captured console)

    with duckdb.connect(db) as con:  # someone with write access edits an entry
        con.execute("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
    code, out = _run(["--db", db, "audit", "verify"], capsys)
    assert code == 1
    assert "broken at entry 2" in out

    with duckdb.connect(db) as con:  # or deletes one
        con.execute("DELETE FROM audit_log WHERE seq = 2")
    assert _run(["--db", db, "audit", "verify"], capsys)[0] == 1
