"""Backup, restore and copy of a whole store, on either backend (docs/deploy/backup.md).

Three calls: ``backup`` writes one consistent snapshot of every table into an archive (one ZIP,
a Parquet file per table, a manifest with each table's rows and SHA-256); ``restore`` checks an
archive and writes it into a store in one transaction; ``copy`` streams one store's snapshot
into another (DuckDB to PostgreSQL and back). Every table is found in the store's own catalog,
so tables that later migrations add are carried too; the deployment's secret key, which lives
outside the database, is checked on the way (``cruce.store.transfer.secret``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cruce import __version__
from cruce.i18n import _
from cruce.store import Store, StoreError, open_store
from cruce.store.transfer.archive import Archive, Progress, write_archive
from cruce.store.transfer.load import LoadReport, load_into
from cruce.store.transfer.manifest import Manifest, TransferError
from cruce.store.transfer.secret import key_file_text, key_id, prepare_target_key, store_url, write_key
from cruce.store.transfer.snapshot import open_snapshot

log = logging.getLogger(__name__)
__all__ = ["Archive", "Audit", "LoadReport", "Manifest", "TransferError", "backup", "copy", "restore"]


def backup(store: Store, out: Path, *, include_key: bool = False, on_progress: Progress | None = None) -> Manifest:
    """Write every table of ``store``, as one consistent snapshot, into the archive ``out``."""
    key_text = key_file_text(store.url)
    with open_snapshot(store) as snapshot:
        manifest = Manifest(
            cruce_version=__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            backend=snapshot.backend,
            store_version=snapshot.store_version,
            source=store.url,
            sequences=snapshot.sequences,
            secret_key_id=key_id(key_text),
            pending_imports_left_out=len(snapshot.pending),
        )
        return write_archive(snapshot, out, manifest, key=key_text if include_key else None, on_progress=on_progress)


@dataclass(frozen=True)
class Audit:
    """Who the target's audit entry names (the restore or copy is recorded with the data it wrote)."""

    actor: str
    address: str | None = None


@dataclass(frozen=True)
class _Load:
    """One restore or copy: its audit entry in the target, and the key the target may need."""

    action: str
    target: str
    detail: dict[str, Any]
    key_at: Path | None
    key_text: bytes | None
    not_into: str | None = None  # the source's identity: a copy never writes into its source


def restore(
    archive_path: Path,
    db: str,
    *,
    audit: Audit,
    replace: bool = False,
    on_verify: Progress | None = None,
    on_progress: Progress | None = None,
) -> tuple[Manifest, LoadReport]:
    """Check ``archive_path`` whole, then write it into the store ``db`` in one transaction."""
    with Archive(archive_path) as archive:
        archive.verify(on_verify)
        manifest = archive.manifest
        key_text = archive.secret_key()
        detail = {"made": manifest.created_at, "from": manifest.backend, "store_version": manifest.store_version,
                  "replace": replace}  # fmt: skip
        job = _Load("restore", archive_path.name, detail, prepare_target_key(db, manifest.secret_key_id, key_text),
                    key_text)  # fmt: skip
        report = _load_into(db, archive, job, audit, replace, on_progress)
    return manifest, report


def copy(
    source_db: str,
    target_db: str,
    *,
    audit: Audit,
    replace: bool = False,
    on_progress: Progress | None = None,
) -> LoadReport:
    """Copy every table of one store, as one consistent snapshot, into another."""
    source_file = _identity_of_path(source_db)
    if source_file is not None and source_file == _identity_of_path(target_db):
        raise TransferError(_("The source and the target are the same database."))
    with open_store(source_db) as source:
        key_text = key_file_text(source.url)
        detail = {"from": source.url, "from_backend": source.backend, "replace": replace}
        job = _Load("copy_in", source.url, detail, prepare_target_key(target_db, key_id(key_text), key_text),
                    key_text, _identity(source))  # fmt: skip
        with open_snapshot(source) as snapshot:
            report = _load_into(target_db, snapshot, job, audit, replace, on_progress)
        _record_copy_out(source, target_db, audit, report)
        return report


