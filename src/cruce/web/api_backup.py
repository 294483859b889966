"""POST /api/v1/admin/backup: the whole database as a backup archive, made by the running server.

A running ``cruce serve`` holds its DuckDB file, so no other process can read it; the server
writes the archive itself, from one snapshot on a connection of its own
(``cruce.store.transfer``), while it goes on answering and writing. The archive is written to a
temporary file (so that the snapshot lasts no longer than the reading), which is removed at once
and sent from the file still open, so nothing is left behind even when the download is cut.
Admins only (the admin scope and role); every backup is audited, and so is a failed one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from cruce.store.transfer import backup
from cruce.web.api import ERRORS, Admin, Problem, _admin, _no_unknown_query_parameters
from cruce.web.context import client_address, services_of

CHUNK = 1 << 20
router = APIRouter(prefix="/admin", responses=ERRORS, dependencies=[Depends(_no_unknown_query_parameters)])


@router.post(
    "/backup",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The backup archive (docs/deploy/backup.md)."},
        503: {"model": Problem, "description": "The backup could not be made (the reason is in the answer)."},
    },
    tags=["admin"],
)
def backup_archive(
    request: Request,
    principal: Admin,
    include_key: Annotated[
        bool, Query(description="Put the deployment's secret key in the archive too (keep it as safe as the key).")
    ] = False,
) -> Any:
    """Every table of the database, from one consistent snapshot, as one ZIP archive; audited."""
    _admin(principal)
    view = services_of(request).view()
    name = f"cruce-backup-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.zip"
    fd, temporary = tempfile.mkstemp(prefix="cruce-backup-", suffix=".zip")
    os.close(fd)
    path = Path(temporary)
    address = client_address(request)
    try:
        manifest = backup(view.store, path, include_key=include_key)
        archive = path.open("rb")
    except Exception as exc:  # a full disk, a lost connection: the admin is told, the server stays up
        view.security.audit.record(principal.username, "backup", outcome="error", address=address,
                                   detail={"error": type(exc).__name__})  # fmt: skip
        raise HTTPException(status_code=503, detail=f"The backup could not be made: {exc}") from None
    finally:
        path.unlink(missing_ok=True)  # the open file is read to its end all the same, and never left behind
    view.security.audit.record(
        principal.username, "backup", target=name, address=address,
        detail={"tables": len(manifest.tables), "rows": manifest.rows, "key_included": include_key},
    )  # fmt: skip
    size = os.fstat(archive.fileno()).st_size
    return StreamingResponse(
        _chunks(archive), media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(size)},
    )  # fmt: skip


def _chunks(archive: BinaryIO) -> Iterator[bytes]:
    with archive:
        while chunk := archive.read(CHUNK):
            yield chunk
