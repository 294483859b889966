"""A briefing from a flow dashboard: the firearms, drugs-and-violence or victim-statistics page's
figures, for one reader, in the report's language, as the same ``Briefing`` a case gives.

Each figure is the page's own (the same analyses, over the imports the reader may see), drawn as
an image (bars or a map) beside the table behind it, and names the imports it was computed from
(dataset, file, rows) and where in cruce its records are listed. The marking is the highest of the
datasets behind the figures (at least TLP:GREEN: a dashboard is not public). Victim statistics
keep the page's safe-disclosure rule: a cell below ``k`` records is shown as "< k", never as its
count, and no person's record is named.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from cruce.analyses import drugs, violence
from cruce.analyses.firearms import figures as ff
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.indicators import rules
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, score_purchasers
from cruce.analyses.geo import state_boundaries
from cruce.analyses.service import analysis, sources_of
from cruce.analyses.tables import Tables
from cruce.i18n import catalog, current_language
from cruce.people import kanon, stats
from cruce.reports.briefing import Briefing, _marking_of, tr
from cruce.reports.figures import BarFigure, MapFigure, bar_figure, map_figure
from cruce.schema import places
from cruce.security import Guard, Principal
from cruce.security.audit import now
from cruce.security.guard import caption
from cruce.security.policy import Marking

DASHBOARDS = ("firearms", "drugs-violence", "people")
"""The dashboards a briefing can be made from: /firearms, /drugs-violence, /people/statistics."""
FIREARMS_FEEDS = ("Trace", "FirearmPurchase", "FirearmRecovery", "BackgroundCheckCount")
TABLE_ROWS = 20
"""Rows of a figure's table in the report (the count of the others is said; the CSV has all)."""


def _(message: str) -> str:
    """Mark a message for the catalog; ``tr`` writes it in the report's language."""
    return message


@dataclass(frozen=True)
class SourceFile:
    """One import a figure was computed from."""

    dataset: str
    file: str
    rows: int
    imported: str


@dataclass(frozen=True)
class FigureBlock:
    """One figure of a dashboard: its image, the table behind it and its sources."""

    id: str
    title: str
    note: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more: int = 0
    bars: BarFigure | None = None
    map: MapFigure | None = None
    sources: tuple[SourceFile, ...] = ()
    records: str = ""  # where cruce lists the records behind it


@dataclass(frozen=True)
class DashboardAsk:
    """What a dashboard briefing is about: the page's filters (each dashboard reads its own)."""

    date_from: Any = None
    date_to: Any = None
    state: str | None = None
    firearm_type: str | None = None
    caliber: str | None = None
    year: int | None = None
    drug: str | None = None
    k: int = kanon.DEFAULT_K


class DashboardError(ValueError):
    """A dashboard that does not exist (the message is an English msgid)."""


T = TypeVar("T", bound=Tables)


# -- shared pieces --------------------------------------------------------------------------------------
def _held(guard: Guard, principal: Principal, kind: type[T]) -> Any:
    return analysis(guard.store, kind, guard.visible_imports(principal))


def _sources(guard: Guard, principal: Principal, schemas: Sequence[str]) -> tuple[SourceFile, ...]:
    found = sources_of(guard.imports(principal, limit=100_000), schemas)
    return tuple(SourceFile(s["dataset"], _basename(s["file"]), int(s["rows"] or 0), s["imported"]) for s in found)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f} %"


def _state(code: Any, lang: str) -> str:
    if not code:
        return "—"
    try:
        return f"{places.state_name(str(code), lang)} ({code})"
    except (KeyError, LookupError, ValueError):
        return str(code)


def _table(
    rows: Sequence[dict[str, Any]], cells: Callable[[dict[str, Any]], tuple[str, ...]]
) -> tuple[tuple[tuple[str, ...], ...], int]:
    shown = tuple(cells(r) for r in rows[:TABLE_ROWS])
    return shown, max(0, len(rows) - TABLE_ROWS)


