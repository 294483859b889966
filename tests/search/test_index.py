"""The value and reference index (cruce.search.index): words are found accents, case and
punctuation aside, the index follows imports, a killed import leaves no index rows, an older store
is backfilled; both backends."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.security import SYSTEM, Guard, Security
from cruce.store import Store, open_store
from tests.conftest import PEOPLE_MAPPING
from tests.web.conftest import VICTIM, World, build_world, drop_pg_schema, pg_url_or_skip

PEOPLE = PEOPLE_MAPPING
SALES = """
name: test-sales
dataset: sales
entities:
  purchase:
    schema: FirearmPurchase
    key: [tx]
    properties:
      transaction_number: tx
      purchaser: {entity: buyer}
  buyer:
    schema: Person
    key: [buyer]
    properties:
      name: buyer
"""
NAMES = ["José Pérez Núñez", "JOSE PEREZ", "María Fernanda Gómez", "Ángel Muñoz_Ruiz", "100% Martínez", "Luis O'Brien"]


def _import(store: Store, tmp: Path, name: str, mapping: str, header: str, rows: list[str], **kw: str) -> None:
    (tmp / f"{name}.yaml").write_text(mapping, encoding="utf-8")
    (tmp / f"{name}.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(store, tmp / f"{name}.csv", tmp / f"{name}.yaml", **kw)  # type: ignore[arg-type]


def _people(store: Store, tmp: Path, dataset: str, names: list[str], start: int = 0, **kw: str) -> None:
    rows = [f'P{start + i},"{n}",MX' for i, n in enumerate(names)]
    _import(store, tmp, dataset, PEOPLE.format(dataset=dataset), "pid,name,nationality", rows, **kw)


def _index_rows(store: Store) -> list[tuple[str, ...]]:
    """The reference index, with the dataset and the property of each row."""
    fetch = store._fetch  # type: ignore[attr-defined]
    refs = fetch(
        "SELECT CAST(r.target AS VARCHAR), CAST(r.entity_id AS VARCHAR), i.dataset, p.schema, p.prop, r.protected "
        "FROM entity_ref r JOIN import_run i ON i.no = r.import_no JOIN property p ON p.prop_id = r.prop_id "
        "ORDER BY 1, 2, 3, 4, 5"
    )
    return [tuple(map(str, r)) for r in refs]


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())


@pytest.fixture
def guarded(store_url: str) -> Iterator[tuple[Store, Guard]]:
    with open_store(store_url) as store:
        yield store, Guard(store, Security(store), default_schema())


def test_words_are_found_accents_case_and_punctuation_aside(guarded: tuple[Store, Guard], tmp_path: Path) -> None:
    store, guard = guarded
    _people(store, tmp_path, "people", NAMES)
    expected = {
        "jose perez": {"José Pérez Núñez", "JOSE PEREZ"}, "PÉREZ": {"José Pérez Núñez", "JOSE PEREZ"},
        "perez jose": {"José Pérez Núñez", "JOSE PEREZ"}, "nunez": {"José Pérez Núñez"},
        "maría gómez": {"María Fernanda Gómez"}, "fernanda": {"María Fernanda Gómez"},
        "muñoz_ruiz": {"Ángel Muñoz_Ruiz"}, "munozruiz": {"Ángel Muñoz_Ruiz"}, "ruiz": {"Ángel Muñoz_Ruiz"},
        "100%": {"100% Martínez"}, "o'brien": {"Luis O'Brien"}, "obrien": {"Luis O'Brien"},
        "_": set(), "%": set(), "zzz": set(), "' OR '1'='1": set(),
    }  # fmt: skip
    for query, names in expected.items():
        found = guard.search(SYSTEM, query, limit=100)
        assert {h.caption for h in found.hits} == names, query
        assert found.total == len(names), query


def test_index_follows_imports(guarded: tuple[Store, Guard], tmp_path: Path) -> None:
    store, guard = guarded
    _people(store, tmp_path, "people", NAMES[:2])
    assert guard.search(SYSTEM, "gomez").total == 0
    _people(store, tmp_path, "more-people", NAMES[2:], start=10)
    assert guard.search(SYSTEM, "gomez").total == 1
    before = _index_rows(store)
    _people(store, tmp_path, "more-people", NAMES[2:], start=10, force=True)  # nothing new: no new index rows
    assert _index_rows(store) == before
    # the same record in a second dataset (another entity until resolution) is found in each
    _people(store, tmp_path, "third", ["José Pérez Núñez"], start=0)
    assert sorted(h.datasets for h in guard.search(SYSTEM, "nunez").hits) == [("people",), ("third",)]
    # entity references are indexed the other way round, for the entity page
    _import(store, tmp_path, "sales", SALES, "tx,buyer", ["T1,Ana Ruiz", "T2,Ana Ruiz", "T3,Beto Sol"])
    ana = next(h.entity_id for h in guard.search(SYSTEM, "ana ruiz").hits)
    refs = guard.references(SYSTEM, ana)
    assert sorted((r.schema, r.prop) for r in refs) == [("FirearmPurchase", "purchaser")] * 2
    assert all(r.entity is not None and r.entity.schema == "FirearmPurchase" for r in refs)
    entity_refs = _index_rows(store)
    assert {r[2] for r in entity_refs} == {"sales"}
    assert {(r[3], r[4]) for r in entity_refs} == {("FirearmPurchase", "purchaser")}


REPEATS = """
name: test-repeats
dataset: repeats
entities:
  purchase:
    schema: FirearmPurchase
    key: [tx]
    properties:
      transaction_number: tx
      purchaser: {entity: buyer}
      date: day
  buyer:
    schema: Person
    key: [pid]
    properties:
      name: buyer
      nationality: nationality
