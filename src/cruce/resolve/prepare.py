"""Record preparation: one row per record of a type, with the fields its linkage model compares.

The statements of one entity type are read once from the store into the compute connection
(DuckDB), gathered per record with SQL, and normalised with ``cruce.resolve.normalise``: each
normaliser runs in Python once per *distinct* value (a name, a phone number), never once per
record, and its results are joined back in DuckDB. Millions of records stay feasible: what
grows with the data is DuckDB's work, and the Python work grows with the number of distinct
values only.

The prepared table is named ``cruce_rs_<type>`` in the compute connection; its columns are
listed in ``FIELDS`` (``unique_id`` is the record's entity id as text).
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import repeat
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from cruce.store.base import Store

# The properties each type's preparation reads.
PROPERTIES: dict[str, tuple[str, ...]] = {
    "Person": (
        "name",
        "alias",
        "first_name",
        "last_name",
        "second_last_name",
        "birth_date",
        "gender",
        "nationality",
        "phone",
        "id_number",
        "curp",
        "passport_number",
        "tax_id",
        "address",
        "email",
    ),
    "Organization": ("name", "alias", "org_type", "country", "ffl_number", "registration_number", "tax_id", "phone"),
    "Firearm": ("serial_number", "manufacturer", "model", "caliber", "firearm_type"),
    "Vehicle": ("plate", "plate_state", "vin", "make", "model", "color", "year"),
    "Phone": ("number",),
}
TYPES = tuple(PROPERTIES)


def table_name(entity_type: str) -> str:
    return f"cruce_rs_{entity_type.lower()}"


# -- reading the statements -----------------------------------------------------------------------
def load_statements(
    store: Store, con: duckdb.DuckDBPyConnection, entity_type: str, ids: Sequence[str] | None = None
) -> int:
    """Copy (entity_id, prop, value) of one type's statements into ``cruce_rs_raw``; return rows.

    ``ids`` limits the copy to those records (to explain one pair). Statements of imports still
    under way are not read (they are not in ``import_run`` yet).
    """
    props = PROPERTIES[entity_type]
    marks = ", ".join("?" for _ in props)
    sql = (
        "SELECT CAST(s.entity_id AS VARCHAR) AS entity_id, p.prop, s.value FROM statement s "
        "JOIN property p ON p.prop_id = s.prop_id JOIN import_run i ON i.no = s.import_no "
        f"WHERE p.schema = ? AND p.prop IN ({marks})"
    )
    params: list[Any] = [entity_type, *props]
    if ids is not None:
        sql += " AND s.entity_id IN (" + ", ".join("CAST(? AS UUID)" for _ in ids) + ")"
        params.extend(ids)
    table = _fetch_arrow(store, sql, params)
    con.register("cruce_rs_incoming", table)
    try:
        con.execute("CREATE OR REPLACE TABLE cruce_rs_raw AS SELECT * FROM cruce_rs_incoming")
    finally:
        con.unregister("cruce_rs_incoming")
    return int(table.num_rows)


# Events whose ``purchaser`` bought the event's ``firearm`` at retail. A trace's purchaser of record
# is, by definition, the first retail buyer of that gun, so a serial in common between a buyer and
# a trace purchaser is evidence that they are one person (a possessor's gun is not: not read).
# Where and from whom a person buys is evidence too: US law has a handgun bought in the buyer's
# state of residence, and most buyers go back to the same shop.
RETAIL_EVENTS = ("FirearmPurchase", "Trace")
_EVENT_PROPS = ("purchaser", "firearm", "dealer", "state", "purchase_state")
_TARGETS = (("Firearm", "serial_number"), ("Organization", "ffl_number"))


def _scan(store: Store, con: duckdb.DuckDBPyConnection, name: str, where: str, params: list[Any]) -> None:
    """Copy the (entity_id, prop, value) statements that ``where`` picks into compute table ``name``:
    a filtered scan of the store; the joins are done in the compute connection, whose memory is
    sized for resolution (the store's is kept small for the web server and imports)."""
    sql = (
        "SELECT CAST(s.entity_id AS VARCHAR) AS entity_id, p.prop, s.value FROM statement s "
        "JOIN property p ON p.prop_id = s.prop_id JOIN import_run i ON i.no = s.import_no WHERE " + where
    )
    con.register("cruce_rs_incoming", _fetch_arrow(store, sql, params))
    try:
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM cruce_rs_incoming")
    finally:
        con.unregister("cruce_rs_incoming")


def load_retail_context(store: Store, con: duckdb.DuckDBPyConnection, ids: Sequence[str] | None = None) -> int:
    """Copy (entity_id, prop, value) of what each person bought at retail — the firearms' serials
    (prop ``serial``), the dealers' licence numbers (``ffl``), the states of purchase (``state``) —
    into ``cruce_rs_bought``."""
    events = ", ".join(f"'{e}'" for e in RETAIL_EVENTS)
    props = ", ".join(f"'{p}'" for p in _EVENT_PROPS)
    where = f"p.schema IN ({events}) AND p.prop IN ({props})"
    params: list[Any] = []
    if ids is not None:  # only the events these people bought in
        marks = ", ".join("?" for _ in ids)
        where += (
            " AND s.entity_id IN (SELECT b.entity_id FROM statement b JOIN property bp ON bp.prop_id = b.prop_id "
            f"WHERE bp.schema IN ({events}) AND bp.prop = 'purchaser' AND b.value IN ({marks}))"
        )
        params.extend(ids)
    _scan(store, con, "cruce_rs_events", where, params)
    targets = " OR ".join(f"(p.schema = '{t}' AND p.prop = '{prop}')" for t, prop in _TARGETS)
    _scan(store, con, "cruce_rs_targets", f"({targets})", [])
    con.execute(
        """
        CREATE OR REPLACE TABLE cruce_rs_bought AS
        WITH buyer AS (SELECT entity_id AS event, value AS person FROM cruce_rs_events WHERE prop = 'purchaser')
        SELECT b.person AS entity_id,
               CASE e.prop WHEN 'firearm' THEN 'serial' WHEN 'dealer' THEN 'ffl' ELSE 'state' END AS prop,
               coalesce(t.value, e.value) AS value
        FROM buyer b JOIN cruce_rs_events e ON e.entity_id = b.event AND e.prop <> 'purchaser'
        LEFT JOIN cruce_rs_targets t ON t.entity_id = e.value
            AND t.prop = CASE e.prop WHEN 'firearm' THEN 'serial_number' WHEN 'dealer' THEN 'ffl_number' END
        WHERE e.prop IN ('state', 'purchase_state') OR t.value IS NOT NULL;
        DROP TABLE cruce_rs_events;
        DROP TABLE cruce_rs_targets
        """
    )
    row = con.execute("SELECT count(*) FROM cruce_rs_bought").fetchone()
    return int(row[0]) if row else 0


def _fetch_arrow(store: Store, sql: str, params: list[Any]) -> pa.Table:
    schema = pa.schema([("entity_id", pa.string()), ("prop", pa.string()), ("value", pa.string())])
    if store.backend == "postgresql":
        conn = store.conn  # type: ignore[attr-defined]
        buffer = io.BytesIO()
        import psycopg

        with psycopg.ClientCursor(conn) as cur:
            query = cur.mogrify(sql.replace("?", "%s"), params)
            with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)".encode()) as copy:
                for block in copy:
                    buffer.write(block)
        if not buffer.tell():
            return schema.empty_table()
        buffer.seek(0)
        return pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=schema.names),
            convert_options=pacsv.ConvertOptions(column_types=schema, strings_can_be_null=False),
        )
    con: duckdb.DuckDBPyConnection = store.con  # type: ignore[attr-defined]
    return con.execute(sql, params).to_arrow_table().cast(schema)


