"""Violence: homicide counts and rates by state and year (INEGI's death certificates), and the press
tallies of drug-war executions (Reforma, Milenio…) beside the official series.

Sources disagree, and the disagreement is the finding: each series is kept apart by its
``reported_by`` source, and the side-by-side table puts them in columns of one year, never adding
one to another or choosing between them. Counts come from ``ViolenceEvent`` records (one per
state and month in the INEGI series, one per month and newspaper in the press tallies, one per
event in event data); a month is ``YYYY-MM``.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa

from cruce.analyses.tables import Reads, Tables, load_raw, read, reads_of, values_sql
from cruce.engines import Engine

_EVENT = values_sql(
    "ViolenceEvent",
    {
        "date": "date",
        "state": "state",
        "country": "country",
        "violence_type": "violence_type",
        "killed": "killed",
        "population": "population",
        "reported_by": "reported_by",
        "municipality": "municipality",
    },
    numbers=frozenset({"killed", "population"}),
)
QUERIES = {
    "events": (
        f"SELECT CAST(v.entity_id AS VARCHAR) AS event, substr(v.date, 1, 7) AS month, "
        "CAST(substr(v.date, 1, 4) AS INTEGER) AS year, v.state, v.country, v.violence_type, "
        "v.killed, v.population, "
        f"COALESCE(v.reported_by, '') AS source, v.municipality FROM ({_EVENT}) AS v WHERE v.date IS NOT NULL"
    )
}
PG_TYPES = {
    "events": {
        "event": pa.string(),
        "month": pa.string(),
        "year": pa.int32(),
        "state": pa.string(),
        "country": pa.string(),
        "violence_type": pa.string(),
        "killed": pa.float64(),
        "population": pa.float64(),
        "source": pa.string(),
        "municipality": pa.string(),
    },
}


class ViolenceData(Tables):
    """``events``: one row per violence record, with its month, year, state, type, killed and source."""

    RAW = ("events",)

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(QUERIES.values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None, engine: Engine | None = None) -> Self:
        if engine is None:
            return cls(read(store, QUERIES, PG_TYPES, imports))
        load_raw(engine, store, lambda _text_ids: QUERIES, PG_TYPES, imports)
        return cls(engine=engine)


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


def homicides_by_state_month(
    data: ViolenceData, state: str, source: str = "INEGI", first: str | None = None, last: str | None = None
) -> list[dict[str, Any]]:
    """One state's homicides per month from one source, with the month's rate per 100,000 a year
    (the month's count times twelve over the population estimate, so months compare with years)."""
    where, params = "violence_type = 'homicide' AND source = ? AND state = ?", [source, state]
    for bound, op in ((first, ">="), (last, "<=")):
        if bound:
            where += f" AND month {op} ?"
            params.append(bound)
    return data.rows(
        "SELECT month, sum(killed) AS homicides, round(avg(population)) AS population, "
        "round(sum(killed) * 12 * 100000 / avg(population), 2) AS annual_rate_per_100k "
        f"FROM events WHERE {where} GROUP BY month ORDER BY month",
        params,
    )


def year_over_year(data: ViolenceData, year: int, source: str = "INEGI") -> list[dict[str, Any]]:
    """Each state's homicides in ``year`` beside the year before: the change in count and in
    percent, and the rates per 100,000 (the states sorted by the change, largest rise first)."""
    by_state = {
        (r["state"], r["year"]): r for r in homicides_by_state_year(data, source) if r["year"] in (year, year - 1)
    }
    out = []
    for state in sorted({s for s, _y in by_state}):
        now, before = by_state.get((state, year)), by_state.get((state, year - 1))
        if now is None or before is None:
            continue
        change = now["homicides"] - before["homicides"]
        out.append(
            {
                "state": state,
                "year": year,
                "homicides": now["homicides"],
                "previous": before["homicides"],
                "change": change,
                "change_pct": round(100 * change / before["homicides"], 1) if before["homicides"] else None,
                "rate_per_100k": now["rate_per_100k"],
                "previous_rate_per_100k": before["rate_per_100k"],
            }
        )
    return sorted(out, key=lambda r: (-r["change"], r["state"]))


def trend(points: Sequence[tuple[float, float]], level: float = 0.95) -> dict[str, Any]:
    """A straight-line trend through ``(x, y)`` points (least squares) with its uncertainty: the
    slope and its ``level`` confidence interval, and for each x the fitted value and the interval
    of the mean (Student's t on the residuals). Fewer than three points: no trend (a line through
    two points has no residuals to measure its uncertainty by)."""
    from scipy import stats

    if len(points) < 3:
        return {"slope": None, "slope_low": None, "slope_high": None, "fitted": []}
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    fit = stats.linregress(x, y)
    t = float(stats.t.ppf((1 + level) / 2, x.size - 2))
    residual = float(np.sqrt(np.sum((y - (fit.intercept + fit.slope * x)) ** 2) / (x.size - 2)))
    spread = float(np.sum((x - x.mean()) ** 2))
    fitted = []
    for xi in x.tolist():
        mean = float(fit.intercept + fit.slope * xi)
        half = t * residual * float(np.sqrt(1 / x.size + (xi - x.mean()) ** 2 / spread))
        fitted.append({"x": xi, "fitted": round(mean, 2), "low": round(mean - half, 2), "high": round(mean + half, 2)})
    return {
        "slope": round(float(fit.slope), 3),
        "slope_low": round(float(fit.slope - t * fit.stderr), 3),
        "slope_high": round(float(fit.slope + t * fit.stderr), 3),
        "level": level,
        "fitted": fitted,
    }


def national_trends(data: ViolenceData, first: int | None = None, last: int | None = None) -> list[dict[str, Any]]:
    """Per series of the side-by-side table (official homicides, each newspaper), its yearly
    counts and a linear trend with its 95 % interval, the series kept apart. A year a series
    covers only in part (fewer than twelve months) is left out of its trend, and said so."""
    months = {
        (r["series"], r["year"]): r["months"]
        for r in data.rows(
            "SELECT violence_type || ':' || source AS series, year, count(DISTINCT month) AS months FROM events "
            "WHERE (violence_type = 'homicide' AND state IS NOT NULL) OR violence_type = 'execution' GROUP BY 1, 2"
        )
    }
    table = national_side_by_side(data, first, last)
    out = []
    for series in sorted({k for row in table for k in row if k != "year"}):
        years = [(row["year"], row[series]) for row in table if row.get(series) is not None]
        whole = [(y, v) for y, v in years if months.get((series, y), 0) >= 12]
        line = trend([(float(y), float(v)) for y, v in whole])
        out.append(
            {
                "series": series,
                "years": [{"year": y, "killed": v, "whole_year": months.get((series, y), 0) >= 12} for y, v in years],
                "slope_per_year": line["slope"],
                "slope_low": line["slope_low"],
                "slope_high": line["slope_high"],
                "fitted": [{"year": int(f["x"]), **{k: v for k, v in f.items() if k != "x"}} for f in line["fitted"]],
            }
        )
    return out


def trend_rows(trends: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``national_trends`` as flat rows (one per series and year: the count, whether the year is
    whole, the trend there and its interval, the series' slope) for a table or a CSV."""
    out = []
    for series in trends:
        fitted = {f["year"]: f for f in series["fitted"]}
        for point in series["years"]:
            band = fitted.get(point["year"], {})
            out.append(
                {"series": series["series"], **point, "trend": band.get("fitted"), "low": band.get("low"),
                 "high": band.get("high"), "slope_per_year": series["slope_per_year"]}
            )  # fmt: skip
    return out


def by_municipality(data: ViolenceData, year: int | None = None) -> list[dict[str, Any]]:
    """Violence records and their dead per municipality (event data: the aggregate series have no
    municipality), in one year or all; ``code`` keys the municipality as the maps do
    (``geo.municipality_code``)."""
    from cruce.analyses.geo import municipality_code

    where, params = ("AND year = ?", [year]) if year is not None else ("", [])
    rows = data.rows(
        "SELECT state, municipality, count(*) AS events, sum(COALESCE(killed, 0)) AS killed FROM events "
        f"WHERE municipality IS NOT NULL AND state IS NOT NULL {where} GROUP BY 1, 2 ORDER BY events DESC, 1, 2",
        params,
    )
    return [{"code": municipality_code(r["state"], r["municipality"]), **r} for r in rows]


def by_state_month(data: ViolenceData) -> list[dict[str, Any]]:
    """Violence records and their dead per state and month, each type and source apart (series
    are never added together): the store-wide table behind the maps and the monthly series."""
    return data.rows(
        "SELECT state, month, violence_type, source, count(*) AS events, sum(COALESCE(killed, 0)) AS killed "
        "FROM events WHERE state IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY state, month, violence_type, source"
    )


def records(
    data: ViolenceData,
    state: str | None = None,
    year: int | None = None,
    source: str | None = None,
    municipality: str | None = None,
    limit: int = 500,
    events: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The violence records behind a figure's bar, state, line or map cell (``events``: their
    ids); each links to its entity, where its statements name the file and row it came from."""
    where, params = ["TRUE"], []
    for column, value in (("state", state), ("year", year), ("source", source), ("municipality", municipality)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if events is not None:
        where.append(f"event IN ({', '.join('?' for _ in events) or 'NULL'})")
        params.extend(events)
    return data.rows(
        "SELECT event, month, state, municipality, violence_type, killed, source FROM events "
        f"WHERE {' AND '.join(where)} ORDER BY month, event LIMIT {int(limit)}",
        params,
    )


# -- change points ---------------------------------------------------------------------------------
PENALTY = 30.0  # times the series' noise variance and the log of its length: a new level must stand out


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _breaks(signal: np.ndarray, penalty: float) -> list[int]:
    """Indices where a new segment of ``signal`` starts (PELT, least squares, from ``ruptures``),
    with a penalty scaled to the series' own noise (from its month-to-month differences)."""
    import ruptures

    if signal.size < 6:
        return []
    noise = float(np.median(np.abs(np.diff(signal)))) / 0.6745 / np.sqrt(2)
    scale = max(noise**2, float(signal.var()) * 0.05, 1e-9)
    found = (
        ruptures.Pelt(model="l2", min_size=2, jump=1)
        .fit(signal.reshape(-1, 1))
        .predict(pen=penalty * scale * np.log(signal.size))
    )
    return [int(b) for b in found if b < signal.size]


def change_points(data: ViolenceData, penalty: float = PENALTY, min_events: int = 12) -> list[dict[str, Any]]:
    """Where and when violence events changed level, per municipality: each break with the month
    the new level starts, the monthly mean before and after it, and whether it went up or down.
    Event records only (the aggregate series have no municipality); places with fewer than
    ``min_events`` events are left out."""
    rows = data.rows(
        "SELECT state, municipality, month, count(*) AS events FROM events "
        "WHERE municipality IS NOT NULL AND month IS NOT NULL GROUP BY 1, 2, 3"
    )
    if not rows:
        return []
    months = _months(min(r["month"] for r in rows), max(r["month"] for r in rows))
    index = {m: i for i, m in enumerate(months)}
    series: dict[tuple[str, str], np.ndarray] = {}
    for row in rows:
        place = (row["state"], row["municipality"])
        series.setdefault(place, np.zeros(len(months)))[index[row["month"]]] = row["events"]
    found = []
    for (state, municipality), signal in sorted(series.items()):
        if signal.sum() < min_events:
            continue
        cuts = [0, *_breaks(signal, penalty), len(months)]
        for before, at, after in zip(cuts, cuts[1:], cuts[2:], strict=False):
            low, high = float(signal[before:at].mean()), float(signal[at:after].mean())
            found.append(
                {
                    "state": state,
                    "municipality": municipality,
                    "month": months[at],
                    "before": round(low, 2),
                    "after": round(high, 2),
                    "direction": "up" if high > low else "down",
                }
            )
    return found


# -- against a synth scenario's planted disputes ---------------------------------------------------
def evaluate_escalations(
    data: ViolenceData, scenario: Path, days: int = 31, penalty: float = PENALTY
) -> dict[str, Any]:
    """Whether each plaza dispute planted by ``cruce synth`` (``truth/plaza_disputes.csv``) is found
    as a rise of violence in one of the plaza's municipalities (those of the events the truth links
    to it) starting within ``days`` of the dispute's start; and how many rises match none."""
    links = {r["event_id_cnty"]: r["plaza_id"] for r in _csv(scenario / "truth" / "violence_links.csv")}
    places: dict[str, set[str]] = {}
    for row in _csv(scenario / "violence-events.csv"):
        plaza = links.get(row["event_id_cnty"])
        if plaza:
            places.setdefault(plaza, set()).add(row["admin2"])
    rises = [c for c in change_points(data, penalty) if c["direction"] == "up"]
    found: list[dict[str, Any]] = []
    matched: set[int] = set()
    for dispute in _csv(scenario / "truth" / "plaza_disputes.csv"):
        start = date.fromisoformat(dispute["start"])
        near = [
            i
            for i, c in enumerate(rises)
            if c["municipality"] in places.get(dispute["plaza_id"], set())
            and abs((date.fromisoformat(c["month"] + "-01") - start).days) <= days
        ]
        matched.update(near)
        found.append(
            {
                "dispute": dispute["dispute_id"],
                "start": dispute["start"],
                "found": bool(near),
                "month": rises[near[0]]["month"] if near else None,
            }
        )
    recall = sum(1 for f in found if f["found"]) / len(found) if found else None
    precision = len(matched) / len(rises) if rises else None
    return {
        "disputes": len(found),
        "recall": recall,
        "rises": len(rises),
        "precision": precision,
        "within_days": days,
        "penalty": penalty,
        "found": found,
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
