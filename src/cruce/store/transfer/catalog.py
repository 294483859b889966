"""What a store holds, read from its own catalog: its tables, their columns, its sequences.

Backup, restore and copy list cruce's tables here rather than from a list in the code, so a table
that a later migration adds is carried without a change. Each column's type is reduced to one of
a few portable kinds (``KINDS``): the kind fixes the column's Arrow type in an archive, and how
each backend reads it and writes it back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]
"""One query with ``?`` marks on one connection, all rows back."""

KINDS: dict[str, pa.DataType] = {
    "uuid": pa.string(),
    "text": pa.string(),
    "json": pa.string(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "other": pa.string(),  # any other type, as its text (each backend casts text to its own types)
}
_TYPE_KINDS = {
    "uuid": "uuid",
    "varchar": "text",
    "text": "text",
    "character varying": "text",
    "character": "text",
    "json": "json",
    "jsonb": "json",
    "smallint": "int16",
    "integer": "int32",
    "bigint": "int64",
    "real": "float32",
    "float": "float32",
    "double": "float64",
    "double precision": "float64",
    "boolean": "bool",
    "date": "date",
    "timestamp": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamp with time zone": "timestamptz",
}
_NEXTVAL = re.compile(r"nextval\('\"?([A-Za-z_][A-Za-z0-9_]*)\"?'")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    sql_type: str  # the backend's own name of the type, for casts on writing
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def kind_of(sql_type: str) -> str:
    """The portable kind of a column type as either backend's catalog names it."""
    return _TYPE_KINDS.get(sql_type.strip().lower(), "other")


def quote(name: str) -> str:
    """An identifier from a catalog, quoted for either backend."""
    return '"' + name.replace('"', '""') + '"'


def tables(fetch: Fetch) -> list[Table]:
    """Every base table of the store's schema (views and temporary tables left out), by name."""
    rows = fetch(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default "
        "FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_name = c.table_name AND t.table_schema = c.table_schema AND t.table_catalog = c.table_catalog "
        "WHERE t.table_type = 'BASE TABLE' AND c.table_schema = current_schema() "
        "AND c.table_catalog = current_database() ORDER BY c.table_name, c.ordinal_position",
        (),
    )
    found: dict[str, list[Column]] = {}
    for table, column, sql_type, nullable, default in rows:
        found.setdefault(str(table), []).append(
            Column(str(column), kind_of(str(sql_type)), str(sql_type), str(nullable).upper() == "YES",
                   None if default is None else str(default))
        )  # fmt: skip
    return [Table(name, tuple(columns)) for name, columns in sorted(found.items())]


def sequences(fetch: Fetch, backend: str) -> dict[str, int | None]:
    """Each sequence of the store's schema with the last number it gave (None: none yet)."""
    if backend == "duckdb":
        rows = fetch(
            "SELECT sequence_name, last_value FROM duckdb_sequences() "
            "WHERE schema_name = current_schema() AND database_name = current_database() AND NOT temporary",
            (),
        )
    else:
        rows = fetch("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()", ())
    return {str(name): None if last is None else int(last) for name, last in rows}


def sequence_columns(fetch: Fetch, backend: str, found: Sequence[Table]) -> dict[str, list[tuple[str, str]]]:
    """The columns each sequence numbers: those whose default draws from it, and on PostgreSQL
    identity and serial columns (``pg_get_serial_sequence``)."""
    users: dict[str, list[tuple[str, str]]] = {}
    for table in found:
        for column in table.columns:
            match = _NEXTVAL.search(column.default or "")
            if match:
                users.setdefault(match.group(1), []).append((table.name, column.name))
    if backend == "postgresql":
        rows = fetch(
            "SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_schema) || '.' || "
            "quote_ident(table_name), column_name) FROM information_schema.columns "
            "WHERE table_schema = current_schema()",
            (),
        )
        for table_name, column_name, sequence in rows:
            if sequence:
                name = str(sequence).rsplit(".", 1)[-1].strip('"')
                if (str(table_name), str(column_name)) not in users.get(name, []):
                    users.setdefault(name, []).append((str(table_name), str(column_name)))
    return users


def select_list(table: Table, backend: str) -> str:
    """The columns as an archive holds them: uuids, json and other types as text, times in UTC."""
    parts = []
    for column in table.columns:
        name = quote(column.name)
        if column.kind in ("uuid", "json", "other"):
            parts.append(f"CAST({name} AS {'VARCHAR' if backend == 'duckdb' else 'TEXT'}) AS {name}")
        elif column.kind == "timestamptz" and backend == "postgresql":
            parts.append(f"({name} AT TIME ZONE 'UTC') AS {name}")
        else:
            parts.append(name)
    return ", ".join(parts)


def arrow_schema(columns: Sequence[tuple[str, str]]) -> pa.Schema:
    """The Arrow schema of (name, kind) columns."""
    return pa.schema([pa.field(name, KINDS[kind]) for name, kind in columns])