# -- normalising distinct values in Python --------------------------------------------------------
PARALLEL_FROM = 100_000  # distinct values from which the normaliser runs in a process per core
PARALLEL_CHUNK = 20_000


def _apply(function: Callable[[str], dict[str, Any]], values: list[str], names: list[str]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {n: [] for n in names}
    for value in values:
        out = function(value)
        for name in names:
            columns[name].append(out.get(name))
    return columns


def _normalised(function: Callable[[str], dict[str, Any]], values: list[str], names: list[str]) -> dict[str, list[Any]]:
    """``function``'s fields for each value, in order. Millions of distinct names (ten million
    records) take minutes of one core, so from ``PARALLEL_FROM`` values the work is shared among
    processes, one per core. Spawned, not forked: a fork of a serving process could inherit a lock
    another thread holds (ICU's, which the search folds words with). A spawned process imports the
    caller's main module again; where that module cannot be imported so (a script without a
    ``__main__`` guard), the pool breaks at once and the values are normalised here."""
    workers = min(os.cpu_count() or 1, 8)
    if len(values) < PARALLEL_FROM or workers < 2:
        return _apply(function, values, names)
    chunks = [values[i : i + PARALLEL_CHUNK] for i in range(0, len(values), PARALLEL_CHUNK)]
    columns: dict[str, list[Any]] = {n: [] for n in names}
    try:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for part in pool.map(_apply, repeat(function), chunks, repeat(names)):
                for name in names:
                    columns[name].extend(part[name])
    except BrokenProcessPool:
        logging.getLogger(__name__).info("normalising in this process: the worker processes did not start")
        return _apply(function, values, names)
    return columns


def map_distinct(
    con: duckdb.DuckDBPyConnection,
    source_sql: str,
    target: str,
    function: Callable[[str], dict[str, Any]],
    schema: pa.Schema,
) -> None:
    """Create table ``target`` (``value`` + the fields of ``schema``) by calling ``function`` once per
    distinct non-null ``value`` that ``source_sql`` selects."""
    values = [
        r[0] for r in con.execute(f"SELECT DISTINCT value FROM ({source_sql}) WHERE value IS NOT NULL").fetchall()
    ]
    columns: dict[str, list[Any]] = {"value": values, **_normalised(function, values, schema.names)}
    table = pa.table(columns, schema=pa.schema([pa.field("value", pa.string()), *schema]))
    con.register("cruce_rs_mapped", table)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM cruce_rs_mapped")
    finally:
        con.unregister("cruce_rs_mapped")


_KEY_RULES: tuple[tuple[str, str], ...] = (
    (r"[^a-z]", ""),
    (r"ch", "x"),
    (r"sh", "x"),
    (r"ll", "y"),
    (r"qu", "k"),
    (r"gu(?=[ei])", "g"),
    (r"c(?=[ei])", "s"),
    (r"g(?=[ei])", "j"),
    (r"[cq]", "k"),
    (r"z", "s"),
    (r"v", "b"),
    (r"w", "b"),
    (r"ph", "f"),
    (r"(?<!^)h", ""),
    (r"^h", ""),
    (r"y(?![aeiou])", "i"),
    (r"(.)\1+", r"\1"),
)


def phonetic_key(text: str | None, length: int = 5) -> str | None:
    """A sound-alike key for a folded name word, tuned for Spanish and English spellings.

    ``Vásquez``, ``Basquez`` and ``Vazques`` share one key; so do ``Gutiérrez``/``Gutierres`` and
    ``Hernández``/``Fernandes`` do not. Vowels after the first letter are dropped, so that a
    dropped or doubled vowel keeps the key.
    """
    if not text:
        return None
    word = text.split()[0].lower()
    for pattern, replacement in _KEY_RULES:
        word = re.sub(pattern, replacement, word)
    if not word:
        return None
    key = word[0] + re.sub(r"[aeiou]", "", word[1:])
    return key[:length] or None


def _text(value: Any) -> str | None:
    """A normaliser's field as one string: lists and tuples joined with spaces, empty as None."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        joined = " ".join(str(v) for v in value if v)
        return joined or None
    text = str(value).strip()
    return text or None


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v]
    return [str(value)] if str(value) else []


# -- Person ---------------------------------------------------------------------------------------
NAME_SCHEMA = pa.schema(
    [
        ("given", pa.string()),
        ("first_given", pa.string()),
        ("first_surname", pa.string()),
        ("second_surname", pa.string()),
        ("name_tokens", pa.string()),
        ("name_aliases", pa.list_(pa.string())),
        ("given_key", pa.string()),
        ("surname_key", pa.string()),
        ("second_surname_key", pa.string()),
    ]
)
# The structured parts of a name (first_name, last_name, second_last_name) are joined with this
# mark, so that the parser is told which words are the surnames.
PARTS_MARK = "\x1e"


def parse_name(value: str) -> dict[str, Any]:
    """The compared fields of one written name (a full name, or parts joined with ``PARTS_MARK``)."""
    from cruce.resolve.normalise import fold, parse_person_name

    if PARTS_MARK in value:
        given_text, first, second = [*value.split(PARTS_MARK), "", ""][:3]
        given_part = parse_person_name(given_text) if given_text.strip() else None
        surnames = [fold(s) for s in (first, second) if s and s.strip()]
        whole = parse_person_name(" ".join(p for p in (given_text, first, second) if p), surnames_first=False)
        given = _text(given_part.given_canonical) if given_part else None
        first_given = _text(given_part.first_given) if given_part else None
        if given_part is not None and given_part.surnames and not surnames:
            surnames = [_text(s) or "" for s in given_part.surnames]
        first_surname = surnames[0] if surnames else None
        second_surname = surnames[1] if len(surnames) > 1 else None
        aliases = _list(whole.aliases) + (_list(given_part.aliases) if given_part else [])
        tokens = _text(whole.sorted_tokens)
    else:
        name = parse_person_name(value)
        given = _text(name.given_canonical)
        first_given = _text(name.first_given)
        first_surname = _text(name.first_surname)
        second_surname = _text(name.second_surname)
        aliases = _list(name.aliases)
        tokens = _text(name.sorted_tokens)
    if given and not first_given:
        first_given = given.split()[0]
    if first_given and given and first_given not in given.split():
        # the canonical form of a nickname (Pepe -> jose luis) leads
        first_given = given.split()[0]
    return {
        "given": given,
        "first_given": first_given,
        "first_surname": first_surname,
        "second_surname": second_surname,
        "name_tokens": tokens,
        "name_aliases": [fold(a) for a in aliases if a] or None,
        "given_key": phonetic_key(first_given),
        "surname_key": phonetic_key(first_surname),
        "second_surname_key": phonetic_key(second_surname),
    }


def _phone(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise.registry import NORMALISERS

    return {"norm": NORMALISERS["phone"](value)}


def _alias(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise import fold

    text = fold(value)
    for prefix in ("alias ", "el ", "la ", "los ", "las "):
        text = text.removeprefix(prefix)
    return {"norm": text.strip() or None}


def _address(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise import fold

    text = fold(value)
    codes = re.findall(r"\b\d{4,5}\b", text)
    return {"norm": text or None, "postcode": codes[-1] if codes else None}


_NORM = pa.schema([("norm", pa.string())])


def prepare_person(con: duckdb.DuckDBPyConnection) -> str:
    """Build the prepared Person table from ``cruce_rs_raw``; return its name."""
    target = table_name("Person")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE cruce_rs_person_base AS
        SELECT entity_id,
               min(value) FILTER (prop = 'name') AS full_name,
               min(value) FILTER (prop = 'first_name') AS first_name,
               min(value) FILTER (prop = 'last_name') AS last_name,
               min(value) FILTER (prop = 'second_last_name') AS second_last_name,
               min(value) FILTER (prop = 'birth_date') AS birth_date,
               min(lower(value)) FILTER (prop = 'gender') AS gender,
               min(upper(value)) FILTER (prop = 'nationality') AS nationality,
               min(value) FILTER (prop = 'address') AS address,
               list(DISTINCT value) FILTER (prop = 'alias') AS alias_values,
               list(DISTINCT value) FILTER (prop = 'phone') AS phone_values,
               list(DISTINCT upper(regexp_replace(value, '[^0-9A-Za-z]', '', 'g')))
                   FILTER (prop IN ('id_number', 'curp', 'passport_number', 'tax_id')) AS ids,
               list(DISTINCT lower(value)) FILTER (prop = 'email') AS emails
        FROM cruce_rs_raw GROUP BY entity_id;
        CREATE OR REPLACE TABLE cruce_rs_person_base AS
        SELECT *, CASE WHEN first_name IS NOT NULL OR last_name IS NOT NULL
                       THEN concat_ws('{PARTS_MARK}', coalesce(first_name, ''), coalesce(last_name, ''),
                                      coalesce(second_last_name, ''))
                       ELSE full_name END AS name_text
        FROM cruce_rs_person_base
        """
    )
    map_distinct(con, "SELECT name_text AS value FROM cruce_rs_person_base", "cruce_rs_names", parse_name, NAME_SCHEMA)
    map_distinct(
        con, "SELECT unnest(phone_values) AS value FROM cruce_rs_person_base", "cruce_rs_phones", _phone, _NORM
    )
    map_distinct(
        con, "SELECT unnest(alias_values) AS value FROM cruce_rs_person_base", "cruce_rs_aliases", _alias, _NORM
    )
    map_distinct(
        con,
        "SELECT address AS value FROM cruce_rs_person_base",
        "cruce_rs_addresses",
        _address,
        pa.schema([("norm", pa.string()), ("postcode", pa.string())]),
    )
    map_distinct(
        con,
        "SELECT value FROM cruce_rs_bought WHERE prop = 'serial'",
        "cruce_rs_bought_keys",
        _serial,
        pa.schema([("norm", pa.string()), ("key", pa.string()), ("partial", pa.bool_())]),
    )
    # Each list per person made on its own (DuckDB keeps an aggregate's lists in memory, so several
    # at once, over millions of people, outgrew the compute memory at ten million records); the
    # final join of the tables spills to disk when it must.
    con.execute(
        """
        CREATE OR REPLACE TABLE cruce_rs_p_serials AS
            SELECT b.entity_id, list(DISTINCT k.key ORDER BY k.key) AS serials
            FROM cruce_rs_bought b JOIN cruce_rs_bought_keys k USING (value)
            WHERE b.prop = 'serial' AND NOT k.partial AND length(k.key) >= 5 GROUP BY b.entity_id;
        CREATE OR REPLACE TABLE cruce_rs_p_bought AS
            SELECT entity_id,
                   list(DISTINCT upper(regexp_replace(value, '[^0-9A-Za-z]', '', 'g'))
                        ORDER BY upper(regexp_replace(value, '[^0-9A-Za-z]', '', 'g')))
                       FILTER (prop = 'ffl') AS dealers,
                   list(DISTINCT upper(value) ORDER BY upper(value)) FILTER (prop = 'state') AS purchase_states
            FROM cruce_rs_bought WHERE prop IN ('ffl', 'state') GROUP BY entity_id;
        CREATE OR REPLACE TABLE cruce_rs_p_phones AS
            SELECT b.entity_id, list(DISTINCT p.norm ORDER BY p.norm) FILTER (p.norm IS NOT NULL) AS phones
            FROM (SELECT entity_id, unnest(phone_values) AS value FROM cruce_rs_person_base) b
            JOIN cruce_rs_phones p USING (value) GROUP BY b.entity_id;
        CREATE OR REPLACE TABLE cruce_rs_p_aliases AS
            SELECT b.entity_id, list(DISTINCT a.norm ORDER BY a.norm) FILTER (a.norm IS NOT NULL) AS aliases
            FROM (SELECT entity_id, unnest(alias_values) AS value FROM cruce_rs_person_base) b
            JOIN cruce_rs_aliases a USING (value) GROUP BY b.entity_id
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        WITH dates AS (
            SELECT entity_id, try_cast(birth_date AS DATE) AS dob FROM cruce_rs_person_base
        )
        SELECT b.entity_id AS unique_id,
               n.given, n.first_given, n.first_surname, n.second_surname, n.name_tokens,
               n.given_key, n.surname_key, n.second_surname_key,
               nullif(list_distinct(list_concat(coalesce(n.name_aliases, []), coalesce(a.aliases, []))), [])
                   AS aliases,
               strftime(d.dob, '%Y-%m-%d') AS dob,
               CAST(year(d.dob) AS INTEGER) AS birth_year,
               CAST(month(d.dob) AS INTEGER) AS birth_month,
               CAST(day(d.dob) AS INTEGER) AS birth_day,
               CASE WHEN b.gender IN ('m', 'male', 'h', 'hombre', 'masculino') THEN 'm'
                    WHEN b.gender IN ('f', 'female', 'mujer', 'femenino') THEN 'f' END AS sex,
               b.nationality,
               nullif(p.phones, []) AS phones,
               nullif(list_filter(b.ids, x -> length(x) >= 5), []) AS ids,
               nullif(b.emails, []) AS emails,
               ad.norm AS address, ad.postcode,
               nullif(se.serials, []) AS serials,
               nullif(bo.dealers, []) AS dealers,
               nullif(bo.purchase_states, []) AS purchase_states
        FROM cruce_rs_person_base b
        LEFT JOIN cruce_rs_names n ON n.value = b.name_text
        LEFT JOIN cruce_rs_p_phones p ON p.entity_id = b.entity_id
        LEFT JOIN cruce_rs_p_aliases a ON a.entity_id = b.entity_id
        LEFT JOIN dates d ON d.entity_id = b.entity_id
        LEFT JOIN cruce_rs_addresses ad ON ad.value = b.address
        LEFT JOIN cruce_rs_p_serials se ON se.entity_id = b.entity_id
        LEFT JOIN cruce_rs_p_bought bo ON bo.entity_id = b.entity_id
        """
    )
    for scratch in ("cruce_rs_person_base", "cruce_rs_names", "cruce_rs_phones", "cruce_rs_aliases",
                    "cruce_rs_p_serials", "cruce_rs_p_bought", "cruce_rs_p_phones", "cruce_rs_p_aliases"):  # fmt: skip
        con.execute(f"DROP TABLE IF EXISTS {scratch}")
    con.execute("DROP TABLE IF EXISTS cruce_rs_addresses; DROP TABLE IF EXISTS cruce_rs_bought_keys")
    return target


