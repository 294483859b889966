"""The figures of the laws page: laws in force by kind, the map and the year-by-year count of states
with a sex-trafficking law in force, every law by jurisdiction, enforcement outcomes and programs
as their sources published them (public records: not suppressed, each with its source).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cruce.reports.portal import charts, laws
from cruce.reports.portal.disclosure import Cell, Table
from cruce.reports.portal.figures import (
    Context,
    Figure,
    Source,
    country_label,
    enum_label,
    number,
    state_label,
    years_span,
)


# -- laws ---------------------------------------------------------------------------------------------
def laws_figure(c: Context, figure_id: str) -> Figure | None:
    _ = c.tr
    found = c.held("laws", lambda: {t: laws.read_records(c.store, t, c.datasets) for t in laws.LEGAL_TYPES})
    law_list, outcomes, programs = found["Law"], found["EnforcementOutcome"], found["Program"]
    src = c.sources.get("laws", ())
    kinds = c.schema.enums["law_kind"].values
    if figure_id == "laws_in_force":
        rows = []
        for code, value in kinds.items():
            states = laws.jurisdictions_in_force(law_list, code, c.today)
            us = sum(1 for s in states if s.startswith("US-"))
            mx = sum(1 for s in states if s.startswith("MX-"))
            rows.append([value.label(c.lang), str(us), str(mx)])
        return Figure(
            figure_id,
            _("States with a law in force today, by kind"),
            "records",
            src,
            c.today.isoformat(),
            _("US states and Mexican states (Mexico City counted as a state)."),
            headers=(_("Kind of law"), _("US states"), _("Mexican states")),
            rows=rows,
        )
    if figure_id == "map_sex_trafficking_law":
        states = laws.jurisdictions_in_force(law_list, "sex_trafficking", c.today)
        chart = charts.binary_map(c.boundaries, sorted(states), c.lang, _("in force"), _("none recorded"))
        since = sorted(states.items(), key=lambda item: (item[1], item[0]))
        rows = [[state_label(code, c.lang), day.isoformat()] for code, day in since]
        return Figure(
            figure_id,
            _("States with a sex-trafficking law in force"),
            "map",
            src,
            c.today.isoformat(),
            _("Blue: a state with a sex-trafficking law in force on {date}.").format(date=c.today.isoformat()),
            headers=(_("State"), _("In force since")),
            chart=chart,
            rows=rows,
        )
    if figure_id == "laws_over_time":
        return _laws_over_time(c, law_list, "sex_trafficking", src)
    if figure_id == "laws_by_jurisdiction":
        ordered = sorted(law_list, key=lambda r: (r.get("jurisdiction") or "~", str(laws.in_force_since(r) or "")))
        rows = [
            [
                _jurisdiction(r, c),
                r.get("name"),
                ", ".join(kinds[k].label(c.lang) if k in kinds else k for k in r.all("law_kind")),
                str(laws.in_force_since(r) or ""),
                r.get("repealed_date"),
                r.get("source_title") or ", ".join(r.datasets),
            ]
            for r in ordered
        ]
        return Figure(
            figure_id,
            _("Laws by jurisdiction"),
            "records",
            src,
            headers=(_("Jurisdiction"), _("Law"), _("Kind of law"), _("In force since"), _("Repealed"), _("Source")),
            rows=rows,
        )
    if figure_id == "enforcement":
        src = c.sources.get("enforcement", ())
        ordered = sorted(outcomes, key=lambda r: (r.get("jurisdiction"), r.get("year"), r.get("measure")))
        rows = [
            [
                _jurisdiction(r, c),
                r.get("year")[:4],
                enum_label(c.schema, "EnforcementOutcome", "flow", r.get("flow"), c.lang),
                enum_label(c.schema, "EnforcementOutcome", "measure", r.get("measure"), c.lang),
                number(float(r.get("value") or 0), c.lang),
                r.get("source_title") or ", ".join(r.datasets),
            ]
            for r in ordered
        ]
        return Figure(
            figure_id,
            _("Enforcement outcomes as published"),
            "records",
            src,
            _("Figures as the agency or report published them, each with its source."),
            headers=(_("Jurisdiction"), _("Year"), _("Flow"), _("Measure"), _("Count"), _("Source")),
            rows=rows,
        )
    if figure_id == "programs":
        src = c.sources.get("programs", ())
        rows = [
            [
                r.get("name"),
                _jurisdiction(r, c),
                (number(float(r.get("amount")), c.lang) + " " + r.get("currency").upper()).strip()
                if r.get("amount")
                else "",
                years_span(r.get("start_date"), r.get("end_date")),
                r.get("purpose"),
                r.get("source_title") or ", ".join(r.datasets),
            ]
            for r in programs
        ]
        return Figure(
            figure_id,
            _("Programs and funding"),
            "records",
            src,
            headers=(_("Program"), _("Jurisdiction"), _("Amount"), _("Period"), _("Purpose"), _("Source")),
            rows=rows,
        )
    return None


def _laws_over_time(c: Context, law_list: Sequence[laws.Record], kind: str, src: tuple[Source, ...]) -> Figure:
    """How many states had a law of ``kind`` in force at the end of each year, from the first such
    law to this year, with the states whose law came into force (or went) that year."""
    _ = c.tr
    starts = [d.year for r in law_list if r.get("jurisdiction") and kind in r.all("law_kind")
              if (d := laws.in_force_since(r)) is not None]  # fmt: skip
    title = _("States with a sex-trafficking law in force, year by year")
    headers = (_("Year"), _("States"), _("Came into force"), _("Went out of force"))
    if not starts:
        return Figure("laws_over_time", title, "records", src, headers=headers)
    years = range(min(starts), c.today.year + 1)
    rows, cells, before = [], [], set[str]()
    for year in years:
        now = set(laws.jurisdictions_in_force(law_list, kind, date(year, 12, 31)))
        names = [
            ", ".join(sorted(state_label(code, c.lang) for code in codes)) for codes in (now - before, before - now)
        ]
        rows.append([str(year), str(len(now)), *names])
        cells.append(Cell(str(year), str(year), len(now)))
        before = now
    chart = charts.column_chart(Table(tuple(cells), None, 0))
    return Figure("laws_over_time", title, "columns", src, years_span(years[0], years[-1]), headers=headers,
                  chart=chart, rows=rows)  # fmt: skip


def _jurisdiction(record: laws.Record, c: Context) -> str:
    """A state by name; a federal record as its country, "(federal)"."""
    _ = c.tr
    code = record.get("jurisdiction")
    if code:
        return state_label(code, c.lang)
    country = record.get("country")
    if country:
        return _("{country} (federal)").format(country=country_label(country, c.lang))
    return enum_label(c.schema, "Law", "level", record.get("level") or "federal", c.lang)
