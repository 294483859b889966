"""CSRF, session fixation, mass assignment, lock-out, security headers, cookies, XSS, SQL injection."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, XSS, TestClient, World, csrf_of


def test_forms_without_the_csrf_token_are_refused(world: World) -> None:
    admin = world.client("admin")
    token = csrf_of(admin.get("/admin").text)
    for path, data in (
        ("/admin/users", {"username": "mallory", "role": "admin"}),
        ("/language", {"lang": "es"}),
        ("/admin/users/viewer/role", {"role": "admin"}),
        ("/signout", {}),
    ):
        assert admin.post(path, data=data).status_code == 403, path
        assert admin.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    assert world.view.security.accounts.find("mallory") is None
    viewer = world.view.security.accounts.find("viewer")
    assert viewer is not None
    assert viewer.role.value == "viewer"
    # another user's token is no good either
    other = csrf_of(world.client("analyst").get("/").text)
    assert admin.post("/admin/users", data={"username": "mallory", "csrf_token": other}).status_code == 403
    assert admin.post("/admin/users", data={"username": "mallory2", "csrf_token": token}).status_code == 200
    # signing in and the tip form check the token of the anonymous cookie
    anonymous = world.client()
    assert anonymous.post("/signin", data={"username": "admin", "password": PASSWORD}).status_code == 403
    assert anonymous.post("/tip", data={"what": "x"}).status_code == 403
    refusals = world.view.security.audit.entries(action="csrf_rejected")
    assert refusals
    assert refusals[0].address == "testclient"


def _signin_cookie(client: TestClient, who: str) -> str:
    page = client.get("/signin")
    response = client.post(
        "/signin",
        data={"username": who, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cruce_session="))
    return cookie.split(";")[0].split("=", 1)[1]


def test_a_new_session_at_sign_in(world: World) -> None:
    client = world.client()
    client.cookies.set("cruce_session", "chosen-by-an-attacker", domain="testserver.local")
    first = _signin_cookie(client, "analyst")
    assert first != "chosen-by-an-attacker"
    client.cookies.clear()
    client.cookies.set("cruce_session", first, domain="testserver.local")
    second = _signin_cookie(client, "analyst")  # signing in again replaces the session; the old one ends
    assert second != first
    stale = world.client()
    stale.cookies.set("cruce_session", first)
    assert stale.get("/", follow_redirects=False).status_code == 303
    fresh = world.client()
    fresh.cookies.set("cruce_session", second)
    assert fresh.get("/", follow_redirects=False).status_code == 200


def test_session_cookie_flags_and_headers(world: World) -> None:
    for https in (False, True):
        client = world.client(https=https)
        page = client.get("/signin")
        response = client.post(
            "/signin", data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )  # fmt: skip
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cruce_session="))
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is https
        assert ("strict-transport-security" in response.headers) is https


def test_security_headers_on_every_kind_of_response(world: World) -> None:
    client = world.session("admin")
    for path in (
        "/",
        "/signin",
        "/tip",
        "/static/cruce.css",
        "/api/v1/openapi.json",
        "/no-such-page",
        "/api/v1/counts",
    ):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert "strict-transport-security" not in headers  # plain http: no HSTS
    page = client.get("/").text
    assert "<script>" not in page  # no inline script: only <script src=...>
    assert "style=" not in page


def test_mass_assignment_cannot_raise_a_role(world: World) -> None:
    analyst = world.client("analyst")
    headers = world.api("analyst")
    me = analyst.patch("/api/v1/me", json={"language": "en", "role": "admin"}, headers=headers)
    assert me.status_code == 422
    assert analyst.patch("/api/v1/me", json={"language": "es"}, headers=headers).json()["role"] == "analyst"
    analyst.patch("/api/v1/me", json={"language": "en"}, headers=headers)
    token = csrf_of(analyst.get("/").text)
    analyst.post("/language", data={"lang": "en", "role": "admin", "groups": "other-unit", "csrf_token": token})
    assert analyst.post("/admin/users/analyst/role", data={"role": "admin", "csrf_token": token}).status_code == 403
    assert analyst.patch("/api/v1/users/analyst", json={"role": "admin"}, headers=headers).status_code == 403
    user = world.view.security.accounts.find("analyst")
    assert user is not None
    assert user.role.value == "analyst"
    assert user.groups == {"victim-services"}
    # an admin cannot change their own role either (another admin must)
    admin = world.session("admin")
    assert admin.patch("/api/v1/users/admin", json={"role": "viewer"}, headers=world.api("admin")).status_code == 403


def test_lock_out_after_five_failures(fresh: World) -> None:
    client = fresh.client()
    for _ in range(5):
        page = client.get("/signin")
        client.post(
            "/signin", data={"username": "viewer", "password": "wrong password", "csrf_token": csrf_of(page.text)}
        )
    page = client.get("/signin")
    locked = client.post("/signin", data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert locked.status_code == 401
    assert "locked for 10 minutes" in locked.text
    failures = fresh.view.security.audit.entries(actor="viewer", action="signin")
    assert [e.outcome for e in failures][:2] == ["locked", "locked"]
    assert all(e.address == "testclient" for e in failures)
    assert PASSWORD not in str([e.detail for e in failures])


def test_names_with_script_tags_are_shown_escaped(world: World) -> None:
    client = world.session("admin")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in ("/search?q=script", f"/entity/{world.xss_id}", f"/search?q={XSS}"):
        html = client.get(path).text
        assert XSS not in html, path
    assert escaped in client.get("/search?q=script").text
    assert escaped in client.get(f"/entity/{world.xss_id}").text
    # the tip queue and a tip's page show the public's words escaped too
    tip_id = world.view.security.tips.submit(
        what=XSS, where=XSS, who=XSS, now=__import__("datetime").datetime(2024, 1, 1)
    )
    for path in ("/tips", f"/tips/{tip_id}"):
        html = client.get(path).text
        assert XSS not in html
        assert escaped in html
    # and the API returns them as JSON data, never as HTML
    api = client.get(f"/api/v1/entities/{world.xss_id}", headers=world.api("admin"))
    assert api.headers["content-type"] == "application/json"
    assert api.json()["caption"] == XSS


def test_sql_injection_in_search_is_harmless(world: World) -> None:
    client = world.session("analyst")
    headers = world.api("analyst")
    attacks = ["' OR '1'='1", "'; DROP TABLE statement; --", '" OR 1=1 --', "%", "_", "\\", "maria' --", "') OR (1=1"]
    for attack in attacks:
        page = client.get("/search", params={"q": attack, "type": attack, "dataset": attack, "date_from": "'"})
        assert page.status_code == 200
        api = client.get("/api/v1/search", params={"q": attack}, headers=headers)
        assert api.status_code == 200
        assert api.json()["total"] == 0, attack
    assert world.view.store.statement_count() > 0
    assert client.get("/api/v1/search", params={"q": "juan"}, headers=headers).json()["total"] >= 1
