"""SQL building blocks the mapping engine uses: lookup keys, numbers, dates, points, phones.

They are installed once per DuckDB connection as temporary macros, one lookup table (countries,
states, enum labels and units, keyed by a folded spelling) and one vectorised Python function
for phone numbers, so that a whole batch is normalised in one SQL statement.
"""

from __future__ import annotations

import duckdb
import duckdb.func as duckdb_func
import phonenumbers
import pyarrow as pa

from cruce.schema import places
from cruce.schema.model import Schema

KEY_SQL = "trim(regexp_replace(lower(strip_accents({x})), '[^a-z0-9]+', ' ', 'g'))"

UNITS = {
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramo", "kilogramos"),
    "g": ("g", "gr", "grs", "gram", "grams", "gramo", "gramos"),
    "lb": ("lb", "lbs", "pound", "pounds", "libra", "libras"),
    "oz": ("oz", "ounce", "ounces", "onza", "onzas"),
    "l": ("l", "lt", "liter", "liters", "litre", "litres", "litro", "litros"),
    "ml": ("ml", "milliliter", "milliliters", "mililitro", "mililitros"),
    "count": (
        "count",
        "unit",
        "units",
        "unidad",
        "unidades",
        "pieza",
        "piezas",
        "pcs",
        "dosis",
        "doses",
        "pills",
    ),
}

SPANISH_MONTHS = (
    ("enero", "january"),
    ("febrero", "february"),
    ("marzo", "march"),
    ("abril", "april"),
    ("mayo", "may"),
    ("junio", "june"),
    ("julio", "july"),
    ("agosto", "august"),
    ("septiembre", "september"),
    ("setiembre", "september"),
    ("octubre", "october"),
    ("noviembre", "november"),
    ("diciembre", "december"),
    ("ene", "jan"),
    ("abr", "apr"),
    ("ago", "aug"),
    ("sept", "sep"),
    ("set", "sep"),
    ("dic", "dec"),
)


def key_sql(expr: str) -> str:
    """The SQL that folds a spelling into a lookup key (same as ``places.normalize_key``)."""
    return KEY_SQL.format(x=expr)


def spanish_months_sql(expr: str) -> str:
    """SQL that rewrites Spanish month names and abbreviations into English ones for strptime."""
    out = f"lower({expr})"
    for spanish, english in SPANISH_MONTHS:
        out = f"regexp_replace({out}, '\\b{spanish}\\b', '{english}', 'g')"
    return out


_MACROS = [
    f"CREATE OR REPLACE TEMP MACRO cruce_key(x) AS {KEY_SQL.format(x='x')}",
    # A number written with '.' decimals (thousands ',' or spaces dropped) or with ',' decimals.
    # With '.' decimals, text that casts as it is (most) casts to the same number without the
    # characters dropped (a cast allows none of them but surrounding spaces): 4x faster.
    "CREATE OR REPLACE TEMP MACRO cruce_number(x, decimal_mark) AS "
    "CASE WHEN decimal_mark = ',' "
    "THEN TRY_CAST(replace(replace(regexp_replace(x, '[\\s$€£]', '', 'g'), '.', ''), ',', '.') AS DOUBLE) "
    "ELSE coalesce(TRY_CAST(x AS DOUBLE), "
    "TRY_CAST(replace(regexp_replace(x, '[\\s$€£]', '', 'g'), ',', '') AS DOUBLE)) END",
    "CREATE OR REPLACE TEMP MACRO cruce_fmt_number(d) AS "
    "CASE WHEN d IS NULL OR isnan(d) OR isinf(d) THEN NULL "
    "WHEN d = trunc(d) AND abs(d) < 1e15 THEN CAST(CAST(d AS BIGINT) AS VARCHAR) ELSE CAST(d AS VARCHAR) END",
    # 'lat,lon', 'lat lon' or WKT 'POINT (lon lat)' -> 'lat,lon' with 6 decimals, in range.
    "CREATE OR REPLACE TEMP MACRO cruce_point(lat, lon) AS "
    "CASE WHEN lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 "
    "THEN printf('%.6f,%.6f', lat, lon) END",
    "CREATE OR REPLACE TEMP MACRO cruce_geo(x) AS CASE "
    "WHEN upper(x) LIKE 'POINT%' THEN cruce_point("
    "TRY_CAST(regexp_extract(x, '\\(\\s*(\\S+)\\s+(\\S+)\\s*\\)', 2) AS DOUBLE), "
    "TRY_CAST(regexp_extract(x, '\\(\\s*(\\S+)\\s+(\\S+)\\s*\\)', 1) AS DOUBLE)) "
    "ELSE cruce_point("
    "TRY_CAST(regexp_extract(x, '^\\s*(-?[0-9.]+)\\s*[, ;]\\s*(-?[0-9.]+)\\s*$', 1) AS DOUBLE), "
    "TRY_CAST(regexp_extract(x, '^\\s*(-?[0-9.]+)\\s*[, ;]\\s*(-?[0-9.]+)\\s*$', 2) AS DOUBLE)) END",
    # A GeoJSON geometry (as in a boundary file), stored as compact JSON text.
    "CREATE OR REPLACE TEMP MACRO cruce_geometry(x) AS "
    "CASE WHEN try(json_extract_string(x, '$.type')) IN ('Point', 'MultiPoint', 'LineString', "
    "'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection') THEN try(CAST(json(x) AS VARCHAR)) END",
    "CREATE OR REPLACE TEMP MACRO cruce_email(x) AS "
    "CASE WHEN regexp_full_match(lower(x), '[^@\\s]+@[^@\\s]+\\.[a-z]{2,}') THEN lower(x) END",
    # Most names are already single-spaced words: matching is cheaper than replacing.
    "CREATE OR REPLACE TEMP MACRO cruce_name(x) AS CASE WHEN regexp_full_match(x, '[^\\s]+( [^\\s]+)*') THEN x "
    "ELSE nullif(trim(regexp_replace(x, '\\s+', ' ', 'g')), '') END",
    "CREATE OR REPLACE TEMP MACRO cruce_year_ok(d) AS year(d) BETWEEN 1800 AND 2100",
]


