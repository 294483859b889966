"""Search as users rely on it: name variants found, exact before variant before typo, each match
explained, facets counted and filtering, the term index caught up, rebuilt alike, and the same
answers from DuckDB and PostgreSQL."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.search import catch_up, query_words, reindex, state, value_terms
from cruce.search import memory as search_memory
from cruce.search.terms import index_rows
from cruce.security import SYSTEM, Guard, SearchResults, Security
from cruce.store import Store, open_store
from tests.conftest import PEOPLE_MAPPING
from tests.web.conftest import drop_pg_schema, pg_url_or_skip

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
      date: day
      purchaser: {entity: buyer}
  buyer:
    schema: Person
    key: [buyer]
    properties:
      name: buyer
"""
TIPS = """
name: test-tips
dataset: tips
entities:
  tip:
    schema: Tip
    key: [tid]
    properties:
      text: text
"""
NAMES = [
    "Joaquín Archivaldo Guzmán Loera alias El Chapo",
    "Francisco Ramírez Soto",
    "Paco Ramírez Soto",
    "Franciscoo Ramírez Soto",
    "Mario Hernández",
    "María Hernández",
    "Ana Delacruz",
]


def _import(store: Store, tmp: Path, name: str, mapping: str, header: str, rows: list[str]) -> None:
    (tmp / f"{name}.yaml").write_text(mapping, encoding="utf-8")
    (tmp / f"{name}.csv").write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    import_file(store, tmp / f"{name}.csv", tmp / f"{name}.yaml")


def _fill(store: Store, tmp: Path) -> None:
    people = [f'P{i},"{n}",{"US" if i % 2 else "MX"}' for i, n in enumerate(NAMES)]
    _import(store, tmp, "people", PEOPLE.format(dataset="people"), "pid,name,nationality", people)
    sales = ["T1,2021-05-02,Luis Quintero", "T2,2022-01-09,Luis Quintero", "T3,2022-03-01,Luisa Quintana"]
    _import(store, tmp, "sales", SALES, "tx,day,buyer", sales)
    tips = ['K1,"Los traficantes de armas cruzan por Nogales"', 'K2,"A man sells guns near the port"']
    _import(store, tmp, "tips", TIPS, "tid,text", tips)


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())


@pytest.fixture
def guard(store_url: str, tmp_path: Path) -> Iterator[Guard]:
    with open_store(store_url) as store:
        _fill(store, tmp_path)
        yield Guard(store, Security(store), default_schema())


def _captions(found: SearchResults) -> list[str]:
    return [h.caption for h in found.hits]


def test_words_and_terms_fold_alike() -> None:
    assert [w.text for w in query_words("Guzmán  LOERA, alias El Chapo")] == ["guzman", "loera", "alias", "el", "chapo"]
    assert [w.required for w in query_words("Juan de la Cruz")] == [True, False, False, True]
    assert [w.text for w in query_words("AK-47 5-74-123")] == ["ak47", "574123"]  # punctuated pieces with digits
    assert value_terms("AK-47 de Muñoz_Ruiz") == {"ak", "47", "ak47", "de", "munoz", "ruiz", "munozruiz"}


def test_name_variants_are_found(guard: Guard) -> None:
    chapo = "Joaquín Archivaldo Guzmán Loera alias El Chapo"
    assert _captions(guard.search(SYSTEM, "Guzman Loera")) == [chapo]
    assert _captions(guard.search(SYSTEM, "el chapo")) == [chapo]  # an alias is a name too
    assert _captions(guard.search(SYSTEM, "Joaquin Guzman")) == [chapo]  # middle name and second surname left out
    assert _captions(guard.search(SYSTEM, "Guzmna Loera")) == [chapo]  # a typo
    assert _captions(guard.search(SYSTEM, "de la cruz ana")) == ["Ana Delacruz"]  # particles glued
    # two different common names are not a typo of each other
    assert _captions(guard.search(SYSTEM, "maria hernandez")) == ["María Hernández"]
    assert _captions(guard.search(SYSTEM, "zzz hernandez")) == []  # every word of one or two is needed


