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
from typing import Any, Self

import numpy as np
import pyarrow as pa

from cruce.analyses.tables import Reads, Tables, load_raw, read, reads_of, refs_sql, values_sql
from cruce.engines import Engine

KG_PER_LB = 0.45359237

_SEIZURE = values_sql(
    "DrugSeizure",
    {"date": "date", "fiscal_year": "fiscal_year", "drug": "drug", "quantity": "quantity", "events": "event_count",
     "component": "component", "region": "region", "mode": "mode", "area": "area_of_responsibility",
     "concealment": "concealment"},
    numbers=frozenset({"events"}),
)  # fmt: skip
_COUNT = values_sql(
    "CrossingCount",
    {"date": "date", "measure": "measure", "value": "value", "state": "state"},
    numbers=frozenset({"value"}),
)
_PORT = values_sql("Location", {"name": "name", "code": "port_code"})
_PORT_POINT = values_sql("Location", {"name": "name", "code": "port_code", "state": "state", "geo": "geo"})


def queries(text_ids: bool) -> dict[str, str]:
    port_refs = refs_sql("CrossingCount", {"port": "port"}, text_ids)
    seizure_ports = refs_sql("DrugSeizure", {"port": "port"}, text_ids)
    key = "CAST(p.entity_id AS VARCHAR)" if text_ids else "p.entity_id"
    return {
        "seizures": (
            "SELECT CAST(s.entity_id AS VARCHAR) AS seizure, p.name AS port_name, substr(s.date, 1, 7) AS month, "
            "CAST(COALESCE(s.fiscal_year, CAST(CAST(substr(s.date, 1, 4) AS INTEGER) "
            "+ CASE WHEN CAST(substr(s.date, 6, 2) AS INTEGER) >= 10 THEN 1 ELSE 0 END AS VARCHAR)) AS INTEGER) "
            "AS fiscal_year, s.drug, s.quantity, COALESCE(s.events, 1) AS events, s.component, "
            f"s.region, s.mode, s.area, s.concealment FROM ({_SEIZURE}) AS s "
            f"LEFT JOIN ({seizure_ports}) AS r ON r.entity_id = s.entity_id "
            # seizures with a day or a month: a yearly national total (UNODC's, a date of year
            # precision) is not an event at the border, and has no month nor fiscal year
            f"LEFT JOIN ({_PORT}) AS p ON {key} = r.port_rec WHERE s.date IS NOT NULL AND length(s.date) >= 7"
        ),
        "crossings": (
            "SELECT CAST(c.entity_id AS VARCHAR) AS count_id, substr(c.date, 1, 7) AS month, "
            "CAST(substr(c.date, 1, 4) AS INTEGER) AS year, c.measure, c.value AS crossings, "
            "c.state, p.code AS port_code, p.name AS port_name "
            f"FROM ({_COUNT}) AS c LEFT JOIN ({port_refs}) AS r ON r.entity_id = c.entity_id "
            f"LEFT JOIN ({_PORT}) AS p ON {key} = r.port_rec WHERE c.date IS NOT NULL"
        ),
        "ports": (
            "SELECT min(p.code) AS port_code, min(p.name) AS port_name, min(p.state) AS state, min(p.geo) AS geo "
            f"FROM ({_PORT_POINT}) AS p WHERE p.code IS NOT NULL AND p.geo IS NOT NULL GROUP BY p.code"
        ),
    }


PG_TYPES = {
    "seizures": {"seizure": pa.string(), "port_name": pa.string(), "month": pa.string(), "fiscal_year": pa.int32(),
                 "drug": pa.string(),
                 "quantity": pa.string(), "events": pa.float64(), "component": pa.string(), "region": pa.string(),
                 "mode": pa.string(), "area": pa.string(), "concealment": pa.string()},
    "crossings": {"count_id": pa.string(), "month": pa.string(), "year": pa.int32(), "measure": pa.string(),
                  "crossings": pa.float64(), "state": pa.string(), "port_code": pa.string(), "port_name": pa.string()},
    "ports": {"port_code": pa.string(), "port_name": pa.string(), "state": pa.string(), "geo": pa.string()},
}  # fmt: skip


