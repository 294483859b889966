"""Drugs northbound: seizures by drug and fiscal year (CBP's statistics, or event-level seizures),
and the border-crossing counts of each port (BTS) that say how much traffic a seizure figure
should be weighed against.

Quantities are stored with their unit (``12.5 lb``, ``3 kg``); figures give both pounds and
kilograms (1 lb = 0.45359237 kg). A fiscal year runs from October to September (FY2020 began in
October 2019), as CBP counts. A count the source gives twice for one port, month and measure is
one record (its key); given with two values, the larger is counted (both stay in the store, each
with its row: the BTS file does so once, for Sasabe's bus passengers in February 2021).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cruce.analyses.tables import Tables, read, refs_sql, values_sql

KG_PER_LB = 0.45359237

_SEIZURE = values_sql(
    "DrugSeizure",
    {"date": "date", "fiscal_year": "fiscal_year", "drug": "drug", "quantity": "quantity", "events": "event_count",
     "component": "component", "region": "region", "mode": "mode", "area": "area_of_responsibility"},
    numbers=frozenset({"events"}),
)  # fmt: skip
_COUNT = values_sql(
    "CrossingCount",
    {"date": "date", "measure": "measure", "value": "value", "state": "state"},
    numbers=frozenset({"value"}),
)
_PORT = values_sql("Location", {"name": "name", "code": "port_code"})


def queries(text_ids: bool) -> dict[str, str]:
    port_refs = refs_sql("CrossingCount", {"port": "port"}, text_ids)
    key = "CAST(p.entity_id AS VARCHAR)" if text_ids else "p.entity_id"
    return {
        "seizures": (
            "SELECT CAST(s.entity_id AS VARCHAR) AS seizure, substr(s.date, 1, 7) AS month, "
            "CAST(COALESCE(s.fiscal_year, CAST(CAST(substr(s.date, 1, 4) AS INTEGER) "
            "+ CASE WHEN CAST(substr(s.date, 6, 2) AS INTEGER) >= 10 THEN 1 ELSE 0 END AS VARCHAR)) AS INTEGER) "
            "AS fiscal_year, s.drug, s.quantity, COALESCE(s.events, 1) AS events, s.component, "
            f"s.region, s.mode, s.area FROM ({_SEIZURE}) AS s WHERE s.date IS NOT NULL"
        ),
        "crossings": (
            "SELECT CAST(c.entity_id AS VARCHAR) AS count_id, substr(c.date, 1, 7) AS month, "
            "CAST(substr(c.date, 1, 4) AS INTEGER) AS year, c.measure, c.value AS crossings, "
            "c.state, p.code AS port_code, p.name AS port_name "
            f"FROM ({_COUNT}) AS c LEFT JOIN ({port_refs}) AS r ON r.entity_id = c.entity_id "
            f"LEFT JOIN ({_PORT}) AS p ON {key} = r.port_rec WHERE c.date IS NOT NULL"
        ),
    }


PG_TYPES = {
    "seizures": {"seizure": pa.string(), "month": pa.string(), "fiscal_year": pa.int32(), "drug": pa.string(),
                 "quantity": pa.string(), "events": pa.float64(), "component": pa.string(), "region": pa.string(),
                 "mode": pa.string(), "area": pa.string()},
    "crossings": {"count_id": pa.string(), "month": pa.string(), "year": pa.int32(), "measure": pa.string(),
                  "crossings": pa.float64(), "state": pa.string(), "port_code": pa.string(), "port_name": pa.string()},
}  # fmt: skip


class DrugsData(Tables):
    """``seizures`` (with the quantity in pounds and kilograms) and ``crossings`` (per port and month)."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        super().__init__()
        for name, table in tables.items():
            self.con.register(f"{name}_raw", table)
        number = "TRY_CAST(split_part(quantity, ' ', 1) AS DOUBLE)"
        unit = "lower(split_part(quantity, ' ', 2))"
        self.con.execute(
            f"CREATE TABLE seizures AS SELECT * EXCLUDE (quantity), "
            f"CASE {unit} WHEN 'lb' THEN {number} WHEN 'kg' THEN {number} / {KG_PER_LB} "
            f"WHEN 'g' THEN {number} / 1000 / {KG_PER_LB} END AS pounds FROM seizures_raw"
        )
        self.con.execute("CREATE TABLE crossings AS SELECT * FROM crossings_raw")
        for name in tables:
            self.con.unregister(f"{name}_raw")

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> DrugsData:
        return cls(read(store, queries(text_ids=store.backend != "duckdb"), PG_TYPES, imports))


def seizures_by_fiscal_year(data: DrugsData, drug: str | None = None) -> list[dict[str, Any]]:
    """Seizure events, pounds and kilograms per fiscal year and drug."""
    where, params = ("WHERE drug = ?", [drug]) if drug else ("", [])
    return data.rows(
        "SELECT fiscal_year, drug, sum(events) AS events, round(sum(pounds), 3) AS pounds, "
        f"round(sum(pounds) * {KG_PER_LB}, 3) AS kilograms FROM seizures {where} "
        "GROUP BY fiscal_year, drug ORDER BY fiscal_year, drug",
        params,
    )


def crossings_by_port_year(data: DrugsData, measure: str | None = None) -> list[dict[str, Any]]:
    """Crossings per port, year and measure (vehicles, passengers, pedestrians, trucks…)."""
    where, params = ("WHERE measure = ?", [measure]) if measure else ("", [])
    return data.rows(
        "SELECT port_code, min(port_name) AS port_name, min(state) AS state, year, measure, "
        f"sum(crossings) AS crossings FROM crossings {where} GROUP BY port_code, year, measure "
        "ORDER BY port_code, year, measure",
        params,
    )
