"""Trace analytics: what ATF's trace reports give, over the traces in the store, filtered alike.

Every function takes the loaded tables and ``Filters`` (recovery period, country, state, firearm
type, caliber) and returns plain rows; ``traces`` lists the records behind any of them (the same
filters, plus the row's own keys). Shares are of the traces the filters keep; a time-to-crime is
known only for traces that reached a retail purchase.
"""

from __future__ import annotations

from typing import Any

from cruce.analyses.firearms.data import ONE_YEAR_DAYS, SHORT_TTC_DAYS, Filters, FirearmsData

# time-to-crime bands (years), as trace reports group them
TTC_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("< 1", 0, 366), ("1-2", 366, 731), ("2-3", 731, SHORT_TTC_DAYS), ("3-5", SHORT_TTC_DAYS, 1827),
    ("5-10", 1827, 3653), ("10-20", 3653, 7305), ("20+", 7305, None),
)  # fmt: skip
BY_COLUMNS = {"source_state": "purchase_state", "dealer": "dealer_ffl", "type": "f_type", "caliber": "caliber"}


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(float(part) / float(whole), 4) if part is not None and whole else None


def summary(data: FirearmsData, filters: Filters) -> dict[str, Any]:
    """Headline figures: traces, completion, purchaser reached, time-to-crime, purchaser ≠ possessor."""
    where, params = filters.where()
    row = data.one(
        "SELECT count(*) AS traces, count(*) FILTER (WHERE completed) AS completed, "
        "count(*) FILTER (WHERE to_purchaser) AS to_purchaser, "
        "count(ttc) AS with_ttc, median(ttc) AS median_ttc_days, "
        f"count(*) FILTER (WHERE ttc < {ONE_YEAR_DAYS}) AS ttc_under_1y, "
        f"count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) AS ttc_under_3y, "
        "count(*) FILTER (WHERE purchaser IS NOT NULL AND possessor IS NOT NULL) AS both_known, "
        "count(*) FILTER (WHERE purchaser IS NOT NULL AND possessor IS NOT NULL AND purchaser <> possessor) "
        "AS purchaser_not_possessor, "
        "count(*) FILTER (WHERE serial_condition = 'obliterated') AS obliterated, "
        "count(DISTINCT purchase_state) AS source_states, count(DISTINCT dealer_ffl) AS source_dealers, "
        "min(recovery_date) AS first_recovery, max(recovery_date) AS last_recovery "
        f"FROM traces t WHERE {where}",
        params,
    )
    traces = row["traces"]
    return {
        **row,
        "median_ttc_years": round(row["median_ttc_days"] / 365.25, 2) if row["median_ttc_days"] is not None else None,
        "completed_share": _ratio(row["completed"], traces),
        "to_purchaser_share": _ratio(row["to_purchaser"], traces),
        "ttc_under_1y_share": _ratio(row["ttc_under_1y"], row["with_ttc"]),
        "ttc_under_3y_share": _ratio(row["ttc_under_3y"], row["with_ttc"]),
        "purchaser_not_possessor_share": _ratio(row["purchaser_not_possessor"], row["both_known"]),
        "obliterated_share": _ratio(row["obliterated"], traces),
        "filters": filters.asked(),
    }


