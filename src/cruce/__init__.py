"""cruce: an intelligence workbench for trafficking across the US–Mexico border.

The Python API in two calls::

    import cruce

    with cruce.open("cruce.duckdb") as store:  # or "postgresql://…"
        result = cruce.import_file(store, "sales.csv", "example-firearm-purchases")
        person = next(store.iter_entities(schema="Person"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "import_file", "open"]

if TYPE_CHECKING:
    from cruce.ingest.pipeline import ImportResult
    from cruce.store.base import Store


def open(db: str | None = None) -> Store:
    """Open (creating or upgrading) a store: a DuckDB path, ``:memory:`` or a PostgreSQL URL."""
    from cruce.store import open_store

    return open_store(db)


def import_file(store: Store, path: str, mapping: str, **options: Any) -> ImportResult:
    """Import one file through a mapping (see ``cruce.ingest.pipeline.import_file``)."""
    from cruce.ingest.pipeline import import_file as run_import

    return run_import(store, path, mapping, **options)
