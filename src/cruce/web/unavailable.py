"""A 503 when the database does not answer (PostgreSQL stopped or restarting), instead of a 500.

The answer is made without the store: no session lookup, no user's stored language (the language
comes from the ``cruce_lang`` cookie or ``Accept-Language``), a page of its own that does not
extend ``base.html``. The store replaces a dropped connection by itself on the next request
(``cruce.store.postgres_store``), so the user only has to try again; ``Retry-After`` says when.
Only the exception's type is logged: its text may quote a query's values.
"""

from __future__ import annotations

import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cruce.store import StoreUnavailableError
from cruce.web.i18n import LANG_COOKIE, choose, translator
from cruce.web.i18n import mark as _

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
TITLE = _("The database is not answering")
DETAIL = _("The database is not answering right now; it may be restarting. Please try again in a moment.")


def unavailable_response(request: Request, exc: BaseException, api_prefix: str) -> Response:
    """503 for a request the database could not serve: JSON on the API, a small page elsewhere."""
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, type(exc).__name__)
    lang = choose(None, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    tr = translator(lang)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Content-Language": lang}
    if request.url.path.startswith(api_prefix):
        return JSONResponse({"detail": tr(DETAIL)}, status_code=503, headers=headers)
    template = request.app.state.templates.get_template("unavailable.html")
    html = template.render(lang=lang, _=tr, title=tr(TITLE), detail=tr(DETAIL), again=request.url.path)
    return HTMLResponse(html, status_code=503, headers=headers)


def install(app: FastAPI, api_prefix: str) -> None:
    """Answer 503 to a lost or refused database connection anywhere in the application."""

    async def handler(request: Request, exc: Exception) -> Response:
        return unavailable_response(request, exc, api_prefix)

    app.add_exception_handler(StoreUnavailableError, handler)
    app.add_exception_handler(psycopg.OperationalError, handler)
