"""OpenID Connect sign-in against an identity provider that lives in the test (no network).

``FakeIdP`` answers discovery, JWKS, authorize and token requests through an ``httpx.MockTransport``
and signs its ID tokens with an RSA key made here (joserfc). Its token endpoint checks the PKCE
code verifier, the client's secret and the redirect URI, as a real one does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from cruce.security import Role
from cruce.security.oidc import OIDCClient, OIDCConfig, OIDCConfigError, map_groups, map_role, username_of
from cruce.web.context import SESSION_COOKIE
from cruce.web.oidc import STATE_COOKIE, OIDCSignIn
from tests.web.conftest import PASSWORD, TestClient, World, csrf_of, signin

ISSUER = "https://idp.example.org/realms/unit"
CLIENT_ID = "cruce"
CLIENT_SECRET = "s3cret-of-the-client"
CONFIG = OIDCConfig(
    issuer=ISSUER,
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    provider_name="Unit SSO",
    role_map=(
        ("cruce-admins", Role.ADMIN),
        ("cruce-caseworkers", Role.CASEWORKER),
        ("cruce-analysts", Role.ANALYST),
        ("cruce-viewers", Role.VIEWER),
    ),
    group_map=(("unit-a", "victim-services"), ("unit-b", "other-unit")),
)


@dataclass
class FakeIdP:
    """A small OpenID provider: the user it signs in, and knobs to make its tokens wrong."""

    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    claims: dict[str, Any] = field(default_factory=dict)  # the user's claims
    tamper: dict[str, Any] = field(default_factory=dict)  # claims to override in the ID token
    signing_key: RSAKey | None = None  # sign with another key (same kid) than the published one
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_requests: list[httpx.Request] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/protocol/openid-connect/auth",
            "token_endpoint": f"{ISSUER}/protocol/openid-connect/token",
            "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        meta = self.metadata()
        if path == "/realms/unit/.well-known/openid-configuration":
            return httpx.Response(200, json=meta)
        if str(request.url).startswith(meta["jwks_uri"]):
            return httpx.Response(200, json={"keys": [self.key.as_dict(private=False)]})
        if str(request.url).startswith(meta["authorization_endpoint"]):
            return self.authorize(request)
        if str(request.url) == meta["token_endpoint"]:
            return self.token(request)
        return httpx.Response(404)

    def authorize(self, request: httpx.Request) -> httpx.Response:
        q = dict(request.url.params)
        assert q["response_type"] == "code"
        assert q["client_id"] == CLIENT_ID
        assert "openid" in q["scope"].split()
        assert q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        back = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return httpx.Response(302, headers={"Location": back})

    def token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests.append(request)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return httpx.Response(400, json={"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"] or form.get("redirect_uri") != grant["redirect_uri"]:
            return httpx.Response(400, json={"error": "invalid_grant"})
        t = int(time.time())
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "subject-1", "iat": t, "exp": t + 300,
                  "nonce": grant["nonce"], **self.claims, **self.tamper}  # fmt: skip
        claims = {k: v for k, v in claims.items() if v is not None}
        id_token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.signing_key or self.key)
        return httpx.Response(200, json={"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer",
                                         "expires_in": 300, "id_token": id_token})  # fmt: skip


@pytest.fixture
def idp(world: World) -> Iterator[FakeIdP]:
    """OIDC turned on for the module's world, with a fresh provider for each test."""
    fake = FakeIdP(claims={"preferred_username": "ana.sso", "name": "Ana SSO", "groups": ["cruce-analysts", "unit-a"]})
    client = OIDCClient(CONFIG, transport=httpx.MockTransport(fake.handler))
    world.app.state.oidc = OIDCSignIn.create(CONFIG, world.url, client)
    yield fake
    world.app.state.oidc = None


def browse(world: World, fake: FakeIdP, client: TestClient | None = None, *, state: str | None = None,
           next: str = "/search") -> tuple[TestClient, httpx.Response]:  # fmt: skip
    """The browser's round trip: cruce → the provider (signs the user in at once) → cruce's callback."""
    client = client or world.client()
    start = client.get("/signin/oidc", params={"next": next}, follow_redirects=False)
    assert start.status_code == 303, start.text[:300]
    assert STATE_COOKIE in start.cookies
    with httpx.Client(transport=httpx.MockTransport(fake.handler)) as browser:
        back = browser.get(start.headers["location"])
    assert back.status_code == 302
    location = urlsplit(back.headers["location"])
    assert location.path == "/signin/oidc/callback"
    query = dict(parse_qs(location.query))
    params = {k: v[0] for k, v in query.items()}
    if state is not None:
        params["state"] = state
    return client, client.get("/signin/oidc/callback", params=params, follow_redirects=False)


