"""The figures of the laws page: laws in force by kind, the map and the year-by-year count of states
with a sex-trafficking law in force, every law by jurisdiction, enforcement outcomes and programs
as their sources published them (public records: not suppressed, each with its source), and the
published figures beside what the records compute (the seed check of issue #12).

Every legal figure is a question of ``cruce.legal.questions`` (or ``claims.check``) over the legal
records of the published imports: "in force" has one rule in cruce, written there, and the portal
shows what the CLI, the API and the pages answer.
"""

from __future__ import annotations

from typing import Any

from cruce.legal import claims as legal_claims
from cruce.legal import questions
from cruce.legal.records import FEDERAL, STATE, LegalData
from cruce.reports.portal import charts
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

MAP_KIND = "sex_trafficking"


def legal_data(c: Context) -> LegalData:
    """The legal records of the published imports, read once for the whole publication."""
    data: LegalData = c.held("legal", lambda: LegalData.load(c.store, c.imports))
    return data


def laws_figure(c: Context, figure_id: str) -> Figure | None:
    builder = _BUILDERS.get(figure_id)
    return builder(c, legal_data(c)) if builder else None


def _kind_label(c: Context, code: str) -> str:
    value = c.schema.enums["law_kind"].values.get(code)
    return value.label(c.lang) if value else code


def _in_force_note(c: Context) -> str:
    _ = c.tr
    return _(
        "A law known only by its year or month counts as in force from the end of that year or month, "
        "and a repeal from its start."
    )


def _laws_in_force(c: Context, data: LegalData) -> Figure:
    _ = c.tr
    rows = []
    for code in c.schema.enums["law_kind"].values:
        found = questions.in_force(data, code, c.today, level=STATE)
        us = sum(1 for r in found if r["country"] == "US")
        mx = sum(1 for r in found if r["country"] == "MX")
        rows.append([_kind_label(c, code), str(us), str(mx)])
    return Figure(
        "laws_in_force",
        _("States with a law in force today, by kind"),
        "records",
        c.sources.get("laws", ()),
        c.today.isoformat(),
        _("US states and Mexican states (Mexico City counted as a state).") + " " + _in_force_note(c),
        headers=(_("Kind of law"), _("US states"), _("Mexican states")),
        rows=rows,
    )


def _map(c: Context, data: LegalData) -> Figure:
    _ = c.tr
    found = questions.in_force(data, MAP_KIND, c.today, level=STATE)
    codes = [r["jurisdiction"] for r in found]
    chart = charts.binary_map(c.boundaries, sorted(codes), c.lang, _("in force"), _("none recorded"))
    since = sorted(found, key=lambda r: (r["since"], r["jurisdiction"]))
    return Figure(
        "map_sex_trafficking_law",
        _("States with a sex-trafficking law in force"),
        "map",
        c.sources.get("laws", ()),
        c.today.isoformat(),
        _("Blue: a state with a sex-trafficking law in force on {date}.").format(date=c.today.isoformat())
        + " "
        + _in_force_note(c),
        headers=(_("State"), _("In force since")),
        chart=chart,
        rows=[[state_label(r["jurisdiction"], c.lang), r["since"]] for r in since],
    )


def _laws_over_time(c: Context, data: LegalData) -> Figure:
    """How many states had a sex-trafficking law in force each year (``questions.in_force_by_year``:
    on 31 December, today for this year), with the states that came into force or went that year."""
    _ = c.tr
    title = _("States with a sex-trafficking law in force, year by year")
    headers = (_("Year"), _("States"), _("Came into force"), _("Went out of force"))
    src = c.sources.get("laws", ())
    if not questions.laws(data, kind=MAP_KIND, level=STATE):
        return Figure("laws_over_time", title, "records", src, headers=headers)
    series = questions.in_force_by_year(data, MAP_KIND, level=STATE, today=c.today)
    rows, cells, before = [], [], set[str]()
    for year in series:
        now = set(year["jurisdictions"])
        names = [
            ", ".join(sorted(state_label(code, c.lang) for code in codes)) for codes in (now - before, before - now)
        ]
        rows.append([str(year["year"]), str(year["count"]), *names])
        cells.append(Cell(str(year["year"]), str(year["year"]), int(year["count"])))
        before = now
    note = _("Counted on 31 December of each year, and on {date} for this year.").format(date=c.today.isoformat())
    return Figure(
        "laws_over_time",
        title,
        "columns",
        src,
        years_span(series[0]["year"], series[-1]["year"]),
        note + " " + _in_force_note(c),
        headers=headers,
        chart=charts.column_chart(Table(tuple(cells), None, 0)),
        rows=rows,
    )


def _laws_by_jurisdiction(c: Context, data: LegalData) -> Figure:
    _ = c.tr
    rows = [
        [
            _jurisdiction(c, r["jurisdiction"], r["level"]),
            r.get("name") or r.get("citation") or "",
            ", ".join(_kind_label(c, k) for k in r.get("law_kind", [])),
            r["in_force_since"] or "",
            r["repealed"] or "",
            _titles(r, data),
        ]
        for r in questions.laws(data)
    ]
    return Figure(
        "laws_by_jurisdiction",
        _("Laws by jurisdiction"),
        "records",
        c.sources.get("laws", ()),
        note=_in_force_note(c),
        headers=(_("Jurisdiction"), _("Law"), _("Kind of law"), _("In force since"), _("Repealed"), _("Source")),
        rows=rows,
    )


