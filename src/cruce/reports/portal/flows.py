"""The figures of the three flows' pages, computed by the flows' own analyses over the published
imports and passed through the small-cell rules: victim records (``cruce.people.stats``, first
through ``cruce.people.kanon``), drug seizures and violence (``cruce.analyses.drugs``,
``violence``), firearm traces (``cruce.analyses.firearms``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cruce.people import kanon
from cruce.reports.portal import charts
from cruce.reports.portal.disclosure import publishable, suppress
from cruce.reports.portal.figures import (
    Context,
    Figure,
    country_label,
    enum_label,
    number,
    percent,
    state_label,
    years_span,
)


def _(message: str) -> str:
    return message


# -- people -------------------------------------------------------------------------------------------
PEOPLE_DIMENSIONS = {
    "victims_by_year": "year",
    "victims_by_exploitation_type": "exploitation_type",
    "victims_by_gender": "gender",
    "victims_by_age_band": "age_band",
    "victims_by_citizenship": "citizenship",
}
PEOPLE_TITLES = {
    "victims_by_year": _("Victim records by year of registration"),
    "victims_by_exploitation_type": _("Victim records by type of exploitation"),
    "victims_by_gender": _("Victim records by gender"),
    "victims_by_age_band": _("Victim records by age band"),
    "victims_by_citizenship": _("Victim records by citizenship"),
}

LEVELS = {
    "2-year period": _("two-year periods"),
    "5-year period": _("five-year periods"),
    "wider band": _("wider age bands"),
    "minor or adult": _("minor or adult"),
    "sub-region": _("world sub-regions"),
    "region": _("world regions"),
    "family": _("families of exploitation (sexual, labour, other)"),
    "any": _("all together: any finer count would single people out"),
}
"""``cruce.people.kanon``'s generalisation levels, as the note under a figure says them."""

FAMILIES = {
    "sexual": _("sexual exploitation, all kinds"),
    "labour": _("labour exploitation, all kinds"),
    "other": _("other exploitation"),
}
"""The families ``cruce.people.kanon`` generalises exploitation types to."""


def _case_data(c: Context) -> Any:
    from cruce.people.stats import CaseData

    return c.held("cases", lambda: CaseData.load(c.store, c.imports))


def _generalised_label(c: Context, dim: str, value: Any) -> str:
    _ = c.tr
    if value is None:
        return _("not stated")
    if value == kanon.ANY:
        return _("all")
    if dim == "age_band" and value in ("minor", "adult"):
        return enum_label(c.schema, "TraffickingCase", "majority_status", value, c.lang)
    if dim == "exploitation_type" and value in FAMILIES:
        return _(FAMILIES[value])
    if dim == "age_band" and value in kanon.AGE_WIDER.values():
        return _("{band} years").format(band=value)
    prop = {"year": "year_of_registration"}.get(dim, dim)
    return enum_label(c.schema, "TraffickingCase", prop, value, c.lang)


def _order(c: Context, dim: str) -> Callable[[tuple[str, str, int, str]], tuple[int, int, str]]:
    """How a people table is ordered: years in time, codes as the schema lists them (age bands
    youngest first), anything else largest first; values not stated last."""
    spec = c.schema.get("TraffickingCase").properties.get(dim)
    codes = list(c.schema.enums[spec.enum].values) if spec and spec.enum in c.schema.enums else []

    def key(cell: tuple[str, str, int, str]) -> tuple[int, int, str]:
        value, _label, n, _extra = cell
        if value == "None":
            return (2, 0, "")
        if dim == "year":
            return (0, 0, value)
        return (0, codes.index(value), value) if value in codes else (1, -n, value)

    return key


