"""Record preparation gives the same table whether its normalisers run in one process or several."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pytest

from cruce.ingest.pipeline import import_file
from cruce.resolve import prepare as preparing
from cruce.resolve.engine import _compute
from cruce.store import open_store
from cruce.synth import generate


def _prepared(url: str) -> pa.Table:
    with open_store(url) as store, _compute(store) as con:
        table, _records = preparing.prepare(store, con, "Person")
        return con.execute(f"SELECT * FROM {table} ORDER BY unique_id").to_arrow_table()


def test_the_normalisers_shared_among_processes_give_the_same_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    scenario = tmp_path / "scenario"
    generate(scenario, scale=400, seed=9)
    db = str(tmp_path / "store.duckdb")
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(db) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])
    alone = _prepared(db)
    calls: list[int] = []
    shared = preparing._normalised

    def counted(*args: object) -> object:
        calls.append(len(args[1]))  # type: ignore[arg-type]
        return shared(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(preparing, "PARALLEL_FROM", 10)
    monkeypatch.setattr(preparing, "PARALLEL_CHUNK", 7)
    monkeypatch.setattr(preparing, "_normalised", counted)
    monkeypatch.setattr(preparing.os, "cpu_count", lambda: 2)
    with caplog.at_level(logging.INFO, logger="cruce.resolve.prepare"):
        together = _prepared(db)
    assert max(calls) > 10, "enough names to share among processes"
    assert "did not start" not in caplog.text, "the worker processes ran"
    assert alone.num_rows > 100
    assert together.equals(alone)