def _record_copy_out(source: Store, target: str, audit: Audit, report: LoadReport) -> None:
    """The copy in the source's own audit log too: it read everything (as a backup does)."""
    from cruce.security import Security
    from cruce.store.postgres_store import redact_url

    detail = {"tables": report.tables, "rows": report.rows}
    try:
        Security(source).audit.record(
            audit.actor, "copy_out", target=redact_url(store_url(target)), address=audit.address, detail=detail
        )
    except StoreError as exc:  # no key configured for the source: it has no audit log to write to
        log.warning("the copy is not recorded in the source's audit log: %s", exc)


def _load_into(
    db: str, source: Any, job: _Load, audit: Audit, replace: bool, on_progress: Progress | None
) -> LoadReport:
    """Open the target (made if new), put the source's key beside it if it needs one, load; on
    failure, remove what this call made (a new DuckDB file, a key file)."""
    from cruce.security import Security

    path = _identity_of_path(db)
    made = [] if path is None or Path(path).exists() else [Path(path), Path(f"{path}.wal")]  # removed on failure
    if made and not Path(f"{path}.key").exists():
        made.append(Path(f"{path}.key"))  # a key the new store would make for itself
    wrote_key = False
    try:
        if job.key_at is not None and job.key_text is not None:
            write_key(job.key_at, job.key_text)
            wrote_key = True
        with open_store(db) as store:
            if job.not_into is not None and _identity(store) == job.not_into:
                raise TransferError(_("The source and the target are the same database."))
            security = Security(store)

            def record(report: LoadReport) -> None:
                security.audit.record(audit.actor, job.action, target=job.target, address=audit.address,
                                      detail={**job.detail, "tables": report.tables, "rows": report.rows})  # fmt: skip

            report = load_into(store, security.db, source, replace=replace, record=record, on_progress=on_progress)
        forget_derived(store)
        return report
    except BaseException:
        if wrote_key and job.key_at is not None:
            job.key_at.unlink(missing_ok=True)
        for leftover in made:
            leftover.unlink(missing_ok=True)
        raise


def forget_derived(store: Store) -> None:
    """Remove what is kept outside the store and made from its tables — the entity lookup beside a
    DuckDB file, the graph's stage and snapshot and the search postings a job process shared —
    which after a restore would describe other data under the same import numbers. All are made
    again on first use."""
    from cruce.graph.build import cache_dir
    from cruce.search.memory import snapshot_dir

    path = getattr(store, "path", None)
    if store.backend == "duckdb" and path and path != ":memory:":
        for suffix in (".lookup.sqlite", ".lookup.sqlite-wal", ".lookup.sqlite-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    shutil.rmtree(cache_dir(store), ignore_errors=True)
    shutil.rmtree(snapshot_dir(store.url), ignore_errors=True)


def _identity_of_path(db: str) -> str | None:
    """A DuckDB store's file, resolved (None for PostgreSQL, known only once connected)."""
    url = store_url(db)
    if not url.startswith("duckdb:"):
        return None
    return str(Path(url.removeprefix("duckdb:")).resolve())


def _identity(store: Store) -> str:
    """What tells a store from every other: its file, or its PostgreSQL server (by the time it
    started), database and schema — however the URLs that name them are written."""
    if store.backend == "duckdb":
        return str(Path(store.path).resolve())  # type: ignore[attr-defined]
    from cruce.security.db import AppDB

    row = AppDB(store).one(
        "SELECT CAST(pg_postmaster_start_time() AS VARCHAR), "
        "(SELECT CAST(oid AS VARCHAR) FROM pg_database WHERE datname = current_database()), "
        "(SELECT CAST(oid AS VARCHAR) FROM pg_namespace WHERE nspname = current_schema())"
    )
    return "postgresql:" + "/".join(str(v) for v in row or ())