def people_figure(c: Context, figure_id: str) -> Figure | None:
    _ = c.tr
    from cruce.people import stats

    data = _case_data(c)
    total = stats.total(data)
    src = c.sources.get("people", ())
    years = data.one("SELECT min(year) AS lo, max(year) AS hi FROM cases")
    period = years_span(years.get("lo"), years.get("hi"))
    if figure_id == "victims_total":
        shown = number(total, c.lang) if total >= c.k else _("fewer than {k}").format(k=c.k)
        return Figure(
            figure_id,
            _("Victim records"),
            "headline",
            src,
            period,
            _("Each record is one victim, de-identified, in the shape of the CTDC data."),
            headline=[(_("Victim records"), shown)],
        )
    if figure_id == "map_country_of_exploitation":
        rows = stats.counts(data, ["country_of_exploitation"])
        cells = [
            (
                str(r["country_of_exploitation"]),
                country_label(str(r["country_of_exploitation"]), c.lang),
                int(r["records"]),
                "",
            )
            for r in rows
            if r["country_of_exploitation"]
        ]
        table = suppress(cells, c.k)
        chart = charts.state_map(c.boundaries, table, c.lang, _("fewer than {k}").format(k=c.k), by_country=True)
        return Figure(
            figure_id,
            _("Victim records by country of exploitation"),
            "map",
            src,
            period,
            _("The US and Mexico, each shaded as a whole."),
            table=table,
            headers=(_("Country"), _("Victim records")),
            chart=chart,
        )
    dim = PEOPLE_DIMENSIONS.get(figure_id)
    if dim is None:
        return None
    released = kanon.release(data.records([dim]), [dim], c.k)
    rows = [*released.rows, *released.report.get("suppressed", [])]
    cells = [(str(r[dim]), _generalised_label(c, dim, r[dim]), int(r["records"]), "") for r in rows]
    cells.sort(key=_order(c, dim))
    table = suppress(cells, c.k, total)
    drawn: Any = charts.column_chart(table) if dim == "year" else charts.bar_chart(table)
    level = released.report["levels"][dim]
    note = _("Generalised to: {level}.").format(level=_(LEVELS[level])) if level in LEVELS else ""
    prop = {"year": "year_of_registration"}.get(dim, dim)
    header = c.schema.get("TraffickingCase").properties[prop].label.get(c.lang)
    return Figure(
        figure_id,
        _(PEOPLE_TITLES[figure_id]),
        "columns" if dim == "year" else "bars",
        src,
        period,
        note,
        table=table,
        headers=(header, _("Victim records")),
        chart=drawn,
    )


# -- drugs and violence -------------------------------------------------------------------------------
def drugs_figure(c: Context, figure_id: str) -> Figure | None:
    _ = c.tr
    from cruce.analyses import drugs, violence

    data = c.held("drugs", lambda: drugs.DrugsData.load(c.store, c.imports))
    src = c.sources.get("seizures", ())
    years = data.one("SELECT min(fiscal_year) AS lo, max(fiscal_year) AS hi FROM seizures")
    period = years_span(years.get("lo"), years.get("hi"))
    if figure_id == "seizures_total":
        row = data.one("SELECT sum(events) AS events, sum(pounds) AS pounds FROM seizures")
        events = int(row.get("events") or 0)
        pairs = [(_("Seizure events"), number(events, c.lang) if events >= c.k else _("fewer than {k}").format(k=c.k))]
        if events >= c.k and row.get("pounds"):
            pairs.append((_("Kilograms seized"), number(float(row["pounds"]) * drugs.KG_PER_LB, c.lang)))
        return Figure(
            figure_id,
            _("Drug seizures"),
            "headline",
            src,
            period,
            _("Fiscal years run from October to September, as CBP counts them."),
            headline=pairs,
        )
    if figure_id == "seizures_by_drug":
        rows = drugs.seizures_by(data, "drug")
        cells = [
            (
                str(r["drug"]),
                enum_label(c.schema, "DrugSeizure", "drug", r["drug"], c.lang) if r["drug"] else _("not stated"),
                int(r["events"] or 0),
                number(float(r["kilograms"] or 0), c.lang),
            )
            for r in rows
        ]
        table = suppress(cells, c.k)
        return Figure(
            figure_id,
            _("Seizure events by drug"),
            "bars",
            src,
            period,
            table=table,
            headers=(_("Drug"), _("Seizure events"), _("Kilograms")),
            chart=charts.bar_chart(table),
        )
    if figure_id == "seizures_by_year":
        rows = data.rows(
            "SELECT fiscal_year, sum(events) AS events FROM seizures WHERE fiscal_year IS NOT NULL "
            "GROUP BY 1 ORDER BY 1"
        )
        table = suppress([(str(r["fiscal_year"]), str(r["fiscal_year"]), int(r["events"] or 0), "") for r in rows], c.k)
        return Figure(
            figure_id,
            _("Seizure events by fiscal year"),
            "columns",
            src,
            period,
            table=table,
            headers=(_("Fiscal year"), _("Seizure events")),
            chart=charts.column_chart(table),
        )
    src = c.sources.get("violence", ())
    vdata = c.held("violence", lambda: violence.ViolenceData.load(c.store, c.imports))
    official = vdata.rows(
        "SELECT year, state, sum(killed) AS n FROM events WHERE violence_type = 'homicide' "
        "AND source = 'INEGI' AND state IS NOT NULL GROUP BY 1, 2"
    )
    if official:
        what, unit = _("Homicides (INEGI)"), _("Homicides")
    else:
        official = vdata.rows(
            "SELECT year, state, count(*) AS n FROM events WHERE violence_type NOT IN "
            "('homicide', 'execution') GROUP BY 1, 2"
        )
        what, unit = _("Violence events recorded"), _("Events")
    vyears = [r["year"] for r in official if r["year"] is not None]
    vperiod = years_span(min(vyears, default=""), max(vyears, default=""))
    if figure_id == "map_violence_by_state":
        by_state: dict[str, int] = {}
        for r in official:
            if r["state"]:
                by_state[str(r["state"])] = by_state.get(str(r["state"]), 0) + int(r["n"] or 0)
        table = suppress([(s, state_label(s, c.lang), n, "") for s, n in sorted(by_state.items())], c.k)
        chart = charts.state_map(c.boundaries, table, c.lang, _("fewer than {k}").format(k=c.k))
        return Figure(
            figure_id,
            what + " · " + _("by state"),
            "map",
            src,
            vperiod,
            table=table,
            headers=(_("State"), unit),
            chart=chart,
        )
    if figure_id == "violence_by_year":
        by_year: dict[int, int] = {}
        for r in official:
            if r["year"] is not None:
                by_year[int(r["year"])] = by_year.get(int(r["year"]), 0) + int(r["n"] or 0)
        table = suppress([(str(y), str(y), n, "") for y, n in sorted(by_year.items())], c.k)
        return Figure(
            figure_id,
            what + " · " + _("by year"),
            "columns",
            src,
            vperiod,
            table=table,
            headers=(_("Year"), unit),
            chart=charts.column_chart(table),
        )
    return None


