"""Backup, restore and copy give back every table, row for row, on both backends and between them;
a damaged archive, a store with data or another secret key are refused before anything is
written; a restore is all or nothing; new writes after it take new numbers; the audit log still
verifies; and tables travel in batches, never whole."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.conftest import PEOPLE_MAPPING, SCREENING_MAPPING, drop_pg_schema, pg_url_or_skip, shared_data

from cruce.graph.charts import Charts
from cruce.ingest.pipeline import import_file
from cruce.people.interviews import AnswerIn, Interviews
from cruce.people.screening import instrument
from cruce.resolve.engine import judge, resolve
from cruce.resolve.watch import Watchlists
from cruce.security import SYSTEM, Marking, Security
from cruce.security.db import AppDB
from cruce.store import Store, open_store
from cruce.store.transfer import Archive, Audit, TransferError, backup, copy, restore
from cruce.store.transfer import load as load_module  # the module (the package exports load_into)
from cruce.store.transfer import snapshot as snapshot_module
from cruce.store.transfer.snapshot import open_snapshot
from cruce.synth import generate

AUDIT = Audit("tests")
NOW = datetime(2025, 3, 1, 12, 30, 15, 123456)


# -- a store with rows in (nearly) every table ------------------------------------------------------
def _populate(store: Store, folder: Path) -> None:
    """A small synth scenario of the three flows, resolved; screenings with a protected person and a
    rejected row; the search index; accounts, a session, a token, a marking, a tip with its
    contact, a screening interview, a case with a note, a watch, a chart and a decision."""
    scenario = folder / "scenario"
    generate(scenario, scale=400, seed=5, flows=["firearms", "drugs", "people"])
    for entry in json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))["files"]:
        import_file(store, scenario / entry["path"], entry["mapping"])
    (folder / "screen.yaml").write_text(SCREENING_MAPPING.format(dataset="screenings"), encoding="utf-8")
    (folder / "screen.csv").write_text(
        "sid,date,person_name,nationality,screener\nS1,2024-03-01,María Pérez López,GT,Ana\n"
        'S2,not a date,"Rosa ""la güera"" Treviño",MX,Ana\nS3,2024-04-02,,US,\n',
        encoding="utf-8",
    )
    import_file(store, folder / "screen.csv", folder / "screen.yaml")
    result = resolve(store, "Person")
    assert result.pairs
    security = Security(store)
    t = NOW
    security.accounts.add("ana", "correct horse battery", "admin", groups={"unit-a"}, now=t)
    security.accounts.add("luis", "correct horse battery", "caseworker", groups={"unit-a"}, now=t)
    security.accounts.create_token("ana", "scripts", {"read", "admin"}, now=t)
    user = security.accounts.find("ana")
    assert user is not None
    security.sessions.start(user.id, now=t, second_factor_done=True)
    security.policies.set("screenings", Marking.AMBER, {"unit-a"}, now=t)
    security.tips.submit(what="Trucks at night", where="Nogales", contact="+52 631 555 0101", now=t)
    interviews = Interviews(security.db)
    interview = interviews.create(caseworker="luis", language="es", subject="Caso 7", now=t)
    question = instrument().questions[0].id
    interviews.save_answers(interview, [AnswerIn(question, "yes", "dijo que sí", 1, t)], now=t)
    case = security.assistance.open_case(label="C-7", caseworker="luis", by="ana", now=t)
    security.assistance.add_step(case.id, kind="note", state="written", on=date(2025, 3, 1), by="luis", now=t,
                                 note="Llamó a las 9")  # fmt: skip
    person = next(e.id for e in store.iter_entities(schema="Person"))
    Watchlists(store).add("ana", "entity", person)
    Charts(store).save("ana", "Sonora", {"nodes": [{"id": person, "x": 1.5, "y": -2.25}]})
    guard_search(store, security)  # builds the search index: terms, postings, facets
    pair = AppDB(store).one("SELECT CAST(id_l AS VARCHAR), CAST(id_r AS VARCHAR) FROM match_pair LIMIT 1")
    assert pair is not None
    judge(store, pair[0], pair[1], "not_same", "ana", note="different dates of birth")
    security.audit.record("ana", "signin", address="127.0.0.1", detail={"method": "password"})


def guard_search(store: Store, security: Security) -> None:
    from cruce.schema.loader import default_schema
    from cruce.security import Guard

    assert Guard(store, security, default_schema()).search(SYSTEM, "maria perez").hits


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One deployment key for the module's stores on both backends (a team server names its key)."""
    path = tmp_path_factory.mktemp("key") / "cruce.key"
    mp = pytest.MonkeyPatch()
    mp.setenv("CRUCE_SECRET_KEY_FILE", str(path))
    yield path
    mp.undo()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Path:
    folder = tmp_path_factory.mktemp("source")
    db = folder / "source.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("CRUCE_GRAPH_CACHE", str(folder / "graph"))
    with open_store(db) as store:
        _populate(store, folder)
    mp.undo()
    return db