def source_states(data: FirearmsData, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """US states of first retail purchase: traces, share, and traces per 100,000 NICS background
    checks of that state over the years the traced guns were bought in (a rate that allows for how
    many guns each state sells)."""
    where, params = filters.where()
    return data.rows(
        "WITH t AS (SELECT * FROM traces t WHERE " + where + " AND purchase_state IS NOT NULL), "
        "years AS (SELECT min(year(purchase_date)) AS lo, max(year(purchase_date)) AS hi FROM t), "
        "c AS (SELECT state, sum(total) AS checks FROM checks, years "
        "WHERE year(month) BETWEEN years.lo AND years.hi GROUP BY state) "
        "SELECT t.purchase_state AS state, count(*) AS traces, "
        "round(count(*) / sum(count(*)) OVER (), 4) AS share, "
        f"count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) AS short_ttc, median(ttc) AS median_ttc_days, "
        "max(c.checks) AS nics_checks, round(count(*) * 100000.0 / max(c.checks), 3) AS per_100k_checks "
        "FROM t LEFT JOIN c ON c.state = t.purchase_state GROUP BY t.purchase_state "
        "ORDER BY traces DESC, state LIMIT ?",
        [*params, limit],
    )


def source_dealers(data: FirearmsData, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """Dealers (by FFL) of first retail purchase: traces, share, short time-to-crime traces."""
    where, params = filters.where()
    return data.rows(
        "SELECT dealer_ffl, min(dealer_name) AS dealer_name, min(purchase_state) AS state, count(*) AS traces, "
        "round(count(*) / sum(count(*)) OVER (), 4) AS share, "
        f"count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) AS short_ttc, "
        f"round(count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) / count(ttc), 4) AS short_ttc_share, "
        "median(ttc) AS median_ttc_days "
        f"FROM traces t WHERE {where} AND dealer_ffl IS NOT NULL GROUP BY dealer_ffl "
        "ORDER BY traces DESC, dealer_ffl LIMIT ?",
        [*params, limit],
    )


def recovery_states(data: FirearmsData, filters: Filters, limit: int = 50) -> list[dict[str, Any]]:
    """States of recovery: traces, share, short time-to-crime, share traced to a US purchaser."""
    where, params = filters.where()
    return data.rows(
        "SELECT recovery_state AS state, count(*) AS traces, round(count(*) / sum(count(*)) OVER (), 4) AS share, "
        f"count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) AS short_ttc, "
        "round(count(*) FILTER (WHERE to_purchaser) / count(*), 4) AS to_purchaser_share "
        f"FROM traces t WHERE {where} AND recovery_state IS NOT NULL GROUP BY recovery_state "
        "ORDER BY traces DESC, state LIMIT ?",
        [*params, limit],
    )


def time_to_crime(data: FirearmsData, filters: Filters, by: str | None = None, limit: int = 20) -> dict[str, Any]:
    """The distribution of time-to-crime in bands, its median, shares under one and three years;
    with ``by`` (source_state, dealer, type, caliber), the same per group."""
    where, params = filters.where()
    bands = " ".join(
        f"WHEN ttc < {hi} THEN '{label}'" if hi is not None else f"ELSE '{label}'" for label, _lo, hi in TTC_BANDS
    )
    histogram = data.rows(
        f"SELECT CASE {bands} END AS band, count(*) AS traces FROM traces t WHERE {where} AND ttc IS NOT NULL "
        "GROUP BY band",
        params,
    )
    counts = {r["band"]: r["traces"] for r in histogram}
    answer: dict[str, Any] = {
        "bands": [{"band": label, "traces": counts.get(label, 0)} for label, _lo, _hi in TTC_BANDS],
        **{k: v for k, v in summary(data, filters).items() if "ttc" in k},
    }
    if by:
        column = BY_COLUMNS[by]
        answer["by"] = by
        answer["groups"] = data.rows(
            f"SELECT {column} AS {by}, count(ttc) AS traces, median(ttc) AS median_ttc_days, "
            f"round(count(*) FILTER (WHERE ttc < {ONE_YEAR_DAYS}) / count(ttc), 4) AS under_1y_share, "
            f"round(count(*) FILTER (WHERE ttc < {SHORT_TTC_DAYS}) / count(ttc), 4) AS under_3y_share "
            f"FROM traces t WHERE {where} AND ttc IS NOT NULL AND {column} IS NOT NULL GROUP BY {column} "
            f"ORDER BY traces DESC, {by} LIMIT ?",
            [*params, limit],
        )
    return answer


def completion(data: FirearmsData, filters: Filters) -> list[dict[str, Any]]:
    """Trace results: completed (to a purchaser, or to the dealer only) and the reasons others were not."""
    where, params = filters.where()
    return data.rows(
        "SELECT COALESCE(status, 'unknown') AS status, count(*) AS traces, "
        "round(count(*) / sum(count(*)) OVER (), 4) AS share "
        f"FROM traces t WHERE {where} GROUP BY 1 ORDER BY traces DESC, status",
        params,
    )


def types_over_time(data: FirearmsData, filters: Filters, what: str = "type") -> list[dict[str, Any]]:
    """Traces by recovery year and firearm type (or caliber), with each one's share of its year."""
    column = {"type": "f_type", "caliber": "caliber"}[what]
    where, params = filters.where()
    return data.rows(
        f"SELECT recovery_year AS year, COALESCE({column}, 'unknown') AS {what}, count(*) AS traces, "
        "round(count(*) / sum(count(*)) OVER (PARTITION BY recovery_year), 4) AS share "
        f"FROM traces t WHERE {where} AND recovery_year IS NOT NULL GROUP BY 1, 2 ORDER BY year, traces DESC, {what}",
        params,
    )


def corridors(data: FirearmsData, filters: Filters, limit: int = 100) -> list[dict[str, Any]]:
    """US state of purchase → state of recovery: traces and share of the traced purchases."""
    where, params = filters.where()
    return data.rows(
        "SELECT purchase_state AS source_state, recovery_state, count(*) AS traces, "
        "round(count(*) / sum(count(*)) OVER (), 4) AS share, median(ttc) AS median_ttc_days "
        f"FROM traces t WHERE {where} AND purchase_state IS NOT NULL AND recovery_state IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY traces DESC, source_state, recovery_state LIMIT ?",
        [*params, limit],
    )


# the keys a row of a figure may add to the filters, to list its records
RECORD_KEYS = {"source_state": "purchase_state", "state": "purchase_state", "dealer_ffl": "dealer_ffl",
               "recovery_state": "recovery_state", "type": "f_type", "caliber": "caliber", "status": "status",
               "year": "recovery_year", "purchaser": "purchaser"}  # fmt: skip


def traces(data: FirearmsData, filters: Filters, limit: int = 100, **keys: Any) -> list[dict[str, Any]]:
    """The trace records behind a figure: the filters, and a row's keys (``RECORD_KEYS``)."""
    where, params = filters.where()
    for key, value in keys.items():
        if value is None:
            continue
        where += f" AND {RECORD_KEYS[key]} = ?"
        params.append(value)
    return data.rows(
        "SELECT trace, trace_number, recovery_date, recovery_state, municipality, status, purchase_date, "
        "purchase_state, dealer_ffl, dealer_name, ttc AS ttc_days, f_type, caliber, model, manufacturer, "
        "serial_condition, purchaser, possessor "
        f"FROM traces t WHERE {where} ORDER BY recovery_date, trace_number LIMIT ?",
        [*params, limit],
    )
