"""A small three-flow synth scenario, imported and resolved once (people and guns), for the graph tests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import resolve
from cruce.store import open_store
from cruce.synth import generate

SCALE, SEED = 3000, 1
RESOLVED_TYPES = ("Person", "Firearm")


def import_scenario(scenario: Path, url: str) -> None:
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(url) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])


@pytest.fixture(scope="session")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graph-scenario")
    generate(out, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="session")
def resolved_db(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("graph-resolved") / "store.duckdb"
    import_scenario(scenario, str(db))
    with open_store(str(db)) as store:
        for entity_type in RESOLVED_TYPES:
            resolve(store, entity_type)
    return db


@pytest.fixture
def db(resolved_db: Path, tmp_path: Path) -> str:
    """A copy of the resolved store (and no graph snapshot yet) that a test may change."""
    copy = tmp_path / "store.duckdb"
    shutil.copy(resolved_db, copy)
    return str(copy)
