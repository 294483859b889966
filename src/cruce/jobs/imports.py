"""The import job: an uploaded file through a built-in mapping, then the import's new records
linked to the resolved entities, and the graph, search and lookup brought up to date.

An import is all or nothing and knows the files it has imported, so running the job again is how
an interrupted one resumes: after a kill nothing of the first attempt is stored (DuckDB removes it
when the store next opens, PostgreSQL rolls it back) and the file is read again. If the first
attempt had committed before the process died, the second finds that import of the same upload
and only does what came after it.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cruce.i18n import mark as _
from cruce.ingest.mapping import MappingError
from cruce.ingest.pipeline import ImportResult, import_file
from cruce.ingest.readers import ReadError
from cruce.jobs.work import JobContext, JobError, JobStopped
from cruce.schema.loader import SchemaError
from cruce.store import Store, StoreError

log = logging.getLogger(__name__)

SERVES_SEARCHES = True
"""Whether this process answers searches (a web server's), so that an import's job loads the new
search postings into its memory; the job process of a team server (``cruce.jobs.process``) does
not: it writes them where its web workers read them (``cruce.search.memory.share``)."""

DEFAULT_BATCH_ROWS = 100_000
"""Rows read, normalised and written at a time (``CRUCE_IMPORT_BATCH_ROWS``): fewer use less
memory per import, and report progress more often."""

# Kept in the job table in English, translated for each reader of the page.
IMPORTING = _("Importing")
LINKING = _("Linking to known entities")
GRAPH = _("Updating the link graph")
SEARCH = _("Updating the search index")
PAGES = _("Preparing the entity pages")


def import_params(path: Path, mapping: str, dataset: str | None, address: str | None) -> dict[str, Any]:
    """What an import job keeps: the saved upload, its name, the mapping and the dataset."""
    return {"path": str(path.absolute()), "file": path.name, "mapping": mapping, "dataset": dataset,
            "address": address}  # fmt: skip


def run_import(ctx: JobContext) -> dict[str, Any]:
    params = ctx.job.params
    path = Path(params["path"])
    if not path.exists():
        raise JobError(_("The uploaded file is no longer on the server; upload it again."))
    try:
        ctx.progress(0, 0, IMPORTING)
        result = import_file(
            ctx.store, path, params["mapping"], dataset=params.get("dataset") or None, batch_rows=_batch_rows(),
            on_progress=lambda done, total: ctx.progress(done, total, IMPORTING),
        )  # fmt: skip
        resumed = _finished_by_an_earlier_attempt(result, path)
        if result.statements_added or resumed:  # committed: from here on the job is not stopped
            after_import(ctx.store, result.import_id, ctx.job.owner, on_step=lambda step: ctx.progress(1, 1, step))
    except (ReadError, MappingError, StoreError, SchemaError) as exc:
        ctx.audit("import", target=params.get("dataset"), outcome="failed",
                  file=params["file"], mapping=params["mapping"])  # fmt: skip
        shutil.rmtree(path.parent, ignore_errors=True)
        raise JobError(str(exc).replace(str(path.parent), "").lstrip("/")) from None
    except JobStopped as stop:
        if stop.reason == "cancelled":
            shutil.rmtree(path.parent, ignore_errors=True)
        raise
    if resumed:
        previous = result.already_imported
        assert previous is not None
        result = ImportResult(previous.id, previous.dataset, previous.source_file, previous.mapping,
                              previous.rows_read, previous.rows_stored, previous.rows_rejected,
                              previous.statements_added, previous.seconds)  # fmt: skip
    ctx.audit("import", target=result.dataset, import_id=result.import_id, file=params["file"],
              mapping=params["mapping"], rows_stored=result.rows_stored,
              rows_rejected=result.rows_rejected)  # fmt: skip
    return _summary(result)


def _batch_rows() -> int:
    try:
        return max(1_000, int(os.environ.get("CRUCE_IMPORT_BATCH_ROWS", DEFAULT_BATCH_ROWS)))
    except ValueError:
        return DEFAULT_BATCH_ROWS


def _finished_by_an_earlier_attempt(result: ImportResult, path: Path) -> bool:
    """The import found already done is this very upload's (each upload has a folder of its own):
    an earlier attempt of this job committed it before its process died."""
    previous = result.already_imported
    return previous is not None and previous.source_file == str(path.absolute())


def _summary(result: ImportResult) -> dict[str, Any]:
    return {
        "import_id": result.import_id if result.already_imported is None else result.already_imported.id,
        "dataset": result.dataset,
        "mapping": result.mapping,
        "rows_read": result.rows_read,
        "rows_stored": result.rows_stored,
        "rows_rejected": result.rows_rejected,
        "statements_added": result.statements_added,
        "seconds": round(result.seconds, 3),
        "already_imported": result.already_imported is not None,
    }


# -- after the import --------------------------------------------------------------------------------
def after_import(store: Store, import_id: str, actor: str, *, on_step: Callable[[str], None] | None = None) -> None:
    """Link the import's new records to the resolved entities (and raise watchlist alerts), then
    bring the graph, the search index and the entity lookup up to date; ``on_step`` is told each
    step as it starts.

    Each step is an extra: when one fails the import stands (the analyst can run
    ``cruce resolve --incremental`` later, and the graph and search catch up on their next use);
    only the exception's type is logged.
    """
    from cruce.resolve.incremental import link_imports

    step = on_step or (lambda _message: None)
    step(LINKING)
    try:
        link_imports(store, [import_id], actor=actor)
    except Exception as exc:  # the import is committed whatever happens here
        log.warning("incremental linking after import %s failed: %s", import_id, type(exc).__name__)
    from cruce.analyses.firearms.alerts import alert_after_import

    try:
        alert_after_import(store, [import_id])
    except Exception as exc:  # alerts are an extra too
        log.warning("firearms alerts after import %s failed: %s", import_id, type(exc).__name__)
    from cruce.resolve.watch_match import alert_after_import as place_and_search_alerts

    try:
        place_and_search_alerts(store, [import_id])
    except Exception as exc:  # alerts are an extra too
        log.warning("place and search alerts after import %s failed: %s", import_id, type(exc).__name__)
    step(GRAPH)
    _update_graph(store, import_id)
    step(SEARCH)
    _update_search(store, import_id)
    refresh = getattr(store, "refresh_lookup", None)  # DuckDB: entities by key for the pages (ADR 0008)
    if refresh is not None:
        step(PAGES)
        try:
            refresh()
        except Exception as exc:  # reads scan until the next catch-up
            log.warning("entity lookup update after import %s failed: %s", import_id, type(exc).__name__)


def _update_search(store: Store, import_id: str) -> None:
    """Add the import's terms to the search index and, in a process that answers searches, load
    the new index and make its vocabulary now (ADR 0009), so that the first search after the
    import does not wait for them; in a team server's job process, write the postings for its web
    workers."""
    from cruce.schema.loader import default_schema
    from cruce.search import catch_up, state, vocabulary
    from cruce.search import memory as search_memory
    from cruce.security.db import AppDB

    try:
        db = AppDB(store)
        catch_up(db, default_schema())
        now = state(db)
        if SERVES_SEARCHES:
            # the vocabulary too: made by the first search after the job, it came with the
            # dashboards' tables read again, and the requests queued behind both (load test)
            search_memory.held(db, now.generation, now.entities, wait=True)
            vocabulary(db, now.generation)
        else:  # the web workers read the postings from the snapshot rather than each from the store
            search_memory.share(db, now.generation, now.entities)
    except Exception as exc:
        log.warning("search index update after import %s failed: %s", import_id, type(exc).__name__)


def _update_graph(store: Store, import_id: str) -> None:
    """Bring the link graph up to date now (reading the new import's records only), so that the
    next network question does not wait for it."""
    from cruce.graph.graph import open_graph

    try:
        open_graph(store, current=True)  # its own import is the job under way
    except Exception as exc:  # the next question builds it again
        log.warning("graph update after import %s failed: %s", import_id, type(exc).__name__)
