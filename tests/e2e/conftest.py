"""Browser tests: a small demo database served by ``cruce serve`` in its own process, driven by
Debian's Chromium (headless) through Playwright.

The database is a ``cruce synth`` scenario imported through the real pipeline, with the demo
accounts of ``make demo``. Chromium comes from Debian (``apt-get install chromium``; never
``playwright install``, which downloads browsers). Without /usr/bin/chromium the tests skip, except
when CRUCE_REQUIRE_BROWSER=1 (CI), where they fail.

Screenshots go to a temporary folder; with CRUCE_UPDATE_SCREENSHOTS=1 (``make screenshots``) they
replace the ones in docs/img/ that the README and the web guide show.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from cruce.web.launch import start_server, stop_server

CHROMIUM = Path(os.environ.get("CRUCE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--font-render-hinting=none",
]
VIEWPORT = {"width": 1280, "height": 800}
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SCALE = 1000  # synthetic source records: a database in about 5 s
START_TIMEOUT = 60.0
PASSWORDS = {role: f"demo-{role}-password" for role in ("admin", "analyst", "caseworker", "viewer")}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium) to run the browser tests"
    if os.environ.get("CRUCE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CRUCE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _cruce(db: Path, *args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cruce", "--db", str(db), *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, f"cruce {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Server:
    url: str
    token: str  # an admin API token (read scope), to find records for the tests
    folder: Path

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(
            f"{self.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()


def build_demo_db(folder: Path, scale: int = SCALE) -> Path:
    """A synth scenario imported through the real pipeline, with the demo accounts; returns the db."""
    db = folder / "demo.duckdb"
    _cruce(db, "synth", str(folder / "scenario"), "--scale", str(scale), "--import", timeout=600)
    done = subprocess.run(
        [sys.executable, "-m", "cruce.web.demo_setup", "--db", str(db)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return db


def admin_token(db: Path) -> str:
    out = _cruce(db, "users", "token", "admin", "--scopes", "read", "--name", "tests")
    match = re.search(r"cruce_[A-Za-z0-9_\-]+", out)
    assert match, out
    return match.group(0)


def start(db: Path, folder: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    log = folder / "serve.log"
    process, url = start_server(db, log, timeout=START_TIMEOUT)
    return process, url, log


@contextmanager
def serving(db: Path, folder: Path) -> Iterator[Server]:
    """A server of its own on ``db`` (loopback), with an admin token made before it holds the
    database; stopped on leaving."""
    token = admin_token(db)
    process, url, _log = start(db, folder)
    try:
        yield Server(url=url, token=token, folder=folder)
    finally:
        stop_server(process)


def download(page: Any, selector: str) -> bytes:
    """The bytes of the file a click on ``selector`` downloads."""
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("e2e")
    db = build_demo_db(folder)
    with serving(db, folder) as running:
        yield running


VICTIM = "Guadalupe Itzel Tzotzil Pérez"  # synthetic
TRAFFICKER = "Rogelio Tamez Garza"  # synthetic
MAPPING = """
name: test-exploitation
description: a trafficker, the person he exploited, the workplace
dataset: case-file-7
source: test
entities:
  victim:
    schema: Person
    key: [victim_id]
    properties:
      name: victim_name
  trafficker:
    schema: Person
    key: [trafficker_id]
    properties:
      name: trafficker_name
  place:
    schema: Organization
    key: [place]
    properties:
      name: place
      country: {value: MX}
  exploited:
    schema: Exploited
    key: [victim_id, trafficker_id]
    properties:
      exploiter: {entity: trafficker}
      victim: {entity: victim}
  works_at:
    schema: EmployedBy
    key: [trafficker_id, place]
    properties:
      employee: {entity: trafficker}
      employer: {entity: place}
"""


@pytest.fixture(scope="session")
def privacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo database and a case file naming a trafficker and the person he exploited (shared by
    the privacy test and the investigation case test)."""
    _require_chromium()
    folder = tmp_path_factory.mktemp("e2e-privacy")
    db = build_demo_db(folder)
    (folder / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    (folder / "case.csv").write_text(
        f"victim_id,victim_name,trafficker_id,trafficker_name,place\nV7,{VICTIM},T7,{TRAFFICKER},Rancho El Alamo\n",
        encoding="utf-8",
    )
    _cruce(db, "import", str(folder / "case.csv"), "--mapping", str(folder / "mapping.yaml"))
    with serving(db, folder) as running:
        yield running


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=30_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(
        base_url=server.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC", reduced_motion="reduce"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("CRUCE_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        return DOCS_IMG
    return tmp_path_factory.mktemp("screenshots")


def sign_in(page: Any, who: str, lang: str = "en") -> None:
    """Sign in through the page, then make sure of the language (it is remembered per user)."""
    page.goto("/signin")
    page.fill("#username", who)
    page.fill("#password", PASSWORDS[who])
    page.click("#signin-submit")
    page.wait_for_selector("#signed-in-as")
    if page.get_attribute("html", "lang") != lang:
        page.click(f"#lang-{lang}")
        page.wait_for_selector(f"html[lang={lang}]")
