"""The figures of the portal's pages, computed by the flows' own analyses over the published
datasets, each passed through the small-cell rules (``disclosure``) and carrying its sources.

Aggregates only: every table is a count by a code, a state, a country or a year; no record,
name or identifier is read into a figure. Victim records go through ``cruce.people.kanon``
before anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cruce.people import kanon
from cruce.reports.portal import charts, laws
from cruce.reports.portal.disclosure import Cell, Table, publishable, suppress
from cruce.schema import places
from cruce.schema.model import PropertyType, Schema

Tr = Callable[[str], str]


def _(message: str) -> str:
    return message


FLOW_SCHEMAS = {
    "people": ("TraffickingCase",),
    "seizures": ("DrugSeizure",),
    "violence": ("ViolenceEvent",),
    "firearms": ("Trace", "FirearmRecovery"),
    "laws": ("Law",),
    "enforcement": ("EnforcementOutcome",),
    "programs": ("Program",),
}


@dataclass(frozen=True)
class Source:
    dataset: str
    imported: str  # YYYY-MM-DD of its latest import


@dataclass
class Figure:
    """One figure of a page: a headline, a chart or map with its data as a table, or a list of records."""

    id: str
    title: str
    kind: str  # headline | columns | bars | map | records
    sources: tuple[Source, ...] = ()
    period: str = ""
    note: str = ""
    headline: list[tuple[str, str]] = field(default_factory=list)
    table: Table | None = None
    headers: tuple[str, ...] = ()  # key, count (and extra) columns of ``table``; columns of ``rows``
    chart: Any = None
    rows: list[list[str]] = field(default_factory=list)  # records (laws), no count among them


@dataclass
class Context:
    """What every figure needs: the store, the imports published, k, the reader's language."""

    store: Any
    schema: Schema
    imports: list[int]
    sources: dict[str, tuple[Source, ...]]  # flow -> datasets its figures were computed from
    datasets: tuple[str, ...]
    k: int
    lang: str
    tr: Tr
    boundaries: dict[str, Any]
    today: date
    cache: dict[str, Any] = field(default_factory=dict)
    days: dict[str, str] = field(default_factory=dict)  # dataset -> day of its latest import

    def held(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()`` once for the whole publication (both languages read the same tables)."""
        if name not in self.cache:
            self.cache[name] = make()
        return self.cache[name]


def enum_label(schema: Schema, type_name: str, prop: str, value: Any, lang: str) -> str:
    """A code as its label in ``lang`` (countries and states by name); anything else as it is."""
    text = str(value)
    stype = schema.types.get(type_name)
    spec = stype.properties.get(prop) if stype else None
    try:
        if spec is not None and spec.type is PropertyType.ENUM and spec.enum in schema.enums:
            code = schema.enums[spec.enum].values.get(text)
            return code.label(lang) if code else text
        if spec is not None and spec.type is PropertyType.COUNTRY:
            return places.country_name(text, lang)
        if spec is not None and spec.type is PropertyType.STATE:
            return places.state_name(text, lang)
    except (KeyError, LookupError, ValueError):
        return text
    return text


def state_label(code: str, lang: str) -> str:
    try:
        return places.state_name(code, lang)
    except (KeyError, LookupError, ValueError):
        return code


def number(n: float | int, lang: str, digits: int = 0) -> str:
    """A number as the reader writes it (1,234.5 in English, 1.234,5 in Spanish)."""
    text = f"{n:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,")) if lang == "es" else text


def _share(x: float, lang: str) -> str:
    return number(100 * x, lang, 1) + " %"


def _period(first: Any, last: Any) -> str:
    first, last = str(first or "")[:4], str(last or "")[:4]
    return first if first == last else f"{first}–{last}" if first and last else ""


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


def _case_data(c: Context) -> Any:
    from cruce.people.stats import CaseData

    return c.held("cases", lambda: CaseData.load(c.store, c.imports))


def _generalised_label(c: Context, dim: str, value: Any) -> str:
    _ = c.tr
    if value is None:
        return _("not stated")
    if value == kanon.ANY:
        return _("all")
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
    period = _period(years.get("lo"), years.get("hi"))
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
                _country(str(r["country_of_exploitation"]), c.lang),
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


def _country(code: str, lang: str) -> str:
    try:
        return places.country_name(code, lang)
    except (KeyError, LookupError, ValueError):
        return code


# -- drugs and violence -------------------------------------------------------------------------------
def drugs_figure(c: Context, figure_id: str) -> Figure | None:
    _ = c.tr
    from cruce.analyses import drugs, violence

    data = c.held("drugs", lambda: drugs.DrugsData.load(c.store, c.imports))
    src = c.sources.get("seizures", ())
    years = data.one("SELECT min(fiscal_year) AS lo, max(fiscal_year) AS hi FROM seizures")
    period = _period(years.get("lo"), years.get("hi"))
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
    vperiod = _period(min(vyears, default=""), max(vyears, default=""))
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
    period = _period(s.get("first_recovery"), s.get("last_recovery"))
    if figure_id == "traces_total":
        traces = int(s["traces"] or 0)
        small = _("fewer than {k}").format(k=c.k)
        pairs = [(_("Firearms traced"), number(traces, c.lang) if traces >= c.k else small)]
        if publishable(traces, c.k) and s["to_purchaser_share"] is not None:
            pairs.append((_("Traced to a first retail purchaser"), _share(s["to_purchaser_share"], c.lang)))
        if publishable(s["with_ttc"], c.k) and s["median_ttc_years"] is not None:
            pairs.append((_("Median time from purchase to recovery (years)"), number(s["median_ttc_years"], c.lang, 1)))
        if publishable(s["both_known"], c.k) and s["purchaser_not_possessor_share"] is not None:
            pairs.append((_("Purchaser is not the possessor"), _share(s["purchaser_not_possessor_share"], c.lang)))
        if publishable(traces, c.k) and s["obliterated_share"] is not None:
            pairs.append((_("Serial number obliterated"), _share(s["obliterated_share"], c.lang)))
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


# -- a configured count -------------------------------------------------------------------------------
def count_figure(c: Context, type_name: str, by: str) -> Figure:
    """Records of ``type_name`` by the property ``by`` (checked by the configuration: a code, a
    state, a country or a date, never protected), over the published imports."""
    _ = c.tr
    spec = c.schema.get(type_name).properties[by]
    numbers = ", ".join(str(int(n)) for n in c.imports) or "NULL"
    value = "substr(s.value, 1, 4)" if spec.type is PropertyType.DATE else "s.value"
    rows = c.store._fetch(
        f"SELECT {value} AS v, count(DISTINCT s.entity_id) FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        f"WHERE p.schema = ? AND p.prop = ? AND s.import_no IN ({numbers}) GROUP BY 1 ORDER BY 1",
        (type_name, by),
    )
    cells = [
        (
            str(v),
            str(v) if spec.type is PropertyType.DATE else enum_label(c.schema, type_name, by, v, c.lang),
            int(n),
            "",
        )
        for v, n in rows
        if v
    ]
    table = suppress(cells, c.k)
    stype = c.schema.get(type_name)
    title = f"{stype.plural.get(c.lang)} · {spec.label.get(c.lang)}"
    return Figure(
        f"count-{type_name}-{by}",
        title,
        "bars",
        _sources_of(c, type_name),
        table=table,
        headers=(spec.label.get(c.lang), _("Records")),
        chart=charts.bar_chart(table),
    )


def _sources_of(c: Context, type_name: str) -> tuple[Source, ...]:
    """The published datasets holding records of ``type_name``, with their dates."""
    rows = c.store._fetch(
        "SELECT DISTINCT r.dataset FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "JOIN import_run r ON r.no = s.import_no WHERE p.schema = ? ORDER BY 1",
        (type_name,),
    )
    return tuple(Source(str(d), c.days.get(str(d), "")) for (d,) in rows if d in c.datasets)


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
                _period(r.get("start_date"), r.get("end_date")),
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
    return Figure("laws_over_time", title, "columns", src, _period(years[0], years[-1]), headers=headers,
                  chart=chart, rows=rows)  # fmt: skip


def _jurisdiction(record: laws.Record, c: Context) -> str:
    """A state by name; a federal record as its country, "(federal)"."""
    _ = c.tr
    code = record.get("jurisdiction")
    if code:
        return state_label(code, c.lang)
    country = record.get("country")
    if country:
        return _("{country} (federal)").format(country=_country(country, c.lang))
    return enum_label(c.schema, "Law", "level", record.get("level") or "federal", c.lang)


BUILDERS: dict[str, Callable[[Context, str], Figure | None]] = {
    "people": people_figure,
    "drugs": drugs_figure,
    "firearms": firearms_figure,
    "laws": laws_figure,
}


def page_figures(c: Context, page: str, wanted: Sequence[str]) -> list[Figure]:
    """The figures of ``page`` in the configured order (those with no data left out)."""
    built = (BUILDERS[page](c, figure_id) for figure_id in wanted)
    return [f for f in built if f is not None]
