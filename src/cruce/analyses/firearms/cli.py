"""``cruce firearms …``: trace analytics, indicators and leads on the command line.

Every figure prints a table, or with ``--json`` the rows the API gives; ``traces`` lists the
records behind any row (the same filters plus the row's keys). The command line is the operator
of the database: it reads every dataset.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cruce.analyses.firearms import figures
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.firearms.evaluate import evaluate
from cruce.analyses.firearms.indicators import dealer_indicators, rules
from cruce.analyses.firearms.leads import lead_detail, lead_out, people_of
from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, WeightError, as_dict, parse_weights, score_purchasers
from cruce.cli_support import fail
from cruce.i18n import _

console = Console()
TRACE_TABLE_COLUMNS = (
    "trace_number",
    "recovery_date",
    "recovery_state",
    "status",
    "purchase_state",
    "dealer_ffl",
    "ttc_days",
    "f_type",
    "caliber",
)

DateFrom = Annotated[
    datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help=_("Recovered on or after this date."))
]
DateTo = Annotated[
    datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help=_("Recovered on or before this date."))
]
Country = Annotated[str | None, typer.Option("--country", help=_("Country of recovery (ISO code, e.g. MX)."))]
State = Annotated[str | None, typer.Option("--state", help=_("State of recovery (ISO 3166-2, e.g. MX-SON)."))]
FirearmType = Annotated[str | None, typer.Option("--type", help=_("Firearm type (pistol, rifle, revolver…)."))]
Caliber = Annotated[
    str | None, typer.Option("--caliber", help=_("Caliber, as written in the traces (e.g. 7.62x39mm)."))
]
AsJson = Annotated[bool, typer.Option("--json", help=_("Print the answer as JSON (as the API gives it)."))]
Limit = Annotated[int, typer.Option("--limit", min=1, max=100000, help=_("How many rows to show."))]
SourceState = Annotated[str | None, typer.Option("--source-state", help=_("US state of purchase (e.g. US-TX)."))]
Dealer = Annotated[str | None, typer.Option("--dealer", help=_("Dealer licence (FFL) number."))]
Status = Annotated[str | None, typer.Option("--status", help=_("Trace result (e.g. completed)."))]
Year = Annotated[int | None, typer.Option("--year", help=_("Year of recovery."))]
Purchaser = Annotated[str | None, typer.Option("--purchaser", help=_("Purchaser (entity id)."))]
Weights = Annotated[list[str] | None, typer.Option("--weight", help=_("A rule's weight, as rule=points (repeat)."))]
Threshold = Annotated[float, typer.Option("--threshold", help=_("Lowest score of a lead."))]
CsvOut = Annotated[Path | None, typer.Option("--csv", help=_("Write the leads, one row per flag, to this CSV file."))]
Calibers = Annotated[bool, typer.Option("--calibers", help=_("Calibers instead of types."))]
Dealers = Annotated[bool, typer.Option("--dealers", help=_("List the dealers flagged."))]
SourcesBy = Annotated[str, typer.Option("--by", help=_("state or dealer."))]
By = Annotated[str | None, typer.Option("--by", help=_("Group by: source_state, dealer, type or caliber."))]


def _filters(
    date_from: datetime | None,
    date_to: datetime | None,
    country: str | None,
    state: str | None,
    firearm_type: str | None,
    caliber: str | None,
) -> Filters:
    return Filters(_day(date_from), _day(date_to), country, state, firearm_type, caliber)


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def print_rows(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    """Rows as a table (or JSON)."""
    if as_json:
        sys.stdout.write(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], ensure_ascii=False) + "\n")
        return
    if not rows:
        console.print(_("Nothing found."))
        return
    table = Table(title=title)
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(*(escape("" if v is None else str(_plain(v))) for v in row.values()))
    console.print(table)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``firearms`` and its figures to the ``cruce`` command."""
    firearms_app = typer.Typer(
        help=_("The firearms flow: trace figures, straw-purchase indicators and leads."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @contextmanager
    def loaded(ctx: typer.Context) -> Iterator[FirearmsData]:
        with user_errors(), open_store(ctx) as store:
            data = FirearmsData.load(store)
        try:
            yield data
        finally:
            data.close()

    @firearms_app.command("summary", help=_("Headline figures of the traces: completion, time-to-crime, possessors."))
    def summary_command(
        ctx: typer.Context,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            found = figures.summary(data, _filters(date_from, date_to, country, state, firearm_type, caliber))
        rows = [{"figure": k, "value": v} for k, v in found.items() if k != "filters"]
        if as_json:
            sys.stdout.write(json.dumps({k: _plain(v) for k, v in found.items()}, ensure_ascii=False) + "\n")
        else:
            print_rows(rows, False, _("Traces"))

    @firearms_app.command("sources", help=_("Source states (with the rate per 100,000 NICS checks) or dealers."))
    def sources_command(
        ctx: typer.Context,
        by: SourcesBy = "state",
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        limit: Limit = 20,
        as_json: AsJson = False,
    ) -> None:
        if by not in ("state", "dealer"):
            raise fail(ValueError(_("--by: state or dealer, not {value}.").format(value=by)))
        f = _filters(date_from, date_to, country, state, firearm_type, caliber)
        with loaded(ctx) as data:
            rows = figures.source_states(data, f, limit) if by == "state" else figures.source_dealers(data, f, limit)
        print_rows(rows, as_json, _("Source states") if by == "state" else _("Source dealers"))

    @firearms_app.command("recoveries", help=_("States of recovery: traces, share, short time-to-crime."))
    def recoveries_command(
        ctx: typer.Context,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        limit: Limit = 20,
        as_json: AsJson = False,
    ) -> None:
        f = _filters(date_from, date_to, country, state, firearm_type, caliber)
        with loaded(ctx) as data:
            rows = figures.recovery_states(data, f, limit)
        print_rows(rows, as_json, _("States of recovery"))

    @firearms_app.command("ttc", help=_("Time-to-crime: bands, median, shares under one and three years."))
    def ttc_command(
        ctx: typer.Context,
        by: By = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        limit: Limit = 20,
        as_json: AsJson = False,
    ) -> None:
        if by is not None and by not in figures.BY_COLUMNS:
            raise fail(
                ValueError(
                    _("--by: one of {choices}, not {value}.").format(choices=", ".join(figures.BY_COLUMNS), value=by)
                )
            )
        with loaded(ctx) as data:
            found = figures.time_to_crime(
                data, _filters(date_from, date_to, country, state, firearm_type, caliber), by, limit
            )
        if as_json:
            sys.stdout.write(json.dumps(found, ensure_ascii=False, default=_plain) + "\n")
            return
        print_rows(found["bands"], False, _("Time-to-crime (years)"))
        console.print(
            _("Median: {years} years; under one year: {one}; under three years: {three}").format(
                years=found["median_ttc_years"], one=found["ttc_under_1y_share"], three=found["ttc_under_3y_share"]
            )
        )
        if by:
            print_rows(found["groups"], False, _("By {what}").format(what=by))

    @firearms_app.command("completion", help=_("Trace results, and the reasons traces were not completed."))
    def completion_command(
        ctx: typer.Context,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            rows = figures.completion(data, _filters(date_from, date_to, country, state, firearm_type, caliber))
        print_rows(rows, as_json, _("Trace results"))

    @firearms_app.command("types", help=_("Firearm types (or calibers) by year of recovery."))
    def types_command(
        ctx: typer.Context,
        calibers: Calibers = False,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        as_json: AsJson = False,
    ) -> None:
        f = _filters(date_from, date_to, country, state, firearm_type, caliber)
        with loaded(ctx) as data:
            rows = figures.types_over_time(data, f, "caliber" if calibers else "type")
        print_rows(rows, as_json, _("By year of recovery"))

    @firearms_app.command("corridors", help=_("US state of purchase to state of recovery."))
    def corridors_command(
        ctx: typer.Context,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        limit: Limit = 50,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            rows = figures.corridors(data, _filters(date_from, date_to, country, state, firearm_type, caliber), limit)
        print_rows(rows, as_json, _("Corridors"))

    @firearms_app.command("traces", help=_("The trace records behind a figure: its filters and a row's keys."))
    def traces_command(
        ctx: typer.Context,
        source_state: SourceState = None,
        dealer: Dealer = None,
        status: Status = None,
        year: Year = None,
        purchaser: Purchaser = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        country: Country = None,
        state: State = None,
        firearm_type: FirearmType = None,
        caliber: Caliber = None,
        limit: Limit = 100,
        as_json: AsJson = False,
    ) -> None:
        f = _filters(date_from, date_to, country, state, firearm_type, caliber)
        with loaded(ctx) as data:
            rows = figures.traces(
                data,
                f,
                limit,
                source_state=source_state,
                dealer_ffl=dealer,
                status=status,
                year=year,
                purchaser=purchaser,
            )
        if not as_json:
            rows = [{k: r[k] for k in TRACE_TABLE_COLUMNS} for r in rows]
        print_rows(rows, as_json, _("Traces"))

    @firearms_app.command("indicators", help=_("The rules and their sources; with --dealers, the dealers flagged."))
    def indicators_command(ctx: typer.Context, dealers: Dealers = False, as_json: AsJson = False) -> None:
        if dealers:
            with loaded(ctx) as data:
                rows = [{**r, "evidence": len(r["evidence"])} for r in dealer_indicators(data)]
            print_rows(rows, as_json, _("Dealers with many short time-to-crime traces"))
            return
        print_rows(
            [{"rule": r.name, "applies_to": r.subject, "means": r.label, "source": r.source} for r in rules()],
            as_json,
            _("Indicators"),
        )

    @firearms_app.command("leads", help=_("Purchasers ranked by their risk score, each flag explained."))
    def leads_command(
        ctx: typer.Context,
        weight: Weights = None,
        threshold: Threshold = DEFAULT_THRESHOLD,
        limit: Limit = 50,
        output: CsvOut = None,
        as_json: AsJson = False,
    ) -> None:
        try:
            weights = parse_weights(weight)
        except WeightError as exc:
            raise fail(
                ValueError(
                    _("--weight: no rule or no number in {value}; rules: {rules}.").format(
                        value=exc, rules=", ".join(sorted(parse_weights(None)))
                    )
                )
            ) from None
        with user_errors(), open_store(ctx) as store:
            data = FirearmsData.load(store)
            try:
                leads = score_purchasers(data, weights, threshold=threshold, limit=limit)
            finally:
                data.close()
            names = _names(store, [lead.purchaser for lead in leads])
        if output is not None:
            _write_csv(output, leads, names)
            console.print(_("{n} leads written to {path}").format(n=len(leads), path=output))
            return
        if as_json:
            sys.stdout.write(
                json.dumps([{**as_dict(lead), "name": names.get(lead.purchaser)} for lead in leads], ensure_ascii=False)
                + "\n"
            )
            return
        print_rows(
            [
                {
                    "purchaser": names.get(lead.purchaser, lead.purchaser),
                    "id": lead.purchaser,
                    "score": lead.score,
                    "flags": "; ".join(f"{f.indicator} ×{f.count} (+{f.points:g})" for f in lead.flags),
                }
                for lead in leads
            ],
            False,
            _("Leads"),
        )

    @firearms_app.command("lead", help=_("One purchaser in full: flags, purchases, traced guns, linked purchasers."))
    def lead_command(
        ctx: typer.Context,
        purchaser: Annotated[str, typer.Argument(help=_("The purchaser's entity id (as the leads list it)."))],
        as_json: AsJson = False,
    ) -> None:
        with user_errors(), open_store(ctx) as store:
            data = FirearmsData.load(store)
            try:
                found = lead_detail(data, purchaser)
            finally:
                data.close()
            if found is None:
                raise fail(LookupError(_("No purchaser {id} in the traces or purchases.").format(id=purchaser)))
            out = lead_out(found, _names(store, people_of(found)))
        if as_json:
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            return
        console.print(f"[bold]{escape(out['name'] or purchaser)}[/]  {_('score')} {out['score']:g}")
        print_rows([{"indicator": f["indicator"], "points": f["points"], "count": f["count"], "means": f["label"]}
                    for f in out["flags"]], False, _("Flags"))  # fmt: skip
        print_rows([{k: r[k] for k in ("trace_number", "recovery_date", "recovery_state", "municipality", "ttc_days")}
                    for r in out["traces"]], False, _("Traced guns"))  # fmt: skip
        print_rows([{k: r[k] for k in ("purchase_date", "purchase_state", "dealer_ffl", "f_type", "caliber", "model")}
                    for r in out["purchases"]], False, _("Purchases"))  # fmt: skip
        linked = [{"purchaser": x["name"] or x["purchaser"], "score": x["score"],
                   "through": ", ".join(x["through"])} for x in out["linked"]]  # fmt: skip
        print_rows(linked, False, _("Linked purchasers"))

    @firearms_app.command("evaluate", help=_("Precision and recall of the leads against a synth scenario's rings."))
    def evaluate_command(
        ctx: typer.Context,
        scenario: Annotated[Path, typer.Argument(help=_("The folder cruce synth wrote."))],
        threshold: Threshold = DEFAULT_THRESHOLD,
        weight: Weights = None,
    ) -> None:
        if not (scenario / "truth" / "rings.csv").exists():
            raise fail(FileNotFoundError(_("{path}: not a synth scenario (no truth/rings.csv).").format(path=scenario)))
        with loaded(ctx) as data:
            found = evaluate(data, scenario, parse_weights(weight), threshold)
        sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")

    app.add_typer(firearms_app, name="firearms")


def _names(store: Any, ids: list[str]) -> dict[str, str]:
    """A name of each purchaser, from their statements."""
    names: dict[str, str] = {}
    for eid, statements in store.statements_of(ids).items():
        named = sorted(s.value for s in statements if s.prop == "name")
        if named:
            names[eid] = named[0]
    return names


def _write_csv(path: Path, leads: list[Any], names: dict[str, str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["purchaser", "name", "score", "indicator", "count", "points", "evidence"])
        for lead in leads:
            for f in lead.flags:
                out.writerow(
                    [
                        lead.purchaser,
                        names.get(lead.purchaser, ""),
                        lead.score,
                        f.indicator,
                        f.count,
                        f.points,
                        " ".join(f.evidence),
                    ]
                )