"""


def _repeats_csv(path: Path) -> Path:
    """Sales in which buyers and sales come back in later batches: most with the same statements,
    a buyer spelled differently each time (accents and case fold to the same search value), a
    buyer with another nationality now and then, each sale again on another day."""
    rows = []
    for i in range(60):
        pid = i % 6
        name = ["José Pérez", "Jose Perez", "JOSÉ PÉREZ", "Ana Ruiz"][i % 4] if pid == 0 else f"Buyer {pid}"
        nationality = "US" if pid == 1 and i % 7 == 0 else "MX"
        rows.append(f'T{i % 30},P{pid},"{name}",{nationality},2020-01-{1 + i // 30:02d}')
    path.write_text("tx,pid,buyer,nationality,day\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _statement_rows(store: Store) -> list[tuple[str, ...]]:
    rows = store._fetch(  # type: ignore[attr-defined]
        "SELECT CAST(entity_id AS VARCHAR), schema, prop, value, original, source_row FROM statements "
        "ORDER BY 1, 2, 3, 4, 5, 6"
    )
    return [tuple(map(str, r)) for r in rows]


def test_an_import_in_many_batches_has_the_index_of_its_statements(store_url: str, tmp_path: Path) -> None:
    from cruce.search import backfill

    mapping = tmp_path / "repeats.yaml"
    mapping.write_text(REPEATS, encoding="utf-8")
    csv = _repeats_csv(tmp_path / "repeats.csv")
    with open_store(str(tmp_path / "one-batch.duckdb")) as whole:
        import_file(whole, csv, mapping)
        expected = _statement_rows(whole)
    with open_store(store_url) as store:
        import_file(store, csv, mapping, batch_rows=4)  # 15 batches: buyers met again and again
        assert _statement_rows(store) == expected  # each statement once, from its first row
        indexed = _index_rows(store)
        assert len(indexed) == len([r for r in expected if r[2] == "purchaser"]) == 30
        backfill(store)  # the index made again from the committed statements
        assert _index_rows(store) == indexed


_KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from cruce.ingest import pipeline
    from cruce.search import index
    from cruce.store import open_store
    from cruce.store.duckdb_store import DuckDBImportWriter

    def killing_step(store, schema):  # a store that indexes at commit (PostgreSQL)
        step = index.index_step(store, schema)
        def run(number):
            yield from step(number)  # the index rows are written, in the import's transaction...
            os.kill(os.getpid(), signal.SIGKILL)  # ...which never commits
        return run

    remove_repeats = DuckDBImportWriter._remove_repeats

    def killing_commit(self):  # DuckDB: the index rows are written batch by batch, then...
        remove_repeats(self)  # ...the import's commit transaction begins...
        os.kill(os.getpid(), signal.SIGKILL)  # ...and never ends

    pipeline.index_step = killing_step
    DuckDBImportWriter._remove_repeats = killing_commit
    with open_store(sys.argv[1]) as store:
        pipeline.import_file(store, sys.argv[2], sys.argv[3])
    """
)


