"""Command-line commands that belong to the web side: serving, accounts and the audit log.

``cruce.cli.build_app`` calls ``register`` so that these commands share the global options
(``--db``, ``--lang``) and error handling of the others.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import typer


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``serve``, ``users`` and ``audit`` to the ``cruce`` command."""
