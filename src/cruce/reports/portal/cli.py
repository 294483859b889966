"""``cruce publish``: write the public portal from the store, as a reviewed configuration says."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cruce.cli_support import cli_actor
from cruce.i18n import _

console = Console()


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``publish`` to the ``cruce`` command."""

    @app.command("publish", help=_("Write the public portal: a static bilingual site of aggregates, safe to publish."))
    def publish_command(
        ctx: typer.Context,
        out: Annotated[Path, typer.Option("--out", help=_("Folder to write the site into (replaced whole)."))],
        lang: Annotated[
            str | None, typer.Option("--lang", help=_("Languages of the site, comma-separated (default: en,es)."))
        ] = None,
        config: Annotated[
            Path | None,
            typer.Option("--config", help=_("The reviewed configuration (YAML); default: the one shipped with cruce.")),
        ] = None,
    ) -> None:
        from dataclasses import replace

        from cruce.cli_support import user_errors as errors_of
        from cruce.reports import portal
        from cruce.schema.loader import default_schema

        with user_errors(), errors_of(portal.ConfigError, portal.PublishError):
            chosen = portal.load(config, default_schema())
            if lang:
                languages = tuple(dict.fromkeys(x.strip() for x in lang.split(",") if x.strip()))
                if not languages or not set(languages) <= {"en", "es"}:
                    raise portal.ConfigError(_("--lang: each language must be en or es"))
                chosen = replace(chosen, languages=languages)
            with open_store(ctx) as store:
                done = portal.publish(store, chosen, out, cli_actor())
        console.print(
            _("Published {files} files into {out} (manifest SHA-256 {manifest}; audit entry {seq}).").format(
                files=done.files, out=done.out, manifest=done.manifest_sha256[:16], seq=done.audit_seq
            )
        )
