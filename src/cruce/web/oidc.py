"""The OpenID Connect sign-in pages: ``/signin/oidc`` (off to the provider) and its callback.

Off unless configured (``CRUCE_OIDC_*``, see ``cruce.security.oidc``): then both routes answer
404 and the sign-in page shows no provider button. While the browser is at the provider, the
state, nonce and PKCE code verifier wait in a short-lived cookie encrypted and authenticated with
a key derived from the deployment's secret (Fernet, 10 minutes, ``SameSite=Lax`` so that it
comes back with the provider's redirect, sent to ``/signin/oidc`` only). It is used once.

A successful sign-in starts a new session through ``Sessions.start`` (the old one, if any, is
ended) with the second factor done: the provider does its own multi-factor authentication, and
cruce's TOTP applies to its local password sign-in only. Every attempt's outcome is audited as
``signin_oidc`` with a short reason, never a code or a token.

The session cookie is ``SameSite=Strict``, which a browser does not send within a redirect chain
that began at another site (the provider). So the callback answers with a small page that moves
on by itself (``<meta http-equiv="refresh">``, which the CSP allows) rather than with a redirect:
the next request starts from cruce's own page and carries the new cookie.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cruce.security.audit import now
from cruce.security.keys import derive, load_secret
from cruce.security.oidc import OIDCClient, OIDCConfig, OIDCError, Pending, provision
from cruce.web.context import IDLE_MINUTES, SESSION_COOKIE, Ctx, page, safe_next
from cruce.web.i18n import LANG_COOKIE
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
STATE_COOKIE = "cruce_oidc"
STATE_PATH = "/signin/oidc"
STATE_SECONDS = 600
CALLBACK_PATH = "/signin/oidc/callback"
FAILED = _("Signing in through your organization did not succeed. Try again, or ask your administrator.")
NO_ROLE = _("Your organization's account has no role in cruce. Ask your administrator for access.")
REFUSED = _("This account cannot sign in to cruce through your organization. Ask your administrator.")
UNAVAILABLE = _("Your organization's sign-in service cannot be reached. Try again later.")


@dataclass
class OIDCSignIn:
    """What the application holds when OIDC is on: the settings, the provider's client, the state key."""

    config: OIDCConfig
    client: OIDCClient
    fernet: Fernet

    @classmethod
    def create(cls, config: OIDCConfig, store_url: str, client: OIDCClient | None = None) -> OIDCSignIn:
        key = base64.urlsafe_b64encode(derive(load_secret(store_url), "oidc-state"))
        return cls(config, client or OIDCClient(config), Fernet(key))

    def redirect_uri(self, request: Request) -> str:
        return self.config.redirect_url or str(request.base_url).rstrip("/") + CALLBACK_PATH

    def seal(self, pending: Pending, next_url: str) -> str:
        payload = {"s": pending.state, "n": pending.nonce, "v": pending.code_verifier, "r": pending.redirect_uri,
                   "next": next_url}  # fmt: skip
        return self.fernet.encrypt(json.dumps(payload).encode()).decode()

    def open(self, sealed: str | None) -> tuple[Pending, str] | None:
        if not sealed:
            return None
        try:
            payload = json.loads(self.fernet.decrypt(sealed.encode(), ttl=STATE_SECONDS))
            return Pending(payload["s"], payload["n"], payload["v"], payload["r"]), str(payload["next"])
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None


def oidc_from_env(store_url: str) -> OIDCSignIn | None:
    """OIDC sign-in as the ``CRUCE_OIDC_*`` variables configure it, or None when they do not."""
    config = OIDCConfig.from_env()
    return OIDCSignIn.create(config, store_url) if config else None


def _sso(request: Request) -> OIDCSignIn:
    sso: OIDCSignIn | None = getattr(request.app.state, "oidc", None)
    if sso is None:
        raise HTTPException(status_code=404)
    return sso


def _refuse(ctx: Ctx, actor: str, reason: str, next_url: str, status: int = 401) -> Response:
    ctx.security.audit.record(
        actor[:200], "signin_oidc", outcome="refused", detail={"reason": reason}, address=ctx.address
    )
    message = {"no_role": NO_ROLE, "disabled": REFUSED, "account_conflict": REFUSED, "username": REFUSED}.get(
        reason, UNAVAILABLE if reason.startswith(("discovery", "jwks", "token_endpoint")) else FAILED
    )
    response = ctx.render(
        "signin.html", status_code=status, error=ctx._(message), next=safe_next(next_url), username="",
        idle_minutes=IDLE_MINUTES,
    )  # fmt: skip
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH, secure=ctx.secure, httponly=True, samesite="lax")
    return response


@router.get(STATE_PATH)
def oidc_start(request: Request, next: str = "/") -> Response:
    """Off to the provider, with a fresh state, nonce and PKCE challenge kept in a sealed cookie."""
    sso = _sso(request)
    ctx = page(request, signed_in=False)
    next_url = safe_next(next[:2000])
    try:
        url, pending = sso.client.begin(sso.redirect_uri(request))
    except OIDCError as exc:
        return _refuse(ctx, "-", exc.reason, next_url, status=503)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        STATE_COOKIE, sso.seal(pending, next_url), max_age=STATE_SECONDS, path=STATE_PATH, httponly=True,
        samesite="lax", secure=ctx.secure,
    )  # fmt: skip
    return response


@router.get(CALLBACK_PATH)
def oidc_callback(request: Request) -> Response:
    """Back from the provider: check everything, find or make the account, start a new session."""
    sso = _sso(request)
    ctx = page(request, signed_in=False)
    opened = sso.open(request.cookies.get(STATE_COOKIE))
    if opened is None:
        return _refuse(ctx, "-", "no_state", "/")
    pending, next_url = opened
    params = {k: v[:4096] for k, v in request.query_params.items() if k in ("code", "state", "error")}
    try:
        claims = sso.client.finish(pending, params)
    except OIDCError as exc:
        return _refuse(ctx, "-", exc.reason, next_url, status=503 if exc.reason == "discovery" else 401)
    outcome = provision(ctx.security.accounts, sso.config, claims, now=now())
    if outcome.user is None:
        return _refuse(ctx, outcome.username, outcome.reason, next_url)
    user = outcome.user
    session = ctx.security.sessions.start(
        user.id, now=now(), second_factor_done=True, replaces=request.cookies.get(SESSION_COOKIE)
    )
    ctx.security.audit.record(
        user.username, "signin_oidc", outcome="ok", detail={"created": outcome.reason == "created", "role": user.role},
        address=ctx.address,
    )  # fmt: skip
    ctx.cookies.append((SESSION_COOKIE, session.token, None))
    ctx.cookies.append((LANG_COOKIE, user.language, 365 * 24 * 3600))
    ctx.set_csrf_cookie = False
    response: HTMLResponse = ctx.render("signin_continue.html", next=safe_next(next_url))
    response.delete_cookie(STATE_COOKIE, path=STATE_PATH, secure=ctx.secure, httponly=True, samesite="lax")
    return response
