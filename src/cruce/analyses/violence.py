"""Violence: homicide counts and rates by state and year (INEGI's death certificates), and the press
tallies of drug-war executions (Reforma, Milenio…) beside the official series.

Sources disagree, and the disagreement is the finding: each series is kept apart by its
``reported_by`` source, and the side-by-side table puts them in columns of one year, never adding
one to another or choosing between them. Counts come from ``ViolenceEvent`` records (one per
state and month in the INEGI series, one per month and newspaper in the press tallies, one per
event in event data); a month is ``YYYY-MM``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cruce.analyses.tables import Tables, read, values_sql

_EVENT = values_sql(
    "ViolenceEvent",
    {"date": "date", "state": "state", "country": "country", "violence_type": "violence_type", "killed": "killed",
     "population": "population", "reported_by": "reported_by", "municipality": "municipality"},
    numbers=frozenset({"killed", "population"}),
)  # fmt: skip
QUERIES = {
    "events": (
        f"SELECT CAST(v.entity_id AS VARCHAR) AS event, substr(v.date, 1, 7) AS month, "
        "CAST(substr(v.date, 1, 4) AS INTEGER) AS year, v.state, v.country, v.violence_type, "
        "v.killed, v.population, "
        f"COALESCE(v.reported_by, '') AS source, v.municipality FROM ({_EVENT}) AS v WHERE v.date IS NOT NULL"
    )
}
PG_TYPES = {
    "events": {"event": pa.string(), "month": pa.string(), "year": pa.int32(), "state": pa.string(),
               "country": pa.string(), "violence_type": pa.string(), "killed": pa.float64(),
               "population": pa.float64(), "source": pa.string(), "municipality": pa.string()},
}  # fmt: skip


class ViolenceData(Tables):
    """``events``: one row per violence record, with its month, year, state, type, killed and source."""

    def __init__(self, tables: dict[str, pa.Table]) -> None:
        super().__init__()
        self.con.register("events_raw", tables["events"])
        self.con.execute("CREATE TABLE events AS SELECT * FROM events_raw")
        self.con.unregister("events_raw")

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> ViolenceData:
        return cls(read(store, QUERIES, PG_TYPES, imports))


def homicides_by_state_year(
    data: ViolenceData, source: str = "INEGI", state: str | None = None
) -> list[dict[str, Any]]:
    """Homicides per state and year from one source's monthly series, with the rate per 100,000
    (the year's homicides over its mean monthly population estimate)."""
    where, params = "violence_type = 'homicide' AND source = ?", [source]
    if state:
        where += " AND state = ?"
        params.append(state)
    return data.rows(
        "SELECT state, year, sum(killed) AS homicides, round(avg(population)) AS population, "
        "round(sum(killed) * 100000 / avg(population), 2) AS rate_per_100k, count(*) AS months "
        f"FROM events WHERE {where} AND state IS NOT NULL GROUP BY state, year ORDER BY state, year",
        params,
    )


def executions_by_year(data: ViolenceData) -> list[dict[str, Any]]:
    """The press tallies of drug-war executions, per newspaper and year (national)."""
    return data.rows(
        "SELECT source, year, sum(killed) AS executions, count(*) AS months FROM events "
        "WHERE violence_type = 'execution' AND source <> '' GROUP BY source, year ORDER BY source, year"
    )


def national_side_by_side(
    data: ViolenceData, first: int | None = None, last: int | None = None
) -> list[dict[str, Any]]:
    """Per year, one column per series: the official homicides (summed over the states) and each
    newspaper's executions — side by side, never merged."""
    rows = data.rows(
        "SELECT year, violence_type || ':' || source AS series, sum(killed) AS killed FROM events "
        "WHERE (violence_type = 'homicide' AND state IS NOT NULL) OR violence_type = 'execution' "
        "GROUP BY year, series ORDER BY year, series"
    )
    table: dict[int, dict[str, Any]] = {}
    for row in rows:
        if (first is not None and row["year"] < first) or (last is not None and row["year"] > last):
            continue
        table.setdefault(row["year"], {"year": row["year"]})[row["series"]] = row["killed"]
    return [table[y] for y in sorted(table)]
