"""The team store: statements in PostgreSQL, selected by a ``postgresql://`` URL.

Import batches are still transformed by DuckDB (in memory, in this process) and then streamed
into PostgreSQL with ``COPY`` into a temporary stage; the merge into ``statement`` uses the
primary key (``ON CONFLICT``), all in one transaction. That key is (entity_id, id) — an id hashes
its entity, so it is as unique as the id — and the merge inserts in its order: one index both
keeps statements unique and finds an entity's, and each entry lands next to the one before. An
optional ``?schema=NAME`` in the URL keeps cruce's tables in their own PostgreSQL schema (used by
the tests to stay isolated).

A store holds one connection for its life (the web application: one per worker thread, see
``cruce.web.services``). When PostgreSQL drops it — a restart, a fail-over, an administrator
ending sessions — the next use of ``conn`` outside a transaction opens a new one, so one restart
does not leave the process with dead connections; while the server does not answer, that raises
``StoreUnavailableError``. A pool (psycopg_pool) was not used: transactions here span several calls
that each take ``store.conn`` (``cruce.security.db``, imports, temporary tables), so a
connection must stay the same from one call to the next.
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import re
import select
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus

from cruce.i18n import _
from cruce.store.base import (
    REJECT_COLUMNS,
    CommitStep,
    ImportRecord,
    StoreError,
    StoreUnavailableError,
    statement_id_sql,
)
from cruce.store.sql import SqlStore

log = logging.getLogger(__name__)
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
COPY_BATCH_ROWS = 200_000
CONNECT_TIMEOUT = 10  # seconds; a server that is down refuses at once, an unreachable one waits this long


def split_schema(url: str) -> tuple[str, str | None]:
    """Separate cruce's own ``schema=`` option from the connection URL libpq understands."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((v for k, v in query if k == "schema"), None)
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise StoreError(_("Invalid schema name in the database URL: {name}").format(name=schema))
    return urlunsplit(parts._replace(query=rest)), schema


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***, for messages and screens."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _to_pg(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStore(SqlStore):
    """Statements in a PostgreSQL database."""

    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = redact_url(url)
        self._init_cache()
        self._conninfo, self.pg_schema = split_schema(url)
        self._password = urlsplit(url).password
        self._closed = False
        self._conn = self._connect()
        if self.pg_schema:
            self._conn.execute(pgsql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(pgsql.Identifier(self.pg_schema)))
            self._set_search_path(self._conn)
        self._compute: duckdb.DuckDBPyConnection | None = None
        self.upgraded_from, self.version = self._migrate()

    def sibling(self) -> PostgresStore:
        """Another connection to the same database and schema, for a thread of its own: without
        the start-up checks (this store made them), sharing this store's entity cache. Whoever asks
        for it closes it."""
        twin = copy.copy(self)
        twin._closed = False
        twin._compute = None
        twin._conn = self._connect()
        try:
            twin._set_search_path(twin._conn)
        except BaseException:
            twin._conn.close()
            raise
        return twin

    def _connect(self) -> psycopg.Connection[Any]:
        """A new connection in autocommit mode; ``StoreUnavailableError`` when PostgreSQL does not answer."""
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            reason = str(exc).replace(self._password or "\0", "***")
            raise StoreUnavailableError(
                _("Cannot connect to PostgreSQL at {url}: {reason}").format(
                    url=redact_url(self._conninfo), reason=reason
                )
            ) from exc
        return conn

    def _set_search_path(self, conn: psycopg.Connection[Any]) -> None:
        if self.pg_schema:
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(self.pg_schema)))

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The connection; a new one first when PostgreSQL dropped this one (see the module's docstring).

        A connection that failed is closed by psycopg, and replaced here. One idle since before a
        restart is not known to be dead until used: PostgreSQL wrote to it as it shut down, so
        something to read on an idle connection is checked first. Inside a transaction the
        connection is never swapped: the transaction's next statement fails instead (its work is
        lost with the old session, and must not go on, half, in another).
        """
        conn = self._conn
        if self._closed:
            return conn  # closed on purpose: psycopg says so on use
        if conn.closed:
            return self._reconnect()
        if conn.info.transaction_status == TransactionStatus.IDLE and _has_input(conn):
            try:
                conn.execute("")
            except psycopg.OperationalError:
                return self._reconnect()
        return conn

    def _reconnect(self) -> psycopg.Connection[Any]:
        old = self._conn
        conn = self._connect()
        try:
            self._set_search_path(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        with contextlib.suppress(psycopg.Error):
            old.close()
        log.info("reconnected to PostgreSQL at %s", self.url)
        return conn

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(_to_pg(sql), list(params))
            return cur.fetchall() if cur.description else []

    def _run_script(self, sql: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql.encode())

    def _has_table(self, name: str) -> bool:
        rows = self._fetch(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()",
            (name,),
        )
        return bool(rows)

    def close(self) -> None:
        self._closed = True
        self._conn.close()
        if self._compute is not None:
            self._compute.close()
            shutil.rmtree(self._spill, ignore_errors=True)

    def compute(self) -> duckdb.DuckDBPyConnection:
        if self._compute is None:
            self._spill = tempfile.mkdtemp(prefix="cruce-")
            self._compute = duckdb.connect(":memory:", config={"memory_limit": "256MB", "temp_directory": self._spill})
        return self._compute

    def begin_import(self, import_id: str, dataset: str) -> PostgresImportWriter:
        return PostgresImportWriter(self, import_id, dataset)

    def size_bytes(self) -> int | None:
        rows = self._fetch(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        )
        return int(rows[0][0])


def _has_input(conn: psycopg.Connection[Any]) -> bool:
    """Whether the server sent something to a connection nobody is waiting on (it never does,
    except as it ends the session)."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return bool(poller.poll(0))