def _link(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


def _briefing(
    guard: Guard,
    principal: Principal,
    lang: str,
    title: str,
    blocks: list[FigureBlock],
    summary: list[tuple[str, str]],
    description: str,
) -> Briefing:
    datasets = sorted({s.dataset for block in blocks for s in block.sources})
    b = Briefing(
        lang,
        "dashboard",
        title,
        tr("Dashboard briefing", lang),
        _marking_of(guard, set(datasets), Marking.GREEN),
        principal.username,
        principal.role.value,
        now(),
        description=description,
        datasets=datasets,
    )
    b.summary = [*summary, (tr("Datasets", lang), ", ".join(datasets) or "—")]
    b.dashboard = blocks
    return b


# -- firearms ---------------------------------------------------------------------------------------------
def firearms_briefing(guard: Guard, principal: Principal, ask: DashboardAsk, lang: str) -> Briefing:
    """The firearms dashboard's figures (as /firearms with the same filters) for ``principal``."""
    f = Filters(ask.date_from, ask.date_to, None, ask.state, ask.firearm_type, ask.caliber)
    held = _held(guard, principal, FirearmsData)
    data = held.data
    sources = _sources(guard, principal, FIREARMS_FEEDS)
    head = ff.summary(data, f)
    blocks = [
        _source_states(guard, data, f, lang, sources),
        _recovery_states(guard, data, f, lang, sources),
        _corridors(data, f, lang, sources),
        _time_to_crime(data, f, lang, sources),
        _types(data, f, lang, sources),
        _dealers(data, f, lang, sources),
        _completion(data, f, lang, sources),
        _leads(guard, principal, data, lang, sources),
    ]
    summary = [
        (tr("Traces", lang), _num(head["traces"])),
        (tr("Completed to a purchaser or dealer", lang), _pct(head["completed_share"])),
        (tr("Median time-to-crime (years)", lang), _num(head["median_ttc_years"])),
        (tr("Time-to-crime under 3 years", lang), _pct(head["ttc_under_3y_share"])),
        (tr("Purchaser is not the possessor", lang), _pct(head["purchaser_not_possessor_share"])),
        (tr("Obliterated serial numbers", lang), _pct(head["obliterated_share"])),
        (tr("Recovered between", lang), f"{head['first_recovery'] or '—'} — {head['last_recovery'] or '—'}"),
        (tr("Filters", lang), ", ".join(f"{k}={v}" for k, v in (head.get("filters") or {}).items()) or "—"),
    ]
    description = tr(
        "Guns traced from recoveries to their first retail sale: where they were bought, how fast they reached "
        "a crime, what kinds, and the purchasers whose records match straw-purchase indicators.",
        lang,
    )
    return _briefing(guard, principal, lang, tr("Firearms", lang), blocks, summary, description)


def _filters_link(path: str, f: Filters, **more: Any) -> str:
    return _link(
        path,
        **{
            "from": f.date_from,
            "to": f.date_to,
            "state": f.recovery_state,
            "type": f.firearm_type,
            "caliber": f.caliber,
        },
        **more,
    )


@dataclass(frozen=True)
class StateFigure:
    """What a figure of states drawn on a map says: its id, title and note, the count it shades the
    states by (column, label), and the table's last column (label, cell)."""

    id: str
    title: str
    note: str
    count: tuple[str, str]
    last: tuple[str, Callable[[dict[str, Any]], str]]


def _states_block(
    guard: Guard, rows: list[dict[str, Any]], country: str, what: StateFigure, lang: str,
    sources: tuple[SourceFile, ...], records: str,
) -> FigureBlock:  # fmt: skip
    """The states of ``country`` on a map shaded by ``what.count``, above the table of ``rows``."""
    (column, count_label), (label, cell) = what.count, what.last
    shown, more = _table(rows, lambda r: (_state(r["state"], lang), _num(r[column]), cell(r)))
    counts = {str(r["state"]): int(r[column] or 0) for r in rows if r["state"]}
    return FigureBlock(
        what.id, what.title, what.note, (tr("State", lang), count_label, label), shown, more,
        map=map_figure(state_boundaries(guard.db, (country,)), counts, lang), sources=sources, records=records,
    )  # fmt: skip


def _source_states(
    guard: Guard, data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]
) -> FigureBlock:
    what = StateFigure(
        "fig-sources", tr("US states of purchase", lang),
        tr("Traces by the state of first retail sale, and per 100,000 NICS background checks of that state.", lang),
        ("traces", tr("Traces", lang)), (tr("Per 100,000 checks", lang), lambda r: _num(r["per_100k_checks"])),
    )  # fmt: skip
    rows = ff.source_states(data, f, 60)
    return _states_block(guard, rows, "US", what, lang, sources, _filters_link("/firearms/records", f))


