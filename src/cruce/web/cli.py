"""Command-line commands that belong to the web side: serving, accounts, dataset markings, the audit log.

``cruce.cli.build_app`` calls ``register`` so that these commands share the global options
(``--db``, ``--lang``) and error handling of the others. Every change made here is written to
the audit log as done by ``cli`` from the local machine.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cruce.cli_support import cli_actor, fail, user_errors
from cruce.i18n import _

console = Console()
errors = Console(stderr=True)


def _account_errors() -> AbstractContextManager[None]:
    from cruce.security import AccountError

    return user_errors(AccountError)


def _groups(text: str) -> set[str]:
    return {g.strip() for g in text.split(",") if g.strip()}


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``serve``, ``users``, ``datasets`` and ``audit`` to the ``cruce`` command."""
    from cruce.security.audit import now

    def security(ctx: typer.Context) -> Any:
        from cruce.security import Security

        store = open_store(ctx)
        return store, Security(store)

    @app.command("serve", help=_("Start the web application and the API (press Ctrl-C to stop)."))
    def serve_command(
        ctx: typer.Context,
        host: Annotated[str, typer.Option(help=_("Address to listen on."))] = "127.0.0.1",
        port: Annotated[int, typer.Option(help=_("Port to listen on."))] = 8000,
        proxy: Annotated[
            bool, typer.Option("--behind-proxy", help=_("Trust X-Forwarded-* headers from a local TLS proxy."))
        ] = False,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                min=1,
                max=64,
                help=_("Server processes (PostgreSQL only: a DuckDB file is held by one process)."),
            ),
        ] = 1,
    ) -> None:
        import uvicorn

        from cruce.priority import favour_requests
        from cruce.web import create_app
        from cruce.web.services import SettingError, Settings, default_upload_dir

        db = ctx.obj["db"]
        try:  # a setting from the environment that cannot be used stops the server before it starts
            Settings(default_upload_dir(db), 0)
        except SettingError as exc:
            raise fail(exc) from None
        if workers > 1:
            _serve_workers(db, host, port, proxy, workers)
            return
        with user_errors():
            web = create_app(db)
        favour_requests()
        console.print(_("cruce is at http://{host}:{port}/ (Ctrl-C to stop)").format(host=host, port=port))
        try:
            uvicorn.run(
                web, host=host, port=port, log_level="warning", proxy_headers=proxy, forwarded_allow_ips="127.0.0.1"
            )
        finally:
            web.state.services.close()

    def _serve_workers(db: str, host: str, port: int, proxy: bool, workers: int) -> None:
        """Several Uvicorn worker processes, each with the application (``worker_app``), and one
        process that runs the background jobs (``cruce jobs work``: an import's work no longer
        shares a worker with requests). The store is opened here first, once: its upgrade and the
        secret key's first creation must not race between the workers."""
        import uvicorn

        from cruce.i18n import current_language
        from cruce.store import StoreError
        from cruce.web import create_app

        if not db.startswith(("postgresql://", "postgres://")):
            raise fail(
                StoreError(
                    _(
                        "--workers {n} needs a PostgreSQL database: a DuckDB file is held by one process. "
                        "Serve it with one worker, or use --db postgresql://…"
                    ).format(n=workers)
                )
            )
        with user_errors():
            create_app(db, run_jobs=False).state.services.close()
        os.environ["CRUCE_DB"] = db  # the workers' database (they are new processes)
        os.environ["CRUCE_LANG"] = current_language()
        os.environ["CRUCE_WORKERS_RUN_JOBS"] = "0"  # the job process runs them (``cruce.jobs.process``)
        console.print(
            _("cruce is at http://{host}:{port}/ with {n} workers (Ctrl-C to stop)").format(
                host=host, port=port, n=workers
            )
        )
        jobs = subprocess.Popen(
            [sys.executable, "-m", "cruce", "--db", db, "jobs", "work", "--parent", str(os.getpid())],
            stdin=subprocess.DEVNULL,
        )
        try:
            uvicorn.run(
                "cruce.web.app:worker_app", factory=True, workers=workers, host=host, port=port, log_level="warning",
                proxy_headers=proxy, forwarded_allow_ips="127.0.0.1",
            )  # fmt: skip
        finally:
            jobs.terminate()  # the job under way goes back to the queue
            try:
                jobs.wait(30)
            except subprocess.TimeoutExpired:
                jobs.kill()

    users = typer.Typer(help=_("Accounts: add, list, disable, enable, reset a password, make an API token."))
    app.add_typer(users, name="users")

    @users.command("add", help=_("Add a user; a first password is made up and printed once."))
    def users_add(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help=_("User name."))],
        role: Annotated[str, typer.Option(help=_("admin, analyst, caseworker or viewer."))] = "viewer",
        groups: Annotated[str, typer.Option(help=_("Need-to-know groups, comma-separated."))] = "",
        name: Annotated[str, typer.Option("--name", help=_("Full name."))] = "",
        language: Annotated[str, typer.Option(help=_("Language of the pages: en or es."))] = "en",
    ) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                password = secrets.token_urlsafe(12)
                user = sec.accounts.add(
                    username, password, role, display_name=name, groups=_groups(groups), language=language, now=now()
                )
                sec.audit.record(cli_actor(), "user_add", target=user.username, detail={"role": user.role.value})
        console.print(_("User {name} added. Their first password, shown only now: {password}").format(
            name=user.username, password=password))  # fmt: skip

    @users.command("list", help=_("List the users with their roles, groups and state."))
    def users_list(ctx: typer.Context) -> None:
        with user_errors():
            store, sec = security(ctx)
            with store:
                table = Table(title=_("Users"))
                for col in (_("User name"), _("Role"), _("Groups"), _("State"), _("Language")):
                    table.add_column(col)
                for u in sec.accounts.all():
                    state = _("disabled") if u.disabled else _("active")
                    if u.has_totp:
                        state += " · TOTP"
                    table.add_row(u.username, u.role.value, ", ".join(sorted(u.groups)), state, u.language)
        console.print(table)

    def _set_disabled(ctx: typer.Context, username: str, disabled: bool) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                user = sec.accounts.set_disabled(username, disabled)
                sec.audit.record(cli_actor(), "user_disable" if disabled else "user_enable", target=user.username)
        console.print(_("Saved."))

    @users.command("disable", help=_("Disable a user: they can no longer sign in, and their sessions end."))
    def users_disable(ctx: typer.Context, username: Annotated[str, typer.Argument(help=_("User name."))]) -> None:
        _set_disabled(ctx, username, True)

    @users.command("enable", help=_("Enable a disabled user again."))
    def users_enable(ctx: typer.Context, username: Annotated[str, typer.Argument(help=_("User name."))]) -> None:
        _set_disabled(ctx, username, False)

    @users.command("reset", help=_("Give a user a new password (printed once) and end their sessions."))
    def users_reset(ctx: typer.Context, username: Annotated[str, typer.Argument(help=_("User name."))]) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                password = secrets.token_urlsafe(12)
                user = sec.accounts.set_password(username, password, now=now())
                sec.audit.record(cli_actor(), "user_reset", target=user.username)
        console.print(_("New password for {name}, shown only now: {password}").format(
            name=user.username, password=password))  # fmt: skip

    @users.command("role", help=_("Change a user's role and, optionally, groups."))
    def users_role(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help=_("User name."))],
        role: Annotated[str, typer.Option(help=_("admin, analyst, caseworker or viewer."))],
        groups: Annotated[str | None, typer.Option(help=_("Need-to-know groups, comma-separated."))] = None,
    ) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                sec.accounts.set_role(username, role)
                if groups is not None:
                    sec.accounts.set_groups(username, _groups(groups))
                sec.audit.record(cli_actor(), "user_role", target=username, detail={"role": role, "groups": groups})
        console.print(_("Saved."))

    @users.command("token", help=_("Make an API token for scripts (printed once)."))
    def users_token(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help=_("User name."))],
        scopes: Annotated[str, typer.Option(help=_("Scopes, comma-separated: read, import, triage, admin."))] = "read",
        name: Annotated[str, typer.Option("--name", help=_("What the token is for."))] = "script",
    ) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                token = sec.accounts.create_token(username, name, _groups(scopes), now=now())
                sec.audit.record(cli_actor(), "token_add", target=username, detail={"scopes": sorted(_groups(scopes))})
        console.print(_("API token for {name}, shown only now:").format(name=username))
        console.print(token, highlight=False, soft_wrap=True)

    @users.command("totp", help=_("Turn on the second factor for a user; prints the otpauth:// address for their app."))
    def users_totp(ctx: typer.Context, username: Annotated[str, typer.Argument(help=_("User name."))]) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                uri = sec.accounts.enrol_totp(username)
                sec.audit.record(cli_actor(), "totp_enrol", target=username)
        console.print(uri, highlight=False, soft_wrap=True)

    datasets = typer.Typer(help=_("Dataset handling markings and need-to-know groups."))
    app.add_typer(datasets, name="datasets")

    @datasets.command("mark", help=_("Set a dataset's marking (clear, green, amber, red) and groups."))
    def datasets_mark(
        ctx: typer.Context,
        dataset: Annotated[str, typer.Argument(help=_("Dataset name."))],
        marking: Annotated[str, typer.Option(help=_("clear, green, amber or red."))],
        groups: Annotated[str, typer.Option(help=_("Need-to-know groups, comma-separated."))] = "",
    ) -> None:
        with user_errors(), _account_errors():
            store, sec = security(ctx)
            with store:
                policy = sec.policies.set(dataset, marking, _groups(groups), now=now())
                sec.audit.record(
                    cli_actor(), "dataset_mark", target=dataset,
                    detail={"marking": policy.marking.value, "groups": sorted(policy.groups)},
                )  # fmt: skip
        console.print(_("Saved."))

    @datasets.command("list", help=_("Datasets with their markings and groups."))
    def datasets_list(ctx: typer.Context) -> None:
        with user_errors():
            store, sec = security(ctx)
            with store:
                table = Table(title=_("Datasets"))
                for col in (_("Dataset"), _("Entities"), _("Marking"), _("Groups")):
                    table.add_column(col)
                for d in store.datasets():
                    p = sec.policies.get(d.name)
                    table.add_row(d.name, f"{d.entities:,}", p.marking.value, ", ".join(sorted(p.groups)))
        console.print(table)

    audit = typer.Typer(help=_("The tamper-evident audit log."))
    app.add_typer(audit, name="audit")

    @audit.command("verify", help=_("Check the audit log's hash chain; exits with 1 when it is broken."))
    def audit_verify(ctx: typer.Context) -> None:
        with user_errors():
            store, sec = security(ctx)
            with store:
                result = sec.audit.verify()
        if result.ok:
            console.print(_("The audit log is intact: {n} entries checked.").format(n=result.entries))
            return
        errors.print(
            _("The audit log is broken at entry {seq}: {reason}.").format(
                seq=result.first_bad_seq, reason=result.reason
            ),
            highlight=False,
        )
        raise typer.Exit(1)

    @audit.command("list", help=_("The latest audit entries, newest first."))
    def audit_list(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option(help=_("How many entries."))] = 50,
        actor: Annotated[str | None, typer.Option(help=_("Only this user."))] = None,
        action: Annotated[str | None, typer.Option(help=_("Only this action, e.g. signin."))] = None,
    ) -> None:
        with user_errors():
            store, sec = security(ctx)
            with store:
                entries = sec.audit.entries(limit=limit, actor=actor, action=action)
        table = Table(title=_("Audit log"))
        for col in ("#", _("When (UTC)"), _("Who"), _("From"), _("Action"), _("Target"), _("Outcome"), _("Detail")):
            table.add_column(col)
        for e in entries:
            table.add_row(str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.address or "", e.action,
                          e.target or "", e.outcome, e.detail or "")  # fmt: skip
        console.print(table)

    @audit.command(
        "retention", help=_("Remove audit entries older than the retention period from the start of the chain.")
    )
    def audit_retention(
        ctx: typer.Context, days: Annotated[int, typer.Option(min=1, help=_("Keep this many days."))] = 365
    ) -> None:
        with user_errors():
            store, sec = security(ctx)
            with store:
                removed = sec.audit.apply_retention(days)
        console.print(_("{n} entries removed.").format(n=removed))