# -- firearms -----------------------------------------------------------------------------------------
def firearms_figure(c: Context, figure_id: str) -> Figure | None:
    _ = c.tr
    from cruce.analyses.firearms import figures as ff
    from cruce.analyses.firearms.data import Filters, FirearmsData

    data = c.held("firearms", lambda: FirearmsData.load(c.store, c.imports))
    src = c.sources.get("firearms", ())
    s = c.held("firearms-summary", lambda: ff.summary(data, Filters()))
    period = years_span(s.get("first_recovery"), s.get("last_recovery"))
    if figure_id == "traces_total":
        traces = int(s["traces"] or 0)
        small = _("fewer than {k}").format(k=c.k)
        pairs = [(_("Firearms traced"), number(traces, c.lang) if traces >= c.k else small)]
        if publishable(traces, c.k) and s["to_purchaser_share"] is not None:
            pairs.append((_("Traced to a first retail purchaser"), percent(s["to_purchaser_share"], c.lang)))
        if publishable(s["with_ttc"], c.k) and s["median_ttc_years"] is not None:
            pairs.append((_("Median time from purchase to recovery (years)"), number(s["median_ttc_years"], c.lang, 1)))
        if publishable(s["both_known"], c.k) and s["purchaser_not_possessor_share"] is not None:
            pairs.append((_("Purchaser is not the possessor"), percent(s["purchaser_not_possessor_share"], c.lang)))
        if publishable(traces, c.k) and s["obliterated_share"] is not None:
            pairs.append((_("Serial number obliterated"), percent(s["obliterated_share"], c.lang)))
        return Figure(
            figure_id,
            _("Firearms recovered and traced"),
            "headline",
            src,
            period,
            _("A share or a median is published only when it is computed over at least {k} traces.").format(k=c.k),
            headline=pairs,
        )
    if figure_id == "time_to_crime":
        bands = ff.time_to_crime(data, Filters())["bands"]
        table = suppress([(b["band"], b["band"], int(b["traces"]), "") for b in bands], c.k)
        return Figure(
            figure_id,
            _("Time from purchase to recovery (years)"),
            "columns",
            src,
            period,
            table=table,
            headers=(_("Years"), _("Traces")),
            chart=charts.column_chart(table),
        )
    if figure_id in ("map_recovery_states", "recovery_states"):
        rows = ff.recovery_states(data, Filters(), limit=200)
        table = suppress(
            [(str(r["state"]), state_label(str(r["state"]), c.lang), int(r["traces"]), "") for r in rows], c.k
        )
        if figure_id == "recovery_states":
            return Figure(
                figure_id,
                _("Traced firearms by state of recovery"),
                "bars",
                src,
                period,
                table=table,
                headers=(_("State"), _("Traces")),
                chart=charts.bar_chart(table),
            )
        chart = charts.state_map(c.boundaries, table, c.lang, _("fewer than {k}").format(k=c.k))
        return Figure(
            figure_id,
            _("Where traced firearms were recovered"),
            "map",
            src,
            period,
            table=table,
            headers=(_("State"), _("Traces")),
            chart=chart,
        )
    if figure_id == "source_states":
        rows = ff.source_states(data, Filters(), limit=200)
        table = suppress(
            [(str(r["state"]), state_label(str(r["state"]), c.lang), int(r["traces"]), "") for r in rows], c.k
        )
        return Figure(
            figure_id,
            _("Traced firearms by US state of first retail purchase"),
            "bars",
            src,
            period,
            table=table,
            headers=(_("State"), _("Traces")),
            chart=charts.bar_chart(table),
        )
    return None