class DrugsData(Tables):
    """``seizures`` (with the quantity in pounds and kilograms), ``crossings`` (per port and month)
    and ``ports`` (each port of entry with a point, for the maps)."""

    RAW = ("seizures", "crossings", "ports")

    def derive(self) -> None:
        number = "TRY_CAST(split_part(quantity, ' ', 1) AS DOUBLE)"
        unit = "lower(split_part(quantity, ' ', 2))"
        self.engine.execute(
            f"CREATE TABLE seizures AS SELECT * EXCLUDE (quantity), "
            f"CASE {unit} WHEN 'lb' THEN {number} WHEN 'kg' THEN {number} / {KG_PER_LB} "
            f"WHEN 'g' THEN {number} / 1000 / {KG_PER_LB} END AS pounds FROM seizures_raw"
        )
        self.engine.execute("CREATE TABLE crossings AS SELECT * FROM crossings_raw")
        self.engine.execute(
            "CREATE TABLE ports AS SELECT port_code, port_name, state, "
            "TRY_CAST(split_part(geo, ',', 1) AS DOUBLE) AS lat, TRY_CAST(split_part(geo, ',', 2) AS DOUBLE) AS lon "
            "FROM ports_raw"
        )

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(queries(text_ids=False).values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None, engine: Engine | None = None) -> Self:
        if engine is None:
            return cls(read(store, queries(text_ids=store.backend != "duckdb"), PG_TYPES, imports))
        load_raw(engine, store, queries, PG_TYPES, imports)
        return cls(engine=engine)


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


# what a port's seizures are weighed against by default: most seizures at a port of entry are in
# personal vehicles, and every BTS port counts them; the people who cross are another choice
VEHICLES = ("personal_vehicles",)
# the BTS measures (as cruce stores them)
MEASURES = ("personal_vehicles", "personal_vehicle_passengers", "pedestrians", "buses", "bus_passengers", "trucks",
            "truck_containers_loaded", "truck_containers_empty", "trains", "train_passengers",
            "rail_containers_loaded", "rail_containers_empty")  # fmt: skip
PEOPLE_MEASURES = ("personal_vehicle_passengers", "bus_passengers", "train_passengers", "pedestrians")


def seizures_per_crossings(
    data: DrugsData, drug: str | None = None, threshold: float = 3.5, measures: Sequence[str] = VEHICLES
) -> list[dict[str, Any]]:
    """Seizure events and pounds per port and year beside the crossings there (the BTS
    ``measures``: personal vehicles by default), as events per million crossings — over the
    months of counts within the seizures' span, so that a year of seizures is not weighed against
    part of a year of counts (a counted month without a seizure counts: none were made). A
    port-year whose rate is more than ``threshold`` robust deviations (median absolute deviation)
    above the median is an outlier. Seizures and counts are joined by port name (folded): the two
    sources share no code."""
    where, params = ("AND drug = ?", [drug]) if drug else ("", [])
    counted = ", ".join("?" for _ in measures) or "NULL"
    params = [*params, *measures]
    rows = data.rows(
        "WITH s AS (SELECT lower(strip_accents(port_name)) AS port, month, sum(events) AS events, "
        f"sum(pounds) AS pounds FROM seizures WHERE port_name IS NOT NULL {where} GROUP BY 1, 2), "
        "c AS (SELECT lower(strip_accents(port_name)) AS port, month, min(port_name) AS port_name, "
        "min(port_code) AS port_code, min(state) AS state, sum(crossings) AS crossings FROM crossings "
        f"WHERE measure IN ({counted}) GROUP BY 1, 2) "
        "SELECT min(c.port_code) AS port_code, min(c.port_name) AS port_name, min(c.state) AS state, "
        "CAST(substr(c.month, 1, 4) AS INTEGER) AS year, count(*) AS months, COALESCE(sum(s.events), 0) AS events, "
        "round(COALESCE(sum(s.pounds), 0), 3) AS pounds, sum(c.crossings) AS crossings, "
        "round(COALESCE(sum(s.events), 0) * 1000000 / sum(c.crossings), 3) AS events_per_million "
        "FROM c LEFT JOIN s ON s.port = c.port AND s.month = c.month "
        "WHERE c.month BETWEEN (SELECT min(month) FROM s) AND (SELECT max(month) FROM s) "
        "AND c.port IN (SELECT port FROM s) GROUP BY c.port, year HAVING sum(c.crossings) > 0 "
        "ORDER BY port_code, year",
        params,
    )
    _mark_outliers(rows, "events_per_million", threshold)
    return rows


