"""Turn a mapping into the SQL that normalises one batch of rows into statements and rejects.

The batch (all columns text, plus ``__row``) is first cleaned (trim, null tokens), then each
mapped entity gets its stable id, then every mapped property becomes a *cell* (row, entity,
property, raw text). One ``CASE`` normalises every cell by its property's type, one join
resolves countries, states, enum labels and units. A cell whose raw text does not normalise is
an error; a row with any error is rejected whole, so no half-record is ever stored.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from cruce.i18n import _
from cruce.ingest.mapping import EntitySpec, Mapping, MappingError, PropertySpec
from cruce.ingest.readers import ROW_COLUMN
from cruce.ingest.sqlfuncs import key_sql, spanish_months_sql
from cruce.schema import places
from cruce.schema.model import Property, PropertyType, Schema

BAD_ROWS = "cruce_rejected_rows"
_LOOKUP_TYPES = {PropertyType.COUNTRY, PropertyType.STATE, PropertyType.ENUM}
DEFAULT_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m", "%Y")
DEFAULT_DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")

# Why a cell was rejected: code -> message, translated when shown.
REASONS = {
    "required_missing": "a required value is missing",
    "invalid_name": "not a usable name",
    "invalid_identifier": "not a usable identifier",
    "invalid_date": "not a date in the expected format, or outside 1800–2100",
    "invalid_datetime": "not a date and time in the expected format",
    "invalid_number": "not a number",
    "invalid_money": "not an amount with a three-letter currency code",
    "invalid_quantity": "not a quantity with a known unit",
    "invalid_country": "not a country name or code cruce knows",
    "invalid_state": "not a state name or code cruce knows",
    "invalid_enum": "not one of the allowed values",
    "invalid_phone": "not a valid phone number",
    "invalid_email": "not a valid e-mail address",
    "invalid_geopoint": "not a valid latitude and longitude",
    "invalid_geometry": "not a GeoJSON geometry",
    "invalid_entity": "refers to an entity that could not be made",
    "invalid_text": "not usable text",
    "bad_row": "the row could not be read",
}


def reason_text(code: str) -> str:
    """The reject reason in the user's language."""
    return _(REASONS[code]) if code in REASONS else code


def sql_literal(text: str | None) -> str:
    if text is None:
        return "NULL"
    return "'" + text.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Cell:
    """One mapped property of one entity: where the compiled SQL finds and checks it."""

    index: int
    entity: str
    schema: str
    prop: Property
    spec: PropertySpec


@dataclass(frozen=True)
class CompiledMapping:
    """The SQL for one mapping against one source's columns, run once per batch in order.

    ``clean_batch`` first trims the ``columns`` the mapping reads, turns null tokens into nulls
    and renames them to short aliases (in Arrow, much faster than in SQL); ``ids_sql`` makes the
    entity ids of that batch (md5 hashes: a quarter of the work), to be added to it as
    columns (``with_ids``). ``ids_step`` then copies the registered ``batch`` into ``cruce_ids``.

    The *fast path* (``fast_steps``; empty for mappings that split values) groups each entity's
    rows (``fast_entity_steps``: not when ``fast_unique_sql`` finds each of its ids once in the
    batch), normalises them in wide tables and counts the invalid cells (``fast_invalid_sql``);
    when there are none, ``fast_statements_sql`` defines the batch's statements (the view
    ``BATCH_STATEMENTS``, read once), each once, at its first row.

    Otherwise the *general path* runs: ``steps`` build temporary tables of cells, then the
    normalised value of each *distinct* cell (dates, names and codes repeat a lot, so each is
    parsed once per batch), then the rows to reject (``BAD_ROWS``, described by
    ``rejects_sql``), and last the statements of the other rows (the view ``BATCH_STATEMENTS``).
    Both paths give the same statements.
    """

    columns: tuple[tuple[str, str], ...]
    nulls: tuple[str, ...]
    ids_step: str
    steps: tuple[str, ...]
    rejects_sql: str
    bad_rows_sql: str
    cells: tuple[Cell, ...]
    fast_steps: tuple[str, ...] = ()
    fast_invalid_sql: str = ""
    fast_statements_sql: str = ""
    fast_tables: tuple[str, ...] = ()
    fast_entity_steps: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    fast_unique_sql: str = ""
    ids_sql: str = ""

    def property_pairs(self) -> list[tuple[str, str]]:
        return sorted({(c.schema, c.prop.name) for c in self.cells})


BATCH_STATEMENTS = "cruce_batch_statements"
CLEANED_BATCH = "cruce_cleaned_batch"  # the reading thread's name for a batch (its connection's own)
_JOINS_PER_STEP = 4