def _phone(raw: pa.Array, region: pa.Array) -> pa.Array:
    """E.164 form of each phone number, or null where it is not a valid number."""
    out: list[str | None] = []
    for number, default_region in zip(raw.to_pylist(), region.to_pylist(), strict=True):
        if number is None:
            out.append(None)
            continue
        try:
            parsed = phonenumbers.parse(number, default_region or None)
        except phonenumbers.NumberParseException:
            out.append(None)
            continue
        valid = phonenumbers.is_valid_number(parsed)
        out.append(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) if valid else None)
    return pa.array(out, type=pa.string())


def lookup_rows(schema: Schema) -> list[tuple[str, str, str]]:
    """(kind, key, code) rows: every spelling the importer resolves to a code."""
    rows: list[tuple[str, str, str]] = [("country", key, code) for key, code in places.country_keys()]
    unqualified = [(key, code) for country, key, code in places.state_keys() if country is None]
    rows += [("state:", key, code) for key, code in unqualified]
    for ctx in ("MX", "US"):
        qualified = {key: code for country, key, code in places.state_keys() if country == ctx}
        merged = dict(unqualified)
        merged.update(qualified)
        rows += [(f"state:{ctx}", key, code) for key, code in merged.items()]
    for enum in schema.enums.values():
        keys: dict[str, str | None] = {}
        for code, value in enum.values.items():
            for spelling in (code, value.en, value.es, *value.aliases):
                key = places.normalize_key(spelling)
                if key and keys.get(key, code) != code:
                    keys[key] = None  # the same spelling means two codes: leave it unresolved
                elif key:
                    keys[key] = code
        rows += [(f"enum:{enum.name}", key, code) for key, code in keys.items() if code is not None]
    for unit, spellings in UNITS.items():
        rows += [("unit", places.normalize_key(s), unit) for s in spellings]
    currency = schema.enums.get("currency")
    if currency is not None:
        for code, value in currency.values.items():
            for spelling in (code, value.en, value.es, *value.aliases):
                rows.append(("currency", places.normalize_key(spelling), code.upper()))
    return rows


def install(con: duckdb.DuckDBPyConnection, schema: Schema) -> None:
    """Install the macros, the lookup table and the phone function into ``con`` (idempotent)."""
    installed = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'cruce_lookup' AND temporary"
    ).fetchone()
    if installed and installed[0]:
        return
    for macro in _MACROS:
        con.execute(macro)
    table = pa.table(dict(zip(("kind", "key", "code"), map(list, zip(*lookup_rows(schema), strict=True)), strict=True)))
    con.register("cruce_lookup_rows", table)
    con.execute("CREATE TEMP TABLE cruce_lookup AS SELECT DISTINCT kind, key, code FROM cruce_lookup_rows")
    con.unregister("cruce_lookup_rows")
    try:
        con.create_function(
            "cruce_phone",
            _phone,
            [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            type=duckdb_func.ARROW,
            null_handling=duckdb_func.SPECIAL,  # an invalid number gives NULL (a reject), not an error
        )
    except duckdb.CatalogException:
        return  # already registered on this connection
