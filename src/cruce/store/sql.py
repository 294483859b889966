"""What the DuckDB and PostgreSQL stores share: migrations and the read queries.

Both backends speak the same SQL for reading; each subclass supplies only how to run a query
(``_fetch``) and a script (``_run_script``), and how it writes imports. Queries here use ``?``
placeholders; the PostgreSQL store translates them to its own.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cruce.i18n import _
from cruce.store.base import DatasetSummary, Entity, ImportRecord, Reject, Statement, StoreError, statement_id
from cruce.store.memo import once

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Work in Python that a migration needs after its script, in the same transaction: the
# migration's file name (without .sql) → "module:function", called with the store.
AFTER_MIGRATION = {"0004_search": "cruce.search.index:backfill"}

_IMPORT_COLUMNS = (
    "id, dataset, source_file, file_sha256, file_size, mapping, mapping_sha256, started_at, finished_at, "
    "rows_read, rows_stored, rows_rejected, statements_added, seconds"
)
_STATEMENT_SELECT = (
    "SELECT CAST(s.id AS VARCHAR), CAST(s.entity_id AS VARCHAR), s.schema, s.prop, s.value, s.original, "
    "s.dataset, s.import_id, s.source_file, s.source_row, s.first_seen, s.last_seen FROM statements s "
)


def migration_files(backend: str, directory: Path = MIGRATIONS_DIR) -> list[tuple[int, Path]]:
    """The numbered migration scripts of a backend, in order."""
    found = []
    for path in sorted((directory / backend).glob("*.sql")):
        match = _MIGRATION_FILE.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return found


class SqlStore(ABC):
    """Shared behaviour of the SQL stores; subclasses implement the four primitives."""

    url: str
    backend: str
    migrations_dir: Path = MIGRATIONS_DIR
    # one holder per opened store, shared by its thread views (cruce.web.services copies the store)
    _entity_caches: list[EntityCache]

    def _init_cache(self) -> None:
        self._entity_caches = [EntityCache((-1, -1, ""))]

    # -- primitives ------------------------------------------------------------------------
    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Backend primitive."""

    @abstractmethod
    def _run_script(self, sql: str) -> None:
        """Backend primitive."""

    @abstractmethod
    def _has_table(self, name: str) -> bool:
        """Backend primitive."""

    @abstractmethod
    def close(self) -> None:
        """Backend primitive."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- migrations ------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self._has_table("cruce_meta"):
            return 0
        rows = self._fetch("SELECT value FROM cruce_meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def _migrate(self) -> tuple[int, int]:
        """Bring the database to the newest version this cruce knows; return (before, after)."""
        files = migration_files(self.backend, self.migrations_dir)
        latest = files[-1][0] if files else 0
        current = self.schema_version()
        if current > latest:
            raise StoreError(
                _(
                    "The database {url} was made by a newer cruce (store version {found}); this cruce "
                    "knows versions up to {known}. Upgrade cruce to open it."
                ).format(url=self.url, found=current, known=latest)
            )
        for number, path in files:
            if number <= current:
                continue
            script = path.read_text(encoding="utf-8")
            if number == 1:
                script = "CREATE TABLE cruce_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);\n" + script
            after = AFTER_MIGRATION.get(path.stem)
            if after is None:
                self._run_script(
                    "BEGIN;\n"
                    + script
                    + "\nDELETE FROM cruce_meta WHERE key = 'schema_version';"
                    + f"\nINSERT INTO cruce_meta VALUES ('schema_version', '{number}');\nCOMMIT;"
                )
            else:
                self._migrate_with(number, script, after)
            log.info("store %s upgraded to version %d (%s)", self.url, number, path.name)
        return current, latest

    def _migrate_with(self, number: int, script: str, after: str) -> None:
        """Run a migration's script, then its Python step, then record the version: all or nothing."""
        module, function = after.split(":")
        step = getattr(importlib.import_module(module), function)
        self._run_script("BEGIN;\n" + script)
        try:
            step(self)
            self._run_script(
                "DELETE FROM cruce_meta WHERE key = 'schema_version';"
                f"\nINSERT INTO cruce_meta VALUES ('schema_version', '{number}');\nCOMMIT;"
            )
        except BaseException:
            self._run_script("ROLLBACK")
            raise

    # -- reads -----------------------------------------------------------------------------
    def _import_record(self, row: tuple[Any, ...]) -> ImportRecord:
        return ImportRecord(*row)

    def find_import(self, dataset: str, file_sha256: str, mapping_sha256: str) -> ImportRecord | None:
        rows = self._fetch(
            f"SELECT {_IMPORT_COLUMNS} FROM import_run "
            "WHERE dataset = ? AND file_sha256 = ? AND mapping_sha256 = ? ORDER BY started_at LIMIT 1",
            (dataset, file_sha256, mapping_sha256),
        )
        return self._import_record(rows[0]) if rows else None

    def imports(self, dataset: str | None = None) -> list[ImportRecord]:
        where, params = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
        rows = self._fetch(f"SELECT {_IMPORT_COLUMNS} FROM import_run {where} ORDER BY started_at", params)
        return [self._import_record(r) for r in rows]

    def datasets(self) -> list[DatasetSummary]:
        rows = self._fetch(
            """
            WITH i AS (SELECT dataset, count(*) AS n, max(finished_at) AS last FROM import_run GROUP BY dataset),
                 s AS (SELECT i.dataset, count(DISTINCT s.entity_id) AS e, count(*) AS n
                       FROM statement s JOIN import_run i ON i.no = s.import_no GROUP BY i.dataset),
                 r AS (SELECT i.dataset,
                              count(DISTINCT i.source_file || ':' || COALESCE(CAST(r.source_row AS VARCHAR), ''))
                              AS n
                       FROM reject r JOIN import_run i ON i.no = r.import_no
                       GROUP BY i.dataset)
            SELECT i.dataset, i.n, COALESCE(s.e, 0), COALESCE(s.n, 0), COALESCE(r.n, 0), i.last
            FROM i LEFT JOIN s ON s.dataset = i.dataset LEFT JOIN r ON r.dataset = i.dataset
            ORDER BY i.dataset
            """
        )
        return [DatasetSummary(r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), r[5]) for r in rows]

    def counts_by_schema(self, dataset: str | None = None) -> dict[str, int]:
        where, params = ("WHERE dataset = ?", (dataset,)) if dataset else ("", ())
        rows = self._fetch(
            f"SELECT schema, count(DISTINCT entity_id) FROM statements {where} GROUP BY schema ORDER BY schema",
            params,
        )
        return {str(r[0]): int(r[1]) for r in rows}

    def statement_count(self) -> int:
        return int(self._fetch("SELECT count(*) FROM statement")[0][0])

    def statements(self, entity_id: str) -> list[Statement]:
        return self.statements_of([entity_id]).get(entity_id, [])

    def statements_of(self, entity_ids: Sequence[str]) -> dict[str, list[Statement]]:
        """The statements of several entities (in one scan), each entity's in (prop, first_seen, value) order.

        Reads the narrow table and joins only the property names in SQL; the imports (a few
        rows) are joined here: joining ``import_run`` twice in SQL costs DuckDB more than the
        scan itself. Statements of imports not yet finished are left out, as by the view.

        Entities read are kept in memory (``EntityCache``, shared by the threads of one store)
        until the next import commits: statements change only when an import does.
        """
        asked = {c: i for i in entity_ids if (c := _canonical_uuid(i))}  # a value that is no id names nothing
        if not asked:
            return {}
        cache = self._entity_cache()
        found = {asked[c]: list(cached) for c in asked if (cached := cache.get(c))}
        found_empty = {c for c in asked if cache.get(c) == []}
        missing = [c for c in asked if asked[c] not in found and c not in found_empty]
        if missing:
            read = self._read_statements(missing)
            for c in missing:
                cache.put(c, read.get(c, []))
                if read.get(c):
                    found[asked[c]] = list(read[c])
        return found

    def import_generation(self) -> tuple[int, int, str]:
        """The finished imports' count, newest number and greatest id: what changes when, and only
        when, an import finishes (imports are never removed). The id (a time and a random part)
        tells apart two databases made again at one address, whose imports are numbered alike
        (tests do that on PostgreSQL). Asked once per web request (``cruce.store.memo``)."""

        def read() -> tuple[int, int, str]:
            row = self._fetch("SELECT count(*), max(no), max(CAST(id AS VARCHAR)) FROM import_run")[0]
            return int(row[0]), int(row[1] or 0), str(row[2] or "")

        return once(("import_generation", self.url), read)

    def _entity_cache(self) -> EntityCache:
        """The cache, emptied when the imports have changed since it was filled (one small query)."""
        generation = self.import_generation()
        holder = self._entity_caches
        if holder[0].generation != generation:
            holder[0] = EntityCache(generation)
        return holder[0]

    def _statement_rows(self, ids: list[str], imports: dict[int, tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The statement rows of these entities (see ``_read_statements``); a store with a faster
        way to read by key (``DuckDBStore``: its lookup file) overrides this."""
        stored_id = "CAST(s.id AS VARCHAR)" if self.backend == "postgresql" else "NULL"
        marks = ",".join("CAST(? AS UUID)" for _ in ids)
        where = "s.entity_id = CAST(? AS UUID)" if len(ids) == 1 else f"s.entity_id IN ({marks})"
        return self._fetch(
            f"SELECT {stored_id}, CAST(s.entity_id AS VARCHAR), p.schema, p.prop, s.value, s.original, s.source_row, "
            f"s.import_no, s.last_import_no FROM statement s JOIN property p ON p.prop_id = s.prop_id WHERE {where}",
            ids,
        )

    def _read_statements(self, ids: list[str]) -> dict[str, list[Statement]]:
        imports = once(
            ("imports_by_number", self.url),
            lambda: {
                int(r[0]): r[1:] for r in self._fetch("SELECT no, id, dataset, source_file, started_at FROM import_run")
            },
        )
        rows = self._statement_rows(ids, imports)
        if not rows:
            return {}
        found: dict[str, list[Statement]] = {}
        for sid, eid, schema, prop, value, original, source_row, first_no, last_no in rows:
            first, last = imports.get(int(first_no)), imports.get(int(last_no))
            if first is None or last is None:
                continue  # an import under way (or interrupted): not visible yet
            import_id, dataset, source_file, started_at = first
            found.setdefault(eid, []).append(
                Statement(
                    sid or statement_id(dataset, eid, prop, value), eid, schema, prop, value, original, dataset,
                    import_id, source_file, source_row, started_at, last[3],
                )
            )  # fmt: skip
        for statements in found.values():
            statements.sort(key=lambda st: (st.prop, st.first_seen, st.value))
        return found

    def entity(self, entity_id: str) -> Entity | None:
        try:
            statements = self.statements(entity_id)
        except Exception as exc:  # a malformed id is a user error, not a crash
            if "uuid" in str(exc).lower():
                return None
            raise
        if not statements:
            return None
        entity = Entity(id=entity_id, schema=statements[0].schema)
        for statement in statements:
            entity.add(statement)
        return entity

    def iter_entities(self, schema: str | None = None, dataset: str | None = None) -> Iterator[Entity]:
        """All entities (of a type, of a dataset), streamed in id order a page at a time."""
        conditions, params = [], []
        if schema:
            conditions.append("s.schema = ?")
            params.append(schema)
        if dataset:
            conditions.append("s.dataset = ?")
            params.append(dataset)
        where = ("WHERE " + " AND ".join(conditions) + " ") if conditions else ""
        after = "00000000-0000-0000-0000-000000000000"
        first_page = True
        while True:
            keyset = "s.entity_id > CAST(? AS UUID)" if not first_page else "TRUE"
            page_where = (where + "AND " + keyset) if where else ("WHERE " + keyset)
            ids = self._fetch(
                f"SELECT DISTINCT s.entity_id FROM statements s {page_where} ORDER BY s.entity_id LIMIT 2000",
                (*params, after) if not first_page else tuple(params),
            )
            if not ids:
                return
            first_page = False
            low, high = str(ids[0][0]), str(ids[-1][0])
            rows = self._fetch(
                _STATEMENT_SELECT
                + f"{where}{'AND' if where else 'WHERE'} s.entity_id BETWEEN CAST(? AS UUID) AND CAST(? AS UUID) "
                "ORDER BY s.entity_id, s.prop, s.first_seen, s.value",
                (*params, low, high),
            )
            yield from _group_entities(Statement(*r) for r in rows)
            after = high

    def rejects(self, dataset: str | None = None, import_id: str | None = None) -> Iterator[Reject]:
        conditions, params = [], []
        if dataset:
            conditions.append("i.dataset = ?")
            params.append(dataset)
        if import_id:
            conditions.append("i.id = ?")
            params.append(import_id)
        where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
        rows = self._fetch(
            "SELECT i.id, i.dataset, i.source_file, r.source_row, r.field, r.reason, r.value "
            f"FROM reject r JOIN import_run i ON i.no = r.import_no {where} "
            "ORDER BY i.started_at, r.source_row, r.field",
            params,
        )
        for row in rows:
            yield Reject(*row)

    def next_number(self, sequence: str) -> int:
        return int(self._fetch(f"SELECT nextval('{sequence}')")[0][0])

    def property_ids(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The number of each (schema, property) pair, numbering the new ones."""
        known = {(str(r[0]), str(r[1])): int(r[2]) for r in self._fetch("SELECT schema, prop, prop_id FROM property")}
        for pair in pairs:
            if pair not in known:
                self._fetch(
                    "INSERT INTO property VALUES (nextval('property_id_seq'), ?, ?) ON CONFLICT DO NOTHING", pair
                )
        if all(pair in known for pair in pairs):
            return known
        return {(str(r[0]), str(r[1])): int(r[2]) for r in self._fetch("SELECT schema, prop, prop_id FROM property")}

    def _record_import(
        self, record: ImportRecord, number: int, finished_at: datetime, added: int
    ) -> tuple[str, tuple[Any, ...]]:
        """The INSERT of a finished import's row, with its parameters."""
        return (
            f"INSERT INTO import_run (no, {_IMPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                record.id,
                record.dataset,
                record.source_file,
                record.file_sha256,
                record.file_size,
                record.mapping,
                record.mapping_sha256,
                record.started_at,
                finished_at,
                record.rows_read,
                record.rows_stored,
                record.rows_rejected,
                added,
                record.seconds,
            ),
        )


class EntityCache:
    """Statements of entities read, per generation of the imports (``SqlStore.import_generation``)."""

    MAX_ENTITIES = 20_000

    def __init__(self, generation: tuple[int, int, str]) -> None:
        self.generation = generation
        self._entries: OrderedDict[str, list[Statement]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, entity_id: str) -> list[Statement] | None:
        with self._lock:
            found = self._entries.get(entity_id)
            if found is not None:
                self._entries.move_to_end(entity_id)
            return found

    def put(self, entity_id: str, statements: list[Statement]) -> None:
        with self._lock:
            self._entries[entity_id] = statements
            if len(self._entries) > self.MAX_ENTITIES:
                self._entries.popitem(last=False)


def _canonical_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


def _group_entities(statements: Iterator[Statement]) -> Iterator[Entity]:
    current: Entity | None = None
    for statement in statements:
        if current is None or current.id != statement.entity_id:
            if current is not None:
                yield current
            current = Entity(id=statement.entity_id, schema=statement.schema)
        current.add(statement)
    if current is not None:
        yield current
