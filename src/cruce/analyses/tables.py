"""Reading event and entity tables out of the statement store, the same way for every analysis.

An analysis names, per table, the properties it wants of one type (``values_sql``) and the
references it follows (``refs_sql``: the record named and its canonical entity, from
``entity_cluster``); ``read`` fills in the store's property numbers (statements are picked by
number: no join on the property table, no text compared per row), keeps only the imports asked
for, and returns Arrow tables — on DuckDB from a cursor with more memory for the read, on
PostgreSQL streamed out with COPY (``cruce.graph.extract.copy_out``).
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Self

import duckdb
import pyarrow as pa

from cruce.engines import DuckDBEngine, Engine
from cruce.graph.extract import copy_out
from cruce.store.duckdb_store import more_memory

FINISHED = "IN (SELECT no FROM import_run)"


def prop_mark(schema: str, prop: str) -> str:
    """A property's number, filled in when the store is read (``with_prop_ids``): statements are
    picked by number, with no join on the property table and no text compared per row."""
    return f"@{schema}.{prop}@"


@dataclass(frozen=True)
class Reads:
    """What an analysis's tables are read from: the record types whose statements it reads, and
    the resolved types (``cruce.resolve``) whose clusters can change what it reads. An import of
    other types, or a resolution run of another type, leaves its tables as they are."""

    schemas: frozenset[str]
    resolved: frozenset[str]


@cache
def reads_of(queries: tuple[str, ...]) -> Reads:
    """What ``queries`` read, from their property marks (``prop_mark``): each marked type, and
    each resolved type among those types and the types their marked references name."""
    from cruce.resolve.prepare import TYPES
    from cruce.schema.loader import default_schema

    schema = default_schema()
    marks = {(m.group(1), m.group(2)) for sql in queries for m in re.finditer(r"@(\w+)\.(\w+)@", sql)}
    types = {t for t, _p in marks}
    named = set()
    for type_name, prop in marks:
        found = schema.get(type_name)
        definition = found.properties.get(prop) if found is not None else None
        if definition is not None and definition.range:
            named.add(definition.range)
    return Reads(frozenset(types), frozenset((types | named) & set(TYPES)))


def with_prop_ids(sql: str, ids: dict[tuple[str, str], int]) -> str:
    """``sql`` with each ``prop_mark`` mark replaced by the store's number (-1: a property never stored)."""
    return re.sub(r"@(\w+)\.(\w+)@", lambda m: str(ids.get((m.group(1), m.group(2)), -1)), sql)


def values_sql(schema: str, props: dict[str, str], among: str = "", numbers: frozenset[str] = frozenset()) -> str:
    """One row per entity of ``schema``: each wanted property's value (the largest, if several: by
    number for the aliases in ``numbers``, which come out as FLOAT8); with ``among`` (a query of
    ids), of those entities alone."""

    def value(alias: str) -> str:
        return "CAST(s.value AS FLOAT8)" if alias in numbers else "s.value"

    cases = ", ".join(
        f"max(CASE WHEN s.prop_id = {prop_mark(schema, prop)} THEN {value(alias)} END) AS {alias}"
        for alias, prop in props.items()
    )
    wanted = ", ".join(prop_mark(schema, prop) for prop in props.values())
    return (
        f"SELECT s.entity_id, {cases} FROM statement s "
        f"WHERE s.prop_id IN ({wanted}) AND s.import_no {FINISHED} "
        + (f"AND s.entity_id IN ({among}) " if among else "")
        + "GROUP BY s.entity_id"
    )


def as_text(sql: str) -> str:
    return f"CAST({sql} AS VARCHAR)"


def as_is(sql: str) -> str:
    return sql


def refs_sql(schema: str, props: dict[str, str], text_ids: bool) -> str:
    """One row per entity of ``schema``: each wanted reference, as the record named and its canonical
    id — as text on PostgreSQL (which has no ``min`` of a UUID), as UUIDs on DuckDB (joined faster)."""
    as_id = as_text if text_ids else as_is
    cols = []
    for alias, prop in props.items():
        mark = prop_mark(schema, prop)
        cols.append(f"min(CASE WHEN r.prop_id = {mark} THEN {as_id('r.target')} END) AS {alias}_rec")
        canonical = as_id("COALESCE(c.canonical_id, r.target)")
        cols.append(f"min(CASE WHEN r.prop_id = {mark} THEN {canonical} END) AS {alias}")
    wanted = ", ".join(prop_mark(schema, prop) for prop in props.values())
    return (
        f"SELECT r.entity_id, {', '.join(cols)} FROM entity_ref r "
        "LEFT JOIN entity_cluster c ON c.entity_id = r.target "
        f"WHERE r.prop_id IN ({wanted}) AND r.import_no {FINISHED} GROUP BY r.entity_id"
    )


