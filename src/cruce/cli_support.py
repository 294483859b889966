"""What every ``cruce`` command group shares: who the command line acts as in the audit log, and
how a user's mistake is shown (one line in the user's language, exit status 2)."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from cruce.i18n import _

errors = Console(stderr=True)


def cli_actor() -> str:
    """``cli:<os user>`` for the audit log (``cli`` when the system cannot name the user)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def fail(exc: BaseException) -> typer.Exit:
    """Print ``exc`` as a user error and return the exit to raise."""
    errors.print(f"[bold red]{_('Error')}:[/] {exc}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@contextmanager
def user_errors(*kinds: type[BaseException]) -> Iterator[None]:
    """Show an error of ``kinds`` as one clear line and exit with status 2."""
    import psycopg

    try:
        yield None
    except kinds as exc:
        raise fail(exc) from None
    except psycopg.OperationalError as exc:
        # the PostgreSQL server went away in the middle of the command: every write is one
        # transaction, so nothing half-done was kept; say so rather than print a traceback
        raise fail(
            LostConnectionError(
                _(
                    "The connection to the PostgreSQL server was lost ({reason}). What this command was writing "
                    "was not kept (each write is one transaction): run it again when the server is back."
                ).format(reason=str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            )
        ) from None


class LostConnectionError(RuntimeError):
    """The database server stopped answering in the middle of a command."""
