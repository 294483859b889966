"""Who is asking, in which language, and whether their form is genuine: one place for every route.

Pages are signed in to with a server-side session (an HttpOnly, SameSite=Strict cookie,
``Secure`` over TLS); the API with a bearer token. Every form post carries a CSRF token: the
session's own once signed in, before that (sign-in, the tip form, the language switch) a random
token that must match the ``cruce_csrf`` cookie (double submit).

A route reads the store only through the ``Guard`` of its own thread's view (``ctx.guard``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cruce.security import Guard, Principal, Security
from cruce.security.audit import now
from cruce.security.sessions import IDLE_LOCK, ActiveSession
from cruce.web.i18n import LANG_COOKIE, Translator, choose, translator
from cruce.web.services import Services, View

SESSION_COOKIE = "cruce_session"
CSRF_COOKIE = "cruce_csrf"
CSRF_FIELD = "csrf_token"


class SignInRequired(Exception):  # noqa: N818 - a control-flow signal, handled by the app
    """The page needs a signed-in user; the handler redirects to the sign-in page."""

    def __init__(self, next_url: str, second_factor: bool = False) -> None:
        self.next_url = next_url
        self.second_factor = second_factor


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def safe_next(url: str | None) -> str:
    """Only a path on this site (never //host or a scheme) may be a redirect target."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


@dataclass
class Ctx:
    """One page request: the view of the store, the session (if any), the language, the CSRF token."""

    request: Request
    services: Services
    view: View
    session: ActiveSession | None
    lang: str
    _: Translator
    csrf: str
    set_csrf_cookie: bool = False
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def principal(self) -> Principal:
        if self.session is None:
            raise SignInRequired(self.request.url.path)
        return self.session.principal

    @property
    def guard(self) -> Guard:
        return self.view.guard

    @property
    def security(self) -> Security:
        return self.view.security

    @property
    def address(self) -> str | None:
        return client_address(self.request)

    @property
    def secure(self) -> bool:
        return self.request.url.scheme == "https"

    def audit(self, action: str, *, target: str | None = None, outcome: str = "ok", **detail: Any) -> None:
        actor = self.session.principal.username if self.session else "anonymous"
        self.security.audit.record(
            actor, action, target=target, outcome=outcome, detail=detail or None, address=self.address
        )

    # -- responses ----------------------------------------------------------------------------
    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        env = self.request.app.state.templates
        html = env.get_template(template).render(ctx=self, _=self._, lang=self.lang, request=self.request, **values)
        response = HTMLResponse(html, status_code=status_code)
        self.finish(response)
        return response

    def redirect(self, url: str) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        self.finish(response)
        return response

    def finish(self, response: Response) -> Response:
        if self.set_csrf_cookie:
            response.set_cookie(CSRF_COOKIE, self.csrf, httponly=True, samesite="strict", secure=self.secure, path="/")
        for name, value, max_age in self.cookies:
            response.set_cookie(
                name, value, max_age=max_age, httponly=True, samesite="strict", secure=self.secure, path="/"
            )
        return response

    def check_csrf(self, submitted: str | None) -> None:
        """Refuse a form post without the right token (403), and audit the refusal."""
        expected = self.csrf if not self.set_csrf_cookie else None
        if not expected or not submitted or not hmac.compare_digest(expected, submitted):
            self.audit("csrf_rejected", target=self.request.url.path, outcome="denied")
            raise HTTPException(status_code=403, detail=self._("The form has expired or was not sent from cruce."))


def page(request: Request, *, signed_in: bool = True) -> Ctx:
    """The context of a page request; with ``signed_in`` (the default) anonymous users are sent to sign in."""
    services = services_of(request)
    view = services.view()
    session: ActiveSession | None = None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = view.security.sessions.resume(token, now=now())
    user_lang = session.principal.language if session else None
    lang = choose(user_lang, request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    if session is not None:
        csrf, fresh = session.csrf_token, False
    else:
        cookie = request.cookies.get(CSRF_COOKIE)
        csrf, fresh = (cookie, False) if cookie and len(cookie) >= 32 else (secrets.token_urlsafe(32), True)
    ctx = Ctx(request, services, view, session, lang, translator(lang), csrf, fresh)
    if signed_in:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if session is None:
            raise SignInRequired(target)
        if not session.second_factor_done:
            raise SignInRequired(target, second_factor=True)
    return ctx


def signin_redirect(exc: SignInRequired) -> RedirectResponse:
    path = "/signin/totp" if exc.second_factor else "/signin"
    return RedirectResponse(f"{path}?next={quote(safe_next(exc.next_url), safe='/')}", status_code=303)


IDLE_MINUTES = int(IDLE_LOCK.total_seconds() // 60)
