"""``cruce people stats`` and ``cruce people release``: trafficking statistics in the shape of the
CTDC data, and their k-anonymous release for sharing (the table written to a file, the report of
what was generalised and suppressed printed)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cruce.analyses.firearms.cli import AsJson, print_rows
from cruce.cli_support import fail
from cruce.i18n import _
from cruce.people import kanon, stats

console = Console()

By = Annotated[
    str,
    typer.Option("--by", help=_("Dimensions, separated by commas: {names}.").format(names=", ".join(stats.DIMENSIONS))),
]
DEFAULT_BY = ",".join(stats.DEFAULT_BY)
Years = Annotated[list[int] | None, typer.Option("--year", help=_("Only this year of registration (repeat)."))]


def _dimensions(by: str) -> list[str]:
    try:
        return stats.check_dimensions([d.strip() for d in by.split(",") if d.strip()])
    except ValueError:
        raise fail(ValueError(_("Choose among: {choices}.").format(choices=", ".join(stats.DIMENSIONS)))) from None


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: "" if r[c] is None else r[c] for c in columns} for r in rows)


def _print_report(report: dict[str, Any]) -> None:
    levels = ", ".join(f"{q}: {lvl}" for q, lvl in report["levels"].items())
    console.print(_("k = {k}; levels: {levels}").format(k=report["k"], levels=levels))
    console.print(
        _("Released {rows} rows ({records} records); suppressed {srows} rows ({srecords} records) of {total}.").format(
            rows=report["rows_released"], records=report["records_released"], srows=report["rows_suppressed"],
            srecords=report["records_suppressed"], total=report["records"],
        )
    )  # fmt: skip
    console.print(_("Information loss: {loss} (generalisation {gen}).").format(
        loss=report["information_loss"], gen=report["generalisation_loss"]))  # fmt: skip
    if report["suppressed"]:
        print_rows(report["suppressed"], False, _("Suppressed (for the analyst only: do not publish)"))


def register(
    people_app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``stats`` and ``release`` to the ``people`` group."""

    @contextmanager
    def loaded(ctx: typer.Context) -> Iterator[stats.CaseData]:
        with user_errors(), open_store(ctx) as store:
            data = stats.CaseData.load(store)
        try:
            yield data
        finally:
            data.close()

    @people_app.command("stats", help=_("Victim records per combination of dimensions (the CTDC shape)."))
    def stats_command(ctx: typer.Context, by: By = DEFAULT_BY, year: Years = None, as_json: AsJson = False) -> None:
        dims = _dimensions(by)
        with loaded(ctx) as data:
            rows = stats.counts(data, dims, year)
        print_rows(rows, as_json, _("Victim records"))

    @people_app.command(
        "release", help=_("A k-anonymous table of victim records for sharing, and what was suppressed.")
    )
    def release_command(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option("--out", help=_("The CSV file to write the released table to."))],
        k: Annotated[int, typer.Option("--k", min=1, help=_("Fewest records a released row may stand for."))] = (
            kanon.DEFAULT_K
        ),
        by: By = DEFAULT_BY,
        year: Years = None,
        max_suppressed: Annotated[
            float,
            typer.Option(
                "--max-suppressed", min=0.0, max=1.0, help=_("Largest share of records that may be suppressed.")
            ),
        ] = kanon.MAX_SUPPRESSED,
        as_json: Annotated[bool, typer.Option("--json", help=_("Print the report as JSON."))] = False,
    ) -> None:
        dims = _dimensions(by)
        with loaded(ctx) as data:
            released = kanon.release(data.records(dims, year), dims, k, max_suppressed)
        try:
            _write_csv(out, released.rows, [*dims, "records"])
        except OSError as exc:
            raise fail(exc) from None
        if as_json:
            sys.stdout.write(json.dumps(released.report, ensure_ascii=False) + "\n")
            return
        _print_report(released.report)
        console.print(_("Wrote {path}").format(path=escape(str(out))))
