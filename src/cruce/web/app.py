"""``create_app(store_url)``: the FastAPI application, its pages, its API, its static files and its headers."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cruce import __version__
from cruce.store.memo import one_request
from cruce.web.context import SignInRequired, page, signin_redirect
from cruce.web.i18n import fmt_date, fmt_datetime, fmt_number
from cruce.web.services import Services, Settings, default_max_upload_bytes, default_upload_dir

STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("cruce.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = fmt_number
    env.filters["datetime"] = fmt_datetime
    env.filters["date"] = fmt_date
    env.filters["basename"] = lambda path: Path(str(path)).name
    env.globals["version"] = __version__
    return env


_SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class SecurityHeaders:
    """The security headers on every response (pages, API, static files, errors).

    A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
    ``BaseHTTPMiddleware`` runs every response through an extra task and stream, which cost more
    server time than the headers themselves.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(_SECURITY_HEADERS)
        if not str(scope.get("path", "")).startswith("/static/"):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        names = {name for name, _ in extra}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # a response with a stricter policy of its own (a case's attachment: a sandbox) keeps it
                own = {k.lower() for k, _v in headers} & {b"content-security-policy"}
                kept = [(k, v) for k, v in headers if k.lower() not in names - own]
                message = {**message, "headers": kept + [(k, v) for k, v in extra if k not in own]}
            await send(message)

        if scope.get("method") in ("GET", "HEAD"):  # reads: a small query asked again is answered once
            with one_request():
                await self.app(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)


WORKER_THREADS = 8
"""Requests served at once (Starlette runs each synchronous route in a worker thread; anyio's
default is 40). Two cores gain nothing from 40 store queries at once: each holds DuckDB buffers,
and under load 40 of them ran the store out of its memory limit (a 500 to the user). More wait
their turn in the event loop instead."""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield
    if getattr(app.state, "close_on_shutdown", False):  # a worker process made by ``worker_app``
        app.state.services.close()


