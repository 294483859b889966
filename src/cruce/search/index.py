"""The reference index: a table kept beside the statements, written in the import's own commit.

``entity_ref`` holds every statement of an entity-reference property turned around: which entity
(``target``) is pointed at, by which entity, through which property, in which dataset, and whether
the property is protected (a case's victim). The entity page's incoming links, the graph and the
protected person rule read it instead of comparing every value of the store with an id.

It is filled for an import's new statements: on DuckDB, into a new dataset, with each batch (the
batch carries its index columns, made by ``cruce.ingest.compile``), under the import's number,
which readers only take once the import is recorded; otherwise inside the transaction that makes
the import visible (``index_step``, run by the store's ``commit``). Either way a killed import
leaves no index rows behind (ADR 0003). A store imported into before the index existed is indexed
by the migration that creates the table (``backfill``). Which properties are indexed is the
schema's business (``IndexSpec.of``).

Until store version 8 a second table, ``search_value``, held every searchable value folded; search
reads its own term index now (``cruce.search.terms``, ADR 0007), so imports no longer write it and
migration 0008 drops it. ``fold`` and ``fold_sql`` stay: what the search and the guard compare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cruce.schema.model import PropertyType, Schema

SEARCHABLE_TYPES = frozenset(
    {PropertyType.NAME, PropertyType.TEXT, PropertyType.IDENTIFIER, PropertyType.PHONE, PropertyType.EMAIL}
)
_ACCENTED = "áàäâãéèëêíìïîóòöôõúùüûñçÁÀÄÂÃÉÈËÊÍÌÏÎÓÒÖÔÕÚÙÜÛÑÇ"
_PLAIN = "aaaaaeeeeiiiiooooouuuuncaaaaaeeeeiiiiooooouuuunc"
_FOLD_TABLE = str.maketrans(_ACCENTED, _PLAIN)


def fold(text: str) -> str:
    """Lower case without accents: what search compares (``fold_sql`` does the same in SQL)."""
    return text.lower().translate(_FOLD_TABLE)


def fold_sql(column: str, backend: str) -> str:
    """``fold`` in SQL. DuckDB's own strip_accents is several times faster than a 50-character translate."""
    if backend == "duckdb":
        return f"strip_accents(lower({column}))"
    return f"translate(lower({column}), '{_ACCENTED}', '{_PLAIN}')"


@dataclass(frozen=True)
class IndexSpec:
    """Which (type, property) pairs go to which index table, and which of them are protected."""

    searchable: frozenset[tuple[str, str]]
    references: frozenset[tuple[str, str]]
    protected: frozenset[tuple[str, str]]

    @classmethod
    def of(cls, schema: Schema) -> IndexSpec:
        searchable, references, protected = set(), set(), set()
        for stype in schema.types.values():
            for name, prop in stype.properties.items():
                if prop.type in SEARCHABLE_TYPES:
                    searchable.add((stype.name, name))
                elif prop.type is PropertyType.ENTITY:
                    references.add((stype.name, name))
                if prop.protected:
                    protected.add((stype.name, name))
        return cls(frozenset(searchable), frozenset(references), frozenset(protected))


class _Store(Protocol):
    backend: str

    def property_ids(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]: ...


def _ids(numbers: Sequence[int]) -> str:
    return ", ".join(str(int(n)) for n in sorted(numbers))


def _uuid_sql(column: str, backend: str) -> str:
    """The value as a UUID, or NULL when it is not one (a reference is an entity id)."""
    if backend == "duckdb":
        return f"TRY_CAST({column} AS UUID)"
    pattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    return f"CASE WHEN {column} ~* '{pattern}' THEN CAST({column} AS UUID) END"


def index_sql(
    backend: str, spec: IndexSpec, property_ids: dict[tuple[str, str], int], import_no: int | None
) -> list[str]:
    """The statements that index the committed statements of one import (or, with None, of all).

    Only statements of finished imports are indexed (``import_run`` names them): an interrupted
    import's leftovers are not, and the store removes them when it is next opened. The rows are
    narrow — the property and the import as numbers, as in ``statement`` — because writing the
    names of the type, property and dataset into every row cost the import twice as much (ADR 0004).
    """
    refs = [n for pair, n in property_ids.items() if pair in spec.references]
    protected = [n for pair, n in property_ids.items() if pair in spec.protected]
    is_protected = f"s.prop_id IN ({_ids(protected)})" if protected else "FALSE"
    which = f"s.import_no = {int(import_no)}" if import_no is not None else "s.import_no IN (SELECT no FROM import_run)"
    statements = []
    if refs:
        target = _uuid_sql("s.value", backend)
        # sorted by target: on DuckDB each import's rows then make narrow zone maps for `target = ?`
        statements.append(
            "INSERT INTO entity_ref (target, entity_id, import_no, prop_id, protected) "
            f"SELECT t.target, t.entity_id, t.import_no, t.prop_id, t.protected FROM ("
            f"SELECT {target} AS target, s.entity_id, s.import_no, s.prop_id, {is_protected} AS protected "
            f"FROM statement s WHERE {which} AND s.prop_id IN ({_ids(refs)})) t "
            "WHERE t.target IS NOT NULL ORDER BY t.target"
        )
    return statements


def index_step(store: _Store, schema: Schema) -> Callable[[int], list[str]]:
    """The commit step of an import into ``store``: its SQL, given the import's number.

    The property numbers are read when the step runs (in the commit, after the import has
    numbered its new properties), so the step may be made before the import starts.
    """
    spec = IndexSpec.of(schema)

    def step(import_no: int) -> list[str]:
        return index_sql(store.backend, spec, store.property_ids([]), import_no)

    return step


class _Migrating(Protocol):
    backend: str

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


def backfill(store: _Migrating, schema: Schema | None = None) -> int:
    """Index every committed statement (in the migration's transaction); return the rows written.

    Run by the migration that creates the tables, for stores imported into before they existed.
    """
    if not store._fetch("SELECT 1 FROM statement LIMIT 1"):
        return 0  # a new store: nothing to index, and no need to load the schema
    if schema is None:
        from cruce.schema.loader import default_schema

        schema = default_schema()
    store._fetch("DELETE FROM entity_ref")
    ids = {(str(r[0]), str(r[1])): int(r[2]) for r in store._fetch("SELECT schema, prop, prop_id FROM property")}
    for sql in index_sql(store.backend, IndexSpec.of(schema), ids, None):
        store._fetch(sql)
    rows = store._fetch("SELECT count(*) FROM entity_ref")
    return int(rows[0][0])