# CBP's field offices of the southwest border by the district of a port's code (its first two
# digits: CBP's Schedule D port codes, as BTS gives them): each port of entry belongs to the field
# office of its district, and CBP publishes its Office of Field Operations seizures by field office.
FIELD_OFFICES = {
    "23": "LAREDO FIELD OFFICE",
    "24": "EL PASO FIELD OFFICE",
    "25": "SAN DIEGO FIELD OFFICE",
    "26": "TUCSON FIELD OFFICE",
}


def seizures_per_crossings_by_office(
    data: DrugsData, drug: str | None = None, threshold: float = 3.5, measures: Sequence[str] = VEHICLES
) -> list[dict[str, Any]]:
    """CBP's port-of-entry seizures (Office of Field Operations) per field office and fiscal year
    beside the crossings at the ports of that field office (the BTS ``measures``, personal
    vehicles by default), as events per million crossings — CBP's own statistics have no port, so
    this is the rate they support. Counts are taken over the months of the fiscal years that have
    seizures; an office-year more than ``threshold`` robust deviations above the median is an
    outlier."""
    where, params = ("AND drug = ?", [drug]) if drug else ("", [])
    offices = list(FIELD_OFFICES.items())
    office_of = " ".join("WHEN ? THEN ?" for _ in offices)
    counted = ", ".join("?" for _ in measures) or "NULL"
    named = ", ".join("?" for _ in offices)
    params = [
        *[v for pair in offices for v in pair],
        *measures,
        *FIELD_OFFICES.values(),
        *params,
    ]
    rows = data.rows(
        "WITH c AS (SELECT CASE substr(port_code, 1, 2) " + office_of + " END AS office, "
        "CAST(substr(month, 1, 4) AS INTEGER) + CASE WHEN CAST(substr(month, 6, 2) AS INTEGER) >= 10 "
        "THEN 1 ELSE 0 END AS fiscal_year, count(DISTINCT month) AS months, sum(crossings) AS crossings "
        f"FROM crossings WHERE measure IN ({counted}) GROUP BY 1, 2), "
        "s AS (SELECT upper(area) AS office, fiscal_year, sum(events) AS events, sum(pounds) AS pounds "
        f"FROM seizures WHERE component = 'office_of_field_operations' AND upper(area) IN ({named}) "
        f"{where} GROUP BY 1, 2) "
        "SELECT s.office, s.fiscal_year, c.months, s.events, round(s.pounds, 3) AS pounds, "
        f"round(s.pounds * {KG_PER_LB}, 3) AS kilograms, c.crossings, "
        "round(s.events * 1000000 / c.crossings, 3) AS events_per_million "
        "FROM s JOIN c ON c.office = s.office AND c.fiscal_year = s.fiscal_year WHERE c.crossings > 0 "
        "ORDER BY s.office, s.fiscal_year",
        params,
    )
    _mark_outliers(rows, "events_per_million", threshold)
    return rows


# -- trends, seasonality, breakdowns ---------------------------------------------------------------
DIMENSIONS = ("drug", "mode", "concealment", "component", "region", "area", "port_name")


def seizures_by_month(data: DrugsData, drug: str | None = None, threshold: float = 3.5) -> list[dict[str, Any]]:
    """Seizure events and pounds per month (all drugs, or one), each month's events against the
    median of its series with the robust deviation (MAD) and an ``outlier`` mark above
    ``threshold`` deviations — a month far from the usual level asks for a look at its records."""
    where, params = ("WHERE drug = ?", [drug]) if drug else ("", [])
    rows = data.rows(
        "SELECT month, sum(events) AS events, round(sum(pounds), 3) AS pounds, "
        f"round(sum(pounds) * {KG_PER_LB}, 3) AS kilograms FROM seizures {where} GROUP BY month ORDER BY month",
        params,
    )
    _mark_outliers(rows, "events", threshold)
    return rows


