"""``cruce resolve``: link records into canonical entities, explain a match, record decisions.

``cruce.cli.build_app`` calls ``register`` so that these commands share the global options
(``--db``, ``--lang``) and the error handling of the others.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cruce.cli_support import cli_actor
from cruce.i18n import _

console = Console()
errors = Console(stderr=True)
BAR_WIDTH = 30


def waterfall_lines(explanation: Any, width: int = BAR_WIDTH) -> list[tuple[str, str, str, str]]:
    """(field, level, weight, bar) rows: the prior, each compared field, then the total."""
    rows: list[tuple[str, str, float]] = [(_("Prior (before comparing)"), "", explanation.prior_weight)]
    rows += [(c.description, c.level, c.weight) for c in explanation.contributions]
    scale = max((abs(w) for _f, _l, w in rows), default=1.0) or 1.0
    out = []
    for field, level, weight in rows:
        n = round(abs(weight) / scale * width)
        bar = ("+" if weight >= 0 else "-") * max(n, 1 if weight else 0)
        out.append((field, level, f"{weight:+.2f}", bar))
    return out


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``resolve`` (with ``explain``, ``judge``, ``split`` and ``undo``) to the ``cruce`` command."""
    resolve_app = typer.Typer(
        help=_("Link records of one type into canonical entities (probabilistic record linkage)."),
        invoke_without_command=True,
        no_args_is_help=False,
        rich_markup_mode=None,
    )

    @resolve_app.callback()
    def resolve_command(
        ctx: typer.Context,
        type_: Annotated[
            str, typer.Option("--type", "-t", help=_("Entity type: Person, Organization, Firearm, Vehicle or Phone."))
        ] = "Person",
        threshold: Annotated[
            float | None,
            typer.Option(
                "--threshold", min=0.0, max=1.0, help=_("Match probability from which two records are one entity.")
            ),
        ] = None,
        retrain: Annotated[
            bool, typer.Option("--retrain", help=_("Train a new version of the model instead of reusing the last."))
        ] = False,
        incremental: Annotated[
            bool,
            typer.Option(
                "--incremental",
                help=_(
                    "Only link the records imported since the last run to the existing entities "
                    "(every resolved type, or --type if given)."
                ),
            ),
        ] = False,
        engine: Annotated[
            Literal["duckdb", "spark"],
            typer.Option(
                "--engine",
                help=_("Where pairs are scored (and the model trained): duckdb, or spark for large data."),
            ),
        ] = "duckdb",
        spark_master: Annotated[
            str | None,
            typer.Option(
                "--spark-master",
                metavar="URL",
                help=_("Spark master for --engine spark, e.g. spark://host:7077 (default local[2], this machine)."),
            ),
        ] = None,
    ) -> None:
        if ctx.invoked_subcommand is not None:
            return
        if spark_master is not None and engine != "spark":
            raise typer.BadParameter(_("--spark-master goes with --engine spark."), param_hint="--spark-master")
        if incremental and engine == "spark":
            raise typer.BadParameter(
                _("--incremental links on DuckDB only (a few records at a time); leave out --engine spark."),
                param_hint="--engine",
            )
        if incremental:
            from cruce.resolve.incremental import link_imports

            explicit = ctx.get_parameter_source("type_")
            only = [type_] if explicit is not None and explicit.name != "DEFAULT" else None
            with user_errors(), open_store(ctx) as store:
                print_increments(link_imports(store, types=only, actor=cli_actor()))
            return
        from cruce.resolve.engine import STEPS, resolve

        with user_errors(), open_store(ctx) as store:
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=errors,
                transient=True,
            )
            with progress:
                task = progress.add_task(_("Resolving {type}").format(type=type_), total=STEPS)

                def on_progress(label: str, done: int, total: int) -> None:
                    progress.update(task, description=label, completed=done, total=total)

                result = resolve(
                    store,
                    type_,
                    threshold=threshold,
                    retrain=retrain,
                    actor=cli_actor(),
                    on_progress=on_progress,
                    engine=engine,
                    spark_master=spark_master,
                )
        table = Table(title=_("Resolution of {type}").format(type=result.entity_type), show_header=False)
        rows = [
            (_("Records"), f"{result.records:,}"),
            (_("Pairs scored"), f"{result.pairs:,}"),
            (_("Entities (clusters)"), f"{result.clusters:,}"),
            (_("Records merged with another"), f"{result.merged_records:,}"),
            (_("Threshold"), f"{result.threshold:.2f}"),
            (
                _("Model"),
                _("version {version} (trained now)").format(version=result.model_version)
                if result.trained
                else _("version {version}").format(version=result.model_version),
            ),
            (_("Seconds"), f"{result.seconds:.1f}"),
        ]
        if engine == "spark":
            from cruce.resolve.spark import DEFAULT_MASTER

            rows.append((_("Engine"), f"Spark ({spark_master or DEFAULT_MASTER})"))
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)
        for purged in result.purged:
            console.print(
                _(
                    "Rule '{rule}': {keys} values held by more than {limit} records each ({records} records) "
                    "were not compared on it ({pairs} pairs); the other rules still compare those records."
                ).format(
                    rule=_(purged.rule),
                    keys=f"{purged.keys:,}",
                    limit=f"{purged.limit:,}",
                    records=f"{purged.records:,}",
                    pairs=f"{purged.pairs:,}",
                )
            )
        for a, b in result.conflicts:
            console.print(
                _("Decision 'same' for {a} and {b} not applied: it would join records judged not the same.").format(
                    a=a, b=b
                )
            )

    @resolve_app.command(
        "explain", help=_("Why two records are (or are not) one entity: a waterfall of match weights.")
    )
    def explain_command(
        ctx: typer.Context,
        first: Annotated[str, typer.Argument(help=_("Id of the first record."))],
        second: Annotated[str, typer.Argument(help=_("Id of the second record."))],
    ) -> None:
        from cruce.resolve.engine import explain

        with user_errors(), open_store(ctx) as store:
            ex = explain(store, first, second)
        console.print(_("{type} records {a} and {b}").format(type=ex.entity_type, a=ex.id_l, b=ex.id_r))
        console.print(
            _("Match probability {p:.4f}, match weight {w:+.2f} (model version {v}, threshold {t:.2f})").format(
                p=ex.probability, w=ex.match_weight, v=ex.model_version, t=ex.threshold
            )
        )
        if ex.blocking_rule:
            console.print(_("Proposed by the blocking rule: {rule}").format(rule=ex.blocking_rule))
        else:
            console.print(_("No blocking rule proposes this pair: the model never compares it on its own."))
        if not ex.stored:
            console.print(_("(scored now: the pair is below the floor kept from the last run)"))
        table = Table(title=_("Match weight of each field"))
        table.add_column(_("Field"))
        table.add_column(_("Level"))
        table.add_column(_("Weight"), justify="right")
        table.add_column("")
        for field, level, weight, bar in waterfall_lines(ex):
            table.add_row(field, level, weight, f"[green]{bar}[/]" if weight.startswith("+") else f"[red]{bar}[/]")
        table.add_row(_("Total"), "", f"{ex.match_weight:+.2f}", "")
        console.print(table)
        same = _("in one entity") if ex.same_cluster else _("in different entities")
        console.print(_("The records are now {where}.").format(where=same))
        if ex.decision:
            console.print(_("An analyst decided: {decision}.").format(decision=_decision_label(ex.decision)))

    @resolve_app.command("judge", help=_("Record an analyst's decision about two records; it overrides the model."))
    def judge_command(
        ctx: typer.Context,
        first: Annotated[str, typer.Argument(help=_("Id of the first record."))],
        second: Annotated[str, typer.Argument(help=_("Id of the second record."))],
        decision: Annotated[str, typer.Argument(help=_("same, not_same or unsure."))],
        note: Annotated[str | None, typer.Option("--note", help=_("Why (kept with the decision)."))] = None,
    ) -> None:
        from cruce.resolve.engine import ResolutionError, judge
        from cruce.resolve.store import DECISIONS

        with user_errors(), open_store(ctx) as store:
            if decision not in DECISIONS:
                raise ResolutionError(
                    _("Unknown decision {decision}; use one of: {choices}.").format(
                        decision=decision, choices=", ".join(DECISIONS)
                    )
                )
            group = judge(store, first, second, decision, cli_actor(), note)
        console.print(_("Decision {id} recorded; clusters updated.").format(id=group))

    @resolve_app.command("split", help=_("Take a record out of its entity (it is judged not the same as the others)."))
    def split_command(
        ctx: typer.Context,
        record: Annotated[str, typer.Argument(help=_("Id of the record."))],
        note: Annotated[str | None, typer.Option("--note", help=_("Why (kept with the decision)."))] = None,
    ) -> None:
        from cruce.resolve.engine import split

        with user_errors(), open_store(ctx) as store:
            group = split(store, record, cli_actor(), note)
        if group is None:
            console.print(_("The record is alone in its entity; nothing to split."))
        else:
            console.print(_("Decision {id} recorded; clusters updated.").format(id=group))

    @resolve_app.command("undo", help=_("Undo a decision; the clusters are worked out again without it."))
    def undo_command(
        ctx: typer.Context,
        decision: Annotated[str, typer.Argument(help=_("Id of the decision (or its start)."))],
    ) -> None:
        from cruce.resolve.engine import undo

        with user_errors(), open_store(ctx) as store:
            undone = undo(store, decision, cli_actor())
        if not undone:
            console.print(_("No decision in force with id {id}.").format(id=decision))
        else:
            console.print(_("{count} decisions undone; clusters updated.").format(count=len(undone)))

    @resolve_app.command("decisions", help=_("The analysts' decisions in force (or all, with --all)."))
    def decisions_command(
        ctx: typer.Context,
        type_: Annotated[str | None, typer.Option("--type", "-t", help=_("Only this entity type."))] = None,
        show_all: Annotated[bool, typer.Option("--all", help=_("Also the decisions undone."))] = False,
    ) -> None:
        from cruce.resolve.store import ResolutionStore

        with user_errors(), open_store(ctx) as store:
            judgements = ResolutionStore(store).judgements(type_, active_only=not show_all)
        table = Table(title=_("Decisions"))
        for col in (_("Decision"), _("Records"), _("Judged"), _("By"), _("When"), _("Undone")):
            table.add_column(col)
        for j in judgements:
            table.add_row(
                j.group_id[:12],
                f"{j.id_l}\n{j.id_r}",
                _decision_label(j.decision),
                j.actor,
                j.made_at.strftime("%Y-%m-%d %H:%M"),
                j.undone_at.strftime("%Y-%m-%d %H:%M") if j.undone_at else "",
            )
        console.print(table)

    app.add_typer(resolve_app, name="resolve")
    _register_watch(app, open_store=open_store, user_errors=user_errors)


