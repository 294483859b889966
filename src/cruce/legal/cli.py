"""``cruce legal``: the law and its enforcement on the command line — laws in force and since when,
the per-year series behind the map, a jurisdiction's legal timeline beside the flows, outcomes
before and after a law, funding, the seed and its check. The answers are those of
``cruce.legal.questions`` (the API's and the pages' too); ``--json`` prints them as the API does."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cruce.analyses.firearms.cli import AsJson, print_rows
from cruce.cli_support import fail
from cruce.i18n import _, current_language
from cruce.legal import claims as claims_module
from cruce.legal import questions as q
from cruce.legal.flows import counts as flow_counts
from cruce.legal.records import LegalData
from cruce.legal.seed import SEED_DATASET, load_seed

console = Console()

Kind = Annotated[str, typer.Option("--kind", help=_("Kind of law: {kinds}.").format(kinds=", ".join(q.KINDS)))]
Country = Annotated[str | None, typer.Option("--country", help=_("Only this country (US or MX)."))]
Level = Annotated[str | None, typer.Option("--level", help=_("federal or state."))]
Jurisdiction = Annotated[
    str | None,
    typer.Option("--jurisdiction", help=_("A state code (US-TX, MX-CHH) or a country (US, MX) for federal.")),
]
Flow = Annotated[str | None, typer.Option("--flow", help=_("people, drugs or firearms."))]
Measure = Annotated[str | None, typer.Option("--measure", help=_("Measure: {m}.").format(m=", ".join(q.MEASURES)))]


def _json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, default=str) + "\n")


def check_kind(kind: str) -> str:
    if kind not in q.KINDS:
        raise fail(ValueError(_("Choose among: {choices}.").format(choices=", ".join(q.KINDS))))
    return kind


def _check_choice(value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is not None and value not in choices:
        raise fail(ValueError(_("Choose among: {choices}.").format(choices=", ".join(choices))))
    return value


def _day(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(ValueError(_("--on: not a date (YYYY-MM-DD): {value}").format(value=text))) from None


def _sources(items: list[dict[str, str]]) -> str:
    return "; ".join(s["url"] or s["title"] for s in items)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``legal`` and its questions to the ``cruce`` command."""
    legal_app = typer.Typer(
        help=_("The law and its enforcement: laws in force, outcomes, funding, and the published figures."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @contextmanager
    def loaded(ctx: typer.Context) -> Iterator[LegalData]:
        with user_errors(), open_store(ctx) as store:
            data = LegalData.load(store)
        try:
            yield data
        finally:
            data.close()

    @legal_app.command("laws", help=_("The law records, by jurisdiction and date of entry into force."))
    def laws_command(
        ctx: typer.Context,
        kind: Annotated[str | None, typer.Option("--kind", help=_("Kind of law."))] = None,
        country: Country = None,
        level: Level = None,
        jurisdiction: Jurisdiction = None,
        as_json: AsJson = False,
    ) -> None:
        if kind is not None:
            check_kind(kind)
        _check_choice(level, q.LEVELS)
        with loaded(ctx) as data:
            found = q.laws(data, kind, country, level, jurisdiction)
        if as_json:
            _json(found)
            return
        rows = [
            {
                _("Jurisdiction"): r["jurisdiction"],
                _("Law"): r.get("name"),
                _("Kinds"): ", ".join(r.get("law_kind", [])),
                _("In force since"): r["in_force_since"],
                _("Repealed"): r["repealed"],
                _("Source"): "; ".join(r.get("source_url", [])) or r.get("source_title"),
            }
            for r in found
        ]
        print_rows(rows, False, _("Laws"))

    @legal_app.command("in-force", help=_("Jurisdictions with a law of a kind in force on a date, and since when."))
    def in_force_command(
        ctx: typer.Context,
        kind: Kind,
        on: Annotated[str | None, typer.Option("--on", help=_("The day (YYYY-MM-DD); default: today."))] = None,
        country: Country = None,
        level: Level = None,
        as_json: AsJson = False,
    ) -> None:
        check_kind(kind)
        _check_choice(level, q.LEVELS)
        with loaded(ctx) as data:
            found = q.in_force(data, kind, _day(on), country, level)
        if as_json:
            _json(found)
            return
        rows = [
            {
                _("Jurisdiction"): r["jurisdiction"],
                _("Level"): r["level"],
                _("Since"): r["since"],
                _("Laws"): "; ".join(law["name"] for law in r["laws"]),
                _("Source"): "; ".join(_sources(law["sources"]) for law in r["laws"]),
            }
            for r in found
        ]
        print_rows(rows, False, _("In force: {n} jurisdictions").format(n=len(found)))

    @legal_app.command("by-year", help=_("Per year, how many states had a law of a kind in force (the map over time)."))
    def by_year_command(
        ctx: typer.Context,
        kind: Kind,
        first: Annotated[int | None, typer.Option("--from", min=1800, max=2100, help=_("First year."))] = None,
        last: Annotated[int | None, typer.Option("--to", min=1800, max=2100, help=_("Last year."))] = None,
        country: Country = None,
        level: Annotated[str, typer.Option("--level", help=_("federal or state."))] = "state",
        as_json: AsJson = False,
    ) -> None:
        check_kind(kind)
        _check_choice(level, q.LEVELS)
        with loaded(ctx) as data:
            series = q.in_force_by_year(data, kind, first, last, country, level)
        if as_json:
            _json(series)
            return
        rows = [
            {_("Year"): r["year"], _("Count"): r["count"], _("Jurisdictions"): " ".join(r["jurisdictions"])}
            for r in series
        ]
        print_rows(rows, False, _("In force at the end of each year"))

    @legal_app.command("timeline", help=_("A jurisdiction's legal events beside the yearly counts of the flows there."))
    def timeline_command(
        ctx: typer.Context,
        jurisdiction: Annotated[str, typer.Argument(help=_("A state code (US-TX, MX-CHH) or a country (US, MX)."))],
        kind: Annotated[str | None, typer.Option("--kind", help=_("Only laws of this kind."))] = None,
        as_json: AsJson = False,
    ) -> None:
        if kind is not None:
            check_kind(kind)
        with user_errors(), open_store(ctx) as store:
            data = LegalData.load(store)
            counts = flow_counts(store, jurisdiction)
        try:
            found = q.beside(data, jurisdiction, counts, kind)
        finally:
            data.close()
        if as_json:
            _json(found)
            return
        events = [
            {
                _("Date"): e["date"],
                _("Event"): e["event"],
                _("Law"): e["name"],
                _("Level"): e["level"],
                _("Source"): _sources(e["sources"]),
            }
            for e in found["events"]
        ]
        print_rows(events, False, _("Legal timeline of {j}").format(j=jurisdiction))
        rows = [{_("Year"): c["year"], _("Series"): c["series"], _("Count"): c["value"]} for c in found["counts"]]
        print_rows(rows, False, _("Counts of the flows"))

    @legal_app.command("outcomes", help=_("Enforcement outcomes; with --kind, before and after a law came into force."))
    def outcomes_command(
        ctx: typer.Context,
        jurisdiction: Jurisdiction = None,
        country: Country = None,
        flow: Flow = None,
        measure: Measure = None,
        kind: Annotated[
            str | None, typer.Option("--kind", help=_("Compare the years before and after each law of this kind."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        _check_choice(measure, q.MEASURES)
        if kind is not None:
            check_kind(kind)
        with loaded(ctx) as data:
            if kind is not None:
                compared = q.before_after(data, kind, measure, jurisdiction, flow)
            else:
                found = q.outcomes(data, jurisdiction, country, flow, measure)
        if kind is not None:
            if as_json:
                _json(compared)
                return
            rows = [
                {
                    _("Jurisdiction"): r["jurisdiction"],
                    _("Law"): r["law"]["name"],
                    _("In force"): r["in_force_year"],
                    _("Measure"): r["measure"],
                    _("Before (per year)"): r["before"]["per_year"],
                    _("That year"): r["in_year"]["total"],
                    _("After (per year)"): r["after"]["per_year"],
                }
                for r in compared
            ]
            print_rows(rows, False, _("Before and after"))
            return
        if as_json:
            _json(found)
            return
        rows = [
            {
                _("Jurisdiction"): r["jurisdiction"],
                _("Year"): r["year"] if not r["end_year"] else f"{r['year']}–{r['end_year']}",
                _("Flow"): r["flow"],
                _("Measure"): r["measure"],
                _("Value"): r["value"],
                _("Agency"): r["agency"],
                _("Source"): _sources(r["sources"]),
            }
            for r in found
        ]
        print_rows(rows, False, _("Enforcement outcomes"))

    @legal_app.command("funding", help=_("Programs and their funding over time."))
    def funding_command(
        ctx: typer.Context,
        jurisdiction: Jurisdiction = None,
        flow: Flow = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            found = q.funding(data, jurisdiction, flow)
        if as_json:
            _json(found)
            return
        rows = [
            {
                _("Program"): p["name"],
                _("Jurisdiction"): p["jurisdiction"],
                _("Amount"): p["amount"],
                _("Currency"): p["currency"],
                _("Start"): p["start"],
                _("End"): p["end"],
                _("Source"): _sources(p["sources"]),
            }
            for p in found["programs"]
        ]
        print_rows(rows, False, _("Programs"))
        years = [
            {
                _("Year"): r["year"],
                _("Program"): r["name"],
                _("Amount"): r["amount"],
                _("Currency"): r["currency"],
                _("Split evenly"): r["split_evenly"],
            }
            for r in found["by_year"]
        ]
        print_rows(years, False, _("By year (a total spread evenly over its period)"))

    @legal_app.command("seed", help=_("Load the public laws and figures shipped with cruce (dataset legal-seed)."))
    def seed_command(
        ctx: typer.Context,
        force: Annotated[bool, typer.Option("--force", help=_("Import the files again."))] = False,
    ) -> None:
        with user_errors(), open_store(ctx) as store:
            results = load_seed(store, force=force)
        for r in results:
            if r.already_imported is not None:
                done = _("{file}: already loaded (import {id}).")
                console.print(done.format(file=Path(r.file).name, id=r.already_imported.id))
            else:
                console.print(
                    _("{file}: {stored} rows stored, {rejected} rejected (dataset {dataset}, import {id}).").format(
                        file=Path(r.file).name,
                        stored=r.rows_stored,
                        rejected=r.rows_rejected,
                        dataset=SEED_DATASET,
                        id=r.import_id,
                    )
                )

    @legal_app.command("check", help=_("Each published figure beside what cruce computes from its records."))
    def check_command(
        ctx: typer.Context,
        claims_file: Annotated[
            Path | None, typer.Option("--claims", help=_("A CSV of published claims (default: the shipped seed)."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        try:
            found_claims = claims_module.load_claims(claims_file or claims_module.CLAIMS_FILE)
        except (claims_module.ClaimError, OSError) as exc:
            raise fail(exc) from None
        with loaded(ctx) as data:
            rows = claims_module.check(data, found_claims)
        if as_json:
            _json(rows)
            return
        lang = current_language()
        table = [
            {
                _("Published"): r["text"].get(lang) or r["text"]["en"],
                _("Figure"): _num(r["published"]),
                _("Computed"): _num(r["computed"]),
                _("Status"): _status(r["status"]),
                _("Source"): r["source"]["url"],
            }
            for r in rows
        ]
        print_rows(table, False, _("Published figures and cruce's records"))

    app.add_typer(legal_app, name="legal")


def _num(value: float | None) -> str:
    """A figure as people write it: 39, 73,500,000, 1,072.5."""
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _status(status: str) -> str:
    return {
        "agree": _("agree"),
        "differ": _("differ"),
        "unscoped": _("no place or year given"),
        "no_records": _("no records"),
    }.get(status, status)