def test_an_import_killed_in_its_commit_leaves_no_index_rows(store_url: str, tmp_path: Path) -> None:
    with open_store(store_url) as store:
        _people(store, tmp_path, "people", NAMES[:3])
        before = (_index_rows(store), store.statement_count(), len(store.imports()))
    (tmp_path / "late.yaml").write_text(PEOPLE.format(dataset="late"), encoding="utf-8")
    (tmp_path / "late.csv").write_text("pid,name,nationality\nL1,Zoila Quintana,MX\n", encoding="utf-8")
    script = tmp_path / "killer.py"
    script.write_text(_KILLER, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), store_url, str(tmp_path / "late.csv"), str(tmp_path / "late.yaml")],
        capture_output=True, timeout=300, env={**os.environ},
    )  # fmt: skip
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    with open_store(store_url) as store:
        assert (_index_rows(store), store.statement_count(), len(store.imports())) == before
        guard = Guard(store, Security(store), default_schema())
        assert guard.search(SYSTEM, "zoila").total == 0  # the search caught the term index up: no term either
        assert guard.db.fetch("SELECT count(*) FROM search_term WHERE term = 'zoila'") == [(0,)]
        import_file(store, tmp_path / "late.csv", tmp_path / "late.yaml")  # and again, to the end
        assert guard.search(SYSTEM, "zoila").total == 1
        assert guard.db.fetch("SELECT count(*) FROM search_term WHERE term = 'zoila'") == [(1,)]


