"""Optional OpenID Connect sign-in: configuration, the authorization code flow, and local accounts.

An organization with an identity provider (Keycloak, Azure AD / Entra ID, Okta, ...) can let
its people sign in to cruce with it. It is off unless ``CRUCE_OIDC_ISSUER`` and
``CRUCE_OIDC_CLIENT_ID`` are set (see docs/security.md and docs/guide/web.md).

The flow is the authorization code flow with PKCE (S256): cruce sends the browser to the
provider with a fresh ``state``, ``nonce`` and code challenge; the provider sends it back with a
code; cruce checks the state, exchanges the code (with the code verifier and its client secret)
at the provider's token endpoint, and checks the ID token: its signature with the provider's
published keys (asymmetric algorithms only), and its ``iss``, ``aud``, ``exp``, ``iat``,
``sub`` and ``nonce`` claims. Authlib prepares the protocol messages and joserfc (the JOSE
library of Authlib's author, which Authlib itself now recommends) checks the token.

The local account is found or made just in time. Its role and its need-to-know groups come only
from the provider's signed claims, through the operator's mapping, never from a request
parameter; they are brought up to date at every sign-in. A local account is bound to one
provider subject (``iss`` and ``sub``): a provider's user whose name matches an existing local
account (``admin``, say) or another subject's account is refused, not merged. Such an account
has no password (its stored hash is an ``!oidc:`` marker that no password matches), so it cannot
sign in with the local form, and a disabled account cannot sign in through the provider either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from cruce.i18n import _
from cruce.security.accounts import Accounts, Role, User
from cruce.store.base import StoreError

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""Accepted ID token signatures: the provider's public keys only (no ``none``, no HMAC)."""
DEFAULT_SCOPES = "openid profile email"
METADATA_TTL = 3600.0
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,199}$")
BINDING_PREFIX = "!oidc:"


class OIDCConfigError(StoreError):
    """The OIDC settings cannot work; the message is for the operator (``cruce serve`` shows it and stops)."""


class OIDCError(Exception):
    """A sign-in through the provider that did not succeed; ``reason`` is a short code for the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pairs(text: str, name: str) -> tuple[tuple[str, str], ...]:
    """``"a=x,b=y"`` as ((a, x), (b, y)), in the order written."""
    pairs = []
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.rpartition("=")
        if not sep or not key.strip() or not value.strip():
            raise OIDCConfigError(_("{name}: write each entry as provider-value=cruce-value.").format(name=name))
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _role(value: str, name: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise OIDCConfigError(
            _("{name}: unknown role {role}; choose admin, analyst, caseworker or viewer.").format(name=name, role=value)
        ) from None


@dataclass(frozen=True)
class OIDCConfig:
    """The provider and how its claims map to cruce's roles and need-to-know groups."""

    issuer: str
    client_id: str
    client_secret: str | None = None
    redirect_url: str | None = None
    provider_name: str = ""
    scopes: str = DEFAULT_SCOPES
    username_claim: str = "preferred_username"
    role_claim: str = "groups"
    role_map: tuple[tuple[str, Role], ...] = ()
    group_claim: str = "groups"
    group_map: tuple[tuple[str, str], ...] = ()
    default_role: Role | None = None
    leeway_seconds: int = 60

    @property
    def name(self) -> str:
        """What the sign-in button calls the provider."""
        return self.provider_name or urlsplit(self.issuer).hostname or self.issuer

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OIDCConfig | None:
        """The settings from ``CRUCE_OIDC_*`` variables; None (OIDC off) unless issuer and client id are set."""
        env = os.environ if env is None else env
        issuer = env.get("CRUCE_OIDC_ISSUER", "").strip()
        client_id = env.get("CRUCE_OIDC_CLIENT_ID", "").strip()
        if not issuer and not client_id:
            return None
        if not issuer or not client_id:
            raise OIDCConfigError(_("Set both CRUCE_OIDC_ISSUER and CRUCE_OIDC_CLIENT_ID, or neither."))
        secret = env.get("CRUCE_OIDC_CLIENT_SECRET") or None
        if secret_file := env.get("CRUCE_OIDC_CLIENT_SECRET_FILE"):
            try:
                with open(secret_file, encoding="utf-8") as fh:
                    secret = fh.read().strip() or None
            except OSError as exc:
                raise OIDCConfigError(
                    _("Cannot read CRUCE_OIDC_CLIENT_SECRET_FILE: {error}").format(error=exc.strerror)
                ) from None
        role_claim = env.get("CRUCE_OIDC_ROLE_CLAIM", "groups").strip() or "groups"
        default = env.get("CRUCE_OIDC_DEFAULT_ROLE", "").strip()
        try:
            leeway = int(env.get("CRUCE_OIDC_LEEWAY_SECONDS", "60"))
        except ValueError:
            raise OIDCConfigError(_("CRUCE_OIDC_LEEWAY_SECONDS must be a whole number of seconds.")) from None
        config = cls(
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            redirect_url=env.get("CRUCE_OIDC_REDIRECT_URL", "").strip() or None,
            provider_name=env.get("CRUCE_OIDC_PROVIDER_NAME", "").strip(),
            scopes=env.get("CRUCE_OIDC_SCOPES", DEFAULT_SCOPES).strip() or DEFAULT_SCOPES,
            username_claim=env.get("CRUCE_OIDC_USERNAME_CLAIM", "preferred_username").strip() or "preferred_username",
            role_claim=role_claim,
            role_map=tuple(
                (key, _role(value, "CRUCE_OIDC_ROLE_MAP"))
                for key, value in _pairs(env.get("CRUCE_OIDC_ROLE_MAP", ""), "CRUCE_OIDC_ROLE_MAP")
            ),
            group_claim=env.get("CRUCE_OIDC_GROUP_CLAIM", "").strip() or role_claim,
            group_map=_pairs(env.get("CRUCE_OIDC_GROUP_MAP", ""), "CRUCE_OIDC_GROUP_MAP"),
            default_role=_role(default, "CRUCE_OIDC_DEFAULT_ROLE") if default else None,
            leeway_seconds=max(0, min(leeway, 300)),
        )
        config.check()
        return config

    def check(self) -> None:
        parts = urlsplit(self.issuer)
        local = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and local):
            raise OIDCConfigError(_("CRUCE_OIDC_ISSUER must be an https:// address."))
        if "openid" not in self.scopes.split():
            raise OIDCConfigError(_("CRUCE_OIDC_SCOPES must include openid."))


