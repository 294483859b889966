"""Read the firearms flow out of the store: traces, purchases and background checks as flat tables.

Each table pivots the statements of one event type (values by property) and follows its entity
references to their canonical entities (``entity_cluster``, kept by resolution), so a purchaser
in a trace and the same person in a dealer's sales are one ``purchaser`` value once resolved, and
a traced gun and its sale one ``firearm``. The firearm's own fields (type, caliber, model, serial
condition) come from the firearm record the event names. The same SQL runs on both backends; on
PostgreSQL each read is streamed out with COPY into Arrow (``cruce.graph.extract.copy_out``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cruce.analyses.tables import FINISHED, as_is, as_text, read, refs_sql, values_sql

_FIREARM_PROPS = {"f_type": "firearm_type", "caliber": "caliber", "model": "model", "manufacturer": "manufacturer",
                  "serial_condition": "serial_obliterated"}  # fmt: skip
_FIREARM = values_sql("Firearm", _FIREARM_PROPS)
_DEALER = values_sql("Organization", {"dealer_name": "name", "ffl": "ffl_number"})

_TRACE = values_sql(
    "Trace",
    {
        "trace_number": "trace_number",
        "recovery_date": "recovery_date",
        "status": "trace_status",
        "purchase_date": "purchase_date",
        "purchase_state": "purchase_state",
        "dealer_ffl": "dealer_ffl",
        "ttc": "time_to_crime_days",
    },
)
_TRACE_REFS = (
    "Trace",
    {
        "firearm": "firearm",
        "dealer": "dealer",
        "purchaser": "purchaser",
        "possessor": "possessor",
        "recovery": "recovery",
    },
)
_RECOVERY = values_sql(
    "FirearmRecovery", {"recovery_state": "state", "recovery_country": "country", "municipality": "municipality"}
)
_PURCHASE = values_sql(
    "FirearmPurchase",
    {
        "purchase_date": "date",
        "purchase_state": "state",
        "multiple_sale": "multiple_sale",
        "transaction": "transaction_number",
    },
)
_PURCHASE_REFS = ("FirearmPurchase", {"firearm": "firearm", "dealer": "dealer", "purchaser": "purchaser"})
_CHECKS = values_sql(
    "BackgroundCheckCount",
    {"state": "state", "month": "period", "total": "total", "handgun": "handgun", "long_gun": "long_gun"},
)
_CHECKS_SQL = (
    f"WITH v AS ({_CHECKS}) "
    "SELECT v.state, CAST(concat(substr(v.month, 1, 7), '-01') AS DATE) AS month, "
    "CAST(v.total AS FLOAT8) AS total, CAST(v.handgun AS FLOAT8) AS handgun, "
    "CAST(v.long_gun AS FLOAT8) AS long_gun FROM v WHERE v.state IS NOT NULL"
)
# what people share: a phone, an address or an e-mail they gave, a phone or vehicle they use or own
_CONTACTS_SQL = (
    "SELECT CAST(COALESCE(c.canonical_id, s.entity_id) AS VARCHAR) AS person, p.prop AS kind, s.value "
    "FROM statement s JOIN property p ON p.prop_id = s.prop_id "
    "LEFT JOIN entity_cluster c ON c.entity_id = s.entity_id "
    f"WHERE p.schema = 'Person' AND p.prop IN ('phone', 'address', 'email') AND s.import_no {FINISHED} "
    "UNION "
    "SELECT CAST(COALESCE(cu.canonical_id, u.target) AS VARCHAR) AS person, pi.schema AS kind, "
    "CAST(COALESCE(ci.canonical_id, i.target) AS VARCHAR) AS value "
    "FROM entity_ref u JOIN property pu ON pu.prop_id = u.prop_id "
    "JOIN entity_ref i ON i.entity_id = u.entity_id JOIN property pi ON pi.prop_id = i.prop_id "
    "LEFT JOIN entity_cluster cu ON cu.entity_id = u.target LEFT JOIN entity_cluster ci ON ci.entity_id = i.target "
    "WHERE ((pu.schema = 'Uses' AND pu.prop = 'user' AND pi.prop = 'item') "
    "OR (pu.schema = 'Owns' AND pu.prop = 'owner' AND pi.prop = 'asset')) AND pi.schema = pu.schema "
    f"AND u.import_no {FINISHED}"
)


def queries(text_ids: bool) -> dict[str, str]:
    """The reads, by table name: ids as text throughout (PostgreSQL), or as UUIDs until the last
    select (DuckDB)."""
    key, out = (as_text, as_is) if text_ids else (as_is, as_text)
    trace_refs, purchase_refs = refs_sql(*_TRACE_REFS, text_ids), refs_sql(*_PURCHASE_REFS, text_ids)
    traced = "SELECT CAST(firearm_rec AS UUID) FROM r" if text_ids else "SELECT firearm_rec FROM r"
    traced_firearms = values_sql("Firearm", _FIREARM_PROPS, among=traced)  # a fifth of the guns
    join_firearm_dealer = (
        f"LEFT JOIN f ON {key('f.entity_id')} = r.firearm_rec LEFT JOIN d ON {key('d.entity_id')} = r.dealer_rec "
    )
    return {
        "traces": (
            f"WITH v AS ({_TRACE}), r AS ({trace_refs}), rec AS ({_RECOVERY}), "
            f"f AS ({traced_firearms}), d AS ({_DEALER}) "
            "SELECT CAST(v.entity_id AS VARCHAR) AS trace, v.trace_number, "
            "CAST(v.recovery_date AS DATE) AS recovery_date, v.status, "
            "CAST(v.purchase_date AS DATE) AS purchase_date, v.purchase_state, "
            "COALESCE(v.dealer_ffl, d.ffl) AS dealer_ffl, d.dealer_name, "
            f"CAST(CAST(v.ttc AS NUMERIC) AS INTEGER) AS ttc_days, {out('r.firearm')} AS firearm, "
            f"{out('r.firearm_rec')} AS firearm_rec, {out('r.purchaser')} AS purchaser, "
            f"{out('r.purchaser_rec')} AS purchaser_rec, {out('r.possessor')} AS possessor, "
            "rec.recovery_state, rec.recovery_country, rec.municipality, "
            "f.f_type, f.caliber, f.model, f.manufacturer, f.serial_condition "
            "FROM v LEFT JOIN r ON r.entity_id = v.entity_id "
            f"LEFT JOIN rec ON {key('rec.entity_id')} = r.recovery_rec " + join_firearm_dealer
        ),
        "purchases": (
            f"WITH v AS ({_PURCHASE}), r AS ({purchase_refs}), f AS ({_FIREARM}), d AS ({_DEALER}) "
            "SELECT CAST(v.entity_id AS VARCHAR) AS purchase, v.transaction, "
            "CAST(v.purchase_date AS DATE) AS purchase_date, v.purchase_state, v.multiple_sale, "
            f"d.ffl AS dealer_ffl, {out('r.firearm')} AS firearm, {out('r.purchaser')} AS purchaser, "
            f"{out('r.purchaser_rec')} AS purchaser_rec, f.f_type, f.caliber, f.model "
            "FROM v LEFT JOIN r ON r.entity_id = v.entity_id "
            + join_firearm_dealer
            + "WHERE v.purchase_date IS NOT NULL"
        ),
        "checks": _CHECKS_SQL,
        "contacts": _CONTACTS_SQL,
    }


QUERIES = queries(text_ids=True)  # portable: PostgreSQL reads these

PG_TYPES: dict[str, dict[str, pa.DataType]] = {
    "traces": {"trace": pa.string(), "trace_number": pa.string(), "recovery_date": pa.date32(), "status": pa.string(),
               "purchase_date": pa.date32(), "purchase_state": pa.string(), "dealer_ffl": pa.string(),
               "dealer_name": pa.string(), "ttc_days": pa.int32(), "firearm": pa.string(), "firearm_rec": pa.string(),
               "purchaser": pa.string(), "purchaser_rec": pa.string(), "possessor": pa.string(),
               "recovery_state": pa.string(), "recovery_country": pa.string(), "municipality": pa.string(),
               "f_type": pa.string(),
               "caliber": pa.string(), "model": pa.string(), "manufacturer": pa.string(),
               "serial_condition": pa.string()},
    "purchases": {"purchase": pa.string(), "transaction": pa.string(), "purchase_date": pa.date32(),
                  "purchase_state": pa.string(), "multiple_sale": pa.string(), "dealer_ffl": pa.string(),
                  "firearm": pa.string(), "purchaser": pa.string(), "purchaser_rec": pa.string(),
                  "f_type": pa.string(),
                  "caliber": pa.string(), "model": pa.string()},
    "checks": {"state": pa.string(), "month": pa.date32(), "total": pa.float64(), "handgun": pa.float64(),
               "long_gun": pa.float64()},
    "contacts": {"person": pa.string(), "kind": pa.string(), "value": pa.string()},
}  # fmt: skip


def read_tables(store: Any, imports: Sequence[int] | None = None) -> dict[str, pa.Table]:
    """The tables, from either backend: of every finished import, or of ``imports`` alone (the
    imports of the datasets a user may see)."""
    return read(store, queries(text_ids=store.backend != "duckdb"), PG_TYPES, imports)