def _has_nul(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a text column may hold a NUL character (its data buffers have a zero byte)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        data = chunk.buffers()[2] if chunk.type == pa.string() else None
        if data is not None and memoryview(data).tobytes().find(b"\0") >= 0:
            return True
    return False


def without_nul(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Text without NUL characters: no text means one, PostgreSQL cannot store one (a CSV with
    NUL padding, a JSON ``\\u0000``), and both stores must hold the same values."""
    return pc.replace_substring(values, "\0", "") if _has_nul(values) else values


def clean_batch(batch: pa.RecordBatch | pa.Table, compiled: CompiledMapping) -> pa.Table:
    """The columns the mapping reads, without NUL characters, trimmed, with null tokens as nulls,
    under their aliases."""
    nulls = pa.array(list(compiled.nulls), pa.string())
    arrays, names = [], []
    for column, alias in compiled.columns:
        values = pc.utf8_trim_whitespace(without_nul(batch.column(column)))
        arrays.append(pc.if_else(pc.is_in(values, value_set=nulls), pa.scalar(None, pa.string()), values))
        names.append(alias)
    arrays.append(batch.column(ROW_COLUMN))
    names.append("__row")
    return pa.Table.from_arrays(arrays, names=names)


def with_ids(con: duckdb.DuckDBPyConnection, cleaned: pa.Table, compiled: CompiledMapping) -> pa.Table:
    """The cleaned batch with its entity ids (``ids_sql``), made on ``con``. The import's reading
    thread does it, on its own connection: the thread that runs the other steps is the busier."""
    con.register(CLEANED_BATCH, cleaned)
    try:
        ids = con.execute(compiled.ids_sql).to_arrow_table()
    finally:
        con.unregister(CLEANED_BATCH)
    for name, column in zip(ids.column_names, ids.columns, strict=True):
        cleaned = cleaned.append_column(name, column)
    return cleaned


def entity_id(dataset: str, key_prefix: str, *keys: str | None) -> str:
    """The id an import gives the entity with these key values (same formula as the SQL below)."""
    text = "\x1f".join((dataset, key_prefix, *(k or "" for k in keys)))
    return str(uuid.UUID(hashlib.md5(text.encode("utf-8")).hexdigest()))  # noqa: S324 - an id, not security


def _entity_id_sql(dataset: str, name: str, entity: EntitySpec, keys: tuple[str, ...], src: dict[str, str]) -> str:
    prefix = entity.key_prefix or name
    parts = ", ".join(f"coalesce({src[k]}, '')" for k in keys)
    empty = "(" + " AND ".join(f"{src[k]} IS NULL" for k in keys) + ")"
    for column in entity.only_if:  # the entity exists only in rows where these are filled
        empty += f" OR {src[column]} IS NULL"
    digest = f"md5(concat_ws(chr(31), {sql_literal(dataset)}, {sql_literal(prefix)}, {parts}))"
    return f"CASE WHEN {empty} THEN NULL ELSE CAST({digest} AS UUID) END"


def _default_keys(name: str, mapping: Mapping, seen: tuple[str, ...] = ()) -> tuple[str, ...]:
    """An entity without ``key:`` is keyed by every column it reads (and its references' keys)."""
    entity = mapping.entities[name]
    if entity.key:
        return entity.key
    cols: set[str] = set()
    for spec in entity.properties.values():
        cols.update(spec.source_columns())
        if spec.entity and spec.entity not in seen:
            cols.update(_default_keys(spec.entity, mapping, (*seen, name)))
    return tuple(sorted(cols))


def _raw_sql(spec: PropertySpec, src: dict[str, str], ids: dict[str, str]) -> str:
    """The cell's raw text (after value maps are applied in ``_mapped``)."""
    if spec.value is not None:
        return sql_literal(spec.value)
    if spec.entity is not None:
        return f"CAST({ids[spec.entity]} AS VARCHAR)"
    if spec.days_between is not None:
        span = spec.days_between

        def as_date(col: str) -> str:
            parsed = ", ".join(f"try_strptime({src[col]}, {sql_literal(f)})" for f in span.format)
            return f"coalesce({parsed})" if len(span.format) > 1 else parsed

        return f"CAST(date_diff('day', {as_date(span.start)}, {as_date(span.end)}) AS VARCHAR)"
    if spec.lat is not None and spec.lon is not None:
        lat, lon = src[spec.lat], src[spec.lon]
        return f"CASE WHEN {lat} IS NOT NULL AND {lon} IS NOT NULL THEN {lat} || ',' || {lon} END"
    if spec.columns:
        parts = ", ".join(src[c] for c in spec.columns)
        return f"nullif(concat_ws({sql_literal(spec.join)}, {parts}), '')"
    assert spec.column is not None
    return src[spec.column]


def _mapped(raw: str, spec: PropertySpec) -> str:
    if not spec.map:
        return raw
    whens = " ".join(f"WHEN {sql_literal(places.normalize_key(k))} THEN {sql_literal(v)}" for k, v in spec.map.items())
    return f"CASE {key_sql(raw)} {whens} ELSE {raw} END"


def _date_sql(formats: tuple[str, ...], with_time: bool, raw: str = "c.raw") -> str:
    parts = []
    for fmt in formats:
        text = spanish_months_sql(raw) if ("%b" in fmt or "%B" in fmt) else raw
        if with_time:
            out = "%Y-%m-%dT%H:%M:%S"
        elif "%d" in fmt or "%j" in fmt:
            out = "%Y-%m-%d"
        elif any(d in fmt for d in ("%m", "%b", "%B")):
            out = "%Y-%m"
        else:
            out = "%Y"
        parsed = f"try_strptime({text}, {sql_literal(fmt)})"
        parts.append(f"CASE WHEN cruce_year_ok({parsed}) THEN strftime({parsed}, {sql_literal(out)}) END")
    return "coalesce(" + ", ".join(parts) + ")" if len(parts) > 1 else parts[0]


def _value_sql(cell: Cell, raw: str = "c.raw", unit: str = "a.code") -> str:
    """Normalised value of a cell (its text ``raw``; looked-up codes ``l.code`` for the value and
    ``unit`` for a money's currency or a quantity's unit); NULL when invalid."""
    spec, ptype = cell.spec, cell.prop.type
    number = f"cruce_fmt_number(cruce_number({raw}, {sql_literal(spec.decimal)}))"
    match ptype:
        case PropertyType.NAME | PropertyType.IDENTIFIER:
            return f"cruce_name({raw})"
        case PropertyType.TEXT | PropertyType.ENTITY:
            return raw
        case PropertyType.NUMBER:
            return number
        case PropertyType.DATE:
            return _date_sql(spec.format or DEFAULT_DATE_FORMATS, with_time=False, raw=raw)
        case PropertyType.DATETIME:
            return _date_sql(spec.format or DEFAULT_DATETIME_FORMATS, with_time=True, raw=raw)
        case PropertyType.COUNTRY | PropertyType.STATE | PropertyType.ENUM:
            return "l.code"
        case PropertyType.PHONE:
            return f"cruce_phone({raw}, {sql_literal(spec.region)})"
        case PropertyType.EMAIL:
            return f"cruce_email({raw})"
        case PropertyType.GEOPOINT:
            return f"cruce_geo({raw})"
        case PropertyType.GEOMETRY:
            return f"cruce_geometry({raw})"
        case PropertyType.MONEY:
            return f"{number} || ' ' || {unit}"
        case PropertyType.QUANTITY:
            return f"{number} || ' ' || {unit}"
    raise AssertionError(f"no normaliser for property type {ptype}")  # every PropertyType is handled above


def _direct_sql(cell: Cell) -> str | None:
    """Values that need no parsing nor lookup are normalised in the cell itself (over ``raw``),
    so that only dates, numbers, codes and the like go through the table of distinct values."""
    match cell.prop.type:
        case PropertyType.TEXT | PropertyType.ENTITY:
            return "raw"
        case PropertyType.NAME | PropertyType.IDENTIFIER:
            return "cruce_name(raw)"
    return None


def _lookup_kind(cell: Cell) -> str | None:
    match cell.prop.type:
        case PropertyType.COUNTRY:
            return "country"
        case PropertyType.STATE:
            return f"state:{(cell.spec.country or '').upper()}"
        case PropertyType.ENUM:
            return f"enum:{cell.prop.enum}"
    return None


def _aux_kind(cell: Cell) -> str | None:
    return {PropertyType.MONEY: "currency", PropertyType.QUANTITY: "unit"}.get(cell.prop.type)


def _aux_sql(cell: Cell, src: dict[str, str]) -> str:
    spec = cell.spec
    if cell.prop.type is PropertyType.MONEY:
        if spec.currency_column:
            return src[spec.currency_column]
        return sql_literal(spec.currency)
    if cell.prop.type is PropertyType.QUANTITY:
        if spec.unit_column:
            return src[spec.unit_column]
        return sql_literal(spec.unit or cell.prop.unit)
    return "NULL"


def _check_entity(name: str, entity: EntitySpec, mapping: Mapping, schema: Schema) -> list[Cell]:
    try:
        stype = schema.get(entity.schema_)
    except KeyError:
        raise MappingError(
            _("{mapping}: entity {name}: unknown type {type}").format(
                mapping=mapping.name, name=name, type=entity.schema_
            )
        ) from None
    if stype.abstract:
        raise MappingError(
            _("{mapping}: entity {name}: {type} is abstract; use a concrete type").format(
                mapping=mapping.name, name=name, type=stype.name
            )
        )
    cells = []
    for pname, spec in entity.properties.items():
        prop = stype.properties.get(pname)
        where = f"{mapping.name}: {name}.{pname}"
        if prop is None:
            known = ", ".join(sorted(stype.properties))
            raise MappingError(
                _("{where}: {type} has no property {prop}; it has: {known}").format(
                    where=where, type=stype.name, prop=pname, known=known
                )
            )
        if spec.entity is not None:
            if prop.type is not PropertyType.ENTITY:
                raise MappingError(_("{where}: only entity properties can take 'entity:'").format(where=where))
            if spec.entity not in mapping.entities:
                raise MappingError(
                    _("{where}: no entity named {name} in this mapping").format(where=where, name=spec.entity)
                )
            target = schema.get(mapping.entities[spec.entity].schema_)
            if prop.range and not _is_a(schema, target.name, prop.range):
                raise MappingError(
                    _("{where}: expects a {range}, but {name} is a {type}").format(
                        where=where, range=prop.range, name=spec.entity, type=target.name
                    )
                )
        elif prop.type is PropertyType.ENTITY:
            raise MappingError(
                _("{where}: an entity property takes 'entity: NAME' of another mapped entity").format(where=where)
            )
        if prop.type is PropertyType.MONEY and not (spec.currency or spec.currency_column):
            raise MappingError(_("{where}: a money property needs 'currency' or 'currency_column'").format(where=where))
        if prop.type is PropertyType.QUANTITY and not (spec.unit or spec.unit_column or prop.unit):
            raise MappingError(_("{where}: a quantity property needs 'unit' or 'unit_column'").format(where=where))
        if spec.split and not prop.multiple:
            raise MappingError(_("{where}: 'split' needs a multi-valued property").format(where=where))
        if spec.country and spec.country.upper() not in {"MX", "US"}:
            raise MappingError(_("{where}: 'country' for states must be MX or US").format(where=where))
        for fmt in spec.format:
            if not re.search(r"%[YyGbBmdjHMS]", fmt):
                raise MappingError(
                    _("{where}: {format} is not a date format such as %d/%m/%Y").format(where=where, format=fmt)
                )
        cells.append(Cell(0, name, stype.name, prop, spec))
    missing = [p for p in stype.required if p not in entity.properties]
    if missing:
        raise MappingError(
            _("{mapping}: {name}: {type} requires {props}").format(
                mapping=mapping.name, name=name, type=stype.name, props=", ".join(missing)
            )
        )
    return cells


def _is_a(schema: Schema, name: str, ancestor: str) -> bool:
    if name == ancestor:
        return True
    return any(_is_a(schema, parent, ancestor) for parent in schema.get(name).extends)


def check_columns(mapping: Mapping, columns: list[str], file: str) -> None:
    """Fail before reading any row if the source lacks a column the mapping needs."""
    missing = sorted(mapping.columns() - set(columns) - {ROW_COLUMN})
    if missing:
        raise MappingError(
            _("{file} lacks the column(s) {missing} that mapping {mapping} reads; it has: {has}").format(
                file=file, missing=", ".join(missing), mapping=mapping.name, has=", ".join(columns)
            )
        )


def compile_mapping(
    mapping: Mapping,
    schema: Schema,
    dataset: str,
    columns: list[str],
    prop_ids: dict[tuple[str, str], int] | None = None,
) -> CompiledMapping:
    """Check ``mapping`` against the schema and the source columns, and build its SQL.

    ``prop_ids`` are the store's numbers for (schema, property) pairs (see ``Store.property_ids``).
    """
    prop_ids = prop_ids or {}
    cells: list[Cell] = []
    for name, entity in mapping.entities.items():
        cells += _check_entity(name, entity, mapping, schema)
    cells = [Cell(i, c.entity, c.schema, c.prop, c.spec) for i, c in enumerate(cells)]
    used = mapping.columns()
    src = {col: f"c{i}" for i, col in enumerate(columns) if col in used}
    src[ROW_COLUMN] = f"CAST({ROW_COLUMN} AS VARCHAR)"  # the source row, usable in keys
    ids = {name: f"e_{i}" for i, name in enumerate(mapping.entities)}
    id_cols = []
    for name, entity in mapping.entities.items():
        keys = _default_keys(name, mapping)
        if not keys:
            raise MappingError(
                _("{mapping}: entity {name} needs a 'key:' (the columns that identify it)").format(
                    mapping=mapping.name, name=name
                )
            )
        id_cols.append(f"{_entity_id_sql(dataset, name, entity, keys, src)} AS {ids[name]}")

    selects = []
    exprs: dict[int, tuple[str, str, str]] = {}
    for cell in cells:
        source = _raw_sql(cell.spec, src, ids)
        raw = _mapped(source, cell.spec)
        if cell.spec.split:
            raw = f"trim(unnest(string_split({raw}, {sql_literal(cell.spec.split)})))"
            source = "NULL"  # a split value's own text is the raw text
        original = source if cell.spec.map else "NULL"
        required = cell.spec.required or cell.prop.required
        where = f"{ids[cell.entity]} IS NOT NULL"
        exprs[cell.index] = (
            f"CAST(nullif({raw}, '') AS VARCHAR)",
            f"CAST({_aux_sql(cell, src)} AS VARCHAR)",
            f"CAST({original} AS VARCHAR)",
        )
        select = (
            f"SELECT __row, {ids[cell.entity]} AS entity_id, {cell.index} AS k, "
            f"CAST(nullif({raw}, '') AS VARCHAR) AS raw, "
            f"CAST({_aux_sql(cell, src)} AS VARCHAR) AS aux, CAST({original} AS VARCHAR) AS orig "
            f"FROM cruce_ids WHERE {where}"
        )
        direct = _direct_sql(cell)
        select = (
            f"SELECT *, CAST({direct or 'NULL'} AS VARCHAR) AS dv, {'TRUE' if direct else 'FALSE'} AS d "
            f"FROM ({select})" + ("" if required else " WHERE raw IS NOT NULL")
        )
        selects.append(select)
    cases = " ".join(f"WHEN {c.index} THEN {_value_sql(c)}" for c in cells)
    props = " UNION ALL ".join(
        f"SELECT {c.index} AS k, {prop_ids.get((c.schema, c.prop.name), -1)} AS prop_id, "
        f"{sql_literal(c.prop.name)} AS prop, "
        f"{sql_literal(c.spec.label() + ' → ' + c.entity + '.' + c.prop.name)} AS field, "
        f"{sql_literal(_reason_code(c))} AS why"
        for c in cells
    )
    kinds = " UNION ALL ".join(
        f"SELECT {c.index} AS k, CAST({sql_literal(_lookup_kind(c))} AS VARCHAR) AS lk, "
        f"CAST({sql_literal(_aux_kind(c))} AS VARCHAR) AS ak"
        for c in cells
    )
    same_cell = "v.k = c.k AND v.raw = c.raw AND v.aux IS NOT DISTINCT FROM c.aux"
    steps = (
        "CREATE OR REPLACE TEMP TABLE cruce_ids AS SELECT * FROM batch",
        f"CREATE OR REPLACE TEMP TABLE cruce_cells AS {' UNION ALL '.join(selects)}",
        f"""CREATE OR REPLACE TEMP TABLE cruce_vals AS
        SELECT c.k, c.raw, c.aux, CASE c.k {cases} END AS value
        FROM (SELECT DISTINCT k, raw, aux FROM cruce_cells WHERE raw IS NOT NULL AND NOT d) c
        JOIN ({kinds}) kk ON kk.k = c.k
        LEFT JOIN cruce_lookup l
          ON l.kind = kk.lk AND l.key = CASE WHEN kk.lk IS NOT NULL THEN {key_sql("c.raw")} END
        LEFT JOIN cruce_lookup a
          ON a.kind = kk.ak AND a.key = CASE WHEN kk.ak IS NOT NULL THEN {key_sql("c.aux")} END""",
        f"""CREATE OR REPLACE TEMP TABLE {BAD_ROWS} AS
        SELECT __row FROM cruce_cells WHERE raw IS NULL OR (d AND dv IS NULL)
        UNION
        SELECT c.__row FROM cruce_cells c
        SEMI JOIN (SELECT k, raw, aux FROM cruce_vals WHERE value IS NULL) v ON {same_cell}""",
        f"""CREATE OR REPLACE TEMP VIEW {BATCH_STATEMENTS} AS
        SELECT n.entity_id, p.prop_id, p.prop, n.value, nullif(n.raw, n.value) AS original, n.__row AS source_row,
               {_index_columns(cells, "n.k", "n.value", set())}
        FROM (SELECT x.entity_id, x.k, x.value, min(x.__row) AS __row,
                     arg_min(coalesce(x.orig, x.raw), x.__row) AS raw
              FROM (SELECT c.entity_id, c.k, c.dv AS value, c.__row, c.raw, c.orig
                    FROM cruce_cells c WHERE c.d AND c.dv IS NOT NULL
                    UNION ALL
                    SELECT c.entity_id, c.k, v.value, c.__row, c.raw, c.orig
                    FROM cruce_cells c JOIN cruce_vals v ON {same_cell}
                    WHERE NOT c.d AND v.value IS NOT NULL) x
              WHERE x.__row NOT IN (SELECT __row FROM {BAD_ROWS})
              GROUP BY x.entity_id, x.k, x.value) n
        JOIN ({props}) p ON p.k = n.k""",
    )
    rejects_sql = f"""
        SELECT c.__row AS source_row, p.field,
               CASE WHEN c.raw IS NULL THEN 'required_missing' ELSE p.why END AS reason,
               concat_ws(' ', coalesce(c.orig, c.raw), c.aux) AS value
        FROM cruce_cells c LEFT JOIN cruce_vals v ON {same_cell} JOIN ({props}) p ON p.k = c.k
        WHERE c.raw IS NULL OR (c.d AND c.dv IS NULL) OR (NOT c.d AND v.value IS NULL)
    """
    bad_rows_sql = f"SELECT count(*) FROM {BAD_ROWS}"
    columns_read = tuple((col, alias) for col, alias in src.items() if col != ROW_COLUMN)
    fast = _fast_path(mapping, cells, exprs, ids, prop_ids)
    return CompiledMapping(
        columns_read,
        mapping.nulls,
        steps[0],
        steps[1:],
        rejects_sql,
        bad_rows_sql,
        tuple(cells),
        fast.steps,
        fast.invalid_sql,
        fast.statements_sql,
        fast.tables,
        fast.entity_steps,
        fast.unique_sql,
        f"SELECT {', '.join(id_cols)} FROM {CLEANED_BATCH}",
    )


@dataclass(frozen=True)
class FastPath:
    """The entity-first SQL of a mapping (see ``CompiledMapping``); empty when it has none.

    ``steps``: every step, each entity's rows grouped; ``entity_steps``: for each entity, those
    steps and the ones to take instead when ``unique_sql`` (one column per entity) says that each
    of its entities is met once in the batch."""

    steps: tuple[str, ...] = ()
    invalid_sql: str = ""
    statements_sql: str = ""
    tables: tuple[str, ...] = ()
    entity_steps: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()
    unique_sql: str = ""


def _fast_path(
    mapping: Mapping,
    cells: list[Cell],
    exprs: dict[int, tuple[str, str, str]],
    ids: dict[str, str],
    prop_ids: dict[tuple[str, str], int],
) -> FastPath:
    """The entity-first SQL (see ``CompiledMapping``).

    Each entity's rows are first grouped by the entity id and the raw text of its cells (a buyer
    on four sales becomes one row, at its first source row); each property is then normalised
    in that wide table, its distinct values once; and the statements are the unpivoted columns.
    Only an entity with several different rows in the batch still needs the per-statement
    ``GROUP BY``; an entity whose rows all have different ids (a sale) is not grouped at all.
    Mappings that split values take the general path only.
    """
    if any(c.spec.split for c in cells):
        return FastPath()
    checks, branches, tables, ids_of = [], [], [], []
    grouped: list[tuple[str, ...]] = []
    unique: list[tuple[str, ...]] = []
    all_refs: set[int] = set()
    for i, name in enumerate(mapping.entities):
        mine = [c for c in cells if c.entity == name]
        if not mine:
            continue
        cols, names = [], []
        aux_of: dict[int, str] = {}
        orig_of: dict[int, str] = {}
        refs = set()  # entity references: kept as UUIDs (half the width) until the statements
        for c in mine:
            raw, aux, orig = exprs[c.index]
            if c.spec.entity is not None and not c.spec.map:
                refs.add(c.index)
                all_refs.add(c.index)
                raw = ids[c.spec.entity]
            cols.append(f"{raw} AS r{c.index}")
            names.append(f"r{c.index}")
            if aux != "CAST(NULL AS VARCHAR)":
                cols.append(f"{aux} AS a{c.index}")
                names.append(f"a{c.index}")
                aux_of[c.index] = f"a{c.index}"
            if orig != "CAST(NULL AS VARCHAR)":
                cols.append(f"{orig} AS o{c.index}")
                names.append(f"o{c.index}")
                orig_of[c.index] = f"o{c.index}"
        group = f"cruce_g{i}"
        tables.append(group)
        rows = f"SELECT {ids[name]} AS entity_id, __row, {', '.join(cols)} FROM cruce_ids WHERE {ids[name]} IS NOT NULL"
        grouped_step = (
            f"CREATE OR REPLACE TEMP TABLE {group} AS SELECT entity_id, min(__row) AS __row, {', '.join(names)} "
            f"FROM ({rows}) GROUP BY ALL"
        )
        values, joins, bad = [], [], []
        for c in mine:
            k = c.index
            lookup, unit = _lookup_kind(c), _aux_kind(c)
            # A reference's text is made in the statements from its UUID, and text is its own value:
            # neither is stored in the wide table beside its raw column, nor ever invalid.
            value = f"v{k}"
            if lookup is not None:  # a code, looked up once per distinct text
                joins.append((f"x{k}.value AS v{k}", _lookup_join(k, lookup)))
            elif unit is not None:  # a number, with its currency or unit looked up once per distinct text
                joins.append((f"{_value_sql(c, f'g.r{k}', f'x{k}.code')} AS v{k}", _unit_join(k, unit, aux_of[k])))
            elif k in refs:
                value = f"CAST(r{k} AS VARCHAR)"
            elif _value_sql(c, "x") == "x":
                value = f"r{k}"
            else:  # cheap enough for every row
                values.append(f"{_value_sql(c, f'g.r{k}')} AS v{k}")
            required = c.spec.required or c.prop.required
            if value != f"v{k}":
                bad.append(f"r{k} IS NULL" if required else "FALSE")
            else:
                bad.append(f"r{k} IS NULL OR v{k} IS NULL" if required else f"r{k} IS NOT NULL AND v{k} IS NULL")
            prop_id = prop_ids.get((c.schema, c.prop.name), -1)
            raw = f"coalesce({orig_of[k]}, r{k})" if k in orig_of else value if k in refs else f"r{k}"
            target = f"r{k}" if k in refs else "CAST(NULL AS UUID)"  # a reference's UUID, not parsed again
            branches.append(
                f"SELECT entity_id, {k} AS k, CAST({prop_id} AS INTEGER) AS prop_id, "
                f"{sql_literal(c.prop.name)} AS prop, {value} AS value, {raw} AS raw, __row, n, {target} AS target "
                f"FROM cruce_w{i} WHERE {'v' if value == f'v{k}' else 'r'}{k} IS NOT NULL"
            )
        wide = _wide_steps(i, group, values, joins, unique=False)
        tables += [t for t, _ in wide]
        grouped.append((grouped_step, *(step for _, step in wide)))
        # An entity met once in the batch (a sale, a firearm) needs no grouping: its rows are read as they are.
        unique.append(tuple(step for _, step in _wide_steps(i, f"({rows})", values, joins, unique=True)))
        ids_of.append(ids[name])
        checks.append(f"(SELECT count(*) FROM cruce_w{i} WHERE " + " OR ".join(f"({b})" for b in bad) + ")")
    if not branches:
        return FastPath()
    cells_sql = " UNION ALL ".join(branches)
    select = f"""SELECT entity_id, prop_id, prop, value, original, source_row,
               {_index_columns(cells, "k", "value", all_refs)}
        FROM (SELECT entity_id, k, prop_id, prop, value, nullif(raw, value) AS original, __row AS source_row, target
              FROM ({cells_sql}) WHERE n = 1
              UNION ALL
              SELECT entity_id, k, prop_id, prop, value, nullif(arg_min(raw, __row), value), min(__row),
                     any_value(target)
              FROM (SELECT * FROM ({cells_sql}) WHERE n > 1)
              GROUP BY entity_id, k, prop_id, prop, value)"""
    if _blocks_share_ids(mapping):
        # Two blocks that make the same entities (an event's actor1 and actor2, both "acled-actor"):
        # one entity may come from each, so its statements are grouped across the blocks too
        select = f"""SELECT entity_id, prop_id, prop, value, arg_min(original, source_row) AS original,
               min(source_row) AS source_row, any_value(target) AS target, bool_or(protected) AS protected
        FROM ({select}) GROUP BY entity_id, prop_id, prop, value"""
    statements = f"CREATE OR REPLACE TEMP VIEW {BATCH_STATEMENTS} AS {select}"
    alone = ", ".join(f"count({e}) = count(DISTINCT {e})" for e in ids_of)
    return FastPath(
        tuple(step for steps in grouped for step in steps),
        "SELECT " + " + ".join(checks),
        statements,
        tuple(tables),
        tuple(zip(grouped, unique, strict=True)),
        f"SELECT {alone} FROM cruce_ids",
    )


def _blocks_share_ids(mapping: Mapping) -> bool:
    """Whether two entity blocks of ``mapping`` make ids of the same form (the same key prefix), so
    that one entity can come from both."""
    prefixes = [spec.key_prefix or name for name, spec in mapping.entities.items()]
    return len(prefixes) != len(set(prefixes))


def _lookup_join(k: int, kind: str) -> Callable[[str], str]:
    """The join of cell ``k``'s code, looked up once per distinct text of ``group``."""

    def join(group: str) -> str:
        distinct = f"SELECT DISTINCT r{k} AS raw FROM {group} WHERE r{k} IS NOT NULL"
        return (
            f"LEFT JOIN (SELECT c.raw, l.code AS value FROM ({distinct}) c LEFT JOIN cruce_lookup l "
            f"ON l.kind = {sql_literal(kind)} AND l.key = {key_sql('c.raw')}) x{k} ON x{k}.raw = g.r{k}"
        )

    return join


def _unit_join(k: int, kind: str, aux: str) -> Callable[[str], str]:
    """The join of cell ``k``'s currency or unit, looked up once per distinct text of ``group``."""

    def join(group: str) -> str:
        distinct = f"SELECT DISTINCT {aux} AS aux FROM {group}"
        return (
            f"LEFT JOIN (SELECT c.aux, a.code FROM ({distinct}) c JOIN cruce_lookup a "
            f"ON a.kind = {sql_literal(kind)} AND a.key = {key_sql('c.aux')}) x{k} ON x{k}.aux = g.{aux}"
        )

    return join


def _wide_steps(
    i: int, group: str, values: list[str], joins: list[tuple[str, Callable[[str], str]]], *, unique: bool
) -> list[tuple[str, str]]:
    """(table, SQL) of each step that normalises entity ``i``'s rows (``group``: the grouped
    table, or the query of its rows when each entity is met once in the batch) into ``cruce_w{i}``.
    A few joins per statement: each holds a hash table, and many at once exhaust the memory limit."""
    stages = [joins[j : j + _JOINS_PER_STEP] for j in range(0, len(joins), _JOINS_PER_STEP)] or [[]]
    steps, source = [], group
    for j, stage in enumerate(stages):
        target = f"cruce_w{i}" if j == len(stages) - 1 else f"cruce_w{i}_{j}"
        columns = [v for v, _ in stage]
        joined = " ".join(join(group) for _, join in stage)
        if j == 0 and unique:
            columns = ["1 AS n", *values, *columns]
        elif j == 0:  # n: 2 for an entity with several different rows in the batch
            columns = ["CASE WHEN m.entity_id IS NULL THEN 1 ELSE 2 END AS n", *values, *columns]
            joined = (
                f"LEFT JOIN (SELECT entity_id FROM {group} GROUP BY entity_id HAVING count(*) > 1) m "
                f"ON m.entity_id = g.entity_id {joined}"
            )
        steps.append(
            (
                target,
                f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT g.*, {', '.join(columns)} FROM {source} g {joined}",
            )
        )
        source = target
    return steps


def _index_columns(cells: list[Cell], k: str, value: str, uuids: set[int]) -> str:
    """The reference index's columns of a batch statement (``cruce.search.index``), made beside it
    so that a writer can index each batch as it adds it: ``target`` (the entity pointed at) for a
    reference, and whether the property is protected. ``uuids``: the cells whose ``target``
    column already holds the UUID."""
    parsed = [c.index for c in cells if c.prop.type is PropertyType.ENTITY and c.index not in uuids]
    protected = [c.index for c in cells if c.prop.protected]
    target = "target" if uuids else "CAST(NULL AS UUID)"
    if parsed:
        target = f"CASE WHEN {_in(k, parsed)} THEN TRY_CAST({value} AS UUID) ELSE {target} END"
    return f"{target} AS target, {_in(k, protected)} AS protected"


def _in(column: str, numbers: list[int]) -> str:
    return f"{column} IN ({', '.join(str(n) for n in numbers)})" if numbers else "FALSE"


def _reason_code(cell: Cell) -> str:
    return f"invalid_{cell.prop.type.value}"
