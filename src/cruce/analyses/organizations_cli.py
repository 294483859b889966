"""``cruce orgs …``: the organization registry on the command line — the list, one organization
(names, leaders, successions, alliances, rivalries, splits, plazas, timeline) and who holds which
plaza on a day; as tables, or with ``--json`` the answer as the API gives it."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from cruce.analyses import organizations
from cruce.analyses.firearms.cli import AsJson, console, print_rows
from cruce.cli_support import fail
from cruce.i18n import _


def _names(items: list[dict[str, Any]]) -> str:
    return ", ".join(str(i["name"] or i["id"]) for i in items)


def _show(org: dict[str, Any]) -> None:
    """One organization as a heading and one table per part."""
    console.print(f"[bold]{escape(str(org['name'] or org['id']))}[/bold]  {org['id']}", highlight=False)
    facts = [
        (_("Also known as"), ", ".join(org["aliases"])),
        (_("Type"), org["org_type"]),
        (_("Home state"), org["home_state"]),
        (_("Founded"), org["founded"]),
        (_("Dissolved"), org["dissolved"]),
        (_("Broke from"), _names(org["broke_from"])),
        (_("Factions"), _names(org["factions"])),
    ]
    for label, value in facts:
        if value:
            console.print(escape(f"{label}: {value}"), highlight=False)

    def spans(items: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
        return [{**{k: i[k] for k in keys}, "start": i["start"], "end": i["end"], "source": i["source"]} for i in items]

    print_rows(spans(org["leaders"], "name", "alias"), False, _("Leaders"))
    successions = [{k: s[k] for k in ("date", "from_name", "to_name", "previous_end")} for s in org["successions"]]
    print_rows(successions, False, _("Successions"))
    print_rows(spans(org["alliances"], "name"), False, _("Alliances"))
    print_rows(spans(org["rivalries"], "name"), False, _("Rivalries"))
    claims = [
        {
            "plaza": c["plaza"],
            "state": c["state"],
            "disputed": c["disputed"],
            "start": c["start"],
            "end": c["end"],
            "confidence": c["confidence"],
            "rows": "; ".join(f"{s['file']}:{s['row']}" for s in c["sources"]),
        }
        for c in org["claims"]
    ]
    print_rows(claims, False, _("Plazas"))
    print_rows(spans(org["members"], "name", "role"), False, _("Members"))
    timeline = [
        {"date": e["date"], "kind": e["kind"], "who": _names(list(e["parts"].values()))} for e in org["timeline"]
    ]
    print_rows(timeline, False, _("Timeline"))


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``orgs`` to the ``cruce`` command."""
    orgs_app = typer.Typer(
        help=_("Organizations: cartels and cells, their leaders, alliances, rivalries, splits and plazas."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @contextmanager
    def loaded(ctx: typer.Context) -> Iterator[organizations.OrgData]:
        with user_errors(), open_store(ctx) as store:
            data = organizations.OrgData.load(store)
        try:
            yield data
        finally:
            data.close()

    def write_json(answer: Any) -> None:
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")

    @orgs_app.command("list", help=_("Every organization, with its leaders and plazas as of the latest date."))
    def list_command(ctx: typer.Context, as_json: AsJson = False) -> None:
        with loaded(ctx) as data:
            found = organizations.registry(data)
        if as_json:
            write_json(found)
            return
        rows = [
            {
                "name": o["name"],
                "home_state": o["home_state"],
                "members": o["current_members"],
                "leaders": _names(o["leaders"]),
                "plazas": _names(o["plazas"]),
                "allies": o["allies"],
                "rivals": o["rivals"],
                "id": o["id"],
            }
            for o in found["organizations"]
        ]
        print_rows(rows, False, _("Organizations as of {day}").format(day=found["as_of"] or "-"))

    @orgs_app.command("show", help=_("One organization (its id, or a name or alias): its history and plazas."))
    def show_command(
        ctx: typer.Context,
        org: Annotated[str, typer.Argument(help=_("The organization's id, or one of its names."))],
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            try:
                found = organizations.organization(data, organizations.find(data, org))
            except organizations.UnknownOrganizationError as exc:
                raise fail(exc) from None
        if as_json:
            write_json(found)
            return
        _show(found)

    @orgs_app.command("territory", help=_("Who holds and who disputes each plaza on a day (the latest if not given)."))
    def territory_command(
        ctx: typer.Context,
        on: Annotated[
            datetime | None, typer.Option("--on", formats=["%Y-%m-%d"], help=_("The day (YYYY-MM-DD)."))
        ] = None,
        as_json: AsJson = False,
    ) -> None:
        with loaded(ctx) as data:
            found = organizations.territory(data, on.date().isoformat() if on else None)
        if as_json:
            write_json(found)
            return
        rows = [
            {k: c[k] for k in ("plaza", "state", "org", "disputed", "start", "end", "confidence")}
            for c in found["claims"]
        ]
        print_rows(rows, False, _("Plazas on {day}").format(day=found["on"] or "-"))

    app.add_typer(orgs_app, name="orgs")
