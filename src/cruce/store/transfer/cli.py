"""``cruce backup``, ``cruce restore`` and ``cruce copy`` (docs/deploy/backup.md).

A DuckDB file held by a running ``cruce serve`` cannot be opened by another process, so
``cruce backup --server`` asks the server for the archive instead (``POST /api/v1/admin/backup``,
with an admin's API token), and checks it whole once it has it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from cruce.cli_support import cli_actor
from cruce.i18n import _
from cruce.store.base import StoreError
from cruce.store.duckdb_store import StoreInUseError
from cruce.store.transfer import Archive, Audit, Manifest, TransferError, backup, copy, restore

console = Console()
errors = Console(stderr=True)
SERVER_TIMEOUT = 3600.0  # seconds the server may take to write a large archive
TOKEN_VARIABLE = "CRUCE_API_TOKEN"  # noqa: S105 - the name of the variable, not a token


@contextmanager
def _progress(verb: str) -> Iterator[Callable[[str, int], None]]:
    """A line on standard error naming the table and its rows so far."""
    with Progress(TextColumn("{task.description}"), TimeElapsedColumn(), console=errors, transient=True) as bar:
        task = bar.add_task(verb, total=None)

        def show(table: str, rows: int) -> None:
            bar.update(task, description=f"{verb} {table}: {rows:,}")

        yield show


def archive_path(given: str, force: bool) -> Path:
    """The archive ``given`` names, or a dated file inside it when it is a folder (an existing one,
    or one written with a final slash, made if missing); refuses to overwrite unless ``force``."""
    out = Path(given)
    if given.endswith(("/", os.sep)) or out.is_dir():
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"cruce-backup-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.zip"
    if out.exists() and not force:
        raise TransferError(_("{file} exists already; choose another name or pass --force.").format(file=out))
    return out


def _summary(manifest: Manifest, out: Path) -> None:
    console.print(
        _("Backup written to {file}: {tables} tables, {rows:,} rows, {mb:.1f} MB (store version {version}).").format(
            file=out, tables=len(manifest.tables), rows=manifest.rows, mb=out.stat().st_size / 1e6,
            version=manifest.store_version)
    )  # fmt: skip
    if manifest.secret_key_sha256:
        console.print(_("The archive holds the secret key: keep it as safely as the key itself."))
    elif manifest.secret_key_id is None and any(t.rows for t in manifest.tables if t.name == "audit_log"):
        errors.print(
            _("No secret key is configured here (CRUCE_SECRET_KEY_FILE), so the archive does not name the key its "
              "audit log and encrypted fields need: keep a note of which key that is.")
        )  # fmt: skip
    elif manifest.secret_key_id:
        console.print(_("It needs the secret key {id} to be restored; back up the key file separately.").format(
            id=manifest.secret_key_id))  # fmt: skip


def _record_backup(store: Any, manifest: Manifest, out: Path) -> None:
    """The backup in the store's own audit log (a backup reads everything)."""
    from cruce.security import Security

    try:
        detail = {
            "tables": len(manifest.tables),
            "rows": manifest.rows,
            "key_included": bool(manifest.secret_key_sha256),
        }
        Security(store).audit.record(cli_actor(), "backup", target=out.name, detail=detail)
    except StoreError as exc:
        errors.print(_("The backup could not be recorded in the audit log: {reason}").format(reason=exc))


