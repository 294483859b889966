"""The DuckDB store's entity lookup file: reads by key give exactly what the scan gives, whether the
lookup is up to date, behind an import, damaged or holding an import the store does not have."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.conftest import PEOPLE_MAPPING

from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.store.duckdb_store import DuckDBStore
from cruce.store.sql import SqlStore

MAPPING = PEOPLE_MAPPING.format(dataset="lookup-people")


def _import(store: DuckDBStore, tmp: Path, name: str, rows: str) -> None:
    (tmp / "m.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp / f"{name}.csv").write_text(rows, encoding="utf-8")
    assert import_file(store, tmp / f"{name}.csv", tmp / "m.yaml").rows_stored > 0


def _ids(store: DuckDBStore) -> list[str]:
    return [
        str(r[0])
        for r in store.con.execute("SELECT DISTINCT CAST(entity_id AS VARCHAR) FROM statement ORDER BY 1").fetchall()
    ]


def _imports(store: DuckDBStore) -> dict[int, tuple[object, ...]]:
    return {int(r[0]): r[1:] for r in store._fetch("SELECT no, id, dataset, source_file, started_at FROM import_run")}


def _by_lookup(store: DuckDBStore, ids: list[str]) -> list[tuple[object, ...]] | None:
    assert store._lookup is not None
    return store._lookup.rows(store, ids, frozenset(_imports(store)))


def _by_scan(store: DuckDBStore, ids: list[str]) -> list[tuple[object, ...]]:
    return SqlStore._statement_rows(store, ids, _imports(store))


def test_lookup_reads_what_the_scan_reads_import_after_import(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        _import(store, tmp_path, "a", "pid,name,nationality\nP1,Ana Ruiz,MX\nP2,Luis Paz,US\n")
        assert store.refresh_lookup() == 2
        ids = _ids(store)
        assert sorted(_by_lookup(store, ids) or []) == sorted(_by_scan(store, ids))
        # a second import adds a value to P1 and a new person: the lookup is behind until caught up
        _import(store, tmp_path, "b", "pid,name,nationality\nP1,Ana Ruíz Gómez,MX\nP3,Eva Sol,GT\n")
        assert _by_lookup(store, _ids(store)) is None, "a stale lookup is never read"
        store._lookup.wait(30)  # type: ignore[union-attr] - the stale read started the catch-up
        store.refresh_lookup()
        ids = _ids(store)
        assert len(ids) == 3
        found = _by_lookup(store, ids)
        assert found is not None
        assert sorted(found) == sorted(_by_scan(store, ids))
        names = {r[4] for r in found if r[3] == "name"}
        assert {"Ana Ruiz", "Ana Ruíz Gómez", "Eva Sol"} <= names
        entity = store.statements_of(ids)
        assert sum(len(v) for v in entity.values()) == len(found)
    # a fresh process reads the file as it was left
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        assert sorted(_by_lookup(store, ids) or []) == sorted(_by_scan(store, ids))


def test_a_lookup_behind_an_import_into_a_new_dataset_is_read_with_that_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind imports that only add statements (datasets it holds nothing of), the lookup and the
    rows of those imports give what the scan gives; behind an import into a dataset it holds (which
    marks that dataset's statements seen again), the store is scanned."""
    with open_store(str(tmp_path / "s.duckdb")) as store:
        assert isinstance(store, DuckDBStore)
        assert store._lookup is not None
        _import(store, tmp_path, "a", "pid,name,nationality\nP1,Ana Ruiz,MX\nP2,Luis Paz,US\n")
        store.refresh_lookup()
        monkeypatch.setattr(store._lookup, "start", lambda *_a: None)  # the lookup stays behind
        (tmp_path / "other.yaml").write_text(PEOPLE_MAPPING.format(dataset="other-people"), encoding="utf-8")
        (tmp_path / "c.csv").write_text("pid,name,nationality\nP1,Ana Ruiz,MX\nP9,Rosa Luna,HN\n", encoding="utf-8")
        import_file(store, tmp_path / "c.csv", tmp_path / "other.yaml")
        imports = _imports(store)
        datasets = {n: str(row[1]) for n, row in imports.items()}
        ids = _ids(store)
        assert len(ids) == 4
        found = store._lookup.rows(store, ids, frozenset(imports), datasets)
        assert found is not None, "read from the lookup and the new import, not scanned"
        assert sorted(found) == sorted(_by_scan(store, ids))
        assert {r[4] for r in found if r[3] == "name"} >= {"Rosa Luna", "Luis Paz"}
        _import(store, tmp_path, "b", "pid,name,nationality\nP2,Luis Paz,US\n")  # a dataset the lookup holds
        imports = _imports(store)
        datasets = {n: str(row[1]) for n, row in imports.items()}
        assert store._lookup.rows(store, ids, frozenset(imports), datasets) is None


def test_a_lookup_holding_an_import_the_store_lacks_starts_again(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        _import(store, tmp_path, "a", "pid,name,nationality\nP1,Ana Ruiz,MX\n")
        store.refresh_lookup()
    con = sqlite3.connect(f"{db}.lookup.sqlite")
    con.execute("INSERT INTO held VALUES (999)")
    con.execute("INSERT INTO entity VALUES (?, ?)", (b"\x00" * 16, '[["Person","name","Ghost",null,1,999,999]]'))
    con.commit()
    con.close()
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        ids = _ids(store)
        assert _by_lookup(store, ids) is None
        store._lookup.wait(30)  # type: ignore[union-attr]
        store.refresh_lookup()
        found = _by_lookup(store, [*ids, "00000000-0000-0000-0000-000000000000"])
        assert found is not None
        assert sorted(found) == sorted(_by_scan(store, ids))
        assert all(r[4] != "Ghost" for r in found)


def test_a_damaged_lookup_file_costs_speed_not_answers(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as store:
        _import(store, tmp_path, "a", "pid,name,nationality\nP1,Ana Ruiz,MX\n")  # type: ignore[arg-type]
    Path(f"{db}.lookup.sqlite").write_bytes(b"this is not a database" * 100)
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        ids = _ids(store)
        statements = store.statements_of(ids)
        assert [s.value for s in statements[ids[0]] if s.prop == "name"] == ["Ana Ruiz"]
        store._lookup.wait(30)  # type: ignore[union-attr] - the read started a catch-up, which made the file again
        found = _by_lookup(store, ids)
        assert found is not None
        assert sorted(found) == sorted(_by_scan(store, ids))


def test_a_lookup_made_slice_by_slice_misses_no_entity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """However many slices of the id space the catch-up reads (256 here), every entity is in one."""
    from cruce.store import lookup

    monkeypatch.setattr(lookup, "STATEMENTS_PER_SLICE", 1)
    db = tmp_path / "s.duckdb"
    people = "".join(f"P{i},Persona {i},MX\n" for i in range(300))
    with open_store(str(db)) as store:
        assert isinstance(store, DuckDBStore)
        _import(store, tmp_path, "a", "pid,name,nationality\n" + people)
        assert store.refresh_lookup() == 300
        ids = _ids(store)
        assert sorted(_by_lookup(store, ids) or []) == sorted(_by_scan(store, ids))
        _import(store, tmp_path, "b", "pid,name,nationality\nP7,Persona Siete,MX\nP400,Nueva,GT\n")
        store._lookup.wait(30)  # type: ignore[union-attr]
        assert store.refresh_lookup() in (0, 2)  # the two entities touched (unless a stale read did it first)
        ids = _ids(store)
        assert sorted(_by_lookup(store, ids) or []) == sorted(_by_scan(store, ids))
