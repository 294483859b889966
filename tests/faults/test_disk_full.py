"""A full disk during an import and during an export: a clear error, and the store intact.

Each test mounts a small tmpfs of its own (root only; skipped where mounting is not permitted),
fills it with a file of zeros up to a few megabytes, and unmounts it at the end whatever happens.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cruce.cli import main
from cruce.i18n import set_language
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from tests.conftest import PEOPLE_MAPPING, drop_pg_schema, pg_url_or_skip
from tests.faults.environment import unavailable

NO_SPACE = "No space left on device"


@contextmanager
def small_volume(where: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of ``megabytes`` mounted at ``where`` for the block; unmounted after, whatever happens."""
    if os.geteuid() != 0:
        unavailable("the disk-full tests mount a small tmpfs, which needs root")
    where.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "tmpfs", str(where)]
    done = subprocess.run(mount, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        unavailable(
            f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode}): the disk-full tests need one"
        )
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True, timeout=30).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def fill(volume: Path, leave: int) -> Path:
    """A file of zeros that leaves about ``leave`` bytes free on ``volume``."""
    stats = os.statvfs(volume)
    free = stats.f_bavail * stats.f_frsize
    filler = volume / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        os.posix_fallocate(fd, 0, max(free - leave, 1))
    finally:
        os.close(fd)
    return filler


def people_csv(path: Path, prefix: str, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("pid,name,nationality\n")
        for i in range(rows):
            out.write(f"{prefix}{i},Persona {prefix} {i * 7919 % 100_003} {i},MX\n")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``cruce ARGS`` in this process: (exit status, stdout, stderr); a traceback fails the test."""
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    path = tmp_path / "people.yaml"
    path.write_text(PEOPLE_MAPPING.format(dataset="people"), encoding="utf-8")
    return path


@pytest.mark.slow
def test_import_onto_a_full_disk(tmp_path: Path, mapping: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = people_csv(tmp_path / "first.csv", "a", 50_000)
    big = people_csv(tmp_path / "big.csv", "b", 300_000)  # about 19 MB in the store: more than is left
    with small_volume(tmp_path / "vol", 64) as volume:
        db = str(volume / "cruce.duckdb")
        with open_store(db) as store:
            import_file(store, first, mapping)
            before = (store.statement_count(), store.counts_by_schema(), [i.id for i in store.imports()])
        filler = fill(volume, leave=8 << 20)

        code, out, err = run(capsys, "--db", db, "import", str(big), "--mapping", str(mapping))
        assert code == 2, out + err
        assert "big.csv: the import stopped because the disk is full" in err
        assert NO_SPACE in err
        assert "nothing from it was stored" in err

        # The disk still full: the store opens, and holds what it held, the interrupted import unseen.
        with open_store(db) as store:
            assert (store.statement_count(), store.counts_by_schema(), [i.id for i in store.imports()]) == before
            raw = store.con.execute("SELECT count(*) FROM statement").fetchone()  # type: ignore[attr-defined]
            assert raw[0] > before[0], "the disk filled before any batch was written: nothing half-written to check"
        code, out, err = run(capsys, "--db", db, "status")
        assert code == 0, err
        assert "50,000" in out

        # Space again: the interrupted import's rows are removed, and the file imports in full.
        filler.unlink()
        with open_store(db) as store:
            assert len(store.interrupted_imports) == 1
            assert (store.statement_count(), store.counts_by_schema()) == before[:2]
            assert store.con.execute("SELECT count(*) FROM statement").fetchone()[0] == before[0]  # type: ignore[attr-defined]
            result = import_file(store, big, mapping)
            assert result.rows_stored == 300_000
            assert store.counts_by_schema() == {"Person": 350_000}


@pytest.mark.parametrize("format_", ["csv", "jsonl", "parquet"])
def test_export_onto_a_full_disk(
    tmp_path: Path, mapping: Path, capsys: pytest.CaptureFixture[str], format_: str
) -> None:
    db = str(tmp_path / "cruce.duckdb")
    with open_store(db) as store:
        import_file(store, people_csv(tmp_path / "people.csv", "p", 20_000), mapping)
    with small_volume(tmp_path / "out", 2) as volume:
        earlier = volume / f"people.{format_}"
        earlier.write_text("an earlier export\n")
        fill(volume, leave=64 << 10)

        code, out, err = run(capsys, "--db", db, "export", "--type", "Person", "--format", format_, "-o", str(earlier))
        assert code == 2, out + err
        assert f"Cannot write {earlier}: the disk is full (no space left on device)" in err
        assert sorted(p.name for p in volume.iterdir()) == ["filler", earlier.name], "a partial file was left"
        assert earlier.read_text() == "an earlier export\n"


def test_postgresql_import_needs_no_client_temp_space(
    tmp_path: Path, mapping: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batches go from DuckDB in memory to PostgreSQL: a full temporary folder on the client
    does not stop an ordinary import (a spill there would say the disk is full, as above)."""
    url = pg_url_or_skip()
    csv = people_csv(tmp_path / "people.csv", "q", 2_000)
    try:
        with small_volume(tmp_path / "tmp", 1) as volume:
            fill(volume, leave=16 << 10)
            monkeypatch.setenv("TMPDIR", str(volume))
            monkeypatch.setattr(tempfile, "tempdir", None)  # chosen again, from TMPDIR
            assert tempfile.gettempdir() == str(volume)
            with open_store(url) as store:
                result = import_file(store, csv, mapping)
                assert result.rows_stored == 2_000
                assert store.counts_by_schema() == {"Person": 2_000}
    finally:
        drop_pg_schema(url)
