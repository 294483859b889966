"""``cruce investigations …`` and ``cruce report …``: investigation cases and briefings at the command line.

The command line acts either as a user (``--as USER``: their role, groups and memberships, exactly as
on the pages) or as the operator of the database: an admin who sees every case and dataset but, as
for ``cruce timeline``, not protected values (victims' and tipsters' identities) unless
``--include-protected`` — each one shown is then recorded in the audit log. Opening a case needs a
lead, so ``create`` needs ``--as``. Everything is audited under the acting name.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cruce.cli_support import cli_actor, fail
from cruce.i18n import _, current_language
from cruce.investigations.access import Desk, NotFound
from cruce.investigations.store import CASE_ROLES, CaseError
from cruce.schema.loader import default_schema
from cruce.security import Guard, Principal, Role, Security
from cruce.security.guard import Access

console = Console()
As = Annotated[str | None, typer.Option("--as", help=_("Act as this user (their role, groups and cases)."))]
Protected = Annotated[
    bool,
    typer.Option("--include-protected", help=_("As the operator: show protected values (victims, tipsters) too.")),
]

Lang = Annotated[str, typer.Option("--lang", help=_("Language of the report: en or es."))]
Format = Annotated[str, typer.Option("--format", help=_("pdf or html."))]
Out = Annotated[Path | None, typer.Option("--out", help=_("The file to write (default: a name in this folder)."))]


def desk_for(store: Any, as_user: str | None, include_protected: bool = False) -> Desk:
    """The desk of ``--as USER``, or of the operator (an admin without protected values unless asked)."""
    security = Security(store)
    guard = Guard(store, security, default_schema())
    if as_user:
        user = security.accounts.find(as_user)
        if user is None or user.disabled:
            raise fail(LookupError(_("No active user {name}.").format(name=as_user)))
        return Desk(guard, user.principal(), address="cli")
    actor = cli_actor()
    principal = Principal(actor, actor, Role.ADMIN, frozenset())
    everything = guard.access(principal)
    access = Access(everything.visible, everything.caseload if include_protected else frozenset())
    return Desk(guard, principal, address="cli", access=access)


USER_ERRORS = (NotFound, PermissionError, CaseError)


def _explain(exc: BaseException) -> typer.Exit:
    if isinstance(exc, NotFound):
        return fail(LookupError(_("Not found, or not visible to you: {what}").format(what=exc)))
    if isinstance(exc, PermissionError):
        return fail(PermissionError(_("Your role in this case does not allow this.")))
    return fail(exc)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``investigations`` and ``report`` to the ``cruce`` command."""
    inv = typer.Typer(
        help=_("Investigation cases: list, show, create, add records, searches and views, add members."),
        no_args_is_help=True,
    )
    app.add_typer(inv, name="investigations")

    @inv.command("list", help=_("The cases you may open, most recently changed first."))
    def list_command(ctx: typer.Context, as_user: As = None) -> None:
        with user_errors(), open_store(ctx) as store:
            rows = desk_for(store, as_user).visible_cases()
        table = Table(title=_("Investigation cases"))
        table.add_column(_("Id"), no_wrap=True, min_width=32)
        for col in (_("Title"), _("Marking"), _("Status"), _("Role"), _("Changed")):
            table.add_column(col)
        for case, role in rows:
            table.add_row(case.id, escape(case.title), f"TLP:{case.marking.value.upper()}", case.status, role or "—",
                          case.updated_at.strftime("%Y-%m-%d %H:%M"))  # fmt: skip
        console.print(table)

    @inv.command("show", help=_("A case: its members, records (as you may see them), tasks and notes."))
    def show_command(
        ctx: typer.Context,
        case_id: Annotated[str, typer.Argument(help=_("The case's id."))],
        as_user: As = None,
        include_protected: Protected = False,
        fmt: Annotated[str, typer.Option("--format", help=_("table or json."))] = "table",
    ) -> None:
        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user, include_protected)
            try:
                opened = desk.open(case_id)
                material = desk.material(opened, current_language())
                tasks, notes = desk.tasks(opened), desk.notes(opened)
            except USER_ERRORS as exc:
                raise _explain(exc) from None
        case = opened.case
        records: list[dict[str, Any]] = [
            {"id": r.item.ref, "kind": r.item.kind, "type": r.type_label, "caption": r.caption,
             "datasets": list(r.entity.datasets) if r.entity else []}
            for r in material.records
        ]  # fmt: skip
        if fmt == "json":
            out = {
                "id": case.id, "title": case.title, "description": case.description, "marking": case.marking.value,
                "status": case.status, "members": [{"username": m.username, "role": m.role} for m in opened.members],
                "material": opened.material, "records": records, "withheld": material.withheld,
                "saved": [{"kind": i.kind, "label": i.label, "ref": i.ref}
                          for i in (*material.searches, *material.charts, *material.views)],
                "tasks": [{"title": t.title, "owner": t.owner, "due": t.due.isoformat() if t.due else None,
                           "state": t.state} for t in tasks],
                "notes": [{"author": n.author, "at": n.created_at.isoformat(), "body": n.body} for n in notes],
            }  # fmt: skip
            sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
            return
        console.print(f"[bold]{escape(case.title)}[/] · TLP:{case.marking.value.upper()} · {case.status}")
        if case.description:
            console.print(escape(case.description))
        console.print(_("Members") + ": " + ", ".join(f"{m.username} ({m.role})" for m in opened.members))
        table = Table(title=_("Records"))
        table.add_column(_("Id"), no_wrap=True, min_width=36)
        for col in (_("Kind"), _("Type"), _("Name"), _("Datasets")):
            table.add_column(col)
        for r in records:
            table.add_row(r["id"], r["kind"], r["type"], escape(r["caption"]), ", ".join(r["datasets"]))
        console.print(table)
        if material.withheld:
            console.print(_("{n} records are in datasets you may not see.").format(n=material.withheld))
        for t in tasks:
            due = t.due.isoformat() if t.due else ""
            console.print(f"- [{t.state}] {escape(t.title)} ({t.owner}{', ' + due if due else ''})")
        for n in notes:
            console.print(f"> {n.author} {n.created_at:%Y-%m-%d %H:%M}: {escape(n.body)}")

    @inv.command("create", help=_("Open a case; the user given with --as is its lead."))
    def create_command(
        ctx: typer.Context,
        title: Annotated[str, typer.Argument(help=_("The case's title."))],
        as_user: Annotated[str, typer.Option("--as", help=_("The user who leads the case."))],
        description: Annotated[str, typer.Option("--description", help=_("What the case is about."))] = "",
        marking: Annotated[str, typer.Option("--marking", help=_("clear, green, amber or red."))] = "amber",
    ) -> None:
        with user_errors(), open_store(ctx) as store:
            try:
                case = desk_for(store, as_user).create(title, description, marking)
            except (*USER_ERRORS, ValueError) as exc:
                raise _explain(exc) from None
        console.print(_("Case {id} opened: {title}").format(id=case.id, title=escape(case.title)))

    @inv.command("add-item", help=_("Add records (by id), a saved search or a dashboard view to a case."))
    def add_item_command(
        ctx: typer.Context,
        case_id: Annotated[str, typer.Argument(help=_("The case's id."))],
        entities: Annotated[list[str] | None, typer.Argument(help=_("Record ids to add."))] = None,
        search: Annotated[str | None, typer.Option("--search", help=_("Save this search (its words)."))] = None,
        view: Annotated[str | None, typer.Option("--view", help=_("Save this page of cruce, e.g. /firearms."))] = None,
        label: Annotated[str, typer.Option("--label", help=_("A name for the search or the view."))] = "",
        as_user: As = None,
    ) -> None:
        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user)
            try:
                added, already = desk.add_records(case_id, entities) if entities else ([], 0)
                extra = 0
                if search:
                    desk.add_search(case_id, search, {}, label or None)
                    extra += 1
                if view:
                    desk.add_view(case_id, view, label)
                    extra += 1
            except USER_ERRORS as exc:
                raise _explain(exc) from None
        console.print(_("Added {n} items ({already} records were there already).").format(
            n=len(added) + extra, already=already))  # fmt: skip

    @inv.command("member", help=_("Add a member to a case, or change their role (lead, editor, reader)."))
    def member_command(
        ctx: typer.Context,
        case_id: Annotated[str, typer.Argument(help=_("The case's id."))],
        username: Annotated[str, typer.Argument(help=_("The user to add."))],
        role: Annotated[str, typer.Option("--role", help=_("lead, editor or reader."))] = "reader",
        as_user: As = None,
    ) -> None:
        if role not in CASE_ROLES:
            raise fail(ValueError(_("A member is a lead, an editor or a reader.")))
        with user_errors(), open_store(ctx) as store:
            try:
                member = desk_for(store, as_user).set_member(case_id, username, role)
            except USER_ERRORS as exc:
                raise _explain(exc) from None
        console.print(f"{member.username}: {member.role}")

    @inv.command(
        "export",
        help=_(
            "Write a case as a package for another cruce: its records as FollowTheMoney "
            "entities with their sources, its briefing and a manifest with hashes."
        ),
    )
    def export_command(
        ctx: typer.Context,
        case_id: Annotated[str, typer.Argument(help=_("The case's id."))],
        out: Annotated[Path, typer.Option("--out", help=_("The package (a ZIP file) to write."))],
        lang: Lang = "en",
        fmt: Format = "pdf",
        release: Annotated[
            list[str] | None,
            typer.Option(
                "--release",
                help=_(
                    "Release this protected property (e.g. name) into the package; "
                    "repeat for more. Each release is audited."
                ),
            ),
        ] = None,
        as_user: As = None,
    ) -> None:
        _check(lang, fmt)
        from cruce.investigations.package import PackageError, export_case

        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user, include_protected=bool(release))  # the operator releases by naming
            try:
                done = export_case(desk, case_id, out, lang=lang, fmt=fmt, release=release or ())
            except (*USER_ERRORS, PackageError) as exc:
                raise _explain(exc) from None
        console.print(_("Package {path} written: {n} records ({withheld} not shareable).").format(
            path=done.path, n=done.records, withheld=done.withheld))  # fmt: skip
        for prop, count in done.released.items():
            console.print(_("Released {prop}: {n} values (audited).").format(prop=prop, n=count))

    @inv.command(
        "import",
        help=_(
            "Import a case package from another cruce as a new case (its hashes checked "
            "first; importing it again adds nothing)."
        ),
    )
    def import_command(
        ctx: typer.Context,
        package: Annotated[Path, typer.Argument(help=_("The package (a ZIP file)."), exists=True, dir_okay=False)],
        as_user: Annotated[str, typer.Option("--as", help=_("The user who leads the imported case."))],
    ) -> None:
        from cruce.investigations.package import PackageError, import_package

        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user)
            try:
                done = import_package(desk, package)
            except (*USER_ERRORS, PackageError) as exc:
                raise _explain(exc) from None
        if done.new:
            console.print(_("Case {id} opened from the package: {title} ({n} records).").format(
                id=done.case.id, title=escape(done.case.title), n=done.records))  # fmt: skip
        else:
            console.print(_("This package was imported before, as case {id}: nothing added.").format(id=done.case.id))

    report = typer.Typer(help=_("Briefing reports in English or Spanish, as PDF or HTML."), no_args_is_help=True)
    app.add_typer(report, name="report")

    def _write(briefing: Any, fmt: str, out: Path | None) -> None:
        from cruce.reports import render

        target = out or Path(render.filename(briefing, fmt))
        target.write_bytes(render.render(briefing, fmt))
        console.print(_("Briefing written to {path} ({marking}).").format(
            path=target, marking=f"TLP:{briefing.marking.value.upper()}"))  # fmt: skip

    def _check(lang: str, fmt: str) -> None:
        if lang not in ("en", "es"):
            raise fail(ValueError(_("--lang: en or es, not {value}.").format(value=lang)))
        if fmt not in ("pdf", "html"):
            raise fail(ValueError(_("--format: pdf or html, not {value}.").format(value=fmt)))

    @report.command("case", help=_("The briefing of an investigation case."))
    def report_case(
        ctx: typer.Context,
        case_id: Annotated[str, typer.Argument(help=_("The case's id."))],
        lang: Lang = "en",
        fmt: Format = "pdf",
        out: Out = None,
        as_user: As = None,
        include_protected: Protected = False,
    ) -> None:
        _check(lang, fmt)
        from cruce.reports.briefing import case_briefing

        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user, include_protected)
            try:
                briefing = case_briefing(desk, case_id, lang)
            except USER_ERRORS as exc:
                raise _explain(exc) from None
            desk.audit("report", briefing_case_id(case_id), lang=lang, format=fmt, marking=briefing.marking.value,
                       cli=True)  # fmt: skip
        _write(briefing, fmt, out)

    @report.command("entity", help=_("The briefing of one entity: its values, links, timeline and places."))
    def report_entity(
        ctx: typer.Context,
        entity_id: Annotated[str, typer.Argument(help=_("Entity id."))],
        lang: Lang = "en",
        fmt: Format = "pdf",
        out: Out = None,
        as_user: As = None,
        include_protected: Protected = False,
    ) -> None:
        _check(lang, fmt)
        from cruce.reports.briefing import entity_briefing

        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user, include_protected)
            briefing = entity_briefing(desk.guard, desk.principal, entity_id, lang, address="cli", access=desk.access)
            if briefing is None:
                raise fail(LookupError(_("No entity {id} in the store.").format(id=entity_id)))
            _audit_report(desk, "entity_report", entity_id, briefing, lang, fmt)
        _write(briefing, fmt, out)

    @report.command("dashboard", help=_("The briefing of a flow dashboard: firearms, drugs-violence or people."))
    def report_dashboard(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help=_("firearms, drugs-violence or people."))],
        lang: Lang = "en",
        fmt: Format = "pdf",
        out: Out = None,
        as_user: As = None,
        date_from: Annotated[
            str | None, typer.Option("--from", help=_("Firearms: recovered on or after (YYYY-MM-DD)."))
        ] = None,
        date_to: Annotated[
            str | None, typer.Option("--to", help=_("Firearms: recovered on or before (YYYY-MM-DD)."))
        ] = None,
        state: Annotated[str | None, typer.Option("--state", help=_("Firearms: state of recovery (MX-SON)."))] = None,
        firearm_type: Annotated[str | None, typer.Option("--type", help=_("Firearms: firearm type."))] = None,
        caliber: Annotated[str | None, typer.Option("--caliber", help=_("Firearms: caliber."))] = None,
        year: Annotated[int | None, typer.Option("--year", help=_("Drugs and violence: the year of the maps."))] = None,
        drug: Annotated[str | None, typer.Option("--drug", help=_("Drugs and violence: one drug."))] = None,
        k: Annotated[
            int, typer.Option("--k", help=_("People: the smallest count shown; smaller cells show as < k."))
        ] = 10,
    ) -> None:
        _check(lang, fmt)
        from cruce.reports.dashboards import DASHBOARDS, DashboardAsk, dashboard_briefing

        if name not in DASHBOARDS:
            raise fail(ValueError(_("No dashboard {name}: firearms, drugs-violence or people.").format(name=name)))
        ask = DashboardAsk(
            _day(date_from, "--from"), _day(date_to, "--to"), state, firearm_type, caliber, year, drug, k
        )
        with user_errors(), open_store(ctx) as store:
            desk = desk_for(store, as_user)
            briefing = dashboard_briefing(desk.guard, desk.principal, name, ask, lang)
            _audit_report(desk, "dashboard_report", name, briefing, lang, fmt)
        _write(briefing, fmt, out)


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(
            ValueError(_("{option}: a date as YYYY-MM-DD, not {value}.").format(option=option, value=value))
        ) from None


def _audit_report(desk: Desk, action: str, target: str, briefing: Any, lang: str, fmt: str) -> None:
    """A briefing written from the command line, in the audit log with its language, format and marking."""
    desk.guard.security.audit.record(
        desk.principal.username, action, target=target, address="cli",
        detail={"lang": lang, "format": fmt, "marking": briefing.marking.value, "cli": True},
    )  # fmt: skip


def briefing_case_id(case_id: str) -> str:
    return case_id.strip().lower()
