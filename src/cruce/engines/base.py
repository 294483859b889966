"""What an engine does for cruce's set-based steps: take tables in (Arrow or Parquet), run SQL
written in DuckDB's dialect, give tables back (Arrow). The graph build and the flow aggregations
are written against this, once, and run on DuckDB or on Spark."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa

ENGINES = ("duckdb", "spark")


class Engine(ABC):
    """Tables by name, and SQL over them in DuckDB's dialect."""

    name: ClassVar[str]
    keeps_order: ClassVar[bool] = True
    """Whether ``arrow`` gives the rows in the query's ORDER BY (``rows`` always does)."""

    @abstractmethod
    def put(self, name: str, table: pa.Table) -> None:
        """``table`` as the table ``name``."""

    @abstractmethod
    def parquet(self, name: str, paths: Sequence[Path]) -> None:
        """Parquet files (of one schema) as the table ``name``, read where they lie."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        """A statement: ``CREATE [OR REPLACE] [TEMP] TABLE|VIEW name AS query``, ``DROP``…"""

    @abstractmethod
    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """A query's rows as Arrow (large results too: see ``keeps_order``)."""

    @abstractmethod
    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """A query's rows as dicts, in order (small results: a figure's)."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Forget the table ``name`` (no error when there is none)."""

    def close(self) -> None:  # noqa: B027 - most engines have nothing to close
        """Let go of what the engine holds (the session itself belongs to whoever opened it)."""
