"""``cruce timeline ENTITY``: an entity's events in order, as a table, JSON (the API's shape) or CSV.

The command line is the operator of the database: it sees every dataset, and reads through the
same guard as the pages with that access. Protected people (victims) stay protected unless
``--include-protected``: their names are redacted and their events left out, as for a user
without them in their caseload; with it, each protected value shown is recorded in the audit log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cruce.cli_support import cli_actor, fail
from cruce.i18n import _, current_language
from cruce.schema.loader import default_schema
from cruce.security import Guard, Principal, Role, Security
from cruce.security.guard import Access
from cruce.timeline.collect import entity_timeline
from cruce.timeline.dates import PartialDate
from cruce.timeline.model import FLOW_CHOICES, Filters, Item, Timeline
from cruce.timeline.present import FLOW_LABELS, precision_note, timeline_out, translate, when, write_csv

console = Console()
FORMATS = ("table", "json", "csv")
Types = Annotated[
    list[str] | None, typer.Option("--type", "-t", help=_("Only these types (repeat), e.g. FirearmPurchase."))
]
Flows = Annotated[
    list[str] | None, typer.Option("--flow", help=_("Only these flows (repeat): firearms, drugs, people, shared."))
]
Since = Annotated[str | None, typer.Option("--since", help=_("From this date (YYYY, YYYY-MM or YYYY-MM-DD)."))]
Until = Annotated[str | None, typer.Option("--until", help=_("Up to this date (YYYY, YYYY-MM or YYYY-MM-DD)."))]
Lang = Annotated[str | None, typer.Option("--lang", help=_("Language of the labels and dates: en or es."))]
RecordOnly = Annotated[
    bool, typer.Option("--record-only", help=_("This record's events only, not its resolved entity's."))
]
Protected = Annotated[
    bool, typer.Option("--include-protected", help=_("Show protected people (victims) and their events too."))
]


def _date_option(value: str | None, option: str) -> PartialDate | None:
    if value is None:
        return None
    parsed = PartialDate.bound(value)
    if parsed is None:
        raise fail(ValueError(_("{option}: a date as YYYY, YYYY-MM or YYYY-MM-DD, not {value}.").format(
            option=option, value=value)))  # fmt: skip
    return parsed


def filters_from_options(
    types: list[str] | None, flows: list[str] | None, since: str | None, until: str | None
) -> Filters:
    """The filters the options ask for; a type, flow or date that is not one is a user error."""
    schema = default_schema()
    for name in types or []:
        if name not in schema.types:
            raise fail(ValueError(_("Unknown type {name}; see cruce schema.").format(name=name)))
    for flow in flows or []:
        if flow not in FLOW_CHOICES:
            raise fail(ValueError(_("--flow: one of {choices}, not {value}.").format(
                choices=", ".join(FLOW_CHOICES), value=flow)))  # fmt: skip
    return Filters(
        frozenset(types or ()), frozenset(flows or ()), _date_option(since, "--since"), _date_option(until, "--until")
    )


def _operator(guard: Guard, include_protected: bool) -> tuple[Principal, Access]:
    """The command line's principal: every dataset; protected values only when asked for."""
    actor = cli_actor()
    principal = Principal(actor, actor, Role.ADMIN, frozenset())
    everything = guard.access(principal)
    return principal, Access(everything.visible, everything.caseload if include_protected else frozenset())


def _table(tl: Timeline, lang: str) -> None:
    title = _("Timeline of {caption}").format(caption=tl.caption)
    if tl.clustered:
        title += " " + _("({n} records of one resolved entity)").format(n=len(tl.members))
    if tl.left_out:
        title += " " + _("({n} more linked records not read: the 5,000 most recently imported are)").format(
            n=tl.left_out
        )
    table = Table(title=escape(title))
    for col in (_("Date"), _("What"), _("Flows"), _("Role"), _("Source")):
        table.add_column(col)

    def row(item: Item) -> None:
        note = precision_note(item.start, lang)
        date = when(item, lang) + (f" ({note})" if note else "")
        source = item.sources[0] if item.sources else None
        where = f"{source.dataset} · {source.file}:{source.row or ''}" if source else ""
        more = f" (+{len(item.sources) - 1})" if len(item.sources) > 1 else ""
        flows = ", ".join(translate(FLOW_LABELS.get(f, f), lang) for f in item.flows)
        table.add_row(date or "—", escape(item.label), flows, ", ".join(item.roles), where + more)

    for item in tl.items:
        row(item)
    if tl.undated:
        table.add_section()
        for item in tl.undated:
            row(item)
    console.print(table)
    console.print(_("{dated} dated, {undated} without a date.").format(dated=len(tl.items), undated=len(tl.undated)))


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``timeline`` to the ``cruce`` command."""

    @app.command(
        "timeline",
        help=_("An entity's events in order, with its resolved entity's other records: purchases, recoveries, "
               "crossings, seizures, recruitments, tips."),
    )  # fmt: skip
    def timeline_command(
        ctx: typer.Context,
        entity: Annotated[str, typer.Argument(help=_("Entity id (any of its record ids)."))],
        types: Types = None,
        flows: Flows = None,
        since: Since = None,
        until: Until = None,
        fmt: Annotated[str, typer.Option("--format", help=_("table, json or csv."))] = "table",
        lang: Lang = None,
        record_only: RecordOnly = False,
        include_protected: Protected = False,
    ) -> None:
        if fmt not in FORMATS:
            raise fail(ValueError(_("--format: one of {choices}, not {value}.").format(
                choices=", ".join(FORMATS), value=fmt)))  # fmt: skip
        language = lang if lang in ("en", "es") else current_language()
        filters = filters_from_options(types, flows, since, until)
        with user_errors(), open_store(ctx) as store:
            guard = Guard(store, Security(store), default_schema())
            principal, access = _operator(guard, include_protected)
            tl = entity_timeline(
                guard, principal, entity, lang=language, filters=filters, cluster=not record_only, access=access
            )
        if tl is None:
            raise fail(LookupError(_("No entity {id} in the store.").format(id=entity)))
        if fmt == "json":
            sys.stdout.write(json.dumps(timeline_out(tl, language), ensure_ascii=False, indent=2) + "\n")
        elif fmt == "csv":
            write_csv(tl, sys.stdout, language)
        else:
            _table(tl, language)