# -- claims to role, groups and user name ----------------------------------------------------------
def _values(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def map_role(config: OIDCConfig, claims: Mapping[str, Any]) -> Role | None:
    """The role of the first ``CRUCE_OIDC_ROLE_MAP`` entry the user holds, else the default role (or None)."""
    held = set(_values(claims, config.role_claim))
    for provider_value, role in config.role_map:
        if provider_value in held:
            return role
    return config.default_role


def map_groups(config: OIDCConfig, claims: Mapping[str, Any]) -> frozenset[str]:
    """cruce's need-to-know groups of every ``CRUCE_OIDC_GROUP_MAP`` entry the user holds."""
    held = set(_values(claims, config.group_claim))
    return frozenset(group for provider_value, group in config.group_map if provider_value in held)


def username_of(config: OIDCConfig, claims: Mapping[str, Any]) -> str | None:
    """The user name from the configured claim, else ``email``; lower case; None when unusable."""
    for name in (config.username_claim, "email"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            candidate = value.strip().lower()
            return candidate if USERNAME.match(candidate) else None
    return None


def binding(issuer: str, subject: str) -> str:
    """What an account bound to a provider subject stores in place of a password hash."""
    return BINDING_PREFIX + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()


@dataclass(frozen=True)
class Outcome:
    user: User | None
    username: str
    reason: str  # "ok", "created", or why the sign-in is refused


def provision(accounts: Accounts, config: OIDCConfig, claims: Mapping[str, Any], *, now: datetime) -> Outcome:
    """Find or make the local account for validated ID token claims, with the mapped role and groups."""
    username = username_of(config, claims)
    if username is None:
        return Outcome(None, "-", "username")
    role = map_role(config, claims)
    groups = map_groups(config, claims)
    bound = binding(str(claims["iss"]), str(claims["sub"]))
    db = accounts.db
    with db.transaction():
        existing = accounts.find(username)
        if existing is not None:
            row = db.one("SELECT password_hash FROM app_user WHERE id = ?", (existing.id,))
            if row is None or not hmac.compare_digest(str(row[0]), bound):
                return Outcome(None, username, "account_conflict")
            if existing.disabled:
                return Outcome(None, username, "disabled")
            if role is None:
                return Outcome(None, username, "no_role")
            if existing.role is not role or existing.groups != groups:
                db.execute(
                    "UPDATE app_user SET role = ?, groups = ? WHERE id = ?",
                    (role.value, ",".join(sorted(groups)), existing.id),
                )
            return Outcome(accounts.get(existing.id), username, "ok")
        if role is None:
            return Outcome(None, username, "no_role")
        display = claims.get("name")
        display_name = display.strip()[:200] if isinstance(display, str) and display.strip() else username
        locale = claims.get("locale")
        language = "es" if isinstance(locale, str) and locale.lower().startswith("es") else "en"
        uid = str(uuid.uuid4())
        db.execute(
            "INSERT INTO app_user (id, username, display_name, role, groups, password_hash, language, created_at, "
            "password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, username, display_name, role.value, ",".join(sorted(groups)), bound, language, now, now),
        )
    return Outcome(accounts.get(uid), username, "created")


# -- the protocol ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pending:
    """What the browser's round trip to the provider must bring back: kept sealed in a cookie."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


@dataclass
class OIDCClient:
    """Discovery, the authorization URL, the code exchange and the ID token check, for one provider."""

    config: OIDCConfig
    transport: httpx.BaseTransport | None = None
    clock: Callable[[], float] = time.time
    timeout: float = 10.0
    _metadata: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _metadata_at: float = field(default=0.0, init=False, repr=False)
    _keys: KeySet | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _http(self) -> httpx.Client:
        return httpx.Client(transport=self.transport, timeout=self.timeout, follow_redirects=False)

    def _get_json(self, url: str, reason: str) -> dict[str, Any]:
        try:
            with self._http() as http:
                response = http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            value = response.json()
        except (httpx.HTTPError, ValueError):
            raise OIDCError(reason) from None
        if not isinstance(value, dict):
            raise OIDCError(reason)
        return value

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (cached for an hour), checked against the configured issuer."""
        with self._lock:
            if self._metadata is not None and self.clock() - self._metadata_at < METADATA_TTL:
                return self._metadata
        url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = self._get_json(url, "discovery")
        issuer = doc.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.config.issuer.rstrip("/"):
            raise OIDCError("discovery_issuer")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(doc.get(name), str):
                raise OIDCError("discovery")
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise OIDCError("discovery_pkce")
        with self._lock:
            self._metadata, self._metadata_at = doc, self.clock()
        return doc

    def _key_set(self, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        doc = self._get_json(str(self.metadata()["jwks_uri"]), "jwks")
        try:
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError):
            raise OIDCError("jwks") from None
        with self._lock:
            self._keys = keys
        return keys

    def begin(self, redirect_uri: str) -> tuple[str, Pending]:
        """The provider's authorization URL for a new sign-in, and what to keep until the browser is back."""
        meta = self.metadata()
        pending = Pending(generate_token(43), generate_token(43), generate_token(64), redirect_uri)
        url = prepare_grant_uri(
            meta["authorization_endpoint"], self.config.client_id, "code", redirect_uri=redirect_uri,
            scope=self.config.scopes, state=pending.state, nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier), code_challenge_method="S256",
        )  # fmt: skip
        return str(url), pending

    def finish(self, pending: Pending, params: Mapping[str, str]) -> dict[str, Any]:
        """Check the provider's answer and its ID token; returns the token's validated claims."""
        if params.get("error"):
            error = re.sub(r"[^a-z_]", "", str(params["error"]).lower())[:40]
            raise OIDCError(f"provider:{error or 'error'}")
        if not hmac.compare_digest(str(params.get("state", "")), pending.state):
            raise OIDCError("state")
        code = params.get("code")
        if not code:
            raise OIDCError("no_code")
        id_token = self._exchange(pending, str(code))
        return self.validate(id_token, pending.nonce)

    def _exchange(self, pending: Pending, code: str) -> str:
        meta = self.metadata()
        data = {
            "grant_type": "authorization_code", "code": code, "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.code_verifier, "client_id": self.config.client_id,
        }  # fmt: skip
        headers = {"Accept": "application/json"}
        if secret := self.config.client_secret:
            methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            if "client_secret_basic" in methods:
                # RFC 6749 2.3.1: each part form-urlencoded, then HTTP Basic
                pair = f"{quote(self.config.client_id, safe='')}:{quote(secret, safe='')}"
                headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            else:
                data["client_secret"] = secret
        try:
            with self._http() as http:
                response = http.post(str(meta["token_endpoint"]), data=data, headers=headers)
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            raise OIDCError("token_endpoint") from None
        if not isinstance(body, dict):
            raise OIDCError("token_endpoint")
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OIDCError("no_id_token")
        return id_token

    def validate(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's signature (the provider's keys) and its claims (iss, aud, exp, iat, sub, nonce)."""
        meta = self.metadata()
        token = None
        for refresh in (False, True):  # a key the cached set lacks: the provider may have rotated its keys
            try:
                token = jwt.decode(id_token, self._key_set(refresh), algorithms=list(ALGORITHMS))
                break
            except BadSignatureError:
                raise OIDCError("signature") from None
            except (JoseError, ValueError) as exc:
                if refresh or "key" not in str(exc).lower():
                    raise OIDCError("id_token") from None
        assert token is not None
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self.clock()),
            leeway=self.config.leeway_seconds,
            iss={"essential": True, "value": str(meta["issuer"])},
            aud={"essential": True, "value": self.config.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except ExpiredTokenError:
            raise OIDCError("expired") from None
        except InvalidClaimError as exc:
            raise OIDCError({"aud": "audience", "iss": "issuer"}.get(exc.claim, exc.claim)) from None
        except MissingClaimError as exc:
            raise OIDCError(f"missing:{exc.claim}") from None
        aud = token.claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and token.claims.get("azp") != self.config.client_id:
            raise OIDCError("audience")
        return dict(token.claims)
