"""The questions the legal records answer: pure functions over ``LegalData`` (no web, no store).

The CLI (``cruce legal``), the API (``/api/v1/legal``), the pages and the public portal call these
same functions, so a figure is the same wherever it is shown. Every row carries the ids and the
sources of the records it was computed from.

Rules, written once here:

- A law is **in force** on a day from its in-force date (else its enactment date) until its repeal
  date, the repeal day excluded. A date of year or month precision starts at the period's last day
  and a repeal at its first day, so a law is never shown in force earlier or longer than its
  source says.
- A **jurisdiction** is a state code (``US-TX``, ``MX-CMX``) for a state law, the country (``US``,
  ``MX``) for a federal one. The per-year series counts jurisdictions with a law in force on
  31 December of each year (today, for the current year).
- Enforcement figures are **never added across sources or periods**: a period total (2006–2011)
  is kept apart from yearly figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from cruce.legal.records import FEDERAL, STATE, Law, LegalData, Outcome, Record

KINDS = ("sex_trafficking", "labor_trafficking", "firearms_trafficking", "drug_trafficking", "victim_protection")
MEASURES = ("investigations", "prosecutions", "convictions", "sentences", "victims_certified", "victims_identified")
LEVELS = (FEDERAL, STATE)
KIND_FLOW = {
    "sex_trafficking": "people",
    "labor_trafficking": "people",
    "victim_protection": "people",
    "firearms_trafficking": "firearms",
    "drug_trafficking": "drugs",
}
"""The flow whose enforcement figures a kind of law is compared with (before and after)."""


def _law_ref(law: Law) -> dict[str, Any]:
    return {
        "id": law.id,
        "name": law.name,
        "citation": law.one("citation"),
        "in_force_since": law.start.isoformat() if law.start else None,
        "repealed": law.end.isoformat() if law.end else None,
        "sources": law.sources,
    }


def _matching(laws: Iterable[Law], kind: str | None, country: str | None = None, level: str | None = None) -> list[Law]:
    return [
        law
        for law in laws
        if (kind is None or kind in law.kinds)
        and (country is None or law.country == country)
        and (level is None or law.level == level)
        and law.jurisdiction
    ]


def laws(
    data: LegalData,
    kind: str | None = None,
    country: str | None = None,
    level: str | None = None,
    jurisdiction: str | None = None,
) -> list[dict[str, Any]]:
    """The law records (of a kind, country, level, jurisdiction), by jurisdiction and start date."""
    found = [
        law
        for law in _matching(data.laws, kind, country, level)
        if jurisdiction is None or law.jurisdiction == jurisdiction
    ]
    found.sort(key=lambda law: (law.jurisdiction or "", law.start or date.max, law.name))
    return [
        {**law.plain(), "in_force_since": law.start.isoformat() if law.start else None,
         "repealed": law.end.isoformat() if law.end else None}
        for law in found
    ]  # fmt: skip


def in_force(
    data: LegalData, kind: str, on: date, country: str | None = None, level: str | None = None
) -> list[dict[str, Any]]:
    """The jurisdictions with a law of ``kind`` in force on ``on``, and since when: the earliest
    start among the laws then in force there (each listed with its source)."""
    by_place: dict[str, list[Law]] = defaultdict(list)
    for law in _matching(data.laws, kind, country, level):
        if law.in_force_on(on) and law.jurisdiction:
            by_place[law.jurisdiction].append(law)
    rows = []
    for place, found in sorted(by_place.items()):
        found.sort(key=lambda law: law.start or date.max)
        rows.append(
            {
                "jurisdiction": place,
                "level": found[0].level,
                "country": found[0].country,
                "since": min(law.start for law in found if law.start).isoformat(),
                "laws": [_law_ref(law) for law in found],
            }
        )
    return rows


def _year_day(year: int, today: date) -> date:
    """The day a year is counted on: 31 December, or today for the current year."""
    return today if year == today.year else date(year, 12, 31)


def in_force_by_year(
    data: LegalData,
    kind: str,
    first: int | None = None,
    last: int | None = None,
    country: str | None = None,
    level: str | None = STATE,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """Per year, how many jurisdictions (states by default) had a law of ``kind`` in force on
    31 December, and which: the series behind the map over time. ``first`` defaults to the year
    of the earliest such law, ``last`` to this year."""
    today = today or date.today()
    found = _matching(data.laws, kind, country, level)
    starts = [law.start.year for law in found if law.start]
    if first is None:
        first = min(starts) if starts else today.year
    last = last if last is not None else today.year
    series = []
    for year in range(first, last + 1):
        day = _year_day(year, today)
        places = sorted({law.jurisdiction for law in found if law.jurisdiction and law.in_force_on(day)})
        series.append({"year": year, "on": day.isoformat(), "count": len(places), "jurisdictions": places})
    return series


def timeline(data: LegalData, jurisdiction: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The legal events of a jurisdiction — enacted, in force, amended, repealed — in date order,
    with those of its country's federal laws (``level`` says which)."""
    country = jurisdiction.split("-")[0]
    events = []
    for law in data.laws:
        applies = law.jurisdiction == jurisdiction or (law.level == FEDERAL and law.country == country)
        if not applies or (kind is not None and kind not in law.kinds):
            continue
        dated = [("enacted", law.one("enacted_date")), ("in_force", law.one("in_force_date"))]
        dated += [("amended", d) for d in law.all("amended_date")] + [("repealed", law.one("repealed_date"))]
        for event, when in dated:
            if when:
                events.append(
                    {
                        "date": when,
                        "event": event,
                        "law": law.id,
                        "name": law.name,
                        "level": law.level,
                        "jurisdiction": law.jurisdiction,
                        "kinds": list(law.kinds),
                        "sources": law.sources,
                    }
                )
    return sorted(events, key=lambda e: (e["date"], e["name"], e["event"]))