def last_oidc_entry(world: World) -> tuple[str, str, dict[str, Any]]:
    entry = world.view.security.audit.entries(limit=1, action="signin_oidc")[0]
    return entry.actor, entry.outcome, json.loads(entry.detail or "{}")


def refused(world: World, response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text[:300]
    assert SESSION_COOKIE not in response.cookies
    _actor, outcome, detail = last_oidc_entry(world)
    assert (outcome, detail.get("reason")) == ("refused", reason)


# -- configuration -------------------------------------------------------------------------------
def test_off_when_not_configured_no_button_and_no_routes(world: World) -> None:
    assert world.app.state.oidc is None
    client = world.client()
    page = client.get("/signin")
    assert 'id="signin-oidc"' not in page.text
    assert client.get("/signin/oidc", follow_redirects=False).status_code == 404
    assert client.get("/signin/oidc/callback?code=x&state=y", follow_redirects=False).status_code == 404


def test_button_shows_the_provider_when_configured(world: World, idp: FakeIdP) -> None:
    page = world.client().get("/signin?next=/search")
    assert 'id="signin-oidc"' in page.text
    assert "Sign in with Unit SSO" in page.text
    assert 'href="/signin/oidc?next=/search"' in page.text
    spanish = world.client().get("/signin", headers={"Accept-Language": "es"})
    assert "Iniciar sesión con Unit SSO" in spanish.text


def test_settings_from_the_environment(tmp_path: Any) -> None:
    assert OIDCConfig.from_env({}) is None
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n", encoding="utf-8")
    config = OIDCConfig.from_env({
        "CRUCE_OIDC_ISSUER": ISSUER, "CRUCE_OIDC_CLIENT_ID": CLIENT_ID, "CRUCE_OIDC_CLIENT_SECRET_FILE": str(secret),
        "CRUCE_OIDC_REDIRECT_URL": "https://cruce.example.org/signin/oidc/callback",
        "CRUCE_OIDC_ROLE_CLAIM": "roles", "CRUCE_OIDC_ROLE_MAP": "cruce-admins=admin, cruce-analysts=Analyst",
        "CRUCE_OIDC_GROUP_MAP": "/units/a=victim-services", "CRUCE_OIDC_DEFAULT_ROLE": "viewer",
    })  # fmt: skip
    assert config is not None
    assert config.client_secret == "from-a-file"
    assert config.role_map == (("cruce-admins", Role.ADMIN), ("cruce-analysts", Role.ANALYST))
    assert config.group_map == (("/units/a", "victim-services"),)
    assert config.group_claim == "roles"  # the role claim unless CRUCE_OIDC_GROUP_CLAIM names another
    assert config.default_role is Role.VIEWER
    assert config.name == "idp.example.org"
    for bad in (
        {"CRUCE_OIDC_ISSUER": ISSUER},
        {"CRUCE_OIDC_ISSUER": "http://idp.example.org", "CRUCE_OIDC_CLIENT_ID": "c"},
        {"CRUCE_OIDC_ISSUER": ISSUER, "CRUCE_OIDC_CLIENT_ID": "c", "CRUCE_OIDC_ROLE_MAP": "x=superuser"},
        {"CRUCE_OIDC_ISSUER": ISSUER, "CRUCE_OIDC_CLIENT_ID": "c", "CRUCE_OIDC_ROLE_MAP": "no-equals-sign"},
    ):
        with pytest.raises(OIDCConfigError):
            OIDCConfig.from_env(bad)


def test_claims_map_to_role_groups_and_user_name() -> None:
    claims = {"groups": ["cruce-viewers", "cruce-analysts", "unit-b", "elsewhere"], "email": "Ana@Example.org"}
    assert map_role(CONFIG, claims) is Role.ANALYST  # the first entry of the map the user holds
    assert map_groups(CONFIG, claims) == {"other-unit"}
    assert username_of(CONFIG, claims) == "ana@example.org"  # preferred_username missing: email
    assert map_role(CONFIG, {"groups": "cruce-admins"}) is Role.ADMIN
    assert map_role(CONFIG, {"groups": ["somewhere-else"]}) is None
    assert username_of(CONFIG, {"preferred_username": "<script>"}) is None


# -- the flow --------------------------------------------------------------------------------------
def test_success_creates_the_user_with_the_mapped_role_and_a_fresh_session(world: World, idp: FakeIdP) -> None:
    client = world.client()
    client.cookies.set(SESSION_COOKIE, "planted-by-an-attacker")
    client, response = browse(world, idp, client)
    assert response.status_code == 200, response.text[:300]
    assert 'http-equiv="refresh" content="0;url=/search"' in response.text
    token = response.cookies[SESSION_COOKIE]
    assert token != "planted-by-an-attacker"
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "samesite=strict" in header.lower()
    assert "httponly" in header.lower()
    user = world.view.security.accounts.find("ana.sso")
    assert user is not None
    assert (user.role, user.groups, user.display_name) == (Role.ANALYST, {"victim-services"}, "Ana SSO")
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "ana.sso" in home.text
    actor, outcome, detail = last_oidc_entry(world)
    assert (actor, outcome, detail) == ("ana.sso", "ok", {"created": True, "role": "analyst"})
    # the PKCE verifier and the client's secret went to the token endpoint
    form = parse_qs(idp.token_requests[-1].content.decode())
    assert form["code_verifier"][0]
    assert form["client_id"] == [CLIENT_ID]
    # never a token or a code in the audit log
    for entry in world.view.security.audit.entries(limit=20):
        assert "eyJ" not in (entry.detail or "")  # how every JWT begins


def test_second_sign_in_finds_the_same_account_and_follows_role_changes(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "rosa.sso", "sub": "subject-rosa", "groups": ["cruce-viewers"]}
    _client, first = browse(world, idp)
    assert first.status_code == 200
    user = world.view.security.accounts.find("rosa.sso")
    assert user is not None
    assert (user.role, user.groups) == (Role.VIEWER, frozenset())
    idp.claims["groups"] = ["cruce-caseworkers", "unit-b"]
    _client, second = browse(world, idp)
    assert second.status_code == 200
    again = world.view.security.accounts.find("rosa.sso")
    assert again is not None
    assert again.id == user.id
    assert (again.role, again.groups) == (Role.CASEWORKER, {"other-unit"})
    assert last_oidc_entry(world)[2] == {"created": False, "role": "caseworker"}


def test_an_oidc_account_has_no_local_password(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "nopass.sso", "sub": "subject-nopass", "groups": ["cruce-viewers"]}
    assert browse(world, idp)[1].status_code == 200
    client = world.client()
    form = client.get("/signin")
    for password in ("", "!oidc:", PASSWORD):
        response = client.post("/signin", data={"username": "nopass.sso", "password": password,
                                                "csrf_token": csrf_of(form.text)})  # fmt: skip
        assert response.status_code in (401, 422)
        assert SESSION_COOKIE not in response.cookies


def test_totp_applies_to_local_sign_in_only(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "mfa.sso", "sub": "subject-mfa", "groups": ["cruce-viewers"]}
    assert browse(world, idp)[1].status_code == 200
    world.view.security.accounts.enrol_totp("mfa.sso")
    client, response = browse(world, idp)
    assert response.status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 200  # the provider did the second factor


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"nonce": "not-the-one-sent"}, "nonce"),
        ({"nonce": None}, "missing:nonce"),
        ({"exp": 1_000_000, "iat": 999_000}, "expired"),
        ({"aud": "another-client"}, "audience"),
        ({"aud": ["another-client"]}, "audience"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "audience"),
        ({"iss": "https://evil.example.org"}, "issuer"),
        ({"iat": int(time.time()) + 3600}, "iat"),
    ],
)
def test_bad_id_tokens_are_refused(world: World, idp: FakeIdP, tamper: dict[str, Any], reason: str) -> None:
    idp.tamper = tamper
    before = world.view.security.accounts.find("ana.sso")
    _client, response = browse(world, idp)
    refused(world, response, reason)
    assert world.view.security.accounts.find("ana.sso") == before


