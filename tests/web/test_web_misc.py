"""The second factor at sign-in, the templates' messages in the catalog, the demo set-up, the server itself."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp

from cruce.web.demo_setup import people_datasets
from cruce.web.launch import START_TIMEOUT
from tests.web.conftest import PASSWORD, World, csrf_of

ROOT = Path(__file__).resolve().parents[2]


def test_sign_in_with_a_second_factor(fresh: World) -> None:
    uri = fresh.view.security.accounts.enrol_totp("analyst")
    secret = pyotp.parse_uri(uri).secret
    client = fresh.client()
    page = client.get("/signin")
    form = {"username": "analyst", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": "/search"}
    step = client.post("/signin", data=form, follow_redirects=False)
    assert step.headers["location"].startswith("/signin/totp")
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/signin/totp")  # not yet in
    form = client.get("/signin/totp")
    wrong = client.post("/signin/totp", data={"code": "000000", "csrf_token": csrf_of(form.text)})
    assert wrong.status_code == 401
    done = client.post(
        "/signin/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(form.text), "next": "/search"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.headers["location"] == "/search"
    assert client.get("/").status_code == 200


def test_every_template_message_is_in_the_catalog() -> None:
    spec = importlib.util.spec_from_file_location("extract_messages", ROOT / "scripts" / "extract_messages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    template = module.extract_template()
    from_templates = {m.id for m in template if any("templates/" in f for f, _n in m.locations)}
    assert "Send an anonymous tip" in from_templates
    assert "Properties and where each comes from" in from_templates
    # tests/test_i18n.py checks that each of them has its Spanish translation


def test_open_redirects_are_refused(world: World) -> None:
    client = world.client()
    page = client.get("/signin?next=//evil.example/")
    assert 'value="/"' in page.text
    response = client.post(
        "/signin", data={"username": "viewer", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                         "next": "https://evil.example/"}, follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/"


def test_demo_marks_the_people_datasets() -> None:
    names = ["htcds-cases", "ctdc-derived", "people-screenings", "public-tips", "bts-border-crossings", "atf-traces"]
    assert people_datasets(names) == ["ctdc-derived", "htcds-cases", "people-screenings", "public-tips"]


def test_cruce_serve_answers_on_loopback(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "cruce", "--db", str(tmp_path / "serve.duckdb"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT  # a fresh store and a busy machine: start-up takes seconds
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/tip", timeout=2) as response:
                    assert response.status == 200
                    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("cruce serve did not answer") from None
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)