def _outcome_row(outcome: Outcome) -> dict[str, Any]:
    return {
        "id": outcome.id,
        "jurisdiction": outcome.jurisdiction,
        "level": outcome.level,
        "country": outcome.country,
        "year": outcome.year,
        "end_year": outcome.end_year,
        "flow": outcome.one("flow"),
        "measure": outcome.one("measure"),
        "value": outcome.value,
        "agency": outcome.one("agency"),
        "sources": outcome.sources,
    }


def _outcomes(
    data: LegalData,
    jurisdiction: str | None = None,
    country: str | None = None,
    flow: str | None = None,
    measure: str | None = None,
    level: str | None = None,
) -> list[Outcome]:
    return [
        o
        for o in data.outcomes
        if (jurisdiction is None or o.jurisdiction == jurisdiction)
        and (country is None or o.country == country)
        and (flow is None or o.one("flow") == flow)
        and (measure is None or o.one("measure") == measure)
        and (level is None or o.level == level)
    ]


def outcomes(
    data: LegalData,
    jurisdiction: str | None = None,
    country: str | None = None,
    flow: str | None = None,
    measure: str | None = None,
) -> list[dict[str, Any]]:
    """The enforcement outcome records, by jurisdiction, year and measure, each with its source."""
    found = _outcomes(data, jurisdiction, country, flow, measure)
    rows = [_outcome_row(o) for o in found]
    return sorted(rows, key=lambda r: (r["jurisdiction"] or "", r["year"] or 0, r["measure"] or "", r["end_year"] or 0))


def _side(rows: Sequence[Outcome]) -> dict[str, Any]:
    values = [o.value for o in rows if o.value is not None]
    years = sorted({o.year for o in rows if o.year is not None})
    return {
        "years": years,
        "total": sum(values) if values else None,
        "per_year": round(sum(values) / len(years), 2) if values and years else None,
        "records": [o.id for o in rows],
    }