def test_an_older_store_is_backfilled_when_opened(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cruce.ingest import pipeline
    from cruce.store import sql

    with open_store(store_url) as store:  # what imports write today, for comparison
        _people(store, tmp_path, "people", NAMES)
        _import(store, tmp_path, "sales", SALES, "tx,buyer", ["T1,Ana Ruiz", "T2,Beto Sol"])
        expected = _index_rows(store)
        assert expected
    drop_store(store_url)
    # a cruce from before the index: migrations up to 0003, imports without the index step
    older = tmp_path / "migrations"
    for backend in ("duckdb", "postgresql"):
        (older / backend).mkdir(parents=True)
        for number, path in sql.migration_files(backend):
            if number < 4:
                (older / backend / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    with monkeypatch.context() as old:
        old.setattr(sql.SqlStore, "migrations_dir", older)
        old.setattr(pipeline, "index_step", lambda store, schema: lambda number: [])
        with open_store(store_url) as store:
            assert store.schema_version() == 3
            _people(store, tmp_path, "people", NAMES)
            _import(store, tmp_path, "sales", SALES, "tx,buyer", ["T1,Ana Ruiz", "T2,Beto Sol"])
    with open_store(store_url) as store:  # this cruce: upgraded, and the index filled
        assert store.schema_version() >= 4
        assert _index_rows(store) == expected
        guard = Guard(store, Security(store), default_schema())
        assert guard.search(SYSTEM, "jose perez").total == 2


def drop_store(store_url: str) -> None:
    """Empty the store (a DuckDB file, or a PostgreSQL schema) for a fresh start at the same URL."""
    if store_url.startswith("postgresql"):
        drop_pg_schema(store_url)
        return
    for path in (Path(store_url), Path(store_url + ".wal")):
        path.unlink(missing_ok=True)


# -- auditing: a plain search is not audited, one that matches protected values is ---------------
@pytest.fixture(scope="module", params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"search-{request.param}")
    url = str(tmp / "w.duckdb") if request.param == "duckdb" else pg_url_or_skip()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CRUCE_SECRET_KEY_FILE", str(tmp / "cruce.key"))
        built = build_world(url, tmp)
        yield built
        built.app.state.services.close()
    if request.param == "postgresql":
        drop_pg_schema(url)


def _searches(world: World, who: str) -> int:
    return sum(1 for e in world.view.security.audit.entries(limit=10_000, actor=who) if e.action == "search")


@pytest.mark.parametrize("who", ["analyst", "caseworker"])
def test_only_searches_touching_protected_values_are_audited(world: World, who: str) -> None:
    client, headers = world.session(who), world.api(who)
    before = _searches(world, who)
    assert client.get("/search", params={"q": "juan gomez"}).status_code == 200
    assert client.get("/api/v1/search", params={"q": "juan gomez"}, headers=headers).status_code == 200
    assert _searches(world, who) == before  # a plain search leaves no entry
    page = client.get("/search", params={"q": "maria perez"})
    api = client.get("/api/v1/search", params={"q": "maria perez"}, headers=headers).json()
    if who == "caseworker":  # her caseload: the victim is found, and the search is audited
        assert VICTIM in page.text
        assert api["total"] == 1
        assert _searches(world, who) == before + 2
    else:  # outside the caseload the victim's name is not searched: nothing found, nothing to audit
        assert VICTIM not in page.text
        assert api["total"] == 0
        assert _searches(world, who) == before


@pytest.mark.parametrize("who", ["analyst", "caseworker"])
def test_variants_and_typos_of_a_protected_name_follow_the_same_rule(world: World, who: str) -> None:
    """A typo or a nickname of a victim's name finds her only where her name may be seen."""
    client, headers = world.session(who), world.api(who)
    for query in ("maria peres", "ma perez lopez", "MARÍA PÉREZ LÓPZE"):
        api = client.get("/api/v1/search", params={"q": query}, headers=headers).json()
        page = client.get("/search", params={"q": query})
        if who == "caseworker":
            assert world.victim_id in {h["id"] for h in api["hits"]}, query
        else:
            assert api["total"] == 0, query
            assert api["facets"]["type"] == {}
            assert VICTIM not in page.text


def _search_tables(store: Store) -> dict[str, list[tuple[str, ...]]]:
    fetch = store._fetch  # type: ignore[attr-defined]
    return {
        "terms": [tuple(map(str, r)) for r in fetch("SELECT term_id, term, df FROM search_term ORDER BY 1")],
        "postings": [
            tuple(map(str, r))
            for r in fetch(
                "SELECT term_id, CAST(entity_id AS VARCHAR), import_no, prop_id, protected, terms, position "
                "FROM search_posting ORDER BY 1, 2, 3, 4"
            )
        ],
    }


def test_terms_cut_in_a_helper_process_make_the_same_index(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A large catch-up cuts its values into terms in a spawned process (the job of a DuckDB
    server shares its interpreter with the requests); the index it writes is the one made here."""
    from cruce.search import terms
    from cruce.security.db import AppDB

    with open_store(store_url) as store:
        _people(store, tmp_path, "people", NAMES)
        _import(store, tmp_path, "sales", SALES, "tx,buyer", ["T1,Ana Ruiz", "T2,Ana Ruiz", "T3,Beto Sol"])
        db = AppDB(store)
        terms.catch_up(db, default_schema())
        here = _search_tables(store)
        assert len(here["terms"]) > 10
        assert len(here["postings"]) > 20
        helped: list[int] = []
        elsewhere = terms._cut_elsewhere

        def counted(*args: object) -> object:
            helped.append(args[1].num_rows)  # type: ignore[attr-defined]
            return elsewhere(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(terms, "CUT_ELSEWHERE_FROM", 1)
        monkeypatch.setattr(terms, "_cut_elsewhere", counted)
        with caplog.at_level(logging.INFO, logger="cruce.search.terms"):
            terms.reindex(db, default_schema())
        assert helped, "the values went to the helper process"
        assert helped[0] >= len(NAMES)
        assert "did not start" not in caplog.text, "the helper process ran"
        assert _search_tables(store) == here
        _people(store, tmp_path, "more", ["Beatriz Ybarra Soto"], start=50)  # a new term, numbered after
        terms.catch_up(db, default_schema())
        newest = _search_tables(store)["terms"]
        assert {"ybarra", "soto", "beatriz"} <= {t[1] for t in newest[len(here["terms"]) :]}
