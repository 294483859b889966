"""Yearly counts of the flows in one jurisdiction, to set beside its legal timeline.

The counts are those of the flow analyses, read from their own tables (``ViolenceData``,
``FirearmsData``, ``DrugsData``): homicides (INEGI's series) in a Mexican state or in Mexico; firearm
traces recovered in a state or bought in a state; drug seizure events (CBP's fiscal years) for the
United States as a whole, the only level that data has. Each row names its series; series are
never added to one another.
"""

from __future__ import annotations

from typing import Any

from cruce.analyses import drugs, violence
from cruce.analyses.firearms.data import FirearmsData


def violence_counts(data: violence.ViolenceData, jurisdiction: str) -> list[dict[str, Any]]:
    """Homicides per year in a Mexican state (or summed over the states, for ``MX``)."""
    if not jurisdiction.startswith("MX"):
        return []
    state = jurisdiction if "-" in jurisdiction else None
    rows = violence.homicides_by_state_year(data, "INEGI", state)
    totals: dict[int, float] = {}
    for row in rows:
        totals[int(row["year"])] = totals.get(int(row["year"]), 0.0) + float(row["homicides"] or 0)
    return [{"year": y, "series": "homicides", "value": v} for y, v in sorted(totals.items())]


def firearms_counts(data: FirearmsData, jurisdiction: str) -> list[dict[str, Any]]:
    """Firearm traces per year of recovery: recovered in the jurisdiction, and bought in it."""
    rows: list[dict[str, Any]] = []
    for column, series in (("recovery_state", "traces_recovered"), ("purchase_state", "traces_purchased")):
        if "-" in jurisdiction:
            where, params = f"{column} = ?", [jurisdiction]
        else:
            where, params = f"{column} LIKE ?", [jurisdiction + "-%"]
        found = data.rows(
            f"SELECT recovery_year AS year, count(*) AS value FROM traces WHERE {where} "
            "AND recovery_year IS NOT NULL GROUP BY recovery_year ORDER BY recovery_year",
            params,
        )
        rows += [{"year": int(r["year"]), "series": series, "value": r["value"]} for r in found]
    return rows


def drugs_counts(data: drugs.DrugsData, jurisdiction: str) -> list[dict[str, Any]]:
    """Drug seizure events per fiscal year, for the United States as a whole (CBP's data has no state)."""
    if jurisdiction != "US":
        return []
    totals: dict[int, float] = {}
    for row in drugs.seizures_by_fiscal_year(data):
        totals[int(row["fiscal_year"])] = totals.get(int(row["fiscal_year"]), 0.0) + float(row["events"] or 0)
    return [{"year": y, "series": "seizure_events_fiscal_year", "value": v} for y, v in sorted(totals.items())]


def counts(store: Any, jurisdiction: str, imports: list[int] | None = None) -> list[dict[str, Any]]:
    """Every flow's yearly counts in ``jurisdiction`` from the store (the datasets of ``imports``)."""
    rows: list[dict[str, Any]] = []
    loaded_v = violence.ViolenceData.load(store, imports)
    try:
        rows += violence_counts(loaded_v, jurisdiction)
    finally:
        loaded_v.close()
    loaded_f = FirearmsData.load(store, imports)
    try:
        rows += firearms_counts(loaded_f, jurisdiction)
    finally:
        loaded_f.close()
    loaded_d = drugs.DrugsData.load(store, imports)
    try:
        rows += drugs_counts(loaded_d, jurisdiction)
    finally:
        loaded_d.close()
    return sorted(rows, key=lambda r: (r["year"], r["series"]))


def kept_counts(store: Any, jurisdiction: str, imports: list[int] | None = None) -> list[dict[str, Any]]:
    """``counts`` from the flow analyses a server keeps in memory (``cruce.analyses.service``): read
    once per store state and set of visible imports, as the dashboards read them."""
    from cruce.analyses.service import analysis

    key = ("legal-counts", jurisdiction)
    rows = [
        *analysis(store, violence.ViolenceData, imports).answer(key, lambda d: violence_counts(d, jurisdiction)),
        *analysis(store, FirearmsData, imports).answer(key, lambda d: firearms_counts(d, jurisdiction)),
        *analysis(store, drugs.DrugsData, imports).answer(key, lambda d: drugs_counts(d, jurisdiction)),
    ]
    return sorted(rows, key=lambda r: (r["year"], r["series"]))