def _recovery_states(
    guard: Guard, data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]
) -> FigureBlock:
    what = StateFigure(
        "fig-recoveries", tr("States of recovery", lang),
        tr("Traced guns by the state where they were recovered.", lang),
        ("traces", tr("Traces", lang)), (tr("Traced to a purchaser", lang), lambda r: _pct(r["to_purchaser_share"])),
    )  # fmt: skip
    rows = ff.recovery_states(data, f, 60)
    return _states_block(guard, rows, "MX", what, lang, sources, _filters_link("/firearms/records", f))


def _corridors(data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    rows = ff.corridors(data, f, 100)
    shown, more = _table(
        rows,
        lambda r: (
            _state(r["source_state"], lang),
            _state(r["recovery_state"], lang),
            _num(r["traces"]),
            _pct(r["share"]),
            _num(r["median_ttc_days"]),
        ),
    )
    return FigureBlock(
        "fig-corridors",
        tr("Corridors: state of purchase to state of recovery", lang),
        tr("Each corridor with its traces and the median days from purchase to recovery.", lang),
        (
            tr("Bought in", lang),
            tr("Recovered in", lang),
            tr("Traces", lang),
            tr("Share", lang),
            tr("Median time-to-crime (days)", lang),
        ),
        shown,
        more,
        sources=sources,
        records=_filters_link("/firearms/records", f),
    )


def _time_to_crime(data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    bands = ff.time_to_crime(data, f)["bands"]
    shown, more = _table(bands, lambda r: (str(r["band"]), _num(r["traces"])))
    return FigureBlock(
        "fig-ttc",
        tr("Time-to-crime", lang),
        tr("Days from the first retail sale to the recovery; under three years is a trafficking indicator.", lang),
        (tr("Time-to-crime", lang), tr("Traces", lang)),
        shown,
        more,
        bars=bar_figure([(str(r["band"]), int(r["traces"])) for r in bands]),
        sources=sources,
        records=_filters_link("/firearms/records", f),
    )


def _types(data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    rows = ff.types_over_time(data, f)
    shown, more = _table(rows, lambda r: (str(r["year"]), str(r["type"]), _num(r["traces"]), _pct(r["share"])))
    totals: dict[str, int] = {}
    for r in rows:
        totals[str(r["type"])] = totals.get(str(r["type"]), 0) + int(r["traces"])
    return FigureBlock(
        "fig-types",
        tr("Firearm types by year of recovery", lang),
        tr("Traces by year of recovery and type.", lang),
        (tr("Year", lang), tr("Type", lang), tr("Traces", lang), tr("Share of the year", lang)),
        shown,
        more,
        bars=bar_figure(list(totals.items())),
        sources=sources,
        records=_filters_link("/firearms/records", f),
    )


def _dealers(data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    rows = ff.source_dealers(data, f, 50)
    shown, more = _table(
        rows,
        lambda r: (
            f"{r['dealer_name'] or ''} {r['dealer_ffl']}".strip(),
            str(r["state"] or "—"),
            _num(r["traces"]),
            _pct(r["short_ttc_share"]),
        ),
    )
    return FigureBlock(
        "fig-dealers",
        tr("Source dealers", lang),
        tr("Dealers of first retail sale by traces.", lang),
        (tr("Dealer", lang), tr("State", lang), tr("Traces", lang), tr("Time-to-crime under 3 years", lang)),
        shown,
        more,
        sources=sources,
        records=_filters_link("/firearms/records", f),
    )


def _completion(data: FirearmsData, f: Filters, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    rows = ff.completion(data, f)
    shown, more = _table(rows, lambda r: (str(r["status"]), _num(r["traces"]), _pct(r["share"])))
    return FigureBlock(
        "fig-completion",
        tr("Trace results", lang),
        tr("How far each trace got, and why others did not.", lang),
        (tr("Result", lang), tr("Traces", lang), tr("Share", lang)),
        shown,
        more,
        bars=bar_figure([(str(r["status"]), int(r["traces"])) for r in rows]),
        sources=sources,
        records=_filters_link("/firearms/records", f),
    )


def _leads(
    guard: Guard, principal: Principal, data: FirearmsData, lang: str, sources: tuple[SourceFile, ...]
) -> FigureBlock:
    leads = score_purchasers(data, threshold=DEFAULT_THRESHOLD, limit=TABLE_ROWS)
    labels = _rule_labels(lang)
    shown_people = guard.entities_by_id(principal, [lead.purchaser for lead in leads])
    rows = tuple(
        (
            caption(shown_people[lead.purchaser]) if lead.purchaser in shown_people else lead.purchaser,
            f"{lead.score:g}",
            "; ".join(
                f"+{flag.points:g} {labels.get(flag.indicator, flag.indicator)} (×{flag.count})" for flag in lead.flags
            ),
        )
        for lead in leads
    )
    return FigureBlock(
        "fig-leads",
        tr("Leads", lang),
        tr(
            "Purchasers at or above {n} points, each flag with its points. The score is guidance for an analyst, "
            "not a finding.",
            lang,
        ).format(n=int(DEFAULT_THRESHOLD)),
        (tr("Purchaser", lang), tr("Score", lang), tr("Flags", lang)),
        rows,
        sources=sources,
        records="/firearms/export/leads.csv",
    )


def _rule_labels(lang: str) -> dict[str, str]:
    """The indicators' labels in the report's language: ``rules()`` speaks the process's, so each
    label goes back to its English msgid and is translated from there (no switch of the process's
    language, which other requests share)."""
    back = {text: msgid for msgid, text in catalog(current_language()).items()}
    return {r.name: tr(back.get(r.label, r.label), lang) for r in rules()}


# -- drugs and violence ------------------------------------------------------------------------------------
def flows_briefing(guard: Guard, principal: Principal, ask: DashboardAsk, lang: str) -> Briefing:
    """The drugs-and-violence dashboard's figures (as /drugs-violence for that year and drug)."""
    v = _held(guard, principal, violence.ViolenceData)
    d = _held(guard, principal, drugs.DrugsData)
    vdata, ddata = v.data, d.data
    by_year = violence.homicides_by_state_year(vdata)
    whole = [r["year"] for r in by_year if r["months"] >= 12]
    year = ask.year or (max(whole) if whole else None)
    violence_sources = _sources(guard, principal, ("ViolenceEvent",))
    seizure_sources = _sources(guard, principal, ("DrugSeizure",))
    rate_sources = _sources(guard, principal, ("DrugSeizure", "CrossingCount"))
    homicides = [r for r in by_year if r["year"] == year]
    seizures = drugs.seizures_by_fiscal_year(ddata, ask.drug)
    blocks = [
        _homicides(guard, homicides, year, lang, violence_sources),
        _yoy(violence.year_over_year(vdata, year) if year else [], year, lang, violence_sources),
        _seizures(seizures, ask.drug, lang, seizure_sources),
        _rates(drugs.seizures_per_crossings(ddata, ask.drug), ask.drug, lang, rate_sources),
    ]
    summary = [
        (tr("Year", lang), str(year or "—")),
        (tr("Homicides in the year", lang), _num(sum(r["homicides"] or 0 for r in homicides))),
        (tr("Drug seizures", lang), _num(sum(r["events"] or 0 for r in seizures))),
        (tr("Kilograms seized", lang), _num(sum(r["kilograms"] or 0 for r in seizures))),
        (tr("Drug", lang), ask.drug or tr("all", lang)),
    ]
    description = tr(
        "Violence in Mexico by state and year, and drug seizures at the border by year, port and rate per "
        "crossing, each from the datasets named under it.",
        lang,
    )
    return _briefing(guard, principal, lang, tr("Drugs and violence", lang), blocks, summary, description)


def _homicides(
    guard: Guard, rows: list[dict[str, Any]], year: int | None, lang: str, sources: tuple[SourceFile, ...]
) -> FigureBlock:
    what = StateFigure(
        "fig-homicides", tr("Homicides by state, {year}", lang).format(year=year or "—"),
        tr("Homicides recorded by the official series, by state.", lang), ("homicides", tr("Homicides", lang)),
        (tr("Per 100,000 people", lang), lambda r: _num(r.get("rate_per_100k"))),
    )  # fmt: skip
    ordered = sorted(rows, key=lambda r: -(r["homicides"] or 0))
    records = _link("/drugs-violence/records", figure="homicides", year=year)
    return _states_block(guard, ordered, "MX", what, lang, sources, records)


def _yoy(rows: list[dict[str, Any]], year: int | None, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    ordered = sorted(rows, key=lambda r: -abs(r["change"] or 0))
    shown, more = _table(
        ordered, lambda r: (_state(r["state"], lang), _num(r["previous"]), _num(r["homicides"]), _num(r["change"]))
    )
    return FigureBlock(
        "fig-yoy",
        tr("Change from the year before, {year}", lang).format(year=year or "—"),
        tr("States with the largest rise or fall in homicides.", lang),
        (tr("State", lang), tr("Year before", lang), tr("Homicides", lang), tr("Change", lang)),
        shown,
        more,
        sources=sources,
        records=_link("/drugs-violence/records", figure="homicides", year=year),
    )


def _seizures(rows: list[dict[str, Any]], drug: str | None, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    totals: dict[str, int] = {}
    for r in rows:
        totals[str(r["fiscal_year"])] = totals.get(str(r["fiscal_year"]), 0) + int(r["events"] or 0)
    shown, more = _table(
        rows, lambda r: (str(r["fiscal_year"]), str(r["drug"] or "—"), _num(r["events"]), _num(r["kilograms"]))
    )
    return FigureBlock(
        "fig-seizures",
        tr("Drug seizures by fiscal year", lang),
        tr("Seizure events and kilograms by drug.", lang),
        (tr("Fiscal year", lang), tr("Drug", lang), tr("Seizures", lang), tr("Kilograms", lang)),
        shown,
        more,
        bars=bar_figure(list(totals.items())),
        sources=sources,
        records=_link("/drugs-violence/records", figure="seizures", drug=drug),
    )


def _rates(rows: list[dict[str, Any]], drug: str | None, lang: str, sources: tuple[SourceFile, ...]) -> FigureBlock:
    flagged = sorted(rows, key=lambda r: (not r.get("outlier"), -(r.get("events_per_million") or 0)))
    shown, more = _table(
        flagged,
        lambda r: (
            f"{r.get('port_name') or r.get('port_code') or '—'} ({r.get('year')})",
            _num(r.get("events")),
            _num(r.get("crossings")),
            _num(r.get("events_per_million")),
            tr("yes", lang) if r.get("outlier") else "",
        ),
    )
    return FigureBlock(
        "fig-rates",
        tr("Seizures per million crossings, by port and year", lang),
        tr("Ports whose rate lies far from the others are flagged as outliers.", lang),
        (
            tr("Port", lang),
            tr("Seizures", lang),
            tr("Crossings", lang),
            tr("Per million crossings", lang),
            tr("Outlier", lang),
        ),
        shown,
        more,
        sources=sources,
        records=_link("/drugs-violence/records", figure="seizures", drug=drug),
    )


# -- victim statistics -------------------------------------------------------------------------------------
def people_briefing(guard: Guard, principal: Principal, ask: DashboardAsk, lang: str) -> Briefing:
    """The victim statistics page's counts; every cell below ``ask.k`` shown as "< k"."""
    held = _held(guard, principal, stats.CaseData)
    data = held.data
    k = max(2, ask.k)
    sources = _sources(guard, principal, ("TraffickingCase",))
    total = stats.total(data)
    years = stats.counts(data, ["year"])
    blocks = [
        _counts_block("fig-years", tr("Victim records by year", lang), "year", years, k, lang, sources),
        _counts_block(
            "fig-exploitation",
            tr("Victim records by exploitation type", lang),
            "exploitation_type",
            stats.counts(data, ["exploitation_type"]),
            k,
            lang,
            sources,
            guard=guard,
        ),
        _counts_block(
            "fig-gender",
            tr("Victim records by gender", lang),
            "gender",
            stats.counts(data, ["gender"]),
            k,
            lang,
            sources,
            guard=guard,
        ),
        _counts_block(
            "fig-age",
            tr("Victim records by age band", lang),
            "age_band",
            stats.counts(data, ["age_band"]),
            k,
            lang,
            sources,
            guard=guard,
        ),
    ]
    summary = [
        (tr("Victim records", lang), _safe(total, k)),
        (tr("Smallest count shown", lang), str(k)),
    ]
    description = tr(
        "Victim records in the shape of the CTDC data, aggregates only: no person is named, and every count "
        'below {k} is shown as "< {k}".',
        lang,
    ).format(k=k)
    return _briefing(guard, principal, lang, tr("Victim statistics", lang), blocks, summary, description)


def _safe(count: int, k: int) -> str:
    return f"< {k}" if 0 < count < k else _num(count)


def _counts_block(
    block_id: str,
    title: str,
    dimension: str,
    rows: list[dict[str, Any]],
    k: int,
    lang: str,
    sources: tuple[SourceFile, ...],
    guard: Guard | None = None,
) -> FigureBlock:
    def label(value: Any) -> str:
        if value is None or value == stats.NOT_STATED:
            return tr("not stated", lang)
        props = {**stats.SINGLE, **stats.MULTI}.get(dimension)
        if guard is None or not props:
            return str(value)
        from cruce.web.views import value_display

        return value_display(guard.schema, "TraffickingCase", props[0], str(value), lang)

    ordered = sorted(rows, key=lambda r: (-r["records"], str(r[dimension]))) if dimension != "year" else rows
    shown, more = _table(ordered, lambda r: (label(r[dimension]), _safe(int(r["records"]), k)))
    safe_bars = [(label(r[dimension]), int(r["records"])) for r in ordered if int(r["records"]) >= k]
    return FigureBlock(
        block_id,
        title,
        tr('Cells below {k} records are shown as "< {k}" and left out of the chart.', lang).format(k=k),
        (tr("Value", lang), tr("Records", lang)),
        shown,
        more,
        bars=bar_figure(safe_bars),
        sources=sources,
        records="/people/statistics",
    )


BUILDERS: dict[str, Callable[[Guard, Principal, DashboardAsk, str], Briefing]] = {
    "firearms": firearms_briefing,
    "drugs-violence": flows_briefing,
    "people": people_briefing,
}


def dashboard_briefing(guard: Guard, principal: Principal, dashboard: str, ask: DashboardAsk, lang: str) -> Briefing:
    """The briefing of one dashboard (``DASHBOARDS``) for ``principal``, in ``lang``."""
    try:
        build = BUILDERS[dashboard]
    except KeyError:
        raise DashboardError(_("No dashboard {name}: firearms, drugs-violence or people.")) from None
    return build(guard, principal, ask, lang)
