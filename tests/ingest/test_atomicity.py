"""An import killed with SIGKILL part-way leaves the store as it was; running it again completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cruce.demo import write_purchases_csv
from cruce.ingest.pipeline import import_file
from cruce.store import open_store

# A lean mapping keeps the import long enough to kill but the test short.
MAPPING = """
name: sales-lean
dataset: sales
entities:
  purchase:
    schema: FirearmPurchase
    key: [purchase_id]
    properties:
      transaction_number: purchase_id
      date: {column: sale_date, format: "%m/%d/%Y"}
      purchaser: {entity: buyer}
  buyer:
    schema: Person
    key: [buyer_first, buyer_last, buyer_dob]
    properties:
      name: {columns: [buyer_first, buyer_last]}
"""
ROWS = 300_000


def _writing_started(store_url: str, db_file: Path, size_before: int, pid: int) -> bool:
    """True once the killed-to-be import has sent rows to the store (uncommitted)."""
    if store_url.startswith("postgresql"):
        import psycopg

        from cruce.store.postgres_store import split_schema

        conninfo, _ = split_schema(store_url)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY cruce_stage%%' AND state = 'active'"
            ).fetchone()
        return bool(row and row[0])
    wal = Path(str(db_file) + ".wal")
    size = db_file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    return size > size_before + (1 << 20)


def _counts(store_url: str) -> tuple[int, int, int, dict[str, int], tuple[int, int]]:
    with open_store(store_url) as store:
        index = store._fetch(  # type: ignore[attr-defined]  # every row, a pending import's too
            "SELECT (SELECT count(*) FROM entity_ref), (SELECT count(DISTINCT target) FROM entity_ref)"
        )[0]
        return (
            store.statement_count(),
            len(store.imports()),
            len(list(store.rejects())),
            store.counts_by_schema(),
            (int(index[0]), int(index[1])),
        )


def test_kill_9_mid_import_changes_nothing_and_rerun_completes(store_url: str, tmp_path: Path) -> None:
    mapping = tmp_path / "lean.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    small = write_purchases_csv(tmp_path / "small.csv", 50, seed=1)
    with open_store(store_url) as store:
        import_file(store, small, mapping, dataset="earlier")
    before = _counts(store_url)
    big = write_purchases_csv(tmp_path / "big.csv", ROWS, seed=2)
    db_file = Path(store_url)
    size_before = 0 if store_url.startswith("postgresql") else db_file.stat().st_size

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cruce", "--db", store_url, "import", str(big), "--mapping", str(mapping)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not _writing_started(store_url, db_file, size_before, proc.pid):
            assert proc.poll() is None, "the import finished before it could be killed; make the file bigger"
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.05)
        time.sleep(0.3)
        assert proc.poll() is None, "the import finished before it could be killed; make the file bigger"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    if store_url.startswith("postgresql"):
        time.sleep(0.5)  # let the server notice the dropped connection and roll back
    else:  # the next command to open the file removes the leftovers and says so
        status = subprocess.run(
            [sys.executable, "-m", "cruce", "--db", store_url, "status"], capture_output=True, text=True, env=env
        )
        assert "had been interrupted" in status.stdout
        for spill in (Path(store_url + ".tmp"), Path(store_url + ".compute.tmp")):
            assert not spill.exists() or not any(spill.iterdir())
    assert _counts(store_url) == before

    rerun = subprocess.run(
        [sys.executable, "-m", "cruce", "--db", store_url, "import", str(big), "--mapping", str(mapping)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    statements, imports, rejects, counts, index = _counts(store_url)
    assert imports == before[1] + 1
    assert index[0] == before[4][0] + ROWS  # a purchaser a sale
    assert index[1] > before[4][1]  # the buyers, pointed at
    assert rejects == before[2]
    assert counts["FirearmPurchase"] == before[3]["FirearmPurchase"] + ROWS
    assert statements > before[0]