def test_exact_before_variant_before_typo_each_explained(guard: Guard) -> None:
    found = guard.search(SYSTEM, "francisco ramirez")
    assert _captions(found) == ["Francisco Ramírez Soto", "Paco Ramírez Soto", "Franciscoo Ramírez Soto"]
    scores = [h.score for h in found.hits]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 3
    rules = [[(m.word, m.term, m.prop, m.rule) for m in h.matches] for h in found.hits]
    assert rules == [
        [("francisco", "francisco", "name", "exact"), ("ramirez", "ramirez", "name", "exact")],
        [("francisco", "paco", "name", "variant"), ("ramirez", "ramirez", "name", "exact")],
        [("francisco", "franciscoo", "name", "fuzzy"), ("ramirez", "ramirez", "name", "exact")],
    ]
    assert found.hits[1].matches[0].value == "Paco Ramírez Soto"  # the value as written


def test_stems_match_free_text_not_names(guard: Guard) -> None:
    found = guard.search(SYSTEM, "traficante arma")
    assert [(h.schema, [m.rule for m in h.matches]) for h in found.hits] == [("Tip", ["stem", "stem"])]
    assert guard.search(SYSTEM, "gun").total == 1  # English: guns
    # María and Mario share a Spanish stem (and are one letter apart), but names are not stemmed
    assert _captions(guard.search(SYSTEM, "mario hernandez")) == ["Mario Hernández"]


def test_facets_count_all_hits_and_filter(guard: Guard) -> None:
    found = guard.search(SYSTEM, "quintero")
    assert found.total == 1
    assert found.facets["type"] == {"Person": 1}
    assert found.facets["flow"] == {"firearms": 1}  # the buyer, by the purchases that name him
    assert found.facets["year"] == {"2021": 1, "2022": 1}
    assert found.facets["dataset"] == {"sales": 1}
    ramirez = guard.search(SYSTEM, "ramirez soto")
    assert ramirez.total == 3
    assert ramirez.facets["place"] == {"US": 2, "MX": 1}
    assert {h.caption for h in guard.search(SYSTEM, "ramirez soto", place="MX").hits} == {"Paco Ramírez Soto"}
    assert guard.search(SYSTEM, "ramirez soto", flow="firearms").total == 0
    assert guard.search(SYSTEM, "quintero", year="2021").total == 1
    assert guard.search(SYSTEM, "quintero", year="2020").total == 0
    assert guard.search(SYSTEM, "quintero", schema="Tip").total == 0
    assert guard.search(SYSTEM, "T1").facets["flow"] == {"firearms": 1}  # the purchase itself


def test_new_imports_are_caught_up_and_reindex_is_idempotent(guard: Guard, tmp_path: Path) -> None:
    assert guard.search(SYSTEM, "zoila").total == 0
    _import(guard.store, tmp_path, "late", PEOPLE.format(dataset="late"), "pid,name,nationality", ["L1,Zoila Paz,MX"])
    assert guard.search(SYSTEM, "zoila").total == 1  # the new import's terms added before the answer
    incremental = index_rows(guard.db)
    reindex(guard.db, guard.schema)
    rebuilt = index_rows(guard.db)
    reindex(guard.db, guard.schema)
    assert index_rows(guard.db) == rebuilt
    # the same content as the increments (terms may be numbered otherwise)
    for key in ("postings", "facets"):
        assert rebuilt[key] == incremental[key]
    assert sorted((t, df) for _n, t, df in rebuilt["terms"]) == sorted((t, df) for _n, t, df in incremental["terms"])
    assert guard.search(SYSTEM, "zoila paz").total == 1  # the vocabulary held in memory follows the renumbering


def _answers(guard: Guard) -> list[tuple[object, ...]]:
    queries = ["francisco ramirez", "guzman loera", "el chapo", "quintero", "traficantes", "quintana luisa", "T1",
               "hernandez mario", "mario hernandez soto", "paco ramirez"]  # fmt: skip
    out = []
    for query in queries:
        found = guard.search(SYSTEM, query)
        hits = [(h.entity_id, h.score, tuple((m.word, m.term, m.prop, m.value, m.rule) for m in h.matches))
                for h in found.hits]  # fmt: skip
        out.append((query, found.total, hits, found.facets))
    return out


