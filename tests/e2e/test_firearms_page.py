"""The firearms dashboard in real Chromium, in English and Spanish: headline figures as the API
gives them, the charts drawn (on the shipped boundaries, or imported ones), PNG, SVG and CSV
exports, and the trace records behind a figure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA
from tests.e2e.conftest import Server, _cruce, build_demo_db, download, serving, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SCALE = 3000
CHARTS = ("chart-sources", "chart-recoveries", "chart-corridors", "chart-ttc", "chart-types")
BOUNDARIES = (("geo_us_states/us-states.json", "geo-us-states"), ("geo_mexico/mexico_states.json", "geo-mexico-states"))


@pytest.fixture(scope="module")
def firearms_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: a larger scenario, with the state boundaries (when ../shared/data has them)."""
    folder = tmp_path_factory.mktemp("e2e-firearms")
    db = build_demo_db(folder, scale=SCALE)
    for path, mapping in BOUNDARIES:
        if (SHARED_DATA / path).exists():
            _cruce(db, "import", str(SHARED_DATA / path), "--mapping", mapping)
    with serving(db, folder) as running:
        yield running


def wait_for_charts(page: Any) -> None:
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-drawn='1'] canvas", timeout=20_000)


def test_dashboard_figures_exports_and_records(browser: Any, firearms_server: Server, screenshot_dir: Path) -> None:
    server = firearms_server
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1600}, locale="en-US",
                                  timezone_id="UTC", reduced_motion="reduce", accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "analyst")
        page.click("#nav-firearms")
        page.wait_for_selector("#firearms-headline")
        summary = server.api("/firearms/summary")
        assert page.inner_text("#fig-traces").replace(",", "") == str(summary["traces"])
        assert summary["traces"] > 0
        wait_for_charts(page)
        assert page.is_hidden("#map-note")  # drawn as maps: cruce ships the state boundaries
        page.screenshot(path=str(screenshot_dir / "firearms-en.png"))
        # exports: the chart as PNG and SVG, its figures as CSV
        png = download(page, "button.export-png[data-chart='chart-ttc']")
        assert png.startswith(PNG_SIGNATURE)
        svg = download(page, "button.export-svg[data-chart='chart-sources']").decode("utf-8")
        assert svg.lstrip().startswith("<svg")
        rows = list(csv.DictReader(io.StringIO(download(page, "#chart-ttc ~ .exports .export-csv").decode("utf-8"))))
        assert sum(int(r["traces"]) for r in rows) == summary["with_ttc"]
        # a lead in full: its flags, its guns, who its flags link it to
        name = page.locator("a.lead-link").first.inner_text()
        page.locator("a.lead-link").first.click()
        page.wait_for_selector("#lead-flags")
        assert page.inner_text("#lead-name") == name
        page.go_back()
        page.wait_for_selector("#firearms-headline")
        # the records behind a figure: the traces of one trace result
        first = page.locator("section[aria-labelledby='completion-title'] tbody tr").first
        expected = int(first.locator("td.num").first.inner_text())
        first.locator("a").click()
        page.wait_for_selector("#records-table")
        assert page.locator("#records-table tbody tr").count() == min(expected, 500)
        # in Spanish
        page.goto("/firearms")
        page.click("#lang-es")
        page.wait_for_selector("html[lang=es]")
        assert page.inner_text("h1") == "Armas de fuego"
        assert "rastreos" in page.inner_text("#firearms-headline")
        wait_for_charts(page)
        page.screenshot(path=str(screenshot_dir / "firearms-es.png"))
        page.click("#lang-en")
        page.wait_for_selector("html[lang=en]")
    finally:
        context.close()
