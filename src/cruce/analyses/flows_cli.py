"""``cruce violence …`` and ``cruce drugs …``: the official and press violence series, seizures and
border crossings on the command line, as tables or with ``--json`` the rows themselves."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from cruce.analyses import drugs, hotspots, violence
from cruce.analyses.firearms.cli import AsJson, print_rows
from cruce.cli_support import errors, fail
from cruce.engines.cli_options import EngineOption, SparkMaster, check_engine_options, engine_label
from cruce.i18n import _

Drug = Annotated[str | None, typer.Option("--drug", help=_("One drug (e.g. methamphetamine)."))]
Measures = Annotated[
    list[str] | None,
    typer.Option("--measure", help=_("What crossings to count (repeat; personal_vehicles if not given).")),
]


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``violence`` and ``drugs`` to the ``cruce`` command."""
    violence_app = typer.Typer(
        help=_("Violence: homicides by state and year, and the press tallies of executions beside them."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    drugs_app = typer.Typer(
        help=_("Drugs: seizures by fiscal year and drug, and border crossings per port."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @contextmanager
    def loaded(ctx: typer.Context, kind: type[Any]) -> Iterator[Any]:
        with user_errors(), open_store(ctx) as store:
            data = kind.load(store)
        try:
            yield data
        finally:
            data.close()

    @violence_app.command("homicides", help=_("Homicides per state and year, with the rate per 100,000."))
    def homicides_command(
        ctx: typer.Context,
        state: Annotated[str | None, typer.Option("--state", help=_("One state (ISO 3166-2, e.g. MX-CHH)."))] = None,
        source: Annotated[str, typer.Option("--source", help=_("The series (INEGI by default)."))] = "INEGI",
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.homicides_by_state_year(data, source, state)
        print_rows(rows, as_json, _("Homicides"))

    @violence_app.command("executions", help=_("The press tallies of drug-war executions, per newspaper and year."))
    def executions_command(ctx: typer.Context, as_json: AsJson = False) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.executions_by_year(data)
        print_rows(rows, as_json, _("Executions"))

    @violence_app.command("compare", help=_("Each series of a year side by side: official homicides, press tallies."))
    def compare_command(
        ctx: typer.Context,
        first: Annotated[int | None, typer.Option("--from", help=_("First year."))] = None,
        last: Annotated[int | None, typer.Option("--to", help=_("Last year."))] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.national_side_by_side(data, first, last)
        series = sorted({k for row in rows for k in row if k != "year"})
        print_rows([{"year": r["year"], **{k: r.get(k) for k in series}} for r in rows], as_json, _("Side by side"))

    @violence_app.command("months", help=_("One state's homicides per month, with the annual rate per 100,000."))
    def months_command(
        ctx: typer.Context,
        state: Annotated[str, typer.Option("--state", help=_("The state (ISO 3166-2, e.g. MX-CHH)."))],
        source: Annotated[str, typer.Option("--source", help=_("The series (INEGI by default)."))] = "INEGI",
        first: Annotated[str | None, typer.Option("--from", help=_("First month (YYYY-MM)."))] = None,
        last: Annotated[str | None, typer.Option("--to", help=_("Last month (YYYY-MM)."))] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.homicides_by_state_month(data, state, source, first, last)
        print_rows(rows, as_json, _("Homicides by month"))

    @violence_app.command("yoy", help=_("Each state's homicides in a year against the year before."))
    def yoy_command(
        ctx: typer.Context,
        year: Annotated[int, typer.Option("--year", min=1901, max=2100, help=_("The year."))],
        source: Annotated[str, typer.Option("--source", help=_("The series (INEGI by default)."))] = "INEGI",
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.year_over_year(data, year, source)
        print_rows(rows, as_json, _("Year over year"))

    @violence_app.command("trends", help=_("Each series' yearly counts and linear trend with its 95 % interval."))
    def trends_command(
        ctx: typer.Context,
        first: Annotated[int | None, typer.Option("--from", help=_("First year."))] = None,
        last: Annotated[int | None, typer.Option("--to", help=_("Last year."))] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            trends = violence.national_trends(data, first, last)
        if as_json:
            sys.stdout.write(json.dumps(trends, ensure_ascii=False, indent=2) + "\n")
            return
        print_rows(violence.trend_rows(trends), as_json, _("Trends"))

    @violence_app.command("municipalities", help=_("Violence records and their dead per municipality (event data)."))
    def municipalities_command(
        ctx: typer.Context,
        year: Annotated[int | None, typer.Option("--year", min=1900, max=2100, help=_("One year."))] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            rows = violence.by_municipality(data, year)
        print_rows(rows, as_json, _("By municipality"))

    @violence_app.command(
        "change-points", help=_("Where and when violence changed level, per municipality (event records).")
    )
    def change_points_command(
        ctx: typer.Context,
        penalty: Annotated[
            float, typer.Option("--penalty", min=0.1, help=_("Higher finds fewer, larger changes."))
        ] = violence.PENALTY,
        evaluate: Annotated[
            Path | None, typer.Option("--evaluate", help=_("A synth scenario: check its planted disputes."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, violence.ViolenceData) as data:
            if evaluate is not None:
                found = violence.evaluate_escalations(data, evaluate, penalty=penalty)
                sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
                return
            rows = violence.change_points(data, penalty)
        print_rows(rows, as_json, _("Change points"))

    @violence_app.command("hot-spots", help=_("Hot spots of violence events: Getis-Ord Gi* over H3 cells."))
    def hot_spots_command(
        ctx: typer.Context,
        first: Annotated[str | None, typer.Option("--from", help=_("From this day (YYYY-MM-DD)."))] = None,
        last: Annotated[str | None, typer.Option("--to", help=_("Up to this day (YYYY-MM-DD)."))] = None,
        period: Annotated[
            str | None, typer.Option("--space-time", help=_("year or quarter: each cell's course over the periods."))
        ] = None,
        evaluate: Annotated[
            Path | None, typer.Option("--evaluate", help=_("A synth scenario: check its planted disputes."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, hotspots.EventPoints) as data:
            if evaluate is not None:
                sys.stdout.write(json.dumps(hotspots.evaluate_hot_spots(data, evaluate), indent=2) + "\n")
                return
            if period is not None:
                if period not in ("year", "quarter"):
                    raise fail(ValueError(_("--space-time: year or quarter, not {value}.").format(value=period)))
                rows = hotspots.space_time(data, period)
                rows = [{**r, "hot_periods": ", ".join(r["hot_periods"])} for r in rows] if not as_json else rows
            else:
                rows = hotspots.hot_spots(data, first, last)
        print_rows(rows, as_json, _("Hot spots"))

    def drug_figure(name: str, help_text: str, compute: Callable[[Any, str | None], list[Any]], title: str) -> None:
        """A ``cruce drugs`` command that prints one figure, of all drugs or one."""

        @drugs_app.command(name, help=help_text)
        def command(ctx: typer.Context, drug: Drug = None, as_json: AsJson = False) -> None:
            with loaded(ctx, drugs.DrugsData) as data:
                rows = compute(data, drug)
            print_rows(rows, as_json, title)

    def rate_figure(name: str, help_text: str, compute: Callable[..., list[Any]]) -> None:
        """A ``cruce drugs`` command for a rate of seizures per million crossings of some measures."""

        @drugs_app.command(name, help=help_text)
        def command(ctx: typer.Context, drug: Drug = None, measure: Measures = None, as_json: AsJson = False) -> None:
            with loaded(ctx, drugs.DrugsData) as data:
                rows = compute(data, drug, measures=tuple(measure or drugs.VEHICLES))
            print_rows(rows, as_json, _("Seizures per million crossings"))

    drug_figure("seizures", _("Seizure events, pounds and kilograms per fiscal year and drug."),
                drugs.seizures_by_fiscal_year, _("Seizures"))  # fmt: skip
    drug_figure("months", _("Seizures per month, months far from the usual level marked."),
                drugs.seizures_by_month, _("Seizures by month"))  # fmt: skip
    drug_figure("seasonality", _("Each calendar month's share of a year's seizures."), drugs.seasonality,
                _("Seasonality"))  # fmt: skip

    @drugs_app.command("by", help=_("Seizures by mode, concealment, component, region, area, port or drug."))
    def by_command(
        ctx: typer.Context,
        dimension: Annotated[str, typer.Argument(help=", ".join(drugs.DIMENSIONS))],
        drug: Drug = None,
        as_json: AsJson = False,
    ) -> None:
        if dimension not in drugs.DIMENSIONS:
            raise fail(ValueError(_("Choose one of: {choices}.").format(choices=", ".join(drugs.DIMENSIONS))))
        with loaded(ctx, drugs.DrugsData) as data:
            rows = drugs.seizures_by(data, dimension, drug)
        print_rows(rows, as_json, _("Seizures"))

    rate_figure("rates", _("Seizures per million crossings per port and year, outliers marked."),
                drugs.seizures_per_crossings)  # fmt: skip
    rate_figure("office-rates", _("CBP's port seizures per million crossings per field office and fiscal year."),
                drugs.seizures_per_crossings_by_office)  # fmt: skip

    @drugs_app.command("crossings", help=_("Border crossings per port, year and measure."))
    def crossings_command(
        ctx: typer.Context,
        measure: Annotated[
            str | None, typer.Option("--measure", help=_("One measure (e.g. personal_vehicle_passengers)."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx, drugs.DrugsData) as data:
            rows = drugs.crossings_by_port_year(data, measure)
        print_rows(rows, as_json, _("Crossings"))

    app.add_typer(violence_app, name="violence")
    app.add_typer(drugs_app, name="drugs")
    register_aggregate(app, open_store=open_store, user_errors=user_errors)


def register_aggregate(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``flows aggregate``: the store-wide figures of the three flows, on DuckDB or Spark."""
    flows_app = typer.Typer(
        help=_("The flows' store-wide figures at once, on DuckDB or on Spark."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @flows_app.command(
        "aggregate",
        help=_("Compute every store-wide figure of the flows (firearms, drugs, violence) and write each as Parquet."),
    )
    def aggregate_command(
        ctx: typer.Context,
        out: Annotated[
            Path, typer.Option("--out", help=_("Folder to write the figures into (one Parquet file each)."))
        ],
        engine: EngineOption = "duckdb",
        spark_master: SparkMaster = None,
        only: Annotated[
            list[str] | None, typer.Option("--only", help=_("Only this figure (repeat); all if not given."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        from cruce.analyses import aggregate

        check_engine_options(engine, spark_master)
        unknown = [name for name in only or () if name not in aggregate.NAMES]
        if unknown:
            raise fail(ValueError(_("Choose among: {choices}.").format(choices=", ".join(aggregate.NAMES))))
        with user_errors(), open_store(ctx) as store:
            run = aggregate.compute(store, engine, spark_master, only)
        aggregate.write(run, out)
        rows = [{"figure": c.name, "rows": len(c.rows), "seconds": c.seconds} for c in run.computed]
        if as_json:
            print_rows(rows, True, "")
            return
        print_rows(rows, False, _("Figures written to {folder}").format(folder=out))
        errors.print(
            _("{engine}: {seconds:.1f} s in all, {load:.1f} s of it reading the store.").format(
                engine=engine_label(engine, spark_master), seconds=run.seconds, load=sum(run.load_seconds.values())
            )
        )

    app.add_typer(flows_app, name="flows")