@pytest.mark.postgres
def test_duckdb_and_postgresql_give_the_same_answers(tmp_path: Path) -> None:
    url = pg_url_or_skip()
    answers = []
    try:
        for store_url in (str(tmp_path / "s.duckdb"), url):
            with open_store(store_url) as store:
                _fill(store, tmp_path)
                guard = Guard(store, Security(store), default_schema())
                answers.append(_answers(guard))
                answers.append(_answers(guard))  # and again, from the vocabulary held in memory
    finally:
        drop_pg_schema(url)
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert all(total for _q, total, _h, _f in answers[0])


def _filtered_answers(guard: Guard) -> list[object]:
    asked = [("ramirez soto", {"place": "MX"}), ("ramirez soto", {"flow": "firearms"}), ("quintero", {"year": "2021"}),
             ("quintero", {"schema": "Person"}), ("quintero", {"schema": "Tip"}), ("luis", {"dataset": "sales"}),
             ("ramirez soto", {"offset": 1, "limit": 1})]  # fmt: skip
    out: list[object] = []
    for query, options in asked:
        found = guard.search(SYSTEM, query, **options)  # type: ignore[arg-type]
        out.append((query, found.total, [(h.entity_id, h.score) for h in found.hits], found.facets))
    return out


def test_postings_in_memory_give_the_stores_answers(
    guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "0")
    from_store = _answers(guard), _filtered_answers(guard)
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "1")
    now = state(guard.db)
    assert search_memory.held(guard.db, now.generation, now.entities, wait=True) is not None

    def no_sql(*args: object, **kwargs: object) -> None:
        raise AssertionError("searched in the store, not in memory")

    with monkeypatch.context() as m:
        m.setattr("cruce.security.guard.find", no_sql)
        assert (_answers(guard), _filtered_answers(guard)) == from_store
    # a new import: the copy in memory is stale, and the store answers (with the new name) until it is loaded again
    _import(guard.store, tmp_path, "later", PEOPLE.format(dataset="later"), "pid,name,nationality", ["L2,Zoila Paz,MX"])
    assert guard.search(SYSTEM, "zoila paz").total == 1
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "0")
    from_store = _answers(guard), _filtered_answers(guard)
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "1")
    now = state(guard.db)
    assert search_memory.held(guard.db, now.generation, now.entities, wait=True) is not None
    with monkeypatch.context() as m:
        m.setattr("cruce.security.guard.find", no_sql)
        assert guard.search(SYSTEM, "zoila paz").total == 1
        assert (_answers(guard), _filtered_answers(guard)) == from_store