@pytest.fixture(scope="module")
def archive(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("archive") / "source.zip"
    with open_store(source) as store:
        backup(store, out)
    return out


@pytest.fixture
def own_source(source: Path, tmp_path: Path) -> Path:
    """A copy of the source for a test that copies from it (a copy writes to its source's audit log)."""
    own = tmp_path / "own.duckdb"
    shutil.copyfile(source, own)
    return own


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = pg_url_or_skip()
    yield url
    drop_pg_schema(url)


def table_rows(db: str | Path, leave_out: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, read through a snapshot; ``leave_out``: "table.column" not compared."""
    found = {}
    with open_store(db) as store, open_snapshot(store) as snapshot:
        for name in snapshot.table_names():
            if name in leave_out:
                continue
            rows = []
            for batch in snapshot.batches(name):
                keep = [c for c in batch.schema.names if f"{name}.{c}" not in leave_out]
                rows += [tuple(r[c] for c in keep) for r in batch.select(keep).to_pylist()]
            found[name] = sorted(rows, key=repr)
    return found


def scalar(db: AppDB, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = db.one(sql, params)
    assert row is not None
    return row[0]


def audit_of(db: str | Path) -> tuple[bool, list[str]]:
    with open_store(db) as store:
        security = Security(store)
        result = security.audit.verify()
        actions = [e.action for e in reversed(security.audit.entries(limit=1000))]
    return result.ok, actions


def without_last_audit_entry(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The rows, less the newest audit entry (the one the restore or copy itself added)."""
    audit = sorted(rows["audit_log"], key=lambda r: r[0])
    return {**rows, "audit_log": sorted(audit[:-1], key=repr)}


CROSS_BACKEND = ("statement.id", "import_pending")  # PostgreSQL stores the statement id; DuckDB works it out


# -- round trips ----------------------------------------------------------------------------------
def test_duckdb_round_trip_gives_back_every_row(source: Path, archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "restored.duckdb"
    manifest, report = restore(archive, str(target), audit=AUDIT)
    before, after = table_rows(source), table_rows(target)
    assert set(after) == set(before)
    assert without_last_audit_entry(after) == before
    assert sum(1 for rows in before.values() if rows) >= 25  # the scenario filled nearly every table
    assert manifest.rows == sum(len(r) for r in before.values())
    assert report.rows == manifest.rows - 1  # the version row: the target has its own
    ok, actions = audit_of(target)
    assert ok
    assert actions[-1] == "restore"
    with open_store(source) as a, open_store(target) as b:
        person = next(a.iter_entities(schema="Person"))
        assert b.entity(person.id) == person
        assert b.datasets() == a.datasets()
        security = Security(b)  # the encrypted fields open with the same key
        assert security.tips.contact(security.tips.queue()[0].id) == "+52 631 555 0101"


def test_postgresql_round_trip_gives_back_every_row(own_source: Path, tmp_path: Path, pg_url: str) -> None:
    copy(str(own_source), pg_url, audit=AUDIT)
    out = tmp_path / "pg.zip"
    with open_store(pg_url) as store:
        manifest = backup(store, out)
    assert manifest.backend == "postgresql"
    second = pg_url.replace("schema=", "schema=r")
    try:
        restore(out, second, audit=AUDIT)
        assert without_last_audit_entry(table_rows(second)) == table_rows(pg_url)
        ok, actions = audit_of(second)
        assert ok
        assert actions[-2:] == ["copy_in", "restore"]
    finally:
        drop_pg_schema(second)


def as_postgresql_keeps_them(db: Path) -> list[tuple[Any, ...]]:
    """The DuckDB store's statement rows as a PostgreSQL import keeps them: one row per statement id
    (dataset, entity, property, value), the first by source row. A DuckDB store imported before
    0016's cruce could hold a statement twice (an organization both actor1 and actor2 of events)."""
    with open_store(db) as store:
        rows = AppDB(store).fetch(
            "SELECT CAST(entity_id AS VARCHAR), prop_id, value, original, source_row, import_no, last_import_no "
            "FROM (SELECT s.*, row_number() OVER (PARTITION BY i.dataset, s.entity_id, p.prop, s.value "
            "ORDER BY s.source_row) AS n FROM statement s JOIN import_run i ON i.no = s.import_no "
            "JOIN property p ON p.prop_id = s.prop_id) WHERE n = 1"
        )
    return sorted(rows, key=repr)


def test_copy_duckdb_to_postgresql_and_back_keeps_every_row(own_source: Path, tmp_path: Path, pg_url: str) -> None:
    assert len(as_postgresql_keeps_them(own_source)) == len(table_rows(own_source)["statement"])
    with open_store(own_source) as store:  # as a store imported by an older cruce: one statement twice
        AppDB(store).execute(
            "INSERT INTO statement SELECT entity_id, prop_id, value, original, source_row + 1000000, import_no, "
            "last_import_no FROM statement ORDER BY entity_id, prop_id, value LIMIT 1"
        )
    original = table_rows(own_source, CROSS_BACKEND)
    kept = as_postgresql_keeps_them(own_source)
    assert len(original["statement"]) - len(kept) == 1  # the copy keeps it once, as PostgreSQL would
    original["statement"] = kept
    report = copy(str(own_source), pg_url, audit=AUDIT)
    assert without_last_audit_entry(table_rows(pg_url, CROSS_BACKEND)) == original
    back = tmp_path / "back.duckdb"
    copy(pg_url, str(back), audit=AUDIT)
    returned = without_last_audit_entry(table_rows(back, CROSS_BACKEND))
    assert without_last_audit_entry(returned) == original  # two copies, two entries
    assert report.rows == sum(len(r) for r in original.values()) - 1  # the target has its own version row
    assert report.rows_by_table["statement"] == len(kept)
    view = "SELECT CAST(id AS VARCHAR), CAST(entity_id AS VARCHAR), prop, value, dataset FROM statements"
    with open_store(own_source) as a, open_store(pg_url) as p, open_store(back) as b:
        ids = sorted(set(AppDB(a).fetch(view)))
        assert sorted(AppDB(p).fetch(view)) == ids  # PostgreSQL's stored ids are the ones DuckDB works out
        assert sorted(AppDB(b).fetch(view)) == ids
    before = [a for a in audit_of(own_source)[1] if a != "copy_out"]
    assert audit_of(own_source) == (True, [*before, "copy_out"])  # the copy is recorded on both sides
    assert audit_of(pg_url) == (True, [*before, "copy_in", "copy_out"])
    assert audit_of(back) == (True, [*before, "copy_in", "copy_in"])


def test_real_data_copies_to_postgresql_and_back(tmp_path: Path, pg_url: str, key_file: Path) -> None:
    path = shared_data("ctdc_trafficking_derived", "trafficking_cleaned.csv")
    db = tmp_path / "ctdc.duckdb"
    with open_store(db) as store:
        assert import_file(store, path, "ctdc-derived").rows_stored == 14_299
    copy(str(db), pg_url, audit=AUDIT)
    back = tmp_path / "back.duckdb"
    copy(pg_url, str(back), audit=AUDIT)
    with open_store(db) as a, open_store(back) as b:
        assert a.counts_by_schema() == b.counts_by_schema() == {"TraffickingCase": 14_299}
        assert a.statement_count() == b.statement_count()
    assert table_rows(back, ("audit_log",)) == table_rows(db, ("audit_log",))


# -- new writes after a restore ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_new_writes_after_a_restore_take_new_numbers(backend: str, archive: Path, tmp_path: Path) -> None:
    target = str(tmp_path / "t.duckdb") if backend == "duckdb" else pg_url_or_skip()
    try:
        restore(archive, target, audit=AUDIT)
        with open_store(target) as store:
            db = AppDB(store)
            top_import, top_prop = (
                scalar(db, "SELECT max(no) FROM import_run"),
                scalar(db, "SELECT max(prop_id) FROM property"),
            )
            (tmp_path / "p.yaml").write_text(PEOPLE_MAPPING.format(dataset="after"), encoding="utf-8")
            (tmp_path / "p.csv").write_text("pid,name,nationality\nN1,Nueva Persona,MX\n", encoding="utf-8")
            result = import_file(store, tmp_path / "p.csv", tmp_path / "p.yaml")
            assert result.statements_added == 2
            assert scalar(db, "SELECT no FROM import_run WHERE id = ?", (result.import_id,)) > top_import
            assert store.property_ids([("Person", "brand_new")])[("Person", "brand_new")] > top_prop
            assert scalar(db, "SELECT count(*) - count(DISTINCT prop_id) FROM property") == 0
            security = Security(store)
            entry = security.audit.record("ana", "after_restore")
            assert entry.seq == scalar(db, "SELECT max(seq) FROM audit_log")
            assert security.audit.verify().ok
            assert security.accounts.authenticate("ana", "correct horse battery", now=datetime.now())[0] is not None
    finally:
        if backend == "postgresql":
            drop_pg_schema(target)


# -- refusals -------------------------------------------------------------------------------------------
def _rewrite(archive: Path, out: Path, change: Any) -> Path:
    """A copy of ``archive`` with ``change(name, data) -> data`` applied to each member."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out


def test_a_damaged_archive_is_refused_before_anything_is_written(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "t.duckdb"

    def flip(name: str, data: bytes) -> bytes:
        if name != "tables/statement.parquet":
            return data
        middle = len(data) // 2
        return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]

    with pytest.raises(TransferError, match=r"table statement .*SHA-256"):
        restore(_rewrite(archive, tmp_path / "flipped.zip", flip), str(target), audit=AUDIT)
    assert not target.exists()
    assert not Path(f"{target}.key").exists()

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(archive.read_bytes()[:-5000])
    with pytest.raises(TransferError, match="damaged or incomplete"):
        restore(truncated, str(target), audit=AUDIT)

    def fewer_rows(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        next(t for t in manifest["tables"] if t["name"] == "import_run")["rows"] -= 1
        return json.dumps(manifest).encode()

    with pytest.raises(TransferError, match=r"table import_run has .* rows instead of"):
        restore(_rewrite(archive, tmp_path / "rows.zip", fewer_rows), str(target), audit=AUDIT)

    gone = tmp_path / "gone.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(gone, "w") as dst:
        for info in src.infolist():
            if info.filename != "tables/audit_log.parquet":
                dst.writestr(info.filename, src.read(info.filename))
    with pytest.raises(TransferError, match="table audit_log is missing"):
        restore(gone, str(target), audit=AUDIT)
    assert not target.exists()
    with pytest.raises(TransferError, match="not a cruce backup"):
        restore(_rewrite(archive, tmp_path / "x.zip", lambda n, d: b"{}" if n == "manifest.json" else d), str(target),
                audit=AUDIT)  # fmt: skip


def test_a_store_with_data_is_refused_and_replace_is_all_or_nothing(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "busy.duckdb"
    with open_store(target) as store:
        (tmp_path / "p.yaml").write_text(PEOPLE_MAPPING.format(dataset="mine"), encoding="utf-8")
        (tmp_path / "p.csv").write_text("pid,name,nationality\nM1,Mía Propia,MX\n", encoding="utf-8")
        import_file(store, tmp_path / "p.csv", tmp_path / "p.yaml")
    before = table_rows(target)
    with pytest.raises(TransferError, match=r"already holds data .*--replace"):
        restore(archive, str(target), audit=AUDIT)

    real_write = load_module._DuckDBWriter.write

    def failing(self: Any, table: Any, columns: Any, batches: Any, key: Any) -> int:
        if table.name == "statement":  # after the tables before it were emptied and written
            raise OSError("disk full")
        return int(real_write(self, table, columns, batches, key))

    monkeypatch.setattr(load_module._DuckDBWriter, "write", failing)
    with pytest.raises(OSError, match="disk full"):
        restore(archive, str(target), audit=AUDIT, replace=True)
    assert table_rows(target) == before  # nothing of it happened
    monkeypatch.undo()

    restore(archive, str(target), audit=AUDIT, replace=True)
    with open_store(target) as store:
        assert "mine" not in [d.name for d in store.datasets()]
    ok, actions = audit_of(target)
    assert ok
    assert actions[-1] == "restore"


def test_the_secret_key_must_be_the_one_the_data_was_made_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRUCE_SECRET_KEY_FILE", raising=False)
    db = tmp_path / "own.duckdb"
    with open_store(db) as store:
        security = Security(store)  # makes own.duckdb.key
        security.tips.submit(what="Armas en la bodega", contact="tel 555", now=NOW)
        security.audit.record("ana", "tip_read")
        backup(store, tmp_path / "plain.zip")
        backup(store, tmp_path / "keyed.zip", include_key=True)
    with Archive(tmp_path / "plain.zip") as plain:
        wanted = plain.manifest.secret_key_id
        assert wanted
        assert plain.secret_key() is None

    target = tmp_path / "new.duckdb"
    with pytest.raises(TransferError, match=f"secret key {wanted}.* has no key yet"):
        restore(tmp_path / "plain.zip", str(target), audit=AUDIT)
    assert not target.exists()

    restore(tmp_path / "keyed.zip", str(target), audit=AUDIT)
    key = Path(f"{target}.key")
    assert key.read_bytes().strip() == Path(f"{db}.key").read_bytes().strip()
    assert key.stat().st_mode & 0o777 == 0o600
    assert audit_of(target) == (True, ["tip_read", "restore"])
    with open_store(target) as store:
        security = Security(store)
        assert security.tips.contact(security.tips.queue()[0].id) == "tel 555"

    other = tmp_path / "other.duckdb"
    with open_store(other) as store:
        Security(store)  # a key of its own
    with pytest.raises(TransferError, match=f"made under the secret key {wanted}, but .* uses the key"):
        restore(tmp_path / "keyed.zip", str(other), audit=AUDIT, replace=True)
    with pytest.raises(TransferError, match="uses the key"):
        copy(str(db), str(other), audit=AUDIT, replace=True)

    third = tmp_path / "third.duckdb"  # a copy puts the source's key beside a new DuckDB file
    copy(str(db), str(third), audit=AUDIT)
    assert audit_of(third) == (True, ["tip_read", "copy_in"])
    assert audit_of(db) == (True, ["tip_read", "copy_out"])


def test_copy_refuses_the_same_database(source: Path) -> None:
    with pytest.raises(TransferError, match="the same database"):
        copy(str(source), f"duckdb:{source.parent}/../{source.parent.name}/{source.name}", audit=AUDIT)


@pytest.mark.postgres
def test_copy_refuses_the_same_postgresql_schema_however_named(pg_url: str, key_file: Path) -> None:
    with open_store(pg_url) as store:
        Security(store).audit.record("ana", "signin")
    with pytest.raises(TransferError, match="the same database"):
        copy(pg_url, pg_url + "&application_name=other", audit=AUDIT, replace=True)
    assert audit_of(pg_url) == (True, ["signin"])


def test_another_store_version_is_refused(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRUCE_SECRET_KEY_FILE")
    with Archive(archive) as opened:
        version = opened.manifest.store_version

    def older(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["store_version"] -= 1
        manifest["secret_key_id"] = None  # as from a store without a key: the new one makes its own
        return json.dumps(manifest).encode()

    with pytest.raises(TransferError, match=f"store version {version - 1} and the target at {version}"):
        restore(_rewrite(archive, tmp_path / "old.zip", older), str(tmp_path / "t.duckdb"), audit=AUDIT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.zip"]  # the new file, its key: gone again


# -- batches ------------------------------------------------------------------------------------------
def test_tables_travel_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_file: Path) -> None:
    monkeypatch.setattr(snapshot_module, "BATCH_ROWS", 1_000)
    db = tmp_path / "big.duckdb"
    rows = 30_000
    with open_store(db) as store:
        store.con.execute(  # type: ignore[attr-defined]
            "INSERT INTO import_run (no, id, dataset, source_file, file_sha256, file_size, mapping, mapping_sha256, "
            "started_at, finished_at) VALUES (1, 'i1', 'big', 'big.csv', 'x', 1, 'm', 'y', now(), now())"
        )
        store.con.execute("INSERT INTO property VALUES (1, 'Person', 'name')")  # type: ignore[attr-defined]
        store.con.execute(  # type: ignore[attr-defined]
            f"INSERT INTO statement SELECT uuid(), 1, md5(CAST(i AS VARCHAR)), NULL, i, 1, 1 FROM range({rows}) t(i)"
        )
        backup(store, tmp_path / "big.zip")
    with zipfile.ZipFile(tmp_path / "big.zip") as zf:
        (tmp_path / "statement.parquet").write_bytes(zf.read("tables/statement.parquet"))
    groups = pq.ParquetFile(tmp_path / "statement.parquet").metadata
    assert groups.num_rows == rows
    assert groups.num_row_groups >= rows // 1_000
    assert all(groups.row_group(i).num_rows <= 1_000 for i in range(groups.num_row_groups))

    seen: list[int] = []
    real_write = load_module._DuckDBWriter.write

    def spy(self: Any, table: Any, columns: Any, batches: Iterator[Any], key: Any) -> int:
        def counted() -> Iterator[Any]:
            for batch in batches:
                if table.name == "statement":
                    seen.append(batch.num_rows)
                yield batch

        return int(real_write(self, table, columns, counted(), key))

    monkeypatch.setattr(load_module._DuckDBWriter, "write", spy)
    restore(tmp_path / "big.zip", str(tmp_path / "back.duckdb"), audit=AUDIT)
    assert sum(seen) == rows
    assert max(seen) <= 1_000
    assert table_rows(tmp_path / "back.duckdb")["statement"] == table_rows(db)["statement"]


@pytest.mark.postgres
def test_postgresql_tables_are_read_a_block_at_a_time(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                                      key_file: Path) -> None:  # fmt: skip
    monkeypatch.setattr(snapshot_module, "PG_BLOCK_BYTES", 64 << 10)
    with open_store(pg_url) as store:
        store.conn.execute(  # type: ignore[attr-defined]
            "INSERT INTO statement SELECT gen_random_uuid(), gen_random_uuid(), 1, md5(i::text) || E'\\n\"x\",', "
            "CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN '' ELSE 'NULL' END, i, 1, 1 "
            "FROM generate_series(1, 20000) i"
        )
        with open_snapshot(store) as snapshot:
            batches = list(snapshot.batches("statement"))
    assert len(batches) > 10
    assert sum(b.num_rows for b in batches) == 20_000
    originals = [v for b in batches for v in b.column("original").to_pylist()]
    assert (originals.count(None), originals.count(""), originals.count("NULL")) == (6666, 6667, 6667)
    assert all(v.endswith('\n"x",') for b in batches for v in b.column("value").to_pylist())


def test_pending_imports_are_left_out(tmp_path: Path, key_file: Path) -> None:
    """A DuckDB import commits batch by batch, invisible until its import_run row is written: a
    backup taken meanwhile holds none of its rows (tests/web/test_backup_api.py takes one during a
    real import)."""
    db = tmp_path / "p.duckdb"
    with open_store(db) as store:
        store.con.execute("INSERT INTO import_pending VALUES (7, 'pending', 'ds', now())")  # type: ignore[attr-defined]
        store.con.execute("INSERT INTO statement VALUES (uuid(), 1, 'half', NULL, 1, 7, 7)")  # type: ignore[attr-defined]
        store.con.execute("SELECT nextval('import_no_seq') FROM range(7)")  # type: ignore[attr-defined]
        manifest = backup(store, tmp_path / "p.zip")
    assert manifest.pending_imports_left_out == 1
    assert manifest.entry("statement").rows == manifest.entry("import_pending").rows == 0  # type: ignore[union-attr]
    restore(tmp_path / "p.zip", str(tmp_path / "r.duckdb"), audit=AUDIT)
    with open_store(tmp_path / "r.duckdb") as store:
        assert store.interrupted_imports == []  # type: ignore[attr-defined]
        assert store.next_number("import_no_seq") == 8  # type: ignore[attr-defined]  # past the pending import


def test_archive_is_private(archive: Path) -> None:
    assert archive.stat().st_mode & 0o777 == 0o600
    assert not Path(f"{archive}.partial").exists()
    assert os.path.getsize(archive) > 0


_MEASURE = """
import resource, sys
from pathlib import Path
from cruce.store import open_store
from cruce.store.transfer import Audit, backup, restore, snapshot

snapshot.BATCH_ROWS = 8_192  # small batches: memory levels off with small tables already

def peak_mb():  # VmHWM, which writing 5 to clear_refs sets back to the current size
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")) / 1024

folder, rows = Path(sys.argv[1]), int(sys.argv[2])
with open_store(folder / "big.duckdb") as store:
    store.con.execute(
        "INSERT INTO import_run (no, id, dataset, source_file, file_sha256, file_size, mapping, mapping_sha256, "
        "started_at, finished_at) VALUES (1, 'i1', 'big', 'big.csv', 'x', 1, 'm', 'y', now(), now())")
    store.con.execute("INSERT INTO property VALUES (1, 'Person', 'name')")
    store.con.execute(f"INSERT INTO statement SELECT uuid(), 1, repeat(md5(CAST(i AS VARCHAR)), 12), NULL, i, 1, 1 "
                      f"FROM range({rows}) t(i)")
    open("/proc/self/clear_refs", "w").write("5")
    start = peak_mb()
    backup(store, folder / "big.zip")
    grew_backup = peak_mb() - start
open("/proc/self/clear_refs", "w").write("5")
start = peak_mb()
restore(folder / "big.zip", str(folder / "back.duckdb"), audit=Audit("tests"))
print("grew", grew_backup, peak_mb() - start)
"""


@pytest.mark.slow
def test_memory_stays_bounded_whatever_the_table_size(tmp_path: Path, key_file: Path) -> None:
    """Backup and restore of a table of 150,000 rows and of one four times as large (400 bytes a
    row: 170 MB more) need the same memory, within a few batches' worth."""
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("needs Linux's /proc to measure peak memory")
    grew = {}
    for rows in (150_000, 600_000):
        folder = tmp_path / str(rows)
        folder.mkdir()
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(folder), str(rows)],
            capture_output=True, text=True, timeout=300, env={**os.environ, "CRUCE_DUCKDB_MEMORY": "32MB"},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        line = next(x for x in done.stdout.splitlines() if x.startswith("grew "))  # DuckDB may draw progress bars
        grew[rows] = [float(x) for x in line.split()[1:]]
    small, big = grew[150_000], grew[600_000]
    assert big[0] - small[0] < 50, grew  # backup, MB
    assert big[1] - small[1] < 50, grew  # restore, MB


# -- a table a later migration adds ---------------------------------------------------------------------
_LATER = {
    "duckdb": "CREATE SEQUENCE later_job_seq START 1;\n"
    "CREATE TABLE later_job (id BIGINT PRIMARY KEY DEFAULT nextval('later_job_seq'), kind VARCHAR NOT NULL, "
    "payload JSON, progress DOUBLE, amount DECIMAL(10, 2), created_at TIMESTAMP NOT NULL, done BOOLEAN);",
    "postgresql": "CREATE TABLE later_job (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, kind TEXT NOT NULL, "
    "payload JSONB, progress DOUBLE PRECISION, amount NUMERIC(10, 2), created_at TIMESTAMP NOT NULL, done BOOLEAN);",
}


@pytest.fixture
def later_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This cruce's migrations and one more that adds a table of jobs numbered by a sequence (DuckDB)
    or an identity column (PostgreSQL), with JSON, a decimal and a time."""
    from cruce.store.sql import MIGRATIONS_DIR, SqlStore, migration_files

    folder = tmp_path / "migrations"
    for backend, script in _LATER.items():
        (folder / backend).mkdir(parents=True)
        files = migration_files(backend, MIGRATIONS_DIR)
        for _number, path in files:
            (folder / backend / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        (folder / backend / f"{files[-1][0] + 1:04d}_later_job.sql").write_text(script, encoding="utf-8")
    monkeypatch.setattr(SqlStore, "migrations_dir", folder)


def _jobs(db: str | Path) -> list[tuple[Any, ...]]:
    with open_store(db) as store:
        rows = AppDB(store).fetch(
            "SELECT id, kind, CAST(payload AS VARCHAR), progress, CAST(amount AS VARCHAR), created_at, done "
            "FROM later_job ORDER BY id"
        )
    return [(r[0], r[1], json.loads(r[2]) if r[2] else None, *r[3:]) for r in rows]


@pytest.mark.postgres
def test_a_table_a_later_migration_adds_is_carried_too(
    later_migration: None, tmp_path: Path, pg_url: str, key_file: Path
) -> None:
    db = tmp_path / "jobs.duckdb"
    with open_store(db) as store:
        for kind, payload in (("import", '{"file": "a.csv", "rows": [1, 2]}'), ("resolve", None), ("import", "{}")):
            AppDB(store).execute(
                "INSERT INTO later_job (kind, payload, progress, amount, created_at, done) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, payload, 1 / 3, "12.50", NOW, kind == "resolve"),
            )
        backup(store, tmp_path / "jobs.zip")
    with Archive(tmp_path / "jobs.zip") as archive:
        assert archive.manifest.entry("later_job").rows == 3  # type: ignore[union-attr]
    restored = tmp_path / "restored.duckdb"
    restore(tmp_path / "jobs.zip", str(restored), audit=AUDIT)
    copy(str(db), pg_url, audit=AUDIT)
    back = tmp_path / "back.duckdb"
    copy(pg_url, str(back), audit=AUDIT)
    expected = _jobs(db)
    assert expected[0][2] == {"file": "a.csv", "rows": [1, 2]}
    assert _jobs(restored) == _jobs(pg_url) == _jobs(back) == expected
    for target in (str(restored), pg_url, str(back)):  # the next job takes the next number
        with open_store(target) as store:
            AppDB(store).execute("INSERT INTO later_job (kind, created_at) VALUES ('new', ?)", (NOW,))
        assert [j[0] for j in _jobs(target)] == [1, 2, 3, 4]
