"""The ``cruce`` command line: import, status, rejects, export and schema, in English or Spanish.

The language is chosen before the commands are built (``--lang``, ``CRUCE_LANG`` or the locale),
so that help texts, messages and errors are all in it.
"""

import csv
import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from cruce import __version__
from cruce.cli_support import user_errors
from cruce.export import FORMATS, ExportError, write_csv, write_jsonl, write_parquet, written_whole
from cruce.i18n import LANGUAGES, _, current_language, set_language
from cruce.ingest.compile import reason_text
from cruce.ingest.mapping import MappingError, builtin_mappings, load_mapping
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.ingest.readers import ReadError
from cruce.schema import describe
from cruce.schema.loader import SchemaError, default_schema
from cruce.store import Store, StoreError, database_url, open_store

console = Console()
errors = Console(stderr=True)
USER_ERRORS = (ReadError, MappingError, StoreError, SchemaError, ExportError)


def _user_errors() -> AbstractContextManager[None]:
    """Show a user error as one clear line in the user's language, and exit with status 2."""
    return user_errors(*USER_ERRORS)


def _open(ctx: typer.Context) -> Store:
    store = open_store(ctx.obj["db"])
    before = getattr(store, "upgraded_from", None)
    after = getattr(store, "version", None)
    if before and after and before != after:
        console.print(_("Database upgraded from store version {old} to {new}.").format(old=before, new=after))
    for import_id in getattr(store, "interrupted_imports", []):
        console.print(
            _("Import {id} had been interrupted; what it had written was removed. Run it again to complete it.").format(
                id=import_id
            )
        )
    return store