def test_a_token_signed_with_another_key_is_refused(world: World, idp: FakeIdP) -> None:
    idp.signing_key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    _client, response = browse(world, idp)
    refused(world, response, "signature")


def test_a_wrong_state_is_refused(world: World, idp: FakeIdP) -> None:
    _client, response = browse(world, idp, state="forged-state")
    refused(world, response, "state")
    assert idp.token_requests == []  # the code was not even exchanged


def test_a_callback_without_the_state_cookie_is_refused(world: World, idp: FakeIdP) -> None:
    """Login CSRF: an attacker's own code and state, replayed in the victim's browser."""
    attacker = world.client()
    start = attacker.get("/signin/oidc", follow_redirects=False)
    with httpx.Client(transport=httpx.MockTransport(idp.handler)) as browser:
        back = browser.get(start.headers["location"])
    victim = world.client()
    response = victim.get(back.headers["location"].replace("http://testserver", ""), follow_redirects=False)
    refused(world, response, "no_state")


def test_the_provider_saying_no_is_refused(world: World, idp: FakeIdP) -> None:
    client = world.client()
    start = client.get("/signin/oidc", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    response = client.get("/signin/oidc/callback", params={"error": "access_denied", "state": state})
    refused(world, response, "provider:access_denied")


def test_a_disabled_user_is_refused(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "gone.sso", "sub": "subject-gone", "groups": ["cruce-analysts"]}
    client, first = browse(world, idp)
    assert first.status_code == 200
    world.view.security.accounts.set_disabled("gone.sso", True)
    assert client.get("/", follow_redirects=False).status_code == 303  # the old session ended too
    _client, response = browse(world, idp)
    refused(world, response, "disabled")
    assert last_oidc_entry(world)[0] == "gone.sso"


def test_a_local_account_of_the_same_name_is_not_taken_over(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "admin", "sub": "someone-else", "groups": ["cruce-admins"]}
    _client, response = browse(world, idp)
    refused(world, response, "account_conflict")
    assert "administrator" in response.text
    signin(world.client(), "admin")  # the local admin still signs in with the password


def test_another_subject_with_the_same_name_is_refused(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "twin.sso", "sub": "subject-twin-1", "groups": ["cruce-viewers"]}
    assert browse(world, idp)[1].status_code == 200
    idp.claims["sub"] = "subject-twin-2"
    refused(world, browse(world, idp)[1], "account_conflict")


def test_unmapped_groups_are_refused_by_default(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "nobody.sso", "sub": "subject-nobody", "groups": ["somewhere-else"]}
    _client, response = browse(world, idp)
    refused(world, response, "no_role")
    assert world.view.security.accounts.find("nobody.sso") is None
    assert "no role in cruce" in response.text


def test_unmapped_groups_get_the_default_role_when_one_is_set(world: World, idp: FakeIdP) -> None:
    from dataclasses import replace

    config = replace(CONFIG, default_role=Role.VIEWER)
    world.app.state.oidc = OIDCSignIn.create(config, world.url, OIDCClient(config, httpx.MockTransport(idp.handler)))
    idp.claims = {"preferred_username": "least.sso", "sub": "subject-least", "groups": ["somewhere-else"]}
    assert browse(world, idp)[1].status_code == 200
    user = world.view.security.accounts.find("least.sso")
    assert user is not None
    assert (user.role, user.groups) == (Role.VIEWER, frozenset())


def test_the_role_never_comes_from_the_request(world: World, idp: FakeIdP) -> None:
    idp.claims = {"preferred_username": "mass.sso", "sub": "subject-mass", "groups": ["cruce-viewers"]}
    client = world.client()
    start = client.get("/signin/oidc", params={"role": "admin", "groups": "victim-services"}, follow_redirects=False)
    with httpx.Client(transport=httpx.MockTransport(idp.handler)) as browser:
        back = browser.get(start.headers["location"])
    params = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["location"]).query).items()}
    response = client.get("/signin/oidc/callback", params={**params, "role": "admin", "groups": "victim-services"})
    assert response.status_code == 200
    user = world.view.security.accounts.find("mass.sso")
    assert user is not None
    assert (user.role, user.groups) == (Role.VIEWER, frozenset())


