"""``cruce jobs``: the background jobs of a store (imports and resolution runs started from the web).

``cruce.cli.build_app`` calls ``register`` so that these commands share the global options
(``--db``, ``--lang``) and error handling of the others. The command line reads the store
directly, so it sees everyone's jobs; a cancel is written to the audit log as done by ``cli``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cruce.cli_support import cli_actor, fail
from cruce.i18n import _
from cruce.jobs.queue import KINDS, STATES, Job, JobQueue

console = Console()


def _when(job: Job, field: str) -> str:
    value = getattr(job, field)
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _said(text: str | None) -> str:
    """A job's stored message or error (an English msgid) in the user's language."""
    return _(text) if text else ""


def _what(job: Job) -> str:
    return job.label if job.kind == "resolve" else f"{job.label} ({job.params.get('mapping', '')})"


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(_("choose among {values}").format(values=", ".join(allowed)), param_hint=option)
    return value


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``jobs`` (``list``, ``show``, ``cancel``, ``prune``, ``work``) to the ``cruce`` command."""
    jobs_app = typer.Typer(help=_("Background jobs: imports and resolution runs started from the web."))
    app.add_typer(jobs_app, name="jobs")

    @jobs_app.command("list", help=_("Jobs, newest first, with their state and progress."))
    def jobs_list(
        ctx: typer.Context,
        state: Annotated[
            str | None, typer.Option(help=_("Only jobs in this state: queued, running, done, failed, cancelled."))
        ] = None,
        kind: Annotated[str | None, typer.Option(help=_("Only jobs of this kind: import or resolve."))] = None,
        owner: Annotated[str | None, typer.Option(help=_("Only the jobs of this user."))] = None,
        limit: Annotated[int, typer.Option(min=1, help=_("How many jobs."))] = 50,
    ) -> None:
        states = [s] if (s := _choice(state, STATES, "--state")) else []
        with user_errors(), open_store(ctx) as store:
            found = JobQueue(store).jobs(owner=owner, states=states, kind=_choice(kind, KINDS, "--kind"), limit=limit)
        if not found:
            console.print(_("No jobs."))
            return
        table = Table(title=_("Jobs"))
        for col in ("id", _("Kind"), _("What"), _("Who"), _("Created (UTC)"), _("State"), "%", _("Attempts"),
                    _("Message")):  # fmt: skip
            table.add_column(col)
        for j in found:
            table.add_row(j.id, j.kind, _what(j), j.owner, _when(j, "created_at"), j.state, str(j.percent),
                          f"{j.attempts}/{j.max_attempts}", _said(j.error or j.message))  # fmt: skip
        console.print(table)

    @jobs_app.command("show", help=_("Everything about one job: parameters, progress, outcome."))
    def jobs_show(ctx: typer.Context, job_id: Annotated[str, typer.Argument(help=_("The job's id."))]) -> None:
        with user_errors(), open_store(ctx) as store:
            job = JobQueue(store).get(job_id)
            if job is None:
                raise fail(LookupError(_("No job {id}.").format(id=job_id)))
        table = Table(title=_("Job {id}").format(id=job.id), show_header=False)
        rows = [
            (_("Kind"), job.kind),
            (_("Who"), job.owner),
            (_("State"), job.state + (" · " + _("cancel asked for") if job.cancel_requested else "")),
            (_("Progress"), f"{job.percent} % ({job.done:,}/{job.total:,})"),
            (_("Message"), _said(job.message)),
            (_("Attempts"), f"{job.attempts}/{job.max_attempts}"),
            (_("Worker"), job.worker or ""),
            (_("Created (UTC)"), _when(job, "created_at")),
            (_("Started (UTC)"), _when(job, "started_at")),
            (_("Heartbeat (UTC)"), _when(job, "heartbeat_at")),
            (_("Finished (UTC)"), _when(job, "finished_at")),
            (_("Parameters"), json.dumps(job.params, ensure_ascii=False)),
            (_("Result"), json.dumps(job.result, ensure_ascii=False) if job.result else ""),
            (_("Error"), _said(job.error)),
        ]
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)

    @jobs_app.command(
        "cancel", help=_("Cancel a job: a waiting one at once, a running one at its next progress report.")
    )
    def jobs_cancel(ctx: typer.Context, job_id: Annotated[str, typer.Argument(help=_("The job's id."))]) -> None:
        from cruce.security import Security

        with user_errors(), open_store(ctx) as store:
            queue = JobQueue(store)
            before = queue.get(job_id)
            if before is None:
                raise fail(LookupError(_("No job {id}.").format(id=job_id)))
            job = queue.cancel(job_id)
            assert job is not None
            if before.active:
                Security(store).audit.record(cli_actor(), "job_cancel", target=job.id, detail={"kind": job.kind})
        if not before.active:
            console.print(_("Job {id} had already ended ({state}).").format(id=job.id, state=job.state))
        elif job.state == "cancelled":
            console.print(_("Job {id} cancelled.").format(id=job.id))
        else:
            console.print(
                _("Job {id} is running: it stops at its next progress report, and nothing of it is kept.").format(
                    id=job.id
                )
            )

    @jobs_app.command("prune", help=_("Delete the jobs that ended more than --days ago (a server does it hourly)."))
    def jobs_prune(
        ctx: typer.Context,
        days: Annotated[float, typer.Option(min=0, help=_("Keep the jobs that ended within this many days."))] = 90,
    ) -> None:
        from cruce.security import Security

        with user_errors(), open_store(ctx) as store:
            deleted = JobQueue(store).prune(days)
            Security(store).audit.record(cli_actor(), "jobs_prune", detail={"days": days, "deleted": deleted})
        console.print(_("{n} job(s) that ended more than {days:g} days ago deleted.").format(n=deleted, days=days))

    @jobs_app.command(
        "work", help=_("Run the store's background jobs in this process until stopped (a team server starts one).")
    )
    def jobs_work(
        ctx: typer.Context,
        parent: Annotated[
            int | None,
            typer.Option(help=_("Stop when the process with this id has ended (the server that started it).")),
        ] = None,
    ) -> None:
        from cruce.jobs.process import work_until_stopped

        with user_errors():
            work_until_stopped(ctx.obj["db"], parent=parent)