def _print_summary(result: ImportResult) -> None:
    if result.already_imported is not None:
        prev = result.already_imported
        console.print(
            _(
                "{file} was already imported into dataset {dataset} with mapping {mapping} "
                "(import {id}, {date}); nothing was added. Use --force to import it again."
            ).format(
                file=result.file,
                dataset=result.dataset,
                mapping=result.mapping,
                id=prev.id,
                date=prev.started_at.strftime("%Y-%m-%d %H:%M"),
            )
        )
        return
    table = Table(title=_("Import {id}").format(id=result.import_id), show_header=False)
    rows = [
        (_("File"), result.file),
        (_("Dataset"), result.dataset),
        (_("Mapping"), result.mapping),
        (_("Rows read"), f"{result.rows_read:,}"),
        (_("Rows stored"), f"{result.rows_stored:,}"),
        (_("Rows rejected"), f"{result.rows_rejected:,}"),
        (_("New statements"), f"{result.statements_added:,}"),
        (_("Seconds"), f"{result.seconds:.1f}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    if result.rows_rejected:
        console.print(_("See the rejected rows with: cruce rejects --import {id}").format(id=result.import_id))


def _interruptible_import(*args: Any, **kwargs: Any) -> ImportResult:
    """Run an import; on Ctrl-C say plainly that nothing was stored, without a traceback."""
    if kwargs.get("delimiter"):
        kwargs["delimiter"] = kwargs["delimiter"].encode("utf-8").decode("unicode_escape")  # "\t" -> tab
    try:
        return import_file(*args, **kwargs)
    except KeyboardInterrupt:
        errors.print(_("Import interrupted: nothing from it was stored."))
        raise typer.Exit(130) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    )


def build_app() -> typer.Typer:
    app = typer.Typer(
        help=_("cruce: an intelligence workbench for trafficking across the US–Mexico border."),
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )

    def version_callback(value: bool) -> None:
        if value:
            console.print(f"cruce {__version__}")
            raise typer.Exit()

    @app.callback()
    def main_options(
        ctx: typer.Context,
        db: Annotated[
            str | None, typer.Option("--db", help=_("Database: a DuckDB file path or a postgresql:// URL."))
        ] = None,
        lang: Annotated[str | None, typer.Option("--lang", help=_("Language of messages: en or es."))] = None,
        version: Annotated[
            bool,
            typer.Option("--version", callback=version_callback, is_eager=True, help=_("Show the version.")),
        ] = False,
    ) -> None:
        ctx.obj = {"db": database_url(db)}

    @app.command("import", help=_("Import a file through a mapping; all or nothing, rejected rows kept with reasons."))
    def import_command(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help=_("The file to import (CSV, TSV, XLSX, JSON, JSONL, Parquet)."))],
        mapping: Annotated[str, typer.Option("--mapping", "-m", help=_("Built-in mapping name or mapping file."))],
        dataset: Annotated[str | None, typer.Option("--dataset", "-d", help=_("Dataset to import into."))] = None,
        encoding: Annotated[str | None, typer.Option(help=_("Text encoding (detected if not given)."))] = None,
        delimiter: Annotated[str | None, typer.Option(help=_("Column delimiter (detected if not given)."))] = None,
        sheet: Annotated[str | None, typer.Option(help=_("Worksheet of an XLSX file."))] = None,
        force: Annotated[bool, typer.Option(help=_("Import again even if this file was imported."))] = False,
        link: Annotated[
            bool,
            typer.Option(
                "--resolve",
                help=_("Then link the new records to the resolved entities (incremental) and check the watchlists."),
            ),
        ] = False,
    ) -> None:
        with _user_errors(), _open(ctx) as store, _progress() as progress:
            task = progress.add_task(_("Importing {file}").format(file=file.name), total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = _interruptible_import(
                store,
                file,
                mapping,
                dataset=dataset,
                encoding=encoding,
                delimiter=delimiter,
                sheet=sheet,
                force=force,
                on_progress=on_progress,
            )
        _print_summary(result)
        if result.already_imported is None:
            from cruce.resolve.cli import link_after_import, place_and_search_alerts

            with _user_errors(), _open(ctx) as store:
                if link:
                    link_after_import(store, result.import_id)
                place_and_search_alerts(store, result.import_id)

    @app.command("status", help=_("Datasets, entities per type, rejected rows and the size of the database."))
    def status_command(ctx: typer.Context) -> None:
        with _user_errors(), _open(ctx) as store:
            console.print(
                _("Database: {url} (store version {version})").format(url=store.url, version=store.schema_version())
            )
            size = store.size_bytes()
            if size is not None:
                console.print(_("Size: {mb:.1f} MB").format(mb=size / 1e6))
            datasets = store.datasets()
            if not datasets:
                console.print(_("No data yet. Import a file with: cruce import FILE --mapping NAME"))
                return
            table = Table(title=_("Datasets"))
            for col in (
                _("Dataset"),
                _("Imports"),
                _("Entities"),
                _("Statements"),
                _("Rejected rows"),
                _("Last import"),
            ):
                table.add_column(col)
            for d in datasets:
                last = d.last_import.strftime("%Y-%m-%d %H:%M") if d.last_import else "-"
                table.add_row(d.name, f"{d.imports:,}", f"{d.entities:,}", f"{d.statements:,}", f"{d.rejects:,}", last)
            console.print(table)
            schema = default_schema()
            types = Table(title=_("Entities by type"))
            types.add_column(_("Type"))
            types.add_column(_("Entities"), justify="right")
            for name, count in store.counts_by_schema().items():
                label = schema.types[name].label.get(current_language()) if name in schema.types else name
                types.add_row(f"{label} ({name})", f"{count:,}")
            console.print(types)

    @app.command("rejects", help=_("Rows that could not be stored: file, row, field and reason."))
    def rejects_command(
        ctx: typer.Context,
        dataset: Annotated[str | None, typer.Option("--dataset", "-d", help=_("Only this dataset."))] = None,
        import_id: Annotated[str | None, typer.Option("--import", help=_("Only this import."))] = None,
        export: Annotated[Path | None, typer.Option("--export", help=_("Write them to this CSV file."))] = None,
        limit: Annotated[int, typer.Option(help=_("Rows to show on screen."))] = 50,
    ) -> None:
        with _user_errors(), _open(ctx) as store:
            rejects = store.rejects(dataset=dataset, import_id=import_id)
            header = [_("File"), _("Row"), _("Field"), _("Reason"), _("Value"), _("Dataset"), _("Import")]
            if export is not None:
                with written_whole(export) as part, part.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    count = 0
                    for r in rejects:
                        writer.writerow(
                            [
                                r.source_file,
                                r.source_row,
                                r.field,
                                reason_text(r.reason),
                                r.value,
                                r.dataset,
                                r.import_id,
                            ]
                        )
                        count += 1
                console.print(_("{count} rejected rows written to {file}").format(count=count, file=export))
                return
            table = Table(title=_("Rejected rows"))
            for col in (*header[:5], header[6]):
                table.add_column(col)
            more = False
            for shown, r in enumerate(rejects):
                if shown >= limit:
                    more = True
                    break
                table.add_row(
                    Path(r.source_file).name,
                    str(r.source_row or ""),
                    r.field or "",
                    reason_text(r.reason),
                    r.value or "",
                    r.import_id,
                )
            console.print(table)
            if more:
                console.print(_("(only the first {limit} shown; use --export for all)").format(limit=limit))

    @app.command("export", help=_("Export the entities of one type, one row per entity."))
    def export_command(
        ctx: typer.Context,
        type_: Annotated[str, typer.Option("--type", "-t", help=_("Entity type to export, e.g. Person."))],
        format_: Annotated[str, typer.Option("--format", "-f", help=_("csv, parquet or jsonl."))] = "csv",
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help=_("Output file (default: standard output)."))
        ] = None,
        dataset: Annotated[str | None, typer.Option("--dataset", "-d", help=_("Only this dataset."))] = None,
        include_protected: Annotated[
            bool,
            typer.Option(help=_("Also write protected properties (identities of victims and tipsters).")),
        ] = False,
    ) -> None:
        with _user_errors(), _open(ctx) as store:
            if format_ not in FORMATS:
                raise MappingError(
                    _("Unknown format {format}; use one of: {formats}").format(
                        format=format_, formats=", ".join(FORMATS)
                    )
                )
            try:
                stype = default_schema().get(type_)
            except KeyError:
                raise SchemaError(
                    _("Unknown type {name}. Run 'cruce schema' to list the types.").format(name=type_)
                ) from None
            entities = store.iter_entities(schema=stype.name, dataset=dataset)
            writer = write_csv if format_ == "csv" else write_jsonl
            if format_ == "parquet":
                if output is None:
                    raise MappingError(_("Parquet needs an output file: --output FILE.parquet"))
                with written_whole(output) as part:
                    count = write_parquet(entities, stype, part, include_protected)
            elif output is None:
                count = writer(entities, stype, sys.stdout, include_protected)
            else:
                with written_whole(output) as part, part.open("w", newline="", encoding="utf-8") as fh:
                    count = writer(entities, stype, fh, include_protected)
            if output is not None:
                console.print(_("{count} entities written to {file}").format(count=count, file=output))

    @app.command("schema", help=_("The data model: entity, event and relation types, their properties and codes."))
    def schema_command(
        type_name: Annotated[str | None, typer.Argument(help=_("A type to describe, e.g. TraffickingCase."))] = None,
        as_json: Annotated[bool, typer.Option("--json", help=_("Print the schema as JSON."))] = False,
    ) -> None:
        with _user_errors():
            schema = default_schema()
            lang = current_language()
            if as_json:
                import json

                console.print_json(json.dumps(describe.schema_as_dict(schema), ensure_ascii=False))
            elif type_name:
                if type_name not in schema.types:
                    raise SchemaError(
                        _("Unknown type {name}. Run 'cruce schema' to list the types.").format(name=type_name)
                    )
                console.print(describe.describe_type(schema, type_name, lang))
            else:
                console.print(describe.describe_types(schema, lang))

    @app.command(
        "synth",
        help=_("Write a synthetic scenario of the three flows (firearms, drugs, people) with its ground truth."),
    )
    def synth_command(
        ctx: typer.Context,
        out_dir: Annotated[Path, typer.Argument(help=_("Folder to write the scenario into."))],
        scale: Annotated[int, typer.Option(min=100, help=_("Source records to write, all flows together."))] = 10_000,
        seed: Annotated[int, typer.Option(help=_("Random seed: the same seed and scale give the same files."))] = 1,
        flows: Annotated[
            str,
            typer.Option(help=_("Flows to write, comma-separated: firearms, drugs, people (firearms always).")),
        ] = "firearms,drugs,people",
        load: Annotated[bool, typer.Option("--import", help=_("Also import the files into the database."))] = False,
    ) -> None:
        from cruce.synth.scenario import FLOWS, MANIFEST, generate

        chosen = [f.strip() for f in flows.split(",") if f.strip()]
        for flow in chosen:
            if flow not in FLOWS:
                message = _("Unknown flow {flow}; choose among {flows}.").format(flow=flow, flows=", ".join(FLOWS))
                errors.print(f"[bold red]{_('Error')}:[/] --flows: {message}", highlight=False, soft_wrap=True)
                raise typer.Exit(2)
        try:
            with errors.status(_("Writing the scenario…")):
                summary = generate(out_dir, scale=scale, seed=seed, flows=chosen)
        except OSError as exc:
            errors.print(f"[bold red]{_('Error')}:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        mappings = {entry["path"]: entry["mapping"] for entry in manifest["files"]}
        table = Table(title=_("Scenario in {folder}").format(folder=out_dir))
        table.add_column(_("File"))
        table.add_column(_("Rows"), justify="right")
        table.add_column(_("Mapping"))
        for path, rows in summary.files.items():
            table.add_row(path, f"{rows:,}", mappings.get(path, ""))
        console.print(table)
        if not load:
            console.print(_("Import each file with the mapping beside it, or run this command again with --import."))
            return
        results = []
        with _user_errors(), _open(ctx) as store, _progress() as progress:
            for entry in manifest["files"]:
                path = out_dir / entry["path"]
                task = progress.add_task(_("Importing {file}").format(file=path.name), total=None)

                def on_progress(done: int, total: int, task: TaskID = task) -> None:
                    progress.update(task, completed=done, total=total)

                results.append(_interruptible_import(store, path, entry["mapping"], on_progress=on_progress))
        for result in results:
            _print_summary(result)

    @app.command("mappings", help=_("The built-in mappings for public data formats."))
    def mappings_command() -> None:
        table = Table(title=_("Built-in mappings"))
        table.add_column(_("Name"))
        table.add_column(_("Description"))
        for name in builtin_mappings():
            with _user_errors():
                table.add_row(name, load_mapping(name).description or "")
        console.print(table)

    from cruce.web.cli import register as register_web_commands

    register_web_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.resolve.cli import register as register_resolve_commands

    register_resolve_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.graph.cli import register as register_graph_commands

    register_graph_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.search.cli import register as register_search_commands

    register_search_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.pprl.cli import register as register_pprl_commands

    register_pprl_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.timeline.cli import register as register_timeline_commands

    register_timeline_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.analyses.firearms.cli import register as register_firearms_commands

    register_firearms_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.analyses.flows_cli import register as register_flow_commands

    register_flow_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.analyses.organizations_cli import register as register_organization_commands

    register_organization_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.people.cli import register as register_people_commands

    register_people_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.investigations.cli import register as register_investigation_commands

    register_investigation_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.store.transfer.cli import register as register_transfer_commands

    register_transfer_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.jobs.cli import register as register_job_commands

    register_job_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.legal.cli import register as register_legal_commands

    register_legal_commands(app, open_store=_open, user_errors=_user_errors)
    from cruce.reports.portal.cli import register as register_portal_commands

    register_portal_commands(app, open_store=_open, user_errors=_user_errors)
    return app


def _language_from_argv(argv: list[str]) -> str | None:
    """The root's ``--lang`` (before the command): a command's own ``--lang`` (a report's, a
    publication's) is the language of what it writes, not of cruce's messages."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--lang":
            return argv[i + 1] if i + 1 < len(argv) else None
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if not arg.startswith("-"):
            return None  # the command: what follows is its own
        i += 2 if arg in ROOT_OPTIONS_WITH_VALUE else 1
    return None


ROOT_OPTIONS_WITH_VALUE = ("--db",)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``cruce`` command."""
    args = sys.argv[1:] if argv is None else argv
    lang = _language_from_argv(args)
    if lang is not None and lang not in LANGUAGES:
        errors.print(f"--lang {lang}: en | es")
        raise SystemExit(2)
    set_language(lang)
    build_app()(args, prog_name="cruce")
