"""``cruce people …``: trafficking indicators in free text on the command line — scan a text, or
measure the rules against a ``cruce synth`` scenario beside a plain keyword list."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cruce.cli_support import fail
from cruce.i18n import _

console = Console()
AsJson = Annotated[bool, typer.Option("--json", help=_("Print the answer as JSON."))]

people_app = typer.Typer(
    help=_("The people flow: trafficking indicators in texts, victim statistics and their safe release."),
    no_args_is_help=True,
    rich_markup_mode=None,
)


@people_app.command(
    "scan", help=_("Trafficking indicators in a text (English, Spanish or both), with its triage score.")
)
def scan_command(
    text: Annotated[str, typer.Argument(help=_("The text to scan; - reads it from standard input."))],
    as_json: AsJson = False,
) -> None:
    from cruce.people.indicators import triage

    if text == "-":
        text = sys.stdin.read()
    found = triage(text)
    hits = [h.as_dict() for h in found["hits"]]
    if as_json:
        sys.stdout.write(json.dumps({**found, "hits": hits}, ensure_ascii=False) + "\n")
        return
    console.print(
        _("Triage score {score} ({level}); lexicon {version}.").format(
            score=found["score"], level=found["level"], version=found["version"]
        ),
        highlight=False,
    )
    if not hits:
        console.print(_("No indicators found."))
        return
    table = Table(title=_("Indicators"))
    for column in ("indicator", "family", "language", "start", "end", "text"):
        table.add_column(column)
    for h in hits:
        table.add_row(*(escape(str(h[c])) for c in ("indicator", "family", "language", "start", "end", "text")))
    console.print(table)


@people_app.command(
    "indicators-evaluate",
    help=_("Precision and recall of the indicator rules on a synth scenario, beside a plain keyword list."),
)
def evaluate_command(
    scenario: Annotated[Path, typer.Argument(help=_("A folder written by cruce synth --flows people."))],
    as_json: AsJson = False,
) -> None:
    from cruce.people.indicators_eval import evaluate

    try:
        result = evaluate(scenario)
    except (OSError, KeyError) as exc:
        raise fail(
            ValueError(_("{path}: not a synth scenario with people ({error}).").format(path=scenario, error=exc))
        ) from None
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return
    _print_evaluation(result)


def _print_evaluation(result: dict[str, Any]) -> None:
    table = Table(
        title=_("Indicators found (lexicon {version}) and keyword baseline").format(version=result["lexicon_version"])
    )
    columns = (
        "language",
        "family",
        "precision",
        "recall",
        "f1",
        "baseline_precision",
        "baseline_recall",
        "baseline_f1",
    )
    for column in columns:
        table.add_column(column)
    for row in result["rows"]:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)
    console.print(_("{tips} tips, {documents} documents.").format(**result["texts"]), highlight=False)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any] | None = None,
    user_errors: Callable[[], AbstractContextManager[None]] | None = None,
) -> None:
    """Add ``people`` to the ``cruce`` command: the indicator commands (which read no store) and,
    given the store's opener, the statistics (``stats_cli``)."""
    if open_store is not None and user_errors is not None:
        from cruce.people.stats_cli import register as register_stats

        register_stats(people_app, open_store=open_store, user_errors=user_errors)
    app.add_typer(people_app, name="people")
