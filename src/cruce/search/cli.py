"""``cruce search``: the term index on the command line (``reindex``).

``cruce.cli.build_app`` calls ``register`` so that the command shares the global options
(``--db``, ``--lang``) and the error handling of the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import typer
from rich.console import Console

from cruce.i18n import _

console = Console()


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``search`` and its commands to the ``cruce`` command."""
    search_app = typer.Typer(help=_("Search: the term index."), no_args_is_help=True, rich_markup_mode=None)

    @search_app.command(
        "reindex",
        help=_(
            "Build the term index of search again from every finished import (searches add the terms of new "
            "imports by themselves; run this after an upgrade, or to check the index)."
        ),
    )
    def reindex_command(ctx: typer.Context) -> None:
        from cruce.schema.loader import default_schema
        from cruce.search import reindex
        from cruce.security.db import AppDB

        with user_errors(), open_store(ctx) as store:
            started = time.perf_counter()
            done = reindex(AppDB(store), default_schema())
            summary = _(
                "{imports} imports indexed: {terms} terms, {postings} postings, {facets} facet rows in {seconds} s"
            )
            console.print(
                summary.format(
                    imports=done.imports, terms=done.new_terms, postings=done.postings, facets=done.facets,
                    seconds=f"{time.perf_counter() - started:.1f}",
                )
            )  # fmt: skip

    app.add_typer(search_app, name="search")
