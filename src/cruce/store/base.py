"""The storage contract: what every backend (DuckDB, PostgreSQL) offers the rest of cruce.

Everything stored is a statement — one value of one property of one entity, with where it came
from. Entities are read back as aggregates of their statements. Imports write through an
``ImportWriter``: one transaction per import, so an import either lands whole or not at all.
"""

from __future__ import annotations

import errno
import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

import duckdb
import pyarrow as pa

# Columns of the table of one batch's statements that the import pipeline hands a writer.
BATCH_COLUMNS = ("entity_id", "prop_id", "prop", "value", "original", "source_row")
REJECT_COLUMNS = ("source_row", "field", "reason", "value")
STATEMENT_KEY_SEPARATOR = "\x1f"

CommitStep = Callable[[int], Sequence[str]]
"""More work for an import's commit (e.g. ``cruce.search.index_step``): given the import's number,
SQL statements (the same on both backends, without parameters) that the writer runs inside the
commit's transaction, after the import's statements and its ``import_run`` row are in place."""


def statement_id(dataset: str, entity_id: str, prop: str, value: str) -> str:
    """The stable id of a statement: the same value of the same property from the same dataset."""
    digest = hashlib.md5(  # noqa: S324 - an identifier, not a security measure
        STATEMENT_KEY_SEPARATOR.join((dataset, entity_id, prop, value)).encode("utf-8")
    ).hexdigest()
    return str(uuid.UUID(digest))


def statement_id_sql(dataset: str, entity_id: str, prop: str, value: str) -> str:
    """The same id computed in SQL (DuckDB and PostgreSQL both have ``md5``)."""
    return f"CAST(md5(concat_ws(chr(31), {dataset}, CAST({entity_id} AS VARCHAR), {prop}, {value})) AS UUID)"


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says why and what to do."""


class StoreUnavailableError(StoreError):
    """The database server does not answer now (stopped, restarting, unreachable): worth trying
    again later, unlike other ``StoreError``s. The web application answers 503 to it."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a disk is full: the OS's ENOSPC, DuckDB's or PostgreSQL's (53100) words for it."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    if getattr(exc, "sqlstate", None) == "53100":  # psycopg: PostgreSQL's disk_full
        return True
    return isinstance(exc, duckdb.Error | OSError) and "No space left on device" in str(exc)


@dataclass(frozen=True)
class Statement:
    """One value of one property of one entity, with its provenance."""

    id: str
    entity_id: str
    schema: str
    prop: str
    value: str
    original: str | None
    dataset: str
    import_id: str
    source_file: str
    source_row: int
    first_seen: datetime
    last_seen: datetime


@dataclass
class Entity:
    """An entity as the aggregate of its statements."""

    id: str
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)
    statements: list[Statement] = field(default_factory=list)

    @property
    def datasets(self) -> list[str]:
        return sorted({s.dataset for s in self.statements})

    def first(self, prop: str) -> str | None:
        values = self.properties.get(prop)
        return values[0] if values else None

    def add(self, statement: Statement) -> None:
        self.statements.append(statement)
        values = self.properties.setdefault(statement.prop, [])
        if statement.value not in values:
            values.append(statement.value)


@dataclass(frozen=True)
class ImportRecord:
    """One completed import of one file through one mapping into one dataset."""

    id: str
    dataset: str
    source_file: str
    file_sha256: str
    file_size: int
    mapping: str
    mapping_sha256: str
    started_at: datetime
    finished_at: datetime | None = None
    rows_read: int = 0
    rows_stored: int = 0
    rows_rejected: int = 0
    statements_added: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Reject:
    """A row the import could not store, with the field and the reason, for the user to fix."""

    import_id: str
    dataset: str
    source_file: str
    source_row: int | None
    field: str | None
    reason: str
    value: str | None


@dataclass(frozen=True)
class DatasetSummary:
    name: str
    imports: int
    entities: int
    statements: int
    rejects: int
    last_import: datetime | None


class ImportWriter(Protocol):
    """One import: batches are prepared on the compute connection (in the pipeline's worker
    thread) and added to the store (in the calling thread), so that the next batch is computed
    while this one is written; then everything is committed at once, or nothing."""

    def prepare_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
        """Turn one batch's statements (``table`` in ``compute``, ``BATCH_COLUMNS``) into what
        ``add_statements`` takes. Runs on the compute connection only."""
        ...

    def add_statements(self, prepared: pa.Table) -> int:
        """Add one prepared batch to the store; return how many rows it wrote."""
        ...

    def add_rejects(self, rejects: pa.Table) -> int:
        """Add rejected fields (columns ``REJECT_COLUMNS``)."""
        ...

    def commit(self, record: ImportRecord, steps: Sequence[CommitStep] = ()) -> int:
        """Merge what was added into the store, record the import, run ``steps``, all in one
        transaction; return statements added."""
        ...

    def rollback(self) -> None: ...


class Store(Protocol):
    """A statement store; ``cruce.store.open_store`` picks the implementation from the URL."""

    url: str
    backend: str

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def schema_version(self) -> int: ...

    def compute(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection in which import batches are transformed into statements."""
        ...

    def begin_import(self, import_id: str, dataset: str) -> ImportWriter: ...

    def property_ids(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]: ...

    def find_import(self, dataset: str, file_sha256: str, mapping_sha256: str) -> ImportRecord | None: ...

    def imports(self, dataset: str | None = None) -> list[ImportRecord]: ...

    def datasets(self) -> list[DatasetSummary]: ...

    def counts_by_schema(self, dataset: str | None = None) -> dict[str, int]: ...

    def statement_count(self) -> int: ...

    def import_generation(self) -> tuple[int, int, str]:
        """The finished imports' count, newest number and greatest id (changes when an import finishes)."""
        ...

    def statements(self, entity_id: str) -> list[Statement]: ...

    def statements_of(self, entity_ids: Sequence[str]) -> dict[str, list[Statement]]: ...

    def entity(self, entity_id: str) -> Entity | None: ...

    def iter_entities(self, schema: str | None = None, dataset: str | None = None) -> Iterator[Entity]: ...

    def rejects(self, dataset: str | None = None, import_id: str | None = None) -> Iterator[Reject]: ...

    def size_bytes(self) -> int | None: ...