def create_app(
    store_url: str,
    *,
    upload_dir: str | Path | None = None,
    max_upload_bytes: int | None = None,
    settings: Settings | None = None,
    run_jobs: bool = True,
) -> FastAPI:
    """The web application over the store at ``store_url`` (a DuckDB path or a postgresql:// URL).

    The store stays open for the life of the application; whoever made it closes it with
    ``app.state.services.close()`` (``cruce serve`` does when the server stops). With
    ``run_jobs`` (the default) this process also runs background jobs (``cruce.jobs``) in a
    thread of its own, from now until the store is closed.
    """
    settings = settings or Settings(
        upload_dir=Path(upload_dir) if upload_dir else default_upload_dir(store_url),
        max_upload_bytes=max_upload_bytes if max_upload_bytes is not None else default_max_upload_bytes(),
    )
    services = Services(store_url, settings)

    app = FastAPI(
        title="cruce",
        version=__version__,
        description="The REST API of cruce: search, entities with provenance, imports, tips, users and the audit log.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.services = services
    app.state.templates = _templates()
    from cruce.web.jobs import WebJobs
    from cruce.web.ratelimit import tip_limiter_for

    try:
        app.state.jobs = WebJobs(services, run=run_jobs)
    except BaseException:
        services.close()
        raise
    app.state.tip_limiter = tip_limiter_for(
        services.store.url, settings.tip_limit, settings.tip_window_seconds, settings.tip_flood_cap
    )
    from cruce.web.oidc import oidc_from_env

    app.state.oidc = oidc_from_env(store_url)  # None unless CRUCE_OIDC_* configure it
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return signin_redirect(exc)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and request.url.path.startswith(API_PREFIX):
            headers["Allow"] = ", ".join(_allowed_methods(app, request.url.path))
        if request.url.path.startswith(API_PREFIX) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        return await _error_page(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(API_PREFIX):
            return JSONResponse({"detail": _errors(exc)}, status_code=422)
        return await _error_page(request, 422, "", None)

    from cruce.web import unavailable

    unavailable.install(app, API_PREFIX)

    from cruce.web import api, api_resolution, oidc, pages, pages_admin, pages_resolution, pages_tips

    app.include_router(api.router, prefix=API_PREFIX)
    app.include_router(api_resolution.router, prefix=API_PREFIX)
    from cruce.web import api_watch, pages_watch

    app.include_router(api_watch.router, prefix=API_PREFIX)
    from cruce.web import api_graph

    app.include_router(api_graph.router, prefix=API_PREFIX)
    from cruce.web import api_graph_export

    app.include_router(api_graph_export.router, prefix=API_PREFIX)
    from cruce.web import api_firearms, pages_firearms

    app.include_router(api_firearms.router, prefix=API_PREFIX)
    from cruce.web import api_flows

    app.include_router(api_flows.router, prefix=API_PREFIX)
    from cruce.web import api_people

    app.include_router(api_people.router, prefix=API_PREFIX)
    from cruce.web import api_organizations

    app.include_router(api_organizations.router, prefix=API_PREFIX)
    from cruce.web import api_backup

    app.include_router(api_backup.router, prefix=API_PREFIX)
    app.include_router(pages_firearms.router)
    from cruce.web import pages_flows, pages_organizations

    app.include_router(pages_flows.router)
    app.include_router(pages_organizations.router)
    from cruce.web import api_timeline

    api_timeline.install(app, API_PREFIX)
    from cruce.web import api_graph_charts, pages_graph

    app.include_router(api_graph_charts.router, prefix=API_PREFIX)
    app.include_router(pages_graph.router)
    from cruce.web import pages_graph_questions

    app.include_router(pages_graph_questions.router)
    app.include_router(pages_watch.router)
    app.include_router(pages.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_tips.router)
    from cruce.web import pages_public

    app.include_router(pages_public.router)
    from cruce.web import pages_cases

    app.include_router(pages_cases.router)
    from cruce.web import api_investigations, pages_investigations

    app.include_router(api_investigations.router, prefix=API_PREFIX)
    app.include_router(api_investigations.entity_router, prefix=API_PREFIX)
    pages_investigations.install(app)
    from cruce.web import dashboard_reports

    app.include_router(dashboard_reports.pages)
    app.include_router(dashboard_reports.router, prefix=API_PREFIX)
    from cruce.web import pages_people_stats, pages_screening

    app.include_router(pages_people_stats.router)

    app.include_router(pages_screening.router)
    from cruce.web import pages_jobs

    app.include_router(pages_jobs.router)
    from cruce.web import api_legal, pages_legal

    app.include_router(api_legal.router, prefix=API_PREFIX)
    app.include_router(pages_legal.router)
    pages_resolution.install(app)
    app.include_router(oidc.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def worker_app() -> FastAPI:
    """The application of one worker process of ``cruce serve --workers N`` (Uvicorn's factory):
    the database from ``CRUCE_DB``, which ``cruce serve`` sets; closed when the worker stops. The
    jobs run in a process of their own (``CRUCE_WORKERS_RUN_JOBS=0``, set by ``cruce serve``)."""
    from cruce.priority import favour_requests
    from cruce.store import database_url

    favour_requests()
    app = create_app(database_url(), run_jobs=os.environ.get("CRUCE_WORKERS_RUN_JOBS", "1") != "0")
    app.state.close_on_shutdown = True
    return app


def _allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API offers at ``path`` (its routes are split by method, so Starlette's own
    405 names only one of them)."""
    cache: dict[str, list[tuple[re.Pattern[str], list[str]]]] = app.state.__dict__.setdefault("_allow", {})
    if "paths" not in cache:
        cache["paths"] = [
            (re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"), [m.upper() for m in item])
            for template, item in app.openapi()["paths"].items()
        ]
    for pattern, methods in cache["paths"]:
        if pattern.match(path):
            return sorted(methods)
    return []


def _errors(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]


async def _error_page(request: Request, status: int, detail: str, headers: Mapping[str, str] | None) -> Response:
    from starlette.concurrency import run_in_threadpool

    def render() -> Response:
        try:
            ctx = page(request, signed_in=False)
        except Exception:  # the store itself failing: a plain answer
            return Response(f"{status}", status_code=status, media_type="text/plain")
        response = ctx.render("error.html", status_code=status, status=status, detail=detail)
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    return await run_in_threadpool(render)