class PostgresImportWriter:
    """One import's transaction on PostgreSQL: COPY into temporary stages, then merge."""

    def __init__(self, store: PostgresStore, import_id: str, dataset: str) -> None:
        self.store = store
        self.import_id = import_id
        self.dataset = dataset
        self.number = store.next_number("import_no_seq")
        self.cur = store.conn.cursor()
        self.cur.execute("BEGIN")
        self.cur.execute("SET LOCAL work_mem = '256MB'")
        self.cur.execute(
            "CREATE TEMP TABLE cruce_stage (id UUID, entity_id UUID, prop_id INTEGER, value TEXT, "
            "original TEXT, source_row BIGINT) ON COMMIT DROP"
        )
        self.cur.execute(
            "CREATE TEMP TABLE cruce_reject_stage (source_row BIGINT, field TEXT, reason TEXT, value TEXT) "
            "ON COMMIT DROP"
        )

    def _copy(self, table: pa.Table, target: str) -> int:
        copy_sql = f"COPY {target} ({', '.join(table.column_names)}) FROM STDIN (FORMAT csv)"
        with self.cur.copy(copy_sql.encode()) as copy:
            for batch in table.to_batches(COPY_BATCH_ROWS):
                buffer = io.BytesIO()
                pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=False))
                copy.write(buffer.getvalue())
        return int(table.num_rows)

    def prepare_statements(self, compute: duckdb.DuckDBPyConnection, table: str) -> pa.Table:
        dataset = "'" + self.dataset.replace("'", "''") + "'"
        ident = statement_id_sql(dataset, "b.entity_id", "b.prop", "b.value")
        columns = ("entity_id", "prop_id", "value", "original", "source_row")
        select = f"SELECT {ident} AS id, {', '.join('b.' + c for c in columns)} FROM {table} b"
        return compute.execute(select).to_arrow_table()

    def add_statements(self, prepared: pa.Table) -> int:
        return self._copy(prepared, "cruce_stage")

    def add_rejects(self, rejects: pa.Table) -> int:
        return self._copy(rejects.select(list(REJECT_COLUMNS)), "cruce_reject_stage")

    def _dataset_has_data(self) -> bool:
        """Whether a finished import of this dataset is visible now (asked at commit, so one that
        finished while this one was staged counts)."""
        self.cur.execute("SELECT 1 FROM import_run WHERE dataset = %s LIMIT 1", [self.dataset])
        return self.cur.fetchone() is not None

    def commit(self, record: ImportRecord, steps: Sequence[CommitStep] = ()) -> int:
        # A statement's id hashes its dataset, so only the dataset's earlier imports can hold one
        # of these: into a new dataset there is nothing to move forward, and the join of the whole
        # stage with ``statement`` is skipped.
        if self._dataset_has_data():
            self.cur.execute(
                "UPDATE statement s SET last_import_no = %s FROM (SELECT DISTINCT entity_id, id FROM cruce_stage) d "
                "WHERE s.entity_id = d.entity_id AND s.id = d.id",
                [self.number],
            )
        # No conflict target: ``statement``'s one unique index is its key, (entity_id, id) since
        # store version 18 and id before, and the merge is the same with either.
        self.cur.execute(
            """
            INSERT INTO statement
            SELECT DISTINCT ON (entity_id, id) id, entity_id, prop_id, value, original, source_row, %s, %s
            FROM cruce_stage ORDER BY entity_id, id, source_row
            ON CONFLICT DO NOTHING
            """,
            [self.number, self.number],
        )
        added = max(self.cur.rowcount, 0)
        self.cur.execute(
            "INSERT INTO reject SELECT %s, source_row, field, reason, value FROM cruce_reject_stage",
            [self.number],
        )
        sql, params = self.store._record_import(record, self.number, datetime.now(), added)
        self.cur.execute(_to_pg(sql), list(params))
        for step in steps:
            for statement in step(self.number):
                self.cur.execute(statement.encode())
        self.cur.execute("COMMIT")
        self.cur.close()
        return added

    def rollback(self) -> None:
        try:
            self.cur.execute("ROLLBACK")
        except psycopg.Error:
            return
        finally:
            self.cur.close()