def _register_watch(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """``cruce watch``: a user's watchlist (entities and names) and the alerts later imports raise."""
    watch_app = typer.Typer(
        help=_("Watch an entity or a name; later imports that match it raise alerts for the user."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    def _principal(store: Any, username: str) -> Any:
        from cruce.resolve.watch import WatchError
        from cruce.security import Security

        user = Security(store).accounts.find(username)
        if user is None:
            raise WatchError(_("No user {name}.").format(name=username))
        return user.principal()

    @watch_app.command(
        "add",
        help=_(
            "Watch an entity (by a record id), a name, a place, a search, the flagged purchasers or a purchaser's "
            "purchases."
        ),
    )
    def add_command(
        ctx: typer.Context,
        user: Annotated[str, typer.Option("--user", "-u", help=_("The user whose watchlist it is."))],
        entity: Annotated[
            str | None, typer.Option("--entity", help=_("Id of a record: its entity is watched."))
        ] = None,
        name: Annotated[str | None, typer.Option("--name", help=_("A personal name to watch."))] = None,
        flagged: Annotated[
            bool, typer.Option("--flagged", help=_("Every purchaser the firearms leads flag: their new traces."))
        ] = False,
        purchases: Annotated[
            str | None,
            typer.Option("--purchases", help=_("Id of a purchaser's record: their new multiple sales.")),
        ] = None,
        place: Annotated[
            str | None,
            typer.Option(
                "--place", help=_("A state (MX-SON, Sonora), a municipality in a state (MX-SON:Nogales) or its name.")
            ),
        ] = None,
        search: Annotated[
            str | None, typer.Option("--search", help=_("A saved search's words: new records with all of them."))
        ] = None,
        threshold: Annotated[
            float | None,
            typer.Option(
                "--threshold",
                min=0.0,
                max=1000.0,
                help=_("How alike a name must be (0 to 1; 0.85 if not given); with --flagged, the lowest score."),
            ),
        ] = None,
    ) -> None:
        from cruce.resolve.watch import WatchError, Watchlists

        with user_errors(), open_store(ctx) as store:
            asked = [x for x in (entity, name, purchases, place, search) if x is not None] + (
                ["flagged"] if flagged else []
            )
            if len(asked) != 1:
                raise WatchError(_("Give one of --entity, --name, --place, --search, --flagged or --purchases."))
            principal = _principal(store, user)
            record = entity if entity is not None else purchases
            if record is not None:
                from cruce.schema.loader import default_schema
                from cruce.security import Guard, Security

                if Guard(store, Security(store), default_schema()).entity(principal, record) is None:
                    raise WatchError(_("No record {id} that {user} may see.").format(id=record, user=user))
                watch = Watchlists(store).add(user, "entity" if entity is not None else "purchases", record, threshold)
            elif flagged:
                watch = Watchlists(store).add(user, "flagged", "", threshold)
            elif place is not None:
                watch = Watchlists(store).add(user, "place", place)
            elif search is not None:
                watch = Watchlists(store).add(user, "search", search)
            else:
                watch = Watchlists(store).add(user, "name", str(name), threshold)
        console.print(_("Watch {id} added for {user}.").format(id=watch.id, user=user))

    @watch_app.command("list", help=_("The watches of a user (or of everyone)."))
    def list_command(
        ctx: typer.Context,
        user: Annotated[str | None, typer.Option("--user", "-u", help=_("Only this user's watches."))] = None,
        show_all: Annotated[bool, typer.Option("--all", help=_("Also the watches removed."))] = False,
    ) -> None:
        from cruce.resolve.watch import Watchlists

        with user_errors(), open_store(ctx) as store:
            watches = Watchlists(store).watches(user, include_inactive=show_all)
        table = Table(title=_("Watches"))
        for col in (_("Watch"), _("User"), _("Kind"), _("Watched"), _("Threshold"), _("Since"), _("Active")):
            table.add_column(col)
        for w in watches:
            table.add_row(
                w.id,
                w.username,
                _kind_label(w.kind),
                w.target,
                f"{w.threshold:.2f}" if w.kind == "name" else (f"{w.threshold:g}" if w.kind == "flagged" else ""),
                w.created_at.strftime("%Y-%m-%d %H:%M"),
                _("yes") if w.active else _("no"),
            )
        console.print(table)

    @watch_app.command("remove", help=_("Stop a watch (its alerts stay)."))
    def remove_command(
        ctx: typer.Context,
        watch: Annotated[str, typer.Argument(help=_("Id of the watch."))],
        user: Annotated[str, typer.Option("--user", "-u", help=_("The user whose watchlist it is."))],
    ) -> None:
        from cruce.resolve.watch import WatchError, Watchlists

        with user_errors(), open_store(ctx) as store:
            if not Watchlists(store).remove(user, watch):
                raise WatchError(_("{user} has no watch {id} in force.").format(user=user, id=watch))
        console.print(_("Watch {id} removed.").format(id=watch))

    @watch_app.command("alerts", help=_("A user's alerts, newest first, shown as that user may see them."))
    def alerts_command(
        ctx: typer.Context,
        user: Annotated[str, typer.Option("--user", "-u", help=_("The user whose watchlist it is."))],
        unseen: Annotated[bool, typer.Option("--unseen", help=_("Only the alerts not yet seen."))] = False,
        mark_seen: Annotated[bool, typer.Option("--mark-seen", help=_("Then mark them all seen."))] = False,
    ) -> None:
        from cruce.resolve.watch import Watchlists
        from cruce.schema.loader import default_schema
        from cruce.security import Guard, Security, caption

        with user_errors(), open_store(ctx) as store:
            principal = _principal(store, user)
            watchlists = Watchlists(store)
            rows = watchlists.view(Guard(store, Security(store), default_schema()), principal, unseen_only=unseen)
            marked = watchlists.mark_seen(user) if mark_seen else 0
        table = Table(title=_("Alerts for {user}").format(user=user))
        for col in (_("When"), _("Watched"), _("Record"), _("Probability"), _("Import"), _("Seen")):
            table.add_column(col)
        for alert, entity in rows:
            table.add_row(
                alert.created_at.strftime("%Y-%m-%d %H:%M"),
                f"{_kind_label(alert.kind)}: {alert.target}",
                f"{caption(entity)}\n{alert.entity_id}",
                f"{alert.probability:.2f}",
                alert.import_id or "",
                alert.seen_at.strftime("%Y-%m-%d %H:%M") if alert.seen_at else "",
            )
        console.print(table)
        if mark_seen:
            console.print(_("{count} alerts marked seen.").format(count=marked))

    @watch_app.command(
        "digest",
        help=_(
            "Make the digest of what matched a user's watches since their previous one, in their language: "
            "an HTML file per user, sent by mail with --send when mail is configured."
        ),
    )
    def digest_command(
        ctx: typer.Context,
        user: Annotated[
            list[str] | None, typer.Option("--user", "-u", help=_("The user (repeat it; every watcher if not given)."))
        ] = None,
        period: Annotated[str, typer.Option("--period", help=_("daily or weekly."))] = "daily",
        out: Annotated[Path, typer.Option("--out", help=_("Folder for the HTML files."))] = Path("digests"),
        send: Annotated[
            bool, typer.Option("--send", help=_("Also send each digest by mail (CRUCE_SMTP_HOST and --to)."))
        ] = False,
        to: Annotated[str | None, typer.Option("--to", help=_("The address to send the digests to."))] = None,
    ) -> None:
        from cruce.resolve import digest as digests
        from cruce.resolve.watch import WatchError, Watchlists
        from cruce.schema.loader import default_schema
        from cruce.security import Guard, Security

        with user_errors(), open_store(ctx) as store:
            digests.check_period(period)
            settings = digests.SmtpSettings.from_environment() if send else None
            if send and settings is None:
                raise WatchError(_("Mail is not configured: set CRUCE_SMTP_HOST (see the deployment guide)."))
            if send and not to:
                raise WatchError(_("Give the address to send to with --to."))
            names = user or sorted({w.username for w in Watchlists(store).watches()})
            guard = Guard(store, Security(store), default_schema())
            out.mkdir(parents=True, exist_ok=True)
            for name in names:
                principal = _principal(store, name)
                made = digests.make(store, guard, principal, period)
                html = digests.email_html(made)
                path = out / f"digest-{name}-{period}-{made.until:%Y%m%d-%H%M%S}.html"
                path.write_text(html, encoding="utf-8")
                if settings is not None and to:
                    digests.send(settings, to, made, html)
                console.print(
                    _("{user}: {count} new matches, written to {path}.").format(
                        user=name, count=len(made.items), path=path
                    )
                    + (" " + _("Sent.") if settings is not None else "")
                )

    app.add_typer(watch_app, name="watch")


def _kind_label(kind: str) -> str:
    return {
        "entity": _("entity"),
        "name": _("name"),
        "flagged": _("flagged purchasers"),
        "purchases": _("purchases of"),
        "place": _("place"),
        "search": _("search"),
    }.get(kind, kind)


def link_after_import(store: Any, import_id: str) -> None:
    """``cruce import --resolve``: incremental linking of what the import brought, and its summary."""
    from cruce.analyses.firearms.alerts import alert_after_import
    from cruce.resolve.incremental import link_imports

    print_increments(link_imports(store, [import_id], actor=cli_actor()))
    raised = alert_after_import(store, [import_id])
    if raised:
        console.print(
            _("{count} firearms alerts raised (new traces of flagged purchasers, new multiple sales).").format(
                count=raised
            )
        )


def place_and_search_alerts(store: Any, import_id: str) -> None:
    """After ``cruce import``: the alerts of the place and search watches, and how many were raised."""
    from cruce.resolve.watch_match import alert_after_import

    raised = alert_after_import(store, [import_id])
    if raised:
        console.print(_("{count} watch alerts raised (watched places and searches).").format(count=raised))


def print_increments(results: list[Any]) -> None:
    """The summary of incremental linking, one line per entity type (also after ``cruce import --resolve``)."""
    if not results:
        console.print(_("No entity type is resolved yet: run 'cruce resolve' first."))
    for r in results:
        if r.skipped:
            console.print(_("{type}: {reason}.").format(type=r.entity_type, reason=r.skipped))
        elif r.run_id is None:
            console.print(_("{type}: no new records to link.").format(type=r.entity_type))
        else:
            console.print(
                _(
                    "{type}: {new} new and {changed} changed records linked in {seconds:.1f} s; {joined} joined an "
                    "existing entity, {started} started a new one, {bridged} entities merged; {pairs} pairs scored; "
                    "{clusters} entities in all."
                ).format(
                    type=r.entity_type,
                    new=r.new_records,
                    changed=r.changed_records,
                    seconds=r.seconds,
                    joined=r.joined,
                    started=r.started,
                    bridged=r.bridged,
                    pairs=r.pairs_added,
                    clusters=r.clusters,
                )
            )
        if r.alerts:
            console.print(_("{count} watchlist alerts.").format(count=r.alerts))


def _decision_label(decision: str) -> str:
    return {"same": _("same"), "not_same": _("not the same"), "unsure": _("unsure")}.get(decision, decision)