# -- the other types ------------------------------------------------------------------------------
def _org(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise.registry import match_key

    norm = match_key("Organization", "name", value)
    return {"norm": norm, "key": phonetic_key(norm, 6) if norm else None}


def _serial(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise import normalise_serial

    serial = normalise_serial(value)
    return {
        "norm": _text(getattr(serial, "value", None)),
        "key": _text(getattr(serial, "lookalike_key", None)),
        "partial": bool(getattr(serial, "partial", False)),
    }


def _plate(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise.registry import match_key

    return {"norm": match_key("Vehicle", "plate", value)}


def _folded(value: str) -> dict[str, Any]:
    from cruce.resolve.normalise import fold

    return {"norm": fold(value) or None}


def prepare_organization(con: duckdb.DuckDBPyConnection) -> str:
    target = table_name("Organization")
    map_distinct(
        con,
        "SELECT value FROM cruce_rs_raw WHERE prop IN ('name', 'alias')",
        "cruce_rs_orgnames",
        _org,
        pa.schema([("norm", pa.string()), ("key", pa.string())]),
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT r.entity_id AS unique_id,
               min(n.norm) FILTER (r.prop = 'name') AS name,
               min(n.key) FILTER (r.prop = 'name') AS name_key,
               nullif(list(DISTINCT n.norm ORDER BY n.norm) FILTER (n.norm IS NOT NULL), []) AS names,
               min(lower(r.value)) FILTER (r.prop = 'org_type') AS org_type,
               min(upper(r.value)) FILTER (r.prop = 'country') AS country,
               nullif(list(DISTINCT upper(regexp_replace(r.value, '[^0-9A-Za-z]', '', 'g'))
                           ORDER BY upper(regexp_replace(r.value, '[^0-9A-Za-z]', '', 'g')))
                   FILTER (r.prop IN ('ffl_number', 'registration_number', 'tax_id')), []) AS ids
        FROM cruce_rs_raw r LEFT JOIN cruce_rs_orgnames n ON n.value = r.value AND r.prop IN ('name', 'alias')
        GROUP BY r.entity_id
        """
    )
    con.execute("DROP TABLE IF EXISTS cruce_rs_orgnames")
    return target


def prepare_firearm(con: duckdb.DuckDBPyConnection) -> str:
    target = table_name("Firearm")
    map_distinct(
        con,
        "SELECT value FROM cruce_rs_raw WHERE prop = 'serial_number'",
        "cruce_rs_serials",
        _serial,
        pa.schema([("norm", pa.string()), ("key", pa.string()), ("partial", pa.bool_())]),
    )
    map_distinct(
        con,
        "SELECT value FROM cruce_rs_raw WHERE prop IN ('manufacturer', 'model', 'caliber', 'firearm_type')",
        "cruce_rs_folded",
        _folded,
        _NORM,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT r.entity_id AS unique_id,
               min(s.norm) FILTER (r.prop = 'serial_number') AS serial,
               min(s.key) FILTER (r.prop = 'serial_number') AS serial_key,
               bool_or(s.partial) FILTER (r.prop = 'serial_number') AS serial_partial,
               min(f.norm) FILTER (r.prop = 'manufacturer') AS manufacturer,
               min(f.norm) FILTER (r.prop = 'model') AS model,
               min(f.norm) FILTER (r.prop = 'caliber') AS caliber,
               min(f.norm) FILTER (r.prop = 'firearm_type') AS firearm_type
        FROM cruce_rs_raw r
        LEFT JOIN cruce_rs_serials s ON s.value = r.value AND r.prop = 'serial_number'
        LEFT JOIN cruce_rs_folded f ON f.value = r.value AND r.prop <> 'serial_number'
        GROUP BY r.entity_id
        """
    )
    con.execute("DROP TABLE IF EXISTS cruce_rs_serials; DROP TABLE IF EXISTS cruce_rs_folded")
    return target


def prepare_vehicle(con: duckdb.DuckDBPyConnection) -> str:
    target = table_name("Vehicle")
    map_distinct(con, "SELECT value FROM cruce_rs_raw WHERE prop = 'plate'", "cruce_rs_plates", _plate, _NORM)
    map_distinct(
        con,
        "SELECT value FROM cruce_rs_raw WHERE prop IN ('make', 'model', 'color', 'plate_state')",
        "cruce_rs_folded",
        _folded,
        _NORM,
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT r.entity_id AS unique_id,
               min(p.norm) FILTER (r.prop = 'plate') AS plate,
               min(upper(regexp_replace(r.value, '[^0-9A-Za-z]', '', 'g'))) FILTER (r.prop = 'vin') AS vin,
               min(f.norm) FILTER (r.prop = 'plate_state') AS plate_state,
               min(f.norm) FILTER (r.prop = 'make') AS make,
               min(f.norm) FILTER (r.prop = 'model') AS model,
               min(f.norm) FILTER (r.prop = 'color') AS color,
               min(r.value) FILTER (r.prop = 'year') AS year
        FROM cruce_rs_raw r
        LEFT JOIN cruce_rs_plates p ON p.value = r.value AND r.prop = 'plate'
        LEFT JOIN cruce_rs_folded f ON f.value = r.value AND r.prop IN ('make', 'model', 'color', 'plate_state')
        GROUP BY r.entity_id
        """
    )
    con.execute("DROP TABLE IF EXISTS cruce_rs_plates; DROP TABLE IF EXISTS cruce_rs_folded")
    return target


def prepare_phone(con: duckdb.DuckDBPyConnection) -> str:
    target = table_name("Phone")
    map_distinct(con, "SELECT value FROM cruce_rs_raw WHERE prop = 'number'", "cruce_rs_phones", _phone, _NORM)
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {target} AS
        SELECT r.entity_id AS unique_id, min(p.norm) AS number,
               min(regexp_replace(r.value, '[^0-9]', '', 'g')) AS digits
        FROM cruce_rs_raw r LEFT JOIN cruce_rs_phones p ON p.value = r.value
        GROUP BY r.entity_id
        """
    )
    con.execute("DROP TABLE IF EXISTS cruce_rs_phones")
    return target


PREPARERS: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] = {
    "Person": prepare_person,
    "Organization": prepare_organization,
    "Firearm": prepare_firearm,
    "Vehicle": prepare_vehicle,
    "Phone": prepare_phone,
}


def prepare(
    store: Store, con: duckdb.DuckDBPyConnection, entity_type: str, ids: Iterable[str] | None = None
) -> tuple[str, int]:
    """Prepare the records of ``entity_type`` (or only ``ids``); return (table, records)."""
    if entity_type not in PREPARERS:
        raise KeyError(entity_type)
    wanted = list(ids) if ids is not None else None
    load_statements(store, con, entity_type, wanted)
    if entity_type == "Person":
        load_retail_context(store, con, wanted)
    target = PREPARERS[entity_type](con)
    con.execute("DROP TABLE IF EXISTS cruce_rs_raw; DROP TABLE IF EXISTS cruce_rs_bought")
    row = con.execute(f"SELECT count(*) FROM {target}").fetchone()
    return target, int(row[0]) if row else 0
