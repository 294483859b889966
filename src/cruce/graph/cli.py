"""``cruce graph``: the entity graph and the network questions on the command line.

``cruce.cli.build_app`` calls ``register`` so that these commands share the global options
(``--db``, ``--lang``) and the error handling of the others. Every question prints a table, or
the same answer as the API gives with ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cruce.engines.cli_options import EngineOption, SparkMaster, check_engine_options, engine_label
from cruce.graph import service
from cruce.graph.graph import describe, open_graph
from cruce.graph.present import StoreNamer
from cruce.graph.questions import DEFAULT_MAX_NODES, MAX_PATH_LENGTH, GraphQuestionError
from cruce.i18n import _

console = Console()
errors = Console(stderr=True)

Types = Annotated[
    list[str] | None, typer.Option("--type", "-t", help=_("Node types to walk through and show (repeat the option)."))
]
Relations = Annotated[list[str] | None, typer.Option("--relation", "-r", help=_("Edge types to follow (repeat)."))]
Since = Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help=_("Start of the time window."))]
Until = Annotated[datetime | None, typer.Option("--until", formats=["%Y-%m-%d"], help=_("End of the time window."))]
AsJson = Annotated[bool, typer.Option("--json", help=_("Print the answer as JSON (as the API gives it)."))]
Protected = Annotated[
    bool, typer.Option("--include-protected", help=_("Show the names of protected people (victims) too."))
]
Limit = Annotated[int, typer.Option("--limit", min=1, max=1000, help=_("How many to show."))]
Method = Annotated[str, typer.Option("--method", help=_("Communities: leiden, leidenalg or components."))]
Resolution = Annotated[
    float, typer.Option("--resolution", min=0.0001, help=_("Leiden resolution: higher gives smaller communities."))
]
Seed = Annotated[int, typer.Option("--seed", help=_("Random seed of Leiden (the same seed gives the same answer)."))]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _print_json(data: Any) -> None:
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def _nodes_table(title: str, rows: list[dict[str, Any]], score: str | None = None) -> None:
    table = Table(title=title)
    for col in (_("Entity"), _("Type"), _("Flows"), _("Links"), *([score] if score else []), _("Id")):
        table.add_column(col)
    for r in rows:
        extra = [f"{r['score']:.4g}" if isinstance(r.get("score"), float) else str(r.get("score", ""))] if score else []
        table.add_row(escape(r["caption"]), r["schema"], ", ".join(r["flows"]), str(r["degree"]), *extra, r["id"])
    console.print(table)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``graph`` and its questions to the ``cruce`` command."""
    graph_app = typer.Typer(
        help=_("The entity graph across the three flows, and network questions on it."),
        no_args_is_help=True,
        rich_markup_mode=None,
    )

    @contextmanager
    def opened(ctx: typer.Context, include_protected: bool = False) -> Iterator[tuple[Any, Any, StoreNamer]]:
        with user_errors(), open_store(ctx) as store:
            state = open_graph(store)
            if state.rebuilt:
                errors.print(_("Graph rebuilt: the store had changed since the last snapshot."))
            try:
                yield store, state.graph, StoreNamer(store, include_protected)
            except GraphQuestionError as exc:
                errors.print(f"[bold red]{_('Error')}:[/] {exc}", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None

    @graph_app.command(
        "build", help=_("Build the graph snapshot now (it is rebuilt by itself when the store changes).")
    )
    def build_command(
        ctx: typer.Context,
        force: Annotated[bool, typer.Option("--force", help=_("Rebuild even if the snapshot is up to date."))] = False,
        engine: EngineOption = "duckdb",
        spark_master: SparkMaster = None,
        as_json: AsJson = False,
    ) -> None:
        check_engine_options(engine, spark_master)
        with user_errors(), open_store(ctx) as store:
            state = open_graph(store, rebuild=force, engine=engine, spark_master=spark_master)
            info = {**describe(state.graph), "rebuilt": state.rebuilt, "folder": str(state.folder)}
            if state.rebuilt:
                info["engine"] = engine_label(engine, spark_master)
        if as_json:
            _print_json(info)
            return
        table = Table(title=_("Graph"), show_header=False)
        for label, key in ((_("Nodes"), "nodes"), (_("Edges"), "edges"), (_("Build seconds"), "build_seconds"),
                           (_("Rebuilt now"), "rebuilt"), (_("Engine"), "engine"),
                           (_("Snapshot folder"), "folder")):  # fmt: skip
            if key not in info:
                continue
            table.add_row(
                label, f"{info[key]:,}" if isinstance(info[key], int) and key != "rebuilt" else str(info[key])
            )
        console.print(table)

    @graph_app.command("neighbours", help=_("The neighbourhood of an entity to N hops, with filters."))
    def neighbours_command(
        ctx: typer.Context,
        entity: Annotated[str, typer.Argument(help=_("Entity id (any of its record ids)."))],
        hops: Annotated[int, typer.Option("--hops", min=1, max=6, help=_("How many links away."))] = 2,
        types: Types = None,
        relations: Relations = None,
        since: Since = None,
        until: Until = None,
        max_nodes: Annotated[
            int, typer.Option("--max-nodes", min=1, help=_("Stop after this many nodes (nearest first)."))
        ] = DEFAULT_MAX_NODES,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (store, g, namer):
            f = service.filters(types, relations, _day(since), _day(until))
            out = service.neighbourhood(store, g, namer, entity, hops, f, max_nodes)
        if as_json:
            _print_json(out)
            return
        table = Table(title=_("Within {hops} links of {id}").format(hops=hops, id=out["center"]))
        for col in (_("Hops"), _("Entity"), _("Type"), _("Flows"), _("Links"), _("Id")):
            table.add_column(col)
        for n in out["nodes"]:
            table.add_row(
                str(n["distance"]), escape(n["caption"]), n["schema"], ", ".join(n["flows"]), str(n["degree"]), n["id"]
            )
        console.print(table)
        console.print(_("{nodes} entities, {edges} links.").format(nodes=len(out["nodes"]), edges=len(out["edges"])))
        if out["truncated"]:
            console.print(_("Stopped at {n} entities (--max-nodes); the nearest are shown.").format(n=max_nodes))

    @graph_app.command(
        "path", help=_("The shortest path (or the k shortest) between two entities, with the records behind each link.")
    )
    def path_command(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(help=_("Entity id where the path starts."))],
        target: Annotated[str, typer.Argument(help=_("Entity id where the path ends."))],
        k: Annotated[int, typer.Option("--k", min=1, max=10, help=_("How many paths, shortest first."))] = 1,
        max_length: Annotated[
            int, typer.Option("--max-length", min=1, max=MAX_PATH_LENGTH, help=_("Longest path, in links."))
        ] = MAX_PATH_LENGTH,
        types: Types = None,
        relations: Relations = None,
        since: Since = None,
        until: Until = None,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (store, g, namer):
            f = service.filters(types, relations, _day(since), _day(until))
            found = service.paths(store, g, namer, source, target, k, f, max_length)
        if as_json:
            _print_json(found)
            return
        if not found:
            console.print(_("No path between these two entities."))
            return
        for number, p in enumerate(found, 1):
            console.print(_("Path {n}: {length} links").format(n=number, length=p["length"]))
            nodes = p["nodes"]
            console.print(f"  {escape(nodes[0]['caption'])} ({nodes[0]['schema']})")
            for e, nxt in zip(p["edges"], nodes[1:], strict=True):
                span = " – ".join(x for x in (e["first"], e["last"]) if x)
                console.print(f"  —{e['type']}→ {escape(nxt['caption'])} ({nxt['schema']})  {span}", highlight=False)
                for ev in e["evidence"]:
                    row = f":{ev['row']}" if ev["row"] is not None else ""
                    console.print(f"      {ev['schema']} {escape(ev['caption'])} · {ev['dataset']} · {ev['file']}{row}",
                                  highlight=False, style="dim")  # fmt: skip

    @graph_app.command("communities", help=_("Communities (Leiden) or connected components, with a summary of each."))
    def communities_command(
        ctx: typer.Context,
        method: Method = "leiden",
        resolution: Resolution = 1.0,
        seed: Seed = 42,
        min_size: Annotated[int, typer.Option("--min-size", min=1, help=_("Leave out smaller communities."))] = 3,
        limit: Limit = 20,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (_store, g, namer):
            out = service.communities(g, namer, method, resolution, seed, min_size, limit)
        if as_json:
            _print_json(out)
            return
        table = Table(title=_("{n} communities ({method}); the largest").format(n=out["communities"], method=method))
        for col in (_("Community"), _("Size"), _("People"), _("Firearms"), _("Dealers"), _("Places"),
                    _("Organizations"), _("Events"), _("Flows"), _("Best connected")):  # fmt: skip
            table.add_column(col)
        for c in out["items"]:
            table.add_row(str(c["id"]), str(c["size"]), str(c["people"]), str(c["firearms"]), str(c["dealers"]),
                          str(c["places"]), str(c["organizations"]), str(c["events"]), ", ".join(c["flows"]),
                          escape("; ".join(n["caption"] for n in c["top"][:2])))  # fmt: skip
        console.print(table)

    @graph_app.command("key-players", help=_("Entities ranked by degree, betweenness (brokers) or PageRank."))
    def key_players_command(
        ctx: typer.Context,
        measure: Annotated[str, typer.Option("--measure", help=_("degree, betweenness or pagerank."))] = "pagerank",
        types: Types = None,
        limit: Limit = 20,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (_store, g, namer):
            out = service.key_players(g, namer, measure, types or [], limit)
        if as_json:
            _print_json(out)
            return
        _nodes_table(_("Key players by {measure}").format(measure=measure), out, score=measure)

    @graph_app.command("bridges", help=_("Entities that link the most communities: brokers between groups."))
    def bridges_command(
        ctx: typer.Context,
        method: Method = "leiden",
        resolution: Resolution = 1.0,
        seed: Seed = 42,
        types: Types = None,
        limit: Limit = 20,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (_store, g, namer):
            out = service.bridges(g, namer, method, resolution, seed, types or [], limit)
        if as_json:
            _print_json(out)
            return
        for r in out:
            r["score"] = len(r["reaches"])
        _nodes_table(_("Bridges between communities"), out, score=_("Communities reached"))

    @graph_app.command("cross-flow", help=_("Entities that appear in more than one flow (firearms, drugs, people)."))
    def cross_flow_command(
        ctx: typer.Context,
        types: Types = None,
        min_flows: Annotated[
            int, typer.Option("--min-flows", min=1, max=3, help=_("In at least this many flows."))
        ] = 2,
        limit: Limit = 50,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (_store, g, namer):
            out = service.cross_flow(g, namer, types or [], min_flows, limit)
        if as_json:
            _print_json(out)
            return
        _nodes_table(_("Entities in more than one flow"), out)

    @graph_app.command("growth", help=_("How the network grew between two dates."))
    def growth_command(
        ctx: typer.Context,
        since: Annotated[datetime, typer.Argument(formats=["%Y-%m-%d"], help=_("The first date (YYYY-MM-DD)."))],
        until: Annotated[datetime, typer.Argument(formats=["%Y-%m-%d"], help=_("The second date (YYYY-MM-DD)."))],
        types: Types = None,
        limit: Limit = 10,
        as_json: AsJson = False,
        include_protected: Protected = False,
    ) -> None:
        with opened(ctx, include_protected) as (_store, g, namer):
            out = service.growth(g, namer, since.date(), until.date(), types or [], limit)
        if as_json:
            _print_json(out)
            return
        table = Table(title=_("Growth from {a} to {b}").format(a=out["since"], b=out["until"]), show_header=False)
        rows = [
            (_("Entities then / now"), f"{out['nodes_since']:,} / {out['nodes_until']:,}"),
            (_("Links then / now"), f"{out['edges_since']:,} / {out['edges_until']:,}"),
            (_("New entities"), f"{out['new_nodes']:,}"),
            (_("New links"), f"{out['new_edges']:,}"),
            (_("Components now (largest)"), f"{out['components_until']:,} ({out['largest_component_until']:,})"),
            (_("Links without a date (left out)"), f"{out['undated_edges']:,}"),
        ]
        for label, value in rows:
            table.add_row(label, value)
        console.print(table)
        _nodes_table(
            _("Most new links"), [{**r, "score": int(r["new_edges"])} for r in out["top"]], score=_("New links")
        )

    from cruce.graph.exchange_cli import register_exchange

    register_exchange(graph_app, open_store=open_store, user_errors=user_errors)
    app.add_typer(graph_app, name="graph")