def test_a_team_servers_workers_read_the_postings_the_job_process_shared(
    guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the job process writes the postings once; a worker reads them from the file,
    not from the store, and answers as the store does. DuckDB has one process: nothing shared."""
    assert guard.search(SYSTEM, "ramirez soto").total  # the index caught up, as the job does
    now = state(guard.db)
    shared = search_memory.share(guard.db, now.generation, now.entities)
    if guard.db.backend == "duckdb":
        assert shared is None
        return
    assert shared is not None
    assert shared.exists()
    assert shared.stat().st_mode & 0o077 == 0  # readable by the service's user alone
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "0")
    from_store = _answers(guard), _filtered_answers(guard)
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "1")
    monkeypatch.setattr(search_memory, "_HELD", {})  # a worker of its own: nothing in memory yet

    def no_store(*args: object, **kwargs: object) -> None:
        raise AssertionError("loaded from the store, not from the shared file")

    with monkeypatch.context() as m:
        m.setattr(search_memory, "load", no_store)
        held = search_memory.held(guard.db, now.generation, now.entities, wait=True)
        assert held is not None
        assert held.p_entity.size > 0
        assert held.generation == now.generation
        m.setattr("cruce.security.guard.find", no_store)
        assert (_answers(guard), _filtered_answers(guard)) == from_store
    # a new import: the file is of the generation before, so a worker loads from the store again
    _import(guard.store, tmp_path, "later", PEOPLE.format(dataset="later"), "pid,name,nationality", ["L2,Zoila Paz,MX"])
    assert guard.search(SYSTEM, "zoila paz").total == 1
    later = state(guard.db)
    assert search_memory.load_snapshot(guard.store.url, later.generation) is None
    second = search_memory.share(guard.db, later.generation, later.entities)
    assert second is not None
    assert not shared.exists()


def test_a_name_matching_all_its_words_ranks_above_a_longer_one(guard: Guard, tmp_path: Path) -> None:
    """Length normalisation: the record that leaves out a surname is the likelier same person."""
    rows = ['R1,"Carlos Rodríguez",MX', 'R2,"Carlos Pérez",MX', 'R3,"Carmen Rodríguez Olvera",MX']
    _import(guard.store, tmp_path, "more", PEOPLE.format(dataset="more"), "pid,name,nationality", rows)
    found = guard.search(SYSTEM, "carlos rodriguez olvera")
    assert _captions(found) == ["Carlos Rodríguez", "Carmen Rodríguez Olvera"]
    assert found.hits[0].score > found.hits[1].score  # by the words' weights alone (olvera is rarer), Carmen first


def test_words_in_the_querys_order_rank_first(guard: Guard, tmp_path: Path) -> None:
    """ "Leticia Ybarra" is given name and first surname: "Leticia Ybarra Ortega" before the
    namesakes whose second surname is Ybarra; a name written surname first still found."""
    rows = ['Y1,"Leticia Soto Ybarra",MX', 'Y2,"Leticia Tapia Ybarra",MX', 'Y3,"Leticia Rosales Ybarra",MX',
            'Y4,"Leticia Ybarra Ortega",MX', 'Y5,"YBARRA ORTEGA, LETICIA",MX']  # fmt: skip
    _import(guard.store, tmp_path, "ybarra", PEOPLE.format(dataset="ybarra"), "pid,name,nationality", rows)
    found = guard.search(SYSTEM, "Leticia Ybarra")
    assert _captions(found)[0] == "Leticia Ybarra Ortega"
    assert found.hits[0].score > found.hits[1].score
    assert set(_captions(found)) == {"Leticia Soto Ybarra", "Leticia Tapia Ybarra", "Leticia Rosales Ybarra",
                                     "Leticia Ybarra Ortega", "YBARRA ORTEGA, LETICIA"}  # fmt: skip


def test_a_surname_left_out_ranks_above_one_that_contradicts(guard: Guard, tmp_path: Path) -> None:
    """For "Daniel Hernández Chávez", a record "Daniel Hernanddez" (typo, second surname left out)
    may be him; "Daniel Hernández Ruiz" has another second surname, and is likelier someone else."""
    rows = ['H1,"Daniel Hernández Ruiz",MX', 'H2,"Daniel Hernanddez",MX']
    _import(guard.store, tmp_path, "chavez", PEOPLE.format(dataset="chavez"), "pid,name,nationality", rows)
    found = guard.search(SYSTEM, "Daniel Hernández Chávez")
    assert _captions(found) == ["Daniel Hernanddez", "Daniel Hernández Ruiz"]


def test_an_alias_is_not_counted_in_a_names_length(guard: Guard, tmp_path: Path) -> None:
    rows = ['C1,"Andrés Álvarez a. El Charro",MX', 'C2,"Andrés Álvarez Gómez",MX']
    _import(guard.store, tmp_path, "charro", PEOPLE.format(dataset="charro"), "pid,name,nationality", rows)
    found = guard.search(SYSTEM, "Andrés Álvarez")
    assert _captions(found) == ["Andrés Álvarez a. El Charro", "Andrés Álvarez Gómez"]
    assert found.hits[0].score > found.hits[1].score


@pytest.mark.parametrize(
    ("version", "posting"),
    [(8, "1, entity_id, import_no, prop_id, FALSE"), (9, "1, entity_id, import_no, prop_id, FALSE, 2")],
)
def test_an_older_index_is_emptied_and_built_again_with_lengths_and_positions(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: int, posting: str
) -> None:
    from cruce.store import sql

    older = tmp_path / "migrations"
    for backend in ("duckdb", "postgresql"):
        (older / backend).mkdir(parents=True)
        for number, path in sql.migration_files(backend):
            if number <= version:
                (older / backend / path.name).write_text(path.read_text())
    with monkeypatch.context() as m:
        m.setattr(sql.SqlStore, "migrations_dir", older)
        with open_store(store_url) as store:
            _fill(store, tmp_path)
            assert store.schema_version() == version
            db = Guard(store, Security(store), default_schema()).db
            with db.transaction():  # an index as that version held it (an upgrade once failed on a full table)
                db.execute("INSERT INTO search_term VALUES (1, 'quintero', 1)")
                db.execute(f"INSERT INTO search_posting SELECT {posting} FROM statement LIMIT 3")
                db.execute("INSERT INTO search_indexed SELECT no, 1, 1 FROM import_run")
    with open_store(store_url) as store:
        assert store.schema_version() == sql.migration_files(store.backend)[-1][0]
        guard = Guard(store, Security(store), default_schema())
        assert index_rows(guard.db)["postings"] == []  # emptied by the upgrade
        assert _captions(guard.search(SYSTEM, "quintero")) == ["Luis Quintero"]  # and built again at once
        rows = index_rows(guard.db)["postings"]
        lengths = {row[0]: row[5] for row in rows}
        assert lengths["quintero"] == 2
        assert lengths["traficantes"] == 5  # "Los traficantes de armas cruzan por Nogales": particles aside
        positions = {row[0]: row[6] for row in rows}
        assert (positions["luis"], positions["quintero"]) == (0, 1)
        assert (positions["los"], positions["traficantes"], positions["armas"]) == (-1, 0, 1)


PARTS = """
name: test-parts
dataset: parts
entities:
  person:
    schema: Person
    key: [pid]
    properties:
      name: name
      first_name: first
      last_name: last
"""


def test_a_record_holding_its_name_in_parts_is_measured_by_its_full_name(guard: Guard, tmp_path: Path) -> None:
    """Matched in its one-word parts, a record still has three words to its name, one not asked for."""
    rows = ['E1,"Ernesto García Sepúlveda",Ernesto,García', 'E2,"Ernesto García",Ernesto,García']
    _import(guard.store, tmp_path, "parts", PARTS, "pid,name,first,last", rows)
    found = guard.search(SYSTEM, "ernesto garcia valenzuela")
    assert _captions(found) == ["Ernesto García", "Ernesto García Sepúlveda"]
    assert found.hits[0].score > found.hits[1].score


def test_particles_count_little_beside_other_words(guard: Guard, tmp_path: Path) -> None:
    """ "de" and "los" are in a tenth of all names: matched, they must not outweigh a surname."""
    rows = ['A1,"Abel Nava Delosreyes",MX', 'A2,"Abel De Los Reyes",MX']
    _import(guard.store, tmp_path, "abel", PEOPLE.format(dataset="abel"), "pid,name,nationality", rows)
    assert _captions(guard.search(SYSTEM, "Abel Nava de los Reyes"))[:2] == [
        "Abel Nava Delosreyes",
        "Abel De Los Reyes",
    ]
    # a query of particles alone still finds them, fully weighted
    assert "Abel De Los Reyes" in _captions(guard.search(SYSTEM, "de los"))


def test_a_four_letter_word_finds_its_typos(guard: Guard, tmp_path: Path) -> None:
    rows = ['D1,"Verónica Daz Morales",MX']
    _import(guard.store, tmp_path, "daz", PEOPLE.format(dataset="daz"), "pid,name,nationality", rows)
    found = guard.search(SYSTEM, "Verónica Díaz Morales")
    assert _captions(found) == ["Verónica Daz Morales"]
    assert {(m.word, m.term, m.rule) for m in found.hits[0].matches} >= {("diaz", "daz", "fuzzy")}
    assert _captions(guard.search(SYSTEM, "mario hernandez")) == ["Mario Hernández"]  # still not María


def test_a_search_does_not_wait_for_the_postings_to_load(guard: Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first search of a process (and the first after an import) answers from the store while
    the postings load in the background, on a connection of the loader's own (PostgreSQL too)."""
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "1")
    monkeypatch.setattr(search_memory, "_HELD", {})
    started = threading.Event()
    release = threading.Event()
    real_load = search_memory.load

    def slow_load(columns: search_memory.Columns) -> search_memory.Postings:
        started.set()
        assert release.wait(10)
        return real_load(columns)

    monkeypatch.setattr(search_memory, "load", slow_load)
    first = guard.search(SYSTEM, "ramirez soto")  # starts the load, and does not wait for it
    assert first.total
    assert started.wait(10)
    assert guard.search(SYSTEM, "ramirez soto").total == first.total  # the store answers meanwhile
    now = state(guard.db)
    assert search_memory.held(guard.db, now.generation, now.entities) is None
    release.set()
    deadline = time.monotonic() + 10
    while search_memory.current(guard.store.url) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert search_memory.held(guard.db, now.generation, now.entities) is not None