def _prepared(store: Any, queries: dict[str, str], imports: Sequence[int] | None) -> dict[str, str]:
    """The queries with the store's property numbers, of every finished import or of ``imports``."""
    ids = {(str(t), str(p)): int(n) for t, p, n in store._fetch("SELECT schema, prop, prop_id FROM property")}
    reads = {name: with_prop_ids(sql, ids) for name, sql in queries.items()}
    if imports is not None:
        only = f"IN ({', '.join(str(int(n)) for n in imports) or 'NULL'})"
        reads = {name: sql.replace(FINISHED, only) for name, sql in reads.items()}
    return reads


def read(
    store: Any, queries: dict[str, str], pg_types: dict[str, dict[str, pa.DataType]], imports: Sequence[int] | None
) -> dict[str, pa.Table]:
    """Each query's rows as Arrow, of every finished import or of ``imports`` alone."""
    reads = _prepared(store, queries, imports)
    if store.backend == "duckdb":
        with more_memory(store, "CRUCE_ANALYSIS_MEMORY", "2GB"):
            cursor = store.con.cursor()
            try:
                return {name: cursor.execute(sql).to_arrow_table() for name, sql in reads.items()}
            finally:
                cursor.close()
    return {name: copy_out(store.conn, reads[name], pg_types[name]) for name in reads}


def load_raw(
    engine: Engine,
    store: Any,
    queries: Callable[[bool], dict[str, str]],
    pg_types: dict[str, dict[str, pa.DataType]],
    imports: Sequence[int] | None,
) -> None:
    """Each query's rows as the table ``<name>_raw`` of ``engine``. On DuckDB the store runs the
    queries (``read``); on Spark the store's tables go to Parquet once and Spark runs them, ids as
    text. ``queries(text_ids)`` gives the queries with ids as text (PostgreSQL, Spark) or not."""
    if isinstance(engine, DuckDBEngine):
        for name, table in read(store, queries(store.backend != "duckdb"), pg_types, imports).items():
            engine.put(f"{name}_raw", table)
        return
    from cruce.engines.store_export import attach_store

    attach_store(engine, store)  # type: ignore[arg-type]
    for name, sql in _prepared(store, queries(True), imports).items():
        engine.execute(f"CREATE VIEW {name}_raw AS {sql}")  # read once, by ``derive``


class Tables(ABC):
    """An analysis's tables in an engine (an in-memory DuckDB of their own unless another is
    given), queried one at a time; derived tables made once (``once``)."""

    RAW: tuple[str, ...] = ()
    """The tables read from the store (``<name>_raw`` until ``derive`` has made its own)."""

    def __init__(self, tables: dict[str, pa.Table] | None = None, engine: Engine | None = None) -> None:
        """From Arrow ``tables`` (by name), or from the ``<name>_raw`` tables ``engine`` already has."""
        self._owns_engine = engine is None
        self.engine: Engine = engine if engine is not None else DuckDBEngine()
        self.lock = threading.Lock()  # one query at a time on the connection
        self._once_lock = threading.Lock()
        self._made: set[str] = set()
        for name, table in (tables or {}).items():
            self.engine.put(f"{name}_raw", table)
        self.derive()
        for name in tables or self.RAW:
            self.engine.drop(f"{name}_raw")

    def derive(self) -> None:
        """Make the analysis's tables from the ``<name>_raw`` ones."""
        for name in self.RAW:
            self.engine.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_raw")

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection (DuckDB engine only: for the analyses written for it alone)."""
        if not isinstance(self.engine, DuckDBEngine):
            raise TypeError(f"{type(self).__name__} on {self.engine.name} has no DuckDB connection")
        return self.engine.con

    @classmethod
    def reads(cls) -> Reads | None:
        """What the tables are read from (``reads_of`` the kind's queries); None: anything, so that
        every import, resolution run and decision has them read again."""
        return None

    @classmethod
    @abstractmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> Self:
        """The analysis's tables read from ``store`` (all finished imports, or ``imports`` alone)."""

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """A query's rows as dicts."""
        with self.lock:
            return self.engine.rows(sql, params)

    def execute(self, sql: str) -> None:
        with self.lock:
            self.engine.execute(sql)

    def once(self, name: str, make: Callable[[], None]) -> str:
        """``make()`` the first time ``name`` is asked for (a derived table), then only ``name``."""
        with self._once_lock:
            if name not in self._made:
                make()
                self._made.add(name)
        return name

    def one(self, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
        found = self.rows(sql, params)
        return found[0] if found else {}

    def close(self) -> None:
        """Let go of the tables (and of the engine, when it was this object's own)."""
        if self._owns_engine:
            self.engine.close()
            return
        for name in self.RAW:
            self.engine.drop(name)
