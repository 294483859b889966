"""``cruce graph export`` and ``cruce graph import-ftm``: exchange with Gephi, Cytoscape, i2, Aleph.

Registered by ``cruce.graph.cli.register`` on the ``graph`` command group. An export from the
command line is the database operator's: protected people stay redacted unless
``--include-protected``; every export is recorded in the audit log, as on the API.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from cruce.cli_support import cli_actor, fail
from cruce.graph.exchange import EXTENSIONS, FORMATS, ExchangeError, export
from cruce.graph.graph import open_graph
from cruce.graph.present import StoreNamer
from cruce.graph.questions import GraphQuestionError
from cruce.i18n import _

console = Console()
errors = Console(stderr=True)


def register_exchange(
    graph_app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``export`` and ``import-ftm`` to ``cruce graph``."""

    @graph_app.command("export", help=_("Export the graph, an entity's neighbourhood or a community for other tools."))
    def export_command(
        ctx: typer.Context,
        format_: Annotated[
            str, typer.Option("--format", "-f", help=_("graphml, gexf, cytoscape, csv, ftm or i2."))
        ] = "graphml",
        out: Annotated[Path | None, typer.Option("--out", "-o", help=_("Output file."))] = None,
        entity: Annotated[
            str | None, typer.Option("--entity", help=_("Only this entity's neighbourhood (any of its record ids)."))
        ] = None,
        hops: Annotated[int, typer.Option("--hops", min=1, max=6, help=_("How many links away (with --entity)."))] = 2,
        community: Annotated[
            int | None,
            typer.Option("--community", help=_("Only this community (its number in 'cruce graph communities').")),
        ] = None,
        method: Annotated[
            str, typer.Option("--method", help=_("Communities: leiden, leidenalg or components."))
        ] = "leiden",
        resolution: Annotated[
            float,
            typer.Option("--resolution", min=0.0001, help=_("Leiden resolution: higher gives smaller communities.")),
        ] = 1.0,
        seed: Annotated[
            int, typer.Option("--seed", help=_("Random seed of Leiden (the same seed gives the same answer)."))
        ] = 42,
        include_protected: Annotated[
            bool, typer.Option("--include-protected", help=_("Show the names of protected people (victims) too."))
        ] = False,
    ) -> None:
        if format_ not in FORMATS:
            raise fail(ExchangeError(_("Unknown format {format}; use one of: {formats}").format(
                format=format_, formats=", ".join(FORMATS))))  # fmt: skip
        target = out or Path(f"cruce-graph.{EXTENSIONS[format_]}")
        with user_errors(), open_store(ctx) as store:
            g = open_graph(store).graph
            namer = StoreNamer(store, include_protected)
            options = {"entity": entity, "hops": hops, "community": community, "method": method,
                       "resolution": resolution, "seed": seed, "include_protected": include_protected}  # fmt: skip
            try:
                with target.open("w", encoding="utf-8", newline="") as fh:
                    done = export(store, g, namer, format_, fh, **options)  # type: ignore[arg-type]
                if format_ == "csv":
                    nodes_file = target.with_name(f"{target.stem}.nodes.csv")
                    with nodes_file.open("w", encoding="utf-8", newline="") as fh:
                        export(store, g, namer, format_, fh, nodes_csv=True, **options)  # type: ignore[arg-type]
            except (ExchangeError, GraphQuestionError) as exc:
                target.unlink(missing_ok=True)
                raise fail(exc) from None
            from cruce.security.guard import Security

            detail = {"format": format_, "selection": done.selection, "nodes": done.nodes, "edges": done.edges,
                      "include_protected": include_protected}  # fmt: skip
            Security(store).audit.record(cli_actor(), "graph_export", target=done.selection, detail=detail)
        console.print(_("{nodes} entities and {edges} links written to {file} ({format}).").format(
            nodes=done.nodes, edges=done.edges, file=target, format=format_))  # fmt: skip
        if format_ == "csv":
            console.print(_("The entities are in {file}.").format(file=nodes_file))

    @graph_app.command("import-ftm", help=_("Import a FollowTheMoney entity file (JSON Lines) as a dataset."))
    def import_ftm_command(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help=_("FollowTheMoney entities, one JSON object a line."))],
        dataset: Annotated[str, typer.Option("--dataset", "-d", help=_("Dataset to import into."))],
        force: Annotated[bool, typer.Option("--force", help=_("Import again even if already imported."))] = False,
    ) -> None:
        from cruce.graph.exchange_ftm import import_ftm  # FollowTheMoney loads only for this command

        with user_errors(), open_store(ctx) as store:
            try:
                done = import_ftm(store, file, dataset, force=force)
            except ExchangeError as exc:
                raise fail(exc) from None
        result = done.result
        assert result is not None
        if result.already_imported is not None:
            console.print(_("{file} was already imported into dataset {dataset}; nothing was added. "
                            "Use --force to import it again.").format(file=file.name, dataset=dataset))  # fmt: skip
            return
        console.print(_("{entities} entities imported into dataset {dataset} ({statements} statements).").format(
            entities=done.entities, dataset=dataset, statements=result.statements_added))  # fmt: skip
        if done.skipped:
            skipped = ", ".join(f"{name} {n}" for name, n in sorted(done.skipped.items()))
            console.print(_("Left out (no cruce type for them): {skipped}").format(skipped=skipped))
