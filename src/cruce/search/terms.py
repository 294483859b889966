"""The term index: words of searchable values, numbered, with their postings and the facets.

Imports do not write it (their commit stays as cheap as ADR 0004 left it). ``catch_up`` adds,
in one transaction, the terms and facets of every finished import that ``search_indexed`` does
not list yet — the index's watermark — and ``Guard.search`` calls it before it answers;
``cruce search reindex`` (``reindex``) builds it again from the statements. Only imports in
``import_run`` are read, so an interrupted import (whose statements the store removes at the
next open) never leaves a term behind. Resolution changes nothing here: hits are record entities.

Terms are made in Python (``cruce.search.text``) from the values as written, so DuckDB and
PostgreSQL hold the same vocabulary with the same numbers, and the same postings.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from cruce.graph.model import FLOW_OF_TYPE, FLOWS, NOT_TIME
from cruce.priority import lower_process_priority
from cruce.schema.model import PropertyType, Schema
from cruce.search.index import IndexSpec
from cruce.search.text import value_length, value_positions
from cruce.store.duckdb_store import more_memory
from cruce.store.memo import import_landing, per_import

if TYPE_CHECKING:
    from cruce.security.db import AppDB

log = logging.getLogger(__name__)
PLACE_TYPES = frozenset({PropertyType.COUNTRY, PropertyType.STATE})
TIME_TYPES = frozenset({PropertyType.DATE, PropertyType.DATETIME})  # as the graph dates things
FACET_KINDS = ("flow", "place", "year")
_TABLES = ("search_posting", "search_facet", "search_term", "search_indexed")
_CATCH_UP_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class Progress:
    """What a catch-up did: imports indexed, terms added, postings and facet rows written."""

    imports: int = 0
    new_terms: int = 0
    postings: int = 0
    facets: int = 0


def _lock(url: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _CATCH_UP_LOCKS.setdefault(url, threading.Lock())


def _ids(numbers: Iterable[int]) -> str:
    return ", ".join(str(int(n)) for n in sorted(set(numbers))) or "NULL"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Props:
    """The property numbers the index reads, by what they are to search."""

    searchable: frozenset[int]
    protected: frozenset[int]
    text: frozenset[int]  # free text: the only values matched by stem
    places: frozenset[int]
    dates: frozenset[int]  # dates that tell when a thing happened (not a birthday)
    names: dict[int, str] = field(default_factory=dict)  # number → property name

    @classmethod
    def of(cls, db: AppDB, schema: Schema) -> Props:
        spec = IndexSpec.of(schema)
        rows = db.fetch("SELECT schema, prop, prop_id FROM property")
        searchable, protected, text, places, dates = set(), set(), set(), set(), set()
        for type_name, prop, number in rows:
            pair, n = (str(type_name), str(prop)), int(number)
            stype = schema.types.get(pair[0])
            spec_prop = stype.properties.get(pair[1]) if stype else None
            if pair in spec.searchable:
                searchable.add(n)
                if spec_prop is not None and spec_prop.type is PropertyType.TEXT:
                    text.add(n)
            if pair in spec.protected:
                protected.add(n)
            if spec_prop is not None and spec_prop.type in PLACE_TYPES:
                places.add(n)
            if spec_prop is not None and spec_prop.type in TIME_TYPES and pair[1] not in NOT_TIME:
                dates.add(n)
        names = {int(r[2]): str(r[1]) for r in rows}
        return cls(
            frozenset(searchable), frozenset(protected), frozenset(text), frozenset(places), frozenset(dates), names
        )


# -- staging rows in a temporary table, on either backend ----------------------------------------
def _stage(db: AppDB, name: str, columns: str, table: pa.Table) -> None:
    """``table`` as the temporary table ``name`` (``columns``: its SQL column list), in the transaction."""
    db.fetch(f"DROP TABLE IF EXISTS {name}")
    if db.backend == "duckdb":
        con = db.store.con  # type: ignore[attr-defined]
        con.register(f"{name}_arrow", table)
        try:
            con.execute(f"CREATE TEMP TABLE {name} ({columns})")
            con.execute(f"INSERT INTO {name} SELECT * FROM {name}_arrow")
        finally:
            con.unregister(f"{name}_arrow")
        return
    conn = db.store.conn  # type: ignore[attr-defined]
    with conn.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
        names = ", ".join(table.column_names)
        with cur.copy(f"COPY {name} ({names}) FROM STDIN") as copy:
            for row in zip(*(c.to_pylist() for c in table.columns), strict=True):
                copy.write_row(row)


def _drop(db: AppDB, *names: str) -> None:
    for name in names:
        db.fetch(f"DROP TABLE IF EXISTS {name}")


# -- adding the terms of imports -----------------------------------------------------------------
class _Postings:
    """Postings of one catch-up, collected as columns, with the vocabulary they extend.

    New terms are numbered after the known ones in alphabetical order (not in the order rows
    come back, which differs between backends), so both stores number every term alike.
    """

    def __init__(self, known: dict[str, int]) -> None:
        self.known = known
        self.first_new = max(known.values(), default=0) + 1
        self._provisional: dict[str, int] = {}
        self.terms: list[int] = []
        self.entities: list[str] = []
        self.imports: list[int] = []
        self.props: list[int] = []
        self.protected: list[bool] = []
        self.lengths: list[int] = []
        self.positions: list[int] = []
        self._cache: dict[tuple[str, bool], tuple[list[tuple[int, int]], int]] = {}
        self._table: pa.Table | None = None

    def _term_ids(self, value: str, free_text: bool) -> tuple[list[tuple[int, int]], int]:
        """The value's term numbers with their positions (``value_positions``), and its length in
        words (``value_length``)."""
        found = self._cache.get((value, free_text))
        if found is None:
            numbers = []
            for term, position in value_positions(value).items():
                number = self.known.get(term)
                if number is None:
                    number = self._provisional.setdefault(term, self.first_new + len(self._provisional))
                numbers.append((number, min(position, 32767)))
            found = numbers, value_length(value, free_text)
            if len(self._cache) < 200_000:
                self._cache[value, free_text] = found
        return found

    def add(self, entity: str, import_no: int, prop: int, value: str, protected: bool, free_text: bool) -> None:
        numbers, length = self._term_ids(value, free_text)
        for term, position in numbers:
            self.terms.append(term)
            self.positions.append(position)
            self.entities.append(entity)
            self.imports.append(import_no)
            self.props.append(prop)
            self.protected.append(protected)
            self.lengths.append(length)

    def new_terms(self) -> list[tuple[int, str]]:
        """(number, term) of the terms this catch-up adds, numbered in alphabetical order."""
        return [(self.first_new + i, term) for i, term in enumerate(sorted(self._provisional))]

    def table(self) -> pa.Table:
        """Distinct postings with their final term numbers, sorted by term, then entity (made once)."""
        if self._table is None:
            self._table = self._distinct()
        return self._table

    def made(self) -> _Made:
        return _Made(self.first_new, self.new_terms(), self.table())

    def _distinct(self) -> pa.Table:
        numbers = np.array(self.terms, dtype=np.int64)
        if self._provisional:
            final = {term: number for number, term in self.new_terms()}
            lookup = np.empty(len(self._provisional), dtype=np.int64)
            for term, provisional in self._provisional.items():
                lookup[provisional - self.first_new] = final[term]
            new = numbers >= self.first_new
            numbers[new] = lookup[numbers[new] - self.first_new]
        table = pa.table(
            {
                "term_id": pa.array(numbers.astype(np.int32)),
                "entity_id": pa.array(self.entities, pa.string()),
                "import_no": pa.array(self.imports, pa.int32()),
                "prop_id": pa.array(self.props, pa.int32()),
                "protected": pa.array(self.protected, pa.bool_()),
                "terms": pa.array(self.lengths, pa.int16()),
                "position": pa.array(self.positions, pa.int16()),
            }
        )
        keys = ["term_id", "entity_id", "import_no", "prop_id", "protected"]
        # a term in two values of one property: the longer value's length (as the query takes it), the
        # first place it stands in
        distinct = table.group_by(keys, use_threads=False).aggregate([("terms", "max"), ("position", "min")])
        distinct = distinct.rename_columns([*keys, "terms", "position"])
        distinct = distinct.select(["term_id", *keys[1:], "terms", "position"])
        order = [(c, "ascending") for c in ("term_id", "entity_id", "import_no", "prop_id")]
        return distinct.sort_by(order)


@dataclass(frozen=True)
class _Made:
    """What a catch-up writes: the first new term's number, the new terms and the postings (small
    to send back from the process that made them)."""

    first_new: int
    new_terms: list[tuple[int, str]]
    table: pa.Table


@dataclass(frozen=True)
class IndexState:
    """What one small query tells about the index: whether imports wait, and its generation."""

    imports: int
    newest_import: int
    indexed: int
    newest_indexed: int
    entities: int
    terms: int
    first_run: int
    properties: int

    @property
    def behind(self) -> bool:
        return (self.imports, self.newest_import) != (self.indexed, self.newest_indexed)

    @property
    def generation(self) -> tuple[int, ...]:
        return (self.indexed, self.newest_indexed, self.entities, self.terms, self.first_run)


_CHANGES: dict[str, int] = {}  # catch-ups and reindexes committed by this process, by store
_CHANGES_LOCK = threading.Lock()


def _changed(db: AppDB) -> None:
    """Note that this process has changed the index (after the transaction has ended)."""
    with _CHANGES_LOCK:
        _CHANGES[db.store.url] = _CHANGES.get(db.store.url, 0) + 1


def state(db: AppDB) -> IndexState:
    """The index's state; on DuckDB kept until an import finishes or this process changes the index
    (DuckDB lets one process at a time write a file, so no other can), read again on PostgreSQL."""
    if db.backend != "duckdb":
        return _read_state(db)
    changes = _CHANGES.get(db.store.url, 0)
    return per_import(db.store, "search index state", lambda: _read_state(db), also=(changes,))


def _read_state(db: AppDB) -> IndexState:
    row = db.one(
        "SELECT (SELECT count(*) FROM import_run), (SELECT COALESCE(max(no), 0) FROM import_run), count(*), "
        "COALESCE(max(import_no), 0), COALESCE(sum(entities), 0), (SELECT count(*) FROM search_term), "
        "COALESCE(min(run), 0), (SELECT count(*) FROM property) FROM search_indexed"
    )
    return IndexState(*(int(v) for v in row)) if row else IndexState(0, 0, 0, 0, 0, 0, 0, 0)


_PROPS: dict[tuple[str, int, int], Props] = {}


def props_of(db: AppDB, schema: Schema, properties: int) -> Props:
    """``Props.of``, kept per store and number of properties (imports only ever add properties)."""
    key = (db.store.url, id(schema), properties)
    found = _PROPS.get(key)
    if found is None:
        found = _PROPS[key] = Props.of(db, schema)
    return found


def catching_up(db: AppDB) -> bool:
    """Whether the index is being brought up to date now: by a thread of this process, or by an
    import job under way, which adds its import's terms once its records are in (in another
    process of a team server, too: each worker's first search after an import once cut the
    whole import into terms again, only to find the job had done it)."""
    return _lock(db.store.url).locked() or import_landing(db.store)


def pending_imports(db: AppDB) -> list[int]:
    """Finished imports whose terms are not in the index yet."""
    rows = db.fetch("SELECT no FROM import_run WHERE no NOT IN (SELECT import_no FROM search_indexed) ORDER BY no")
    return [int(r[0]) for r in rows]


def catch_up(db: AppDB, schema: Schema, known: IndexState | None = None) -> Progress:
    """Add the terms and facets of every finished import not indexed yet, in one transaction.

    ``known``, the state the caller has just read, saves a query when nothing waits. The postings
    are made before the transaction (reading the statements and cutting their values into terms:
    seconds of Python for a large import), so the store's writes wait only for the inserts; on
    DuckDB a write transaction holds every writer of the process (``AppDB``), and the tips, audit
    entries and job reports of a server once waited 5 s behind a catch-up (load test, issue #10).
    """
    if not (known or state(db)).behind:
        return Progress()
    try:
        with _lock(db.store.url):
            numbers = pending_imports(db)
            if not numbers:
                return Progress()
            props = Props.of(db, schema)
            with more_memory(db.store, "CRUCE_SEARCH_MEMORY", "2GB"):
                made = _postings_of(db, props, numbers)
                with db.transaction(own_tables=True):
                    if db.backend == "postgresql":  # another process catching up waits here
                        db.fetch("LOCK TABLE search_indexed IN EXCLUSIVE MODE")
                    now = pending_imports(db)
                    if now != numbers or _newest_term(db) != made.first_new - 1:
                        if not now:  # another process did it meanwhile
                            return Progress()
                        numbers, made = now, _postings_of(db, props, now)
                    return _write_postings(db, props, numbers, made)
    finally:
        _changed(db)


def reindex(db: AppDB, schema: Schema) -> Progress:
    """Empty the term index and build it again from every finished import (idempotent)."""
    try:
        with _lock(db.store.url), db.transaction():
            if db.backend == "postgresql":
                db.fetch("LOCK TABLE search_indexed IN EXCLUSIVE MODE")
            for table in _TABLES:
                db.fetch(f"DELETE FROM {table}")
            numbers = [int(r[0]) for r in db.fetch("SELECT no FROM import_run ORDER BY no")]
            return _index(db, Props.of(db, schema), numbers) if numbers else Progress()
    finally:
        _changed(db)


def _index(db: AppDB, props: Props, numbers: Sequence[int]) -> Progress:
    with more_memory(db.store, "CRUCE_SEARCH_MEMORY", "2GB"):
        return _write_postings(db, props, numbers, _postings_of(db, props, numbers))


CUT_ELSEWHERE_FROM = 20_000
"""Values from which a catch-up cuts them into terms in a process of its own (``_cut_elsewhere``)."""


def _postings_of(db: AppDB, props: Props, numbers: Sequence[int]) -> _Made:
    """The postings of the imports ``numbers``, new terms numbered after those the index holds."""
    known = db.arrow("SELECT term_id, term FROM search_term")
    rows = db.arrow(
        "SELECT CAST(entity_id AS VARCHAR) AS entity, import_no, prop_id, value FROM statement "
        f"WHERE import_no IN ({_ids(numbers)}) AND prop_id IN ({_ids(props.searchable)})"
    )
    if rows.num_rows >= CUT_ELSEWHERE_FROM:
        return _cut_elsewhere(known, rows, props.protected, props.text)
    return cut_postings(known, rows, props.protected, props.text)


def cut_postings(known: pa.Table, rows: pa.Table, protected: frozenset[int], text: frozenset[int]) -> _Made:
    """Cut each value of ``rows`` (entity, import_no, prop, value) into its terms, numbered by
    ``known`` (term_id, term) and after it: seconds of Python for a large import."""
    postings = _Postings(dict(zip(known["term"].to_pylist(), known["term_id"].to_pylist(), strict=True)))
    for entity, import_no, prop, value in zip(*(c.to_pylist() for c in rows.columns), strict=True):
        postings.add(str(entity), int(import_no), int(prop), str(value), int(prop) in protected, int(prop) in text)
    return postings.made()


def _cut_elsewhere(known: pa.Table, rows: pa.Table, protected: frozenset[int], text: frozenset[int]) -> _Made:
    """``cut_postings`` in a spawned process at a lower CPU priority. In a DuckDB server the job
    shares the interpreter with the requests: while it cut an import's 67,000 values into terms,
    its thread held the interpreter lock, each request thread and the event loop waited their
    turn for it at every step, and the users' median wait went from 10 ms to 800 ms (load test,
    issue #10). Spawned, not forked (a fork of a serving process can inherit a lock another
    thread holds); where no process can start, the values are cut here."""
    try:
        with ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_process_priority
        ) as pool:
            return pool.submit(cut_postings, known, rows, protected, text).result()
    except BrokenProcessPool:
        log.info("search terms cut in this process: the helper process did not start")
        return cut_postings(known, rows, protected, text)


def _write_postings(db: AppDB, props: Props, numbers: Sequence[int], postings: _Made) -> Progress:
    which = _ids(numbers)
    table, new_terms = postings.table, postings.new_terms
    if new_terms:
        _stage(db, "cruce_new_term", "term_id INTEGER, term VARCHAR", pa.table({
            "term_id": pa.array([n for n, _t in new_terms], pa.int32()),
            "term": pa.array([t for _n, t in new_terms], pa.string()),
        }))  # fmt: skip
        db.fetch("INSERT INTO search_term (term_id, term, df) SELECT term_id, term, 0 FROM cruce_new_term")
    _stage(db, "cruce_posting", "term_id INTEGER, entity_id VARCHAR, import_no INTEGER, prop_id INTEGER, "
           "protected BOOLEAN, terms SMALLINT, position SMALLINT", table)  # fmt: skip
    db.fetch(
        "INSERT INTO search_posting (term_id, entity_id, import_no, prop_id, protected, terms, position) "
        "SELECT term_id, CAST(entity_id AS UUID), import_no, prop_id, protected, terms, position FROM cruce_posting "
        "ORDER BY term_id, entity_id, import_no, prop_id"
    )
    db.fetch(
        "UPDATE search_term SET df = df + n.n FROM (SELECT term_id, count(*) AS n FROM cruce_posting "
        "WHERE NOT protected GROUP BY term_id) n WHERE search_term.term_id = n.term_id"
    )
    entities = db.fetch("SELECT import_no, count(DISTINCT entity_id) FROM cruce_posting GROUP BY import_no")
    per_import = {int(r[0]): int(r[1]) for r in entities}
    before = _count(db, "search_facet")
    for sql in facet_sql(props, which):
        db.fetch(sql)
    facets = _count(db, "search_facet") - before
    run = time.time_ns() // 1000
    for number in numbers:
        db.fetch(
            "INSERT INTO search_indexed (import_no, entities, run) VALUES (?, ?, ?)",
            (number, per_import.get(number, 0), run),
        )
    _drop(db, "cruce_posting", "cruce_new_term")
    return Progress(len(numbers), len(new_terms), table.num_rows, facets)


def _newest_term(db: AppDB) -> int:
    row = db.one("SELECT COALESCE(max(term_id), 0) FROM search_term")
    return int(row[0]) if row else 0


def _count(db: AppDB, table: str) -> int:
    row = db.one(f"SELECT count(*) FROM {table}")
    return int(row[0]) if row else 0


def _flow_values() -> str:
    body = ", ".join(f"({_quoted(t)}, {_quoted(f)})" for t, f in sorted(FLOW_OF_TYPE.items()))
    return f"(SELECT * FROM (VALUES {body}) AS v(schema, flow))"


def facet_sql(props: Props, which: str) -> list[str]:
    """The statements that write the facets of the imports ``which`` (numbers, comma-separated).

    An entity's flow is that of its type (``cruce.graph.model.FLOW_OF_TYPE``) or its ``flow``
    property, and also that of every record pointing at it (a buyer is in the firearms flow by
    the purchase that names him); its years are its own dates' and those of the records pointing
    at it; its places, its own country and state values. Each row carries the import it comes
    from, so a user counts only what their datasets say.
    """
    flows, known = _flow_values(), ", ".join(_quoted(f) for f in FLOWS)
    own_flow = (
        f"SELECT s.entity_id, s.import_no, 'flow' AS kind, f.flow AS value FROM statement s "
        f"JOIN property p ON p.prop_id = s.prop_id JOIN {flows} f ON f.schema = p.schema "
        f"WHERE s.import_no IN ({which}) UNION SELECT s.entity_id, s.import_no, 'flow', s.value FROM statement s "
        "JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE s.import_no IN ({which}) AND p.prop = 'flow' AND s.value IN ({known})"
    )
    referred_flow = (
        "SELECT r.target, r.import_no, 'flow', f.flow FROM entity_ref r JOIN property p ON p.prop_id = r.prop_id "
        f"JOIN {flows} f ON f.schema = p.schema WHERE r.import_no IN ({which}) "
        "UNION SELECT r.target, r.import_no, 'flow', s.value FROM entity_ref r JOIN statement s "
        "ON s.entity_id = r.entity_id AND s.import_no = r.import_no JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE r.import_no IN ({which}) AND p.prop = 'flow' AND s.value IN ({known})"
    )
    statements = [own_flow, referred_flow]
    if props.places:
        statements.append(
            "SELECT s.entity_id, s.import_no, 'place', s.value FROM statement s "
            f"WHERE s.import_no IN ({which}) AND s.prop_id IN ({_ids(props.places)})"
        )
    if props.dates:
        statements.append(
            "SELECT s.entity_id, s.import_no, 'year', substr(s.value, 1, 4) FROM statement s "
            f"WHERE s.import_no IN ({which}) AND s.prop_id IN ({_ids(props.dates)})"
        )
        statements.append(
            "SELECT r.target, r.import_no, 'year', substr(s.value, 1, 4) FROM entity_ref r JOIN statement s "
            f"ON s.entity_id = r.entity_id AND s.import_no = r.import_no WHERE r.import_no IN ({which}) "
            f"AND s.prop_id IN ({_ids(props.dates)})"
        )
    return [
        f"INSERT INTO search_facet (entity_id, import_no, kind, value) SELECT DISTINCT * FROM ({sql}) AS f"
        for sql in statements
    ]


def index_rows(db: AppDB) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the term index, ordered, with terms by name (for tests and comparisons)."""
    return {
        "terms": db.fetch("SELECT term_id, term, df FROM search_term ORDER BY term_id"),
        "postings": db.fetch(
            "SELECT t.term, CAST(p.entity_id AS VARCHAR), p.import_no, p.prop_id, p.protected, p.terms, p.position "
            "FROM search_posting p JOIN search_term t ON t.term_id = p.term_id ORDER BY 1, 2, 3, 4, 5"
        ),
        "facets": db.fetch(
            "SELECT CAST(entity_id AS VARCHAR), import_no, kind, value FROM search_facet ORDER BY 1, 2, 3, 4"
        ),
        "indexed": db.fetch("SELECT import_no, entities FROM search_indexed ORDER BY 1"),
    }
