"""The public portal at /public, no account needed: the site ``cruce publish`` last wrote (found in
the audit log), or — when none was published or its folder is gone — one generated on first
request with the shipped configuration beside the database, audited like any publication.

Files are served from that folder only (a path that leaves it is a 404). The Contact page is the
one page that differs from the static site: served live, it links to this server's own /tip.
"""

from __future__ import annotations

import json
import mimetypes
import threading
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cruce.web.context import services_of

router = APIRouter(include_in_schema=False)
_GENERATING = threading.Lock()
LIVE_CONTACT = {f"{lang}/contact.html" for lang in ("en", "es")}


def default_portal_dir(store_url: str) -> Path:
    """``public/`` beside a DuckDB file, else ``./var/public``."""
    path = store_url.removeprefix("duckdb:")
    if not path.startswith(("postgresql://", "postgres://")) and path != ":memory:":
        return Path(path).resolve().parent / "public"
    return Path("var/public").resolve()


def _site(request: Request) -> Path:
    from cruce.reports import portal
    from cruce.schema.loader import default_schema

    view = services_of(request).view()
    store = view.store
    found = portal.last_published(store, view.security.audit)
    if found is not None:
        return found
    with _GENERATING:
        found = portal.last_published(store, view.security.audit)
        if found is None:
            config = portal.load(None, default_schema())
            found = portal.publish(store, config, default_portal_dir(store.url), "web:on-first-request").out
    return found


@router.get("/public")
def public_root() -> Response:
    return RedirectResponse("/public/", status_code=307)


@router.get("/public/{path:path}")
def public_file(request: Request, path: str) -> Response:
    site = _site(request)
    wanted = (path or "index.html").rstrip("/") if path.rstrip("/") else "index.html"
    if (site / wanted).is_dir():
        wanted = f"{wanted}/index.html"
    target = (site / wanted).resolve()
    if not target.is_relative_to(site.resolve()) or not target.is_file():
        raise HTTPException(404, "Not found")
    if wanted in LIVE_CONTACT:
        return HTMLResponse(_live_contact(site, wanted.split("/")[0]))
    media = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media)


def _live_contact(site: Path, lang: str) -> str:
    from dataclasses import replace

    from cruce.reports import portal
    from cruce.reports.portal.site import contact_page
    from cruce.schema.loader import default_schema

    manifest = json.loads((site / portal.MANIFEST).read_text(encoding="utf-8"))
    config = replace(portal.load(None, default_schema()), k=int(manifest["k"]), languages=tuple(manifest["languages"]))
    return contact_page(lang, config, str(manifest.get("published", "")))