def test_while_an_import_job_lands_a_search_answers_from_the_index_held_before_it(
    guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 0014: the job's import is searched once the job is done; meanwhile a worker neither
    reads the whole index again nor makes its vocabulary again."""
    catch_up(guard.db, default_schema())
    now = state(guard.db)
    assert search_memory.held(guard.db, now.generation, now.entities, wait=True) is not None
    assert guard.search(SYSTEM, "quintero").total == 1  # the vocabulary made and held
    _import(guard.store, tmp_path, "later", PEOPLE.format(dataset="later"), "pid,name,nationality", ["L2,Zoila Paz,MX"])
    catch_up(guard.db, default_schema())  # the job has added the import's terms
    later = state(guard.db)
    assert later.generation != now.generation

    def no_new_index(*args: object, **kwargs: object) -> None:
        raise AssertionError("the new index read while the import lands")

    with monkeypatch.context() as m:
        m.setattr("cruce.security.guard.import_landing", lambda _store: True)
        m.setattr("cruce.security.guard.find", no_new_index)
        m.setattr("cruce.security.guard.vocabulary", no_new_index)
        m.setattr(search_memory, "load", no_new_index)
        assert guard.search(SYSTEM, "zoila paz").total == 0
        assert _captions(guard.search(SYSTEM, "luis quintero")) == ["Luis Quintero"]
    assert search_memory.current(guard.store.url).generation == now.generation  # type: ignore[union-attr]
    assert guard.search(SYSTEM, "zoila paz").total == 1  # the job done: the import is searched


def test_an_import_job_in_a_serving_process_leaves_the_new_index_ready_to_search(
    guard: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job loads the new postings and makes the new vocabulary itself: the first search after
    it reads nothing again (made by that search, the vocabulary came with the dashboards' tables
    read again, and the requests queued behind both)."""
    from cruce.jobs import imports

    monkeypatch.setattr(imports, "SERVES_SEARCHES", True)
    _import(guard.store, tmp_path, "later", PEOPLE.format(dataset="later"), "pid,name,nationality", ["L2,Zoila Paz,MX"])
    newest = guard.store.imports()[-1]
    imports._update_search(guard.store, newest.id)
    now = state(guard.db)
    assert not now.behind

    def made_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the search made again what the job should have made")

    with monkeypatch.context() as m:
        m.setattr("cruce.security.guard.find", made_again)
        m.setattr("cruce.search.expand.Vocabulary.add", made_again)
        m.setattr(search_memory, "load", made_again)
        assert _captions(guard.search(SYSTEM, "zoila paz")) == ["Zoila Paz"]
