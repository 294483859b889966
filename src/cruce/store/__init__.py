"""Statement stores: DuckDB (embedded default) and PostgreSQL (team server), one contract."""

from __future__ import annotations

import os
from pathlib import Path

from cruce.store.base import (
    DatasetSummary,
    Entity,
    ImportRecord,
    ImportWriter,
    Reject,
    Statement,
    Store,
    StoreError,
    StoreUnavailableError,
)

DEFAULT_DB = "cruce.duckdb"

__all__ = [
    "DEFAULT_DB",
    "DatasetSummary",
    "Entity",
    "ImportRecord",
    "ImportWriter",
    "Reject",
    "Statement",
    "Store",
    "StoreError",
    "StoreUnavailableError",
    "database_url",
    "open_store",
]


def database_url(db: str | None = None) -> str:
    """The database to use: the ``--db`` value, else ``CRUCE_DB``, else ``./cruce.duckdb``."""
    return db or os.environ.get("CRUCE_DB") or DEFAULT_DB


def open_store(db: str | Path | None = None) -> Store:
    """Open (creating or upgrading as needed) the store named by a path or URL.

    ``postgresql://…`` (or ``postgres://…``) selects PostgreSQL; ``duckdb:PATH``, a plain path or
    ``:memory:`` selects DuckDB.
    """
    url = database_url(str(db) if db is not None else None)
    if url.startswith(("postgresql://", "postgres://")):
        from cruce.store.postgres_store import PostgresStore

        return PostgresStore(url)
    from cruce.store.duckdb_store import DuckDBStore

    return DuckDBStore(url.removeprefix("duckdb:"))