def seasonality(data: DrugsData, drug: str | None = None) -> list[dict[str, Any]]:
    """The share of a year's seizure events that falls in each calendar month, averaged over the
    years the data covers in full (so a partial first or last year does not tilt it); 1/12 is flat."""
    where, params = ("AND drug = ?", [drug]) if drug else ("", [])
    return data.rows(
        "WITH m AS (SELECT substr(month, 1, 4) AS year, CAST(substr(month, 6, 2) AS INTEGER) AS month, "
        f"sum(events) AS events FROM seizures WHERE month IS NOT NULL {where} GROUP BY 1, 2), "
        "y AS (SELECT year, sum(events) AS total FROM m GROUP BY year HAVING count(*) = 12 AND sum(events) > 0) "
        "SELECT m.month, round(avg(m.events / y.total), 4) AS share, count(*) AS years "
        "FROM m JOIN y USING (year) GROUP BY m.month ORDER BY m.month",
        params,
    )


def seizures_by(data: DrugsData, dimension: str, drug: str | None = None) -> list[dict[str, Any]]:
    """Seizure events, pounds and kilograms by one of ``DIMENSIONS`` (mode of transport,
    concealment method, CBP component, region, area of responsibility, port or drug), largest first."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
    where, params = ("WHERE drug = ?", [drug]) if drug else ("", [])
    return data.rows(
        f"SELECT COALESCE({dimension}, '') AS {dimension}, sum(events) AS events, round(sum(pounds), 3) AS pounds, "
        f"round(sum(pounds) * {KG_PER_LB}, 3) AS kilograms FROM seizures {where} GROUP BY 1 "
        "ORDER BY events DESC, 1",
        params,
    )


def _mark_outliers(rows: list[dict[str, Any]], key: str, threshold: float) -> None:
    """Mark each row's robust deviation from the median of ``key`` (1.4826 × MAD) and whether it
    is an outlier (more than ``threshold`` deviations above)."""
    values = np.array([r[key] for r in rows], dtype=float)
    if not values.size:
        return
    median = float(np.median(values))
    spread = float(np.median(np.abs(values - median))) * 1.4826 or 1e-9
    for row, value in zip(rows, values.tolist(), strict=True):
        row["deviations"] = round((value - median) / spread, 2)
        row["outlier"] = (value - median) / spread > threshold


def ports(data: DrugsData) -> list[dict[str, Any]]:
    """The ports of entry with a point, and their crossings (all measures) in the latest year
    counted, for the maps."""
    return data.rows(
        "SELECT p.port_code, p.port_name, p.state, p.lat, p.lon, COALESCE(c.crossings, 0) AS crossings, c.year "
        "FROM ports p LEFT JOIN (SELECT port_code, year, sum(crossings) AS crossings FROM crossings "
        "WHERE year = (SELECT max(year) FROM crossings) GROUP BY 1, 2) c USING (port_code) "
        "WHERE p.lat IS NOT NULL ORDER BY p.port_code"
    )


def records(
    data: DrugsData,
    drug: str | None = None,
    fiscal_year: int | None = None,
    month: str | None = None,
    port: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """The seizure records behind a figure's bar or point (each links to its entity, where its
    statements name the file and row it came from)."""
    where, params = ["TRUE"], []
    for column, value in (("drug", drug), ("fiscal_year", fiscal_year), ("month", month), ("port_name", port)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    return data.rows(
        "SELECT seizure, month, fiscal_year, drug, events, round(pounds, 3) AS pounds, "
        f"round(pounds * {KG_PER_LB}, 3) AS kilograms, port_name, mode, concealment, component, area "
        f"FROM seizures WHERE {' AND '.join(where)} ORDER BY month, seizure LIMIT {int(limit)}",
        params,
    )
