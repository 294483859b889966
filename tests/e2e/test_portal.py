"""The public portal in real Chromium, as a reader gets it: ``cruce publish`` on a demo database
(a synth scenario, the demo's markings, the public laws and figures of ``cruce legal seed`` as
``make demo`` loads them, and a few test laws), the site served by a plain file server on
loopback, every page of both languages opened by following links from the root. No link is
broken, no request leaves the site, and no page shows a protected value or a count under k."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

import pytest

from cruce.legal.claims import load_claims
from tests.e2e.conftest import VIEWPORT, _cruce, build_demo_db
from tests.portal.conftest import LAW_MAPPING, LAW_SOURCE, LAWS, protected_values

pytestmark = [pytest.mark.e2e]

SCALE = 1000
K = 10  # the shipped publish.yaml's
PAGES = ("index", "people", "drugs", "firearms", "laws", "sources", "contact")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The site's base URL on a plain file server (loopback, any free port), and the scenario."""
    folder = tmp_path_factory.mktemp("e2e-portal")
    db = build_demo_db(folder, scale=SCALE)
    (folder / "laws.yaml").write_text(LAW_MAPPING, encoding="utf-8")
    rows = ["law_id,name,jurisdiction,level,law_kind,in_force_date,repealed_date,country,source_title"]
    rows += [",".join(f'"{v}"' for v in (*law, LAW_SOURCE)) for law in LAWS]
    (folder / "laws.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _cruce(db, "import", str(folder / "laws.csv"), "--mapping", str(folder / "laws.yaml"))
    _cruce(db, "legal", "seed")  # as make demo does (cruce.demo)
    _cruce(db, "publish", "--out", str(folder / "site"), timeout=300)
    handler = functools.partial(_Quiet, directory=str(folder / "site"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", folder / "scenario"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_every_page_in_both_languages_offline_and_safe(
    browser: Any, published: tuple[str, Path], screenshot_dir: Path
) -> None:
    base, scenario = published
    secrets = protected_values(scenario)
    assert secrets
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC", reduced_motion="reduce")
    context.set_default_timeout(15_000)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    try:
        seen: dict[str, str] = {}  # page URL -> its language
        queue = [f"{base}/index.html"]
        while queue:
            url = queue.pop()
            if url in seen:
                continue
            response = page.goto(url)
            assert response is not None, url
            assert response.status == 200, f"broken link: {url}"
            seen[url] = page.get_attribute("html", "lang") or ""
            html = page.content()
            leaked = [s for s in secrets if s in html]
            assert not leaked, f"{url}: {leaked[:3]}"
            counts = page.eval_on_selector_all("[data-count]", "cells => cells.map(c => Number(c.dataset.count))")
            assert all(n >= K for n in counts), (url, counts)
            for link in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                target, fragment = urldefrag(link)
                assert target.startswith(base + "/"), f"{url} links outside the site: {link}"
                if fragment:
                    assert page.locator(f"[id='{fragment}']").count() == 1 or target != url, link
                queue.append(target)
        for lang in ("en", "es"):
            for name in PAGES:
                assert seen.get(f"{base}/{lang}/{name}.html") == lang, f"{lang}/{name}.html not reached"
        assert all(r.startswith(base + "/") for r in requests), [r for r in requests if not r.startswith(base)]
        assert any(r.endswith("/assets/portal.css") for r in requests)
        # the home page in each language, switched by its own link
        page.goto(f"{base}/en/index.html")
        assert page.get_attribute("html", "lang") == "en"
        assert page.locator("svg").count() == 0  # the home page is figures in text
        page.screenshot(path=str(screenshot_dir / "portal-home-en.png"), full_page=False)
        page.click("#lang-es")
        page.wait_for_selector("html[lang=es]")
        assert page.url == f"{base}/es/index.html"
        page.screenshot(path=str(screenshot_dir / "portal-home-es.png"), full_page=False)
        # a map drawn inline, with its data as a table beside it
        page.goto(f"{base}/en/firearms.html")
        assert page.locator("#fig-map_recovery_states svg path").count() > 30
        assert page.locator("#fig-map_recovery_states table.data").count() == 1
        page.goto(f"{base}/en/laws.html")
        assert page.locator("text=Texas Penal Code 20A.02").count() == 1
        assert page.locator("#fig-laws_by_jurisdiction >> text=Washington human trafficking statute").count() == 1
        assert page.locator("#fig-map_sex_trafficking_law svg path").count() > 30
        # the seed check: every published claim beside the records, its source printed, not linked
        shipped = load_claims()
        assert page.locator("#fig-published_claims tbody tr").count() == len(shipped)
        assert page.locator("#fig-published_claims a").count() == 0
        for claim in shipped:
            assert page.locator("#fig-published_claims", has_text=claim.source_url).count() == 1
        page.goto(f"{base}/es/laws.html")
        for claim in shipped:
            assert page.locator("#fig-published_claims th", has_text=claim.text["es"]).count() == 1
    finally:
        context.close()


def test_the_skip_link_is_the_first_stop_of_the_keyboard(browser: Any, published: tuple[str, Path]) -> None:
    base, _scenario = published
    context = browser.new_context(viewport=VIEWPORT, locale="es-MX", timezone_id="UTC", reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(f"{base}/es/people.html")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        context.close()