def test_the_state_cookie_is_sealed_short_lived_and_lax(world: World, idp: FakeIdP) -> None:
    start = world.client().get("/signin/oidc", follow_redirects=False)
    header = next(h for h in start.headers.get_list("set-cookie") if h.startswith(STATE_COOKIE)).lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "path=/signin/oidc" in header
    assert "max-age=600" in header
    sealed = start.cookies[STATE_COOKIE]
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    assert state not in sealed  # encrypted, not only signed
    # a forged or altered cookie is no state at all
    client = world.client()
    client.cookies.set(STATE_COOKIE, sealed[:-4] + "AAAA", path="/signin/oidc")
    refused(world, client.get("/signin/oidc/callback", params={"code": "c", "state": state}), "no_state")


def test_an_unreachable_provider_is_a_clear_answer(world: World) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    world.app.state.oidc = OIDCSignIn.create(CONFIG, world.url, OIDCClient(CONFIG, httpx.MockTransport(down)))
    try:
        response = world.client().get("/signin/oidc", follow_redirects=False)
        assert response.status_code == 503
        assert "cannot be reached" in response.text
        assert last_oidc_entry(world)[1:] == ("refused", {"reason": "discovery"})
    finally:
        world.app.state.oidc = None


def test_rotated_provider_keys_are_fetched_again(world: World, idp: FakeIdP) -> None:
    assert browse(world, idp)[1].status_code == 200  # the key set (k1) is now cached
    idp.key = RSAKey.generate_key(2048, parameters={"kid": "k2"})  # published and used from now on
    idp.claims = {"preferred_username": "rotated.sso", "sub": "subject-rotated", "groups": ["cruce-viewers"]}
    assert browse(world, idp)[1].status_code == 200


def test_expired_state_cookie_is_refused(world: World, idp: FakeIdP, monkeypatch: pytest.MonkeyPatch) -> None:
    client = world.client()
    start = client.get("/signin/oidc", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)
    refused(world, client.get("/signin/oidc/callback", params={"code": "c", "state": state}), "no_state")