def backup_through_server(server: str, out: Path, include_key: bool) -> Manifest:
    """Ask a running cruce for the archive; write it under a temporary name, check it, rename it."""
    import httpx

    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        raise TransferError(
            _("Set {variable} to an API token of an admin with the admin scope "
              "(cruce users token NAME --scopes admin).").format(variable=TOKEN_VARIABLE)
        )  # fmt: skip
    partial = out.with_name(out.name + ".partial")
    url = server.rstrip("/") + "/api/v1/admin/backup"
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, httpx.stream(
            "POST", url, params={"include_key": str(include_key).lower()}, headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(30.0, read=SERVER_TIMEOUT),
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.read()
                raise TransferError(_("The server at {url} answered {status}: {detail}").format(
                    url=server, status=response.status_code, detail=response.text[:300]))  # fmt: skip
            for chunk in response.iter_bytes():
                fh.write(chunk)
        with Archive(partial) as archive:
            archive.verify()
            manifest = archive.manifest
        os.replace(partial, out)
        return manifest
    except httpx.HTTPError as exc:
        raise TransferError(_("Cannot reach the server at {url}: {reason}").format(url=server, reason=exc)) from None
    finally:
        partial.unlink(missing_ok=True)


def register(
    app: typer.Typer,
    *,
    open_store: Callable[[typer.Context], Any],
    user_errors: Callable[[], AbstractContextManager[None]],
) -> None:
    """Add ``backup``, ``restore`` and ``copy`` to the ``cruce`` command."""

    @app.command("backup", help=_("Back up the whole database (every table, the audit log included) into one archive."))
    def backup_command(
        ctx: typer.Context,
        out: Annotated[
            str, typer.Argument(help=_("The archive to write (.zip), or a folder to write a dated one in."))
        ],
        include_key: Annotated[
            bool,
            typer.Option(
                "--include-key", help=_("Put the secret key in the archive too (keep it as safe as the key).")
            ),
        ] = False,
        server: Annotated[
            str | None,
            typer.Option(
                "--server", help=_("Back up through a running cruce serve at this address (token in CRUCE_API_TOKEN).")
            ),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help=_("Overwrite the archive if it exists."))] = False,
    ) -> None:
        with user_errors():
            target = archive_path(out, force)
            if server:
                manifest = backup_through_server(server, target, include_key)
            else:
                try:
                    store = open_store(ctx)
                except StoreInUseError as exc:
                    raise TransferError(
                        _("{reason} A running cruce serve holds a DuckDB file: back it up through the server with "
                          "--server http://127.0.0.1:8000 (an admin's API token in CRUCE_API_TOKEN), or stop it "
                          "first.").format(reason=exc)
                    ) from None  # fmt: skip
                with store, _progress(_("Backing up")) as show:
                    manifest = backup(store, target, include_key=include_key, on_progress=show)
                    _record_backup(store, manifest, target)
        _summary(manifest, target)

    @app.command(
        "restore", help=_("Restore a backup into an empty database: checked whole first, then all or nothing.")
    )
    def restore_command(
        ctx: typer.Context,
        archive: Annotated[Path, typer.Argument(help=_("The backup archive (.zip) to restore."))],
        replace: Annotated[
            bool, typer.Option("--replace", help=_("Replace everything the database holds (in one transaction)."))
        ] = False,
        check: Annotated[bool, typer.Option("--check", help=_("Only check the archive; write nothing."))] = False,
    ) -> None:
        with user_errors():
            if check:
                with Archive(archive) as opened, _progress(_("Checking")) as show:
                    opened.verify(show)
                    manifest = opened.manifest
                _checked(archive, manifest)
                return
            try:
                with _progress(_("Restoring")) as show:
                    manifest, report = restore(
                        archive, ctx.obj["db"], audit=Audit(cli_actor()), replace=replace, on_verify=show,
                        on_progress=show,
                    )  # fmt: skip
            except StoreInUseError as exc:
                raise TransferError(
                    _("{reason} Stop the server first: a restore needs the database to itself.").format(reason=exc)
                ) from None
        message = _("Restored {rows:,} rows in {tables} tables from {file} (made {date}) into {db}.")
        console.print(message.format(rows=report.rows, tables=report.tables, file=archive, date=manifest.created_at,
                                     db=_shown(ctx.obj["db"])))  # fmt: skip

    @app.command("copy", help=_("Copy every table of one database into another, e.g. from DuckDB to PostgreSQL."))
    def copy_command(
        source: Annotated[
            str, typer.Option("--from", help=_("The database to copy: a DuckDB path or a postgresql:// URL."))
        ],
        target: Annotated[str, typer.Option("--to", help=_("The database to copy into (empty unless --replace)."))],
        replace: Annotated[
            bool, typer.Option("--replace", help=_("Replace everything the target holds (in one transaction)."))
        ] = False,
    ) -> None:
        with user_errors():
            try:
                with _progress(_("Copying")) as show:
                    report = copy(source, target, audit=Audit(cli_actor()), replace=replace, on_progress=show)
            except StoreInUseError as exc:
                raise TransferError(
                    _("{reason} To copy a database a running cruce serve holds, back it up through the server "
                      "(cruce backup --server) and restore the archive into the target.").format(reason=exc)
                ) from None  # fmt: skip
        console.print(_("Copied {rows:,} rows in {tables} tables into {target}.").format(
            rows=report.rows, tables=report.tables, target=_shown(target)))  # fmt: skip


def _checked(archive: Path, manifest: Manifest) -> None:
    message = _("{file} is intact: {tables} tables, {rows:,} rows, made {date} by cruce {version} from {backend} "
                "(store version {store}).")  # fmt: skip
    console.print(message.format(file=archive, tables=len(manifest.tables), rows=manifest.rows,
                                 date=manifest.created_at, version=manifest.cruce_version, backend=manifest.backend,
                                 store=manifest.store_version))  # fmt: skip


def _shown(url: str) -> str:
    from cruce.store.postgres_store import redact_url

    return redact_url(url)