def before_after(
    data: LegalData,
    kind: str,
    measure: str | None = None,
    jurisdiction: str | None = None,
    flow: str | None = None,
) -> list[dict[str, Any]]:
    """For each law of ``kind`` (in a jurisdiction), the yearly enforcement figures of the same
    jurisdiction and flow before the year it came into force, in that year, and after — per
    measure. Period totals (a figure over several years) are left out: they straddle the date."""
    flow = flow or KIND_FLOW.get(kind)
    rows = []
    for law in sorted(_matching(data.laws, kind), key=lambda law: (law.jurisdiction or "", law.start or date.max)):
        if law.start is None or (jurisdiction is not None and law.jurisdiction != jurisdiction):
            continue
        yearly = [
            o
            for o in _outcomes(data, law.jurisdiction, None, flow, measure, law.level)
            if o.year is not None and o.end_year is None
        ]
        for name in sorted({o.one("measure") or "" for o in yearly}):
            mine = [o for o in yearly if o.one("measure") == name]
            start = law.start.year
            rows.append(
                {
                    "jurisdiction": law.jurisdiction,
                    "law": _law_ref(law),
                    "in_force_year": start,
                    "flow": flow,
                    "measure": name,
                    "before": _side([o for o in mine if o.year is not None and o.year < start]),
                    "in_year": _side([o for o in mine if o.year == start]),
                    "after": _side([o for o in mine if o.year is not None and o.year > start]),
                }
            )
    return rows


def funding(
    data: LegalData,
    jurisdiction: str | None = None,
    flow: str | None = None,
    program: str | None = None,
) -> dict[str, Any]:
    """Programs and their funding over time: each program with its amount and period; per year and
    program, the amount spread evenly over the years of its period (sources give totals, so the
    split is an assumption, and says so); the totals per currency (never added across currencies)."""
    found = [
        p
        for p in data.programs
        if (jurisdiction is None or p.jurisdiction == jurisdiction)
        and (flow is None or flow in p.all("flow"))
        and (program is None or p.id == program or p.record_id == program)
    ]
    programs, by_year = [], []
    totals: dict[str, float] = defaultdict(float)
    for p in sorted(found, key=lambda p: (p.one("start_date") or "", p.name)):
        currency = p.one("currency") or ""
        years = p.years
        programs.append(
            {
                "id": p.id,
                "name": p.name,
                "jurisdiction": p.jurisdiction,
                "level": p.level,
                "flows": list(p.all("flow")),
                "amount": p.amount,
                "currency": currency,
                "start": p.one("start_date"),
                "end": p.one("end_date"),
                "purpose": p.one("purpose"),
                "funder": p.one("funder"),
                "sources": p.sources,
            }
        )
        if p.amount is None:
            continue
        totals[currency] += p.amount
        for year in years:
            by_year.append(
                {
                    "year": year,
                    "program": p.id,
                    "name": p.name,
                    "currency": currency,
                    "amount": round(p.amount / len(years), 2),
                    "split_evenly": len(years) > 1,
                }
            )
    by_year.sort(key=lambda r: (r["year"], r["name"]))
    return {
        "programs": programs,
        "by_year": by_year,
        "totals": [{"currency": c, "amount": a} for c, a in sorted(totals.items())],
    }


def beside(
    data: LegalData, jurisdiction: str, counts: Sequence[dict[str, Any]], kind: str | None = None
) -> dict[str, Any]:
    """The legal timeline of a jurisdiction beside yearly counts of the flows there (from
    ``cruce.legal.flows.counts``), with the laws in force at the end of each year of the counts."""
    events = timeline(data, jurisdiction, kind)
    country = jurisdiction.split("-")[0]
    years = sorted({int(c["year"]) for c in counts})
    in_force_years = []
    today = date.today()
    for year in years:
        day = _year_day(year, today)
        current = [
            law.id
            for law in data.laws
            if (law.jurisdiction == jurisdiction or (law.level == FEDERAL and law.country == country))
            and (kind is None or kind in law.kinds)
            and law.in_force_on(day)
        ]
        in_force_years.append({"year": year, "laws_in_force": current})
    return {"jurisdiction": jurisdiction, "events": events, "counts": list(counts), "laws_by_year": in_force_years}


def records_of(data: LegalData, schema: str | None = None) -> list[Record]:
    """Every record of one kind (``Law``, ``EnforcementOutcome``, ``Program``) or of all three."""
    every: list[Record] = [*data.laws, *data.outcomes, *data.programs]
    return [r for r in every if schema is None or r.schema == schema]