def _enforcement(c: Context, data: LegalData) -> Figure:
    _ = c.tr
    rows = [
        [
            _jurisdiction(c, r["jurisdiction"], r["level"]),
            years_span(r["year"], r["end_year"] or r["year"]),
            enum_label(c.schema, "EnforcementOutcome", "flow", r["flow"] or "", c.lang),
            enum_label(c.schema, "EnforcementOutcome", "measure", r["measure"] or "", c.lang),
            number(r["value"], c.lang) if r["value"] is not None else "",
            _titles(r, data),
        ]
        for r in questions.outcomes(data)
    ]
    return Figure(
        "enforcement",
        _("Enforcement outcomes as published"),
        "records",
        c.sources.get("enforcement", ()),
        _("Figures as the agency or report published them, each with its source."),
        headers=(_("Jurisdiction"), _("Year"), _("Flow"), _("Measure"), _("Count"), _("Source")),
        rows=rows,
    )


def _programs(c: Context, data: LegalData) -> Figure:
    _ = c.tr
    rows = [
        [
            r["name"],
            _jurisdiction(c, r["jurisdiction"], r["level"]),
            f"{number(r['amount'], c.lang)} {r['currency'].upper()}".strip() if r["amount"] is not None else "",
            years_span(r["start"], r["end"] or r["start"]),
            r["purpose"] or "",
            _titles(r, data),
        ]
        for r in questions.funding(data)["programs"]
    ]
    return Figure(
        "programs",
        _("Programs and funding"),
        "records",
        c.sources.get("programs", ()),
        headers=(_("Program"), _("Jurisdiction"), _("Amount"), _("Period"), _("Purpose"), _("Source")),
        rows=rows,
    )


def _published_claims(c: Context, data: LegalData) -> Figure:
    """Each published claim (``claims.load_claims``) beside what the records compute (``claims.check``
    on the day of publication), in the words of the legal pages of cruce.

    The source's address is printed as text, not as a link: the site links only inside itself
    (ADR 0013), and an address read from a file is not turned into something a reader clicks."""
    _ = c.tr
    checked = c.held("claims", lambda: legal_claims.check(data, legal_claims.load_claims(), today=c.today))
    statuses = {
        "agree": _("agree"),
        "differ": _("differ"),
        "unscoped": _("no place or year given"),
        "no_records": _("no records"),
    }
    rows = []
    for row in checked:
        published = _figure(row["published"], c.lang)
        if row["comparison"] == "at_least":
            published = _("at least {figure}").format(figure=published)
        source = row["source"]
        cited = " — ".join(part for part in (source["title"], source["url"]) if part)
        if not source["checked"]:
            cited += " (" + _("attribution not re-checked") + ")"
        rows.append(
            [
                row["text"].get(c.lang) or row["text"].get("en", ""),
                published,
                _figure(row["computed"], c.lang) if row["computed"] is not None else "—",
                statuses.get(row["status"], row["status"]),
                cited,
            ]
        )
    everything: dict[str, Source] = {}
    for flow in ("laws", "enforcement", "programs"):
        everything.update({s.dataset: s for s in c.sources.get(flow, ())})
    return Figure(
        "published_claims",
        _("Published figures beside the records"),
        "records",
        tuple(everything[d] for d in sorted(everything)),
        note=_(
            "Figures quoted in published prose, each beside what cruce computes from its law and enforcement "
            "records on {date}. A text that names no place or year cannot be recomputed: it is not compared "
            "with a guessed scope. Addresses of sources are printed, not linked."
        ).format(date=c.today.isoformat()),
        headers=(_("Published"), _("Figure"), _("From the records"), _("Status"), _("Source")),
        rows=rows,
    )


def _figure(value: float, lang: str) -> str:
    """A figure as published (whole, or to one decimal)."""
    return number(value, lang, 0 if float(value).is_integer() else 1)


def _titles(row: dict[str, Any], data: LegalData) -> str:
    """The titles of a record's sources, else the dataset it was imported into."""
    titles = list(dict.fromkeys(s["title"] for s in row.get("sources", []) if s.get("title")))
    if not titles and row.get("source_title"):  # ``questions.laws`` rows hold the record's values
        titles = [str(row["source_title"])]
    if titles:
        return "; ".join(titles)
    record = data.record(row["id"])
    return record.dataset if record else ""


def _jurisdiction(c: Context, code: str | None, level: str | None) -> str:
    """A state by name; a federal record as its country, "(federal)"."""
    _ = c.tr
    if not code:
        return enum_label(c.schema, "Law", "level", level or FEDERAL, c.lang)
    if level == FEDERAL:
        return _("{country} (federal)").format(country=country_label(code, c.lang))
    return state_label(code, c.lang)


_BUILDERS = {
    "laws_in_force": _laws_in_force,
    "map_sex_trafficking_law": _map,
    "laws_over_time": _laws_over_time,
    "laws_by_jurisdiction": _laws_by_jurisdiction,
    "enforcement": _enforcement,
    "programs": _programs,
    "published_claims": _published_claims,
}
