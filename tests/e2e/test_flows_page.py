"""The drugs and violence dashboard in real Chromium, in English and Spanish, on the real public
files (official homicides, press tallies, CBP seizures, BTS crossings) and a synth scenario's
organizations, violence events and seizures: the headline figures as the API gives them, every
chart drawn on the shipped maps, PNG/SVG/CSV exports, the records behind a state, and the page of
an organization with its timeline, territory slider and network."""

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
SCALE = 6000
CHARTS = (
    "chart-compare", "chart-homicides", "chart-hotspots", "chart-seizures", "chart-months", "chart-seasonality",
    "chart-rates", "chart-municipalities", "chart-office-rates",
)  # fmt: skip
REAL = (
    ("mexico_drugwar_diegovalle/executions-bymonth.csv", "diegovalle-executions-by-month"),
    ("mexico_homicide_rates/mexico-state-month-homicide-rates-2000-2022.csv", "mx-homicides-state-month"),
    ("cbp_drug_seizures/nationwide-drugs-fy19-fy22.csv", "cbp-drug-seizures"),
    ("border_crossing/border_crossing_entry_data_us_mexico.csv.gz", "bts-border-crossings"),
)


@pytest.fixture(scope="module")
def flows_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server of its own: a synth scenario and the real violence and drugs files."""
    missing = [path for path, _m in REAL if not (SHARED_DATA / path).exists()]
    if missing:
        pytest.skip(f"the shared datasets are absent: {', '.join(missing)}")
    folder = tmp_path_factory.mktemp("e2e-flows")
    db = build_demo_db(folder, scale=SCALE)
    for path, mapping in REAL:
        _cruce(db, "import", str(SHARED_DATA / path), "--mapping", mapping, timeout=300)
    for shapes in sorted((SHARED_DATA / "geo_mexico").glob("municipios_*.json.gz")):
        _cruce(db, "import", str(shapes), "--mapping", "geo-mexico-municipalities")
    with serving(db, folder) as running:
        yield running


def wait_for_charts(page: Any) -> None:
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart}[data-drawn='1'] canvas", timeout=20_000)


def test_dashboard_figures_exports_and_records(browser: Any, flows_server: Server, screenshot_dir: Path) -> None:
    server = flows_server
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1800}, locale="en-US",
                                  timezone_id="UTC", reduced_motion="reduce", accept_downloads=True)  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "analyst")
        page.click("#nav-flows")
        page.wait_for_selector("#flows-headline")
        wait_for_charts(page)
        assert page.is_hidden("#map-note")  # drawn on the shipped state boundaries
        assert page.is_hidden("#municipal-note")  # and on the imported municipal ones
        assert page.get_attribute("#chart-hotspots", "data-scale-km") in ("10", "20", "50", "100", "200", "300", "500")
        assert page.get_attribute("#chart-homicides", "data-scale-km")
        # the headline: the latest whole year of the official series, as the API counts it
        year = 2022
        homicides = server.api("/violence/homicides", source="INEGI")["rows"]
        expected = sum(r["homicides"] for r in homicides if r["year"] == year)
        assert page.inner_text("#fig-homicides").replace(",", "") == f"{expected:.0f}"
        page.screenshot(path=str(screenshot_dir / "drugs-violence-en.png"), full_page=False)
        # exports: a chart as PNG and SVG, its figures as CSV (the trend beside each series)
        assert download(page, "button.export-png[data-chart='chart-compare']").startswith(PNG_SIGNATURE)
        svg = download(page, "button.export-svg[data-chart='chart-homicides']").decode("utf-8")
        assert svg.lstrip().startswith("<svg")
        rows = list(csv.DictReader(io.StringIO(download(page, "#chart-homicides ~ .exports .export-csv").decode())))
        assert sum(float(r["homicides"]) for r in rows) == expected
        trend = list(csv.DictReader(io.StringIO(download(page, "#chart-compare ~ .exports .export-csv").decode())))
        assert {r["series"] for r in trend} >= {"homicide:INEGI", "execution:Reforma", "execution:Milenio"}
        # each chart names the files it was computed from
        assert "mexico-state-month-homicide-rates" in page.text_content("#chart-homicides ~ details.sources")
        # the records behind a state: the year-over-year table's first state
        first = page.locator("#yoy-table tbody tr").first
        state = first.locator("a").inner_text()
        first.locator("a").click()
        page.wait_for_selector("#records-table")
        killed = sum(float(c) for c in page.locator("#records-table tbody tr td:nth-child(6)").all_inner_texts())
        assert killed == next(r["homicides"] for r in homicides if r["state"] == state and r["year"] == year)
        # in Spanish
        page.goto("/drugs-violence")
        page.click("#lang-es")
        page.wait_for_selector("html[lang=es]")
        assert page.inner_text("h1") == "Drogas y violencia"
        wait_for_charts(page)
        page.screenshot(path=str(screenshot_dir / "drugs-violence-es.png"), full_page=False)
        page.click("#lang-en")
        page.wait_for_selector("html[lang=en]")
    finally:
        context.close()


def test_organization_page_timeline_territory_and_network(
    browser: Any, flows_server: Server, screenshot_dir: Path
) -> None:
    server = flows_server
    registry = server.api("/organizations")
    assert registry["organizations"]
    # the organization with most claims: its page, in English then Spanish
    details = [server.api(f"/organizations/{o['id']}") for o in registry["organizations"]]
    org = max(details, key=lambda o: len(o["claims"]))
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1500}, locale="en-US",
                                  timezone_id="UTC", reduced_motion="reduce")  # fmt: skip
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, "analyst")
        page.goto("/drugs-violence")
        page.click(f"#orgs-table a[href='/organizations/{org['id']}']")
        page.wait_for_selector("#org-name")
        assert page.inner_text("#org-name") == org["name"]
        assert page.locator("#org-timeline li").count() == len(org["timeline"])
        assert page.locator("#claims-table tbody tr").count() == len(org["claims"])
        page.wait_for_selector("#org-network[data-drawn='1'] canvas")
        page.wait_for_selector("#chart-territory[data-drawn='1'] canvas")
        # the slider: on the first day of a claim it holds, that plaza is held
        held = next(c for c in org["claims"] if not c["disputed"] and c["start"])
        day = held["start"][:10] if len(held["start"]) >= 10 else held["start"][:4] + "-12-31"
        slider = page.locator("#territory-day")
        first = page.get_attribute("#territory-day", "min")
        assert first == "0"
        page.evaluate(
            """([day]) => { const s = document.getElementById('territory-day');
            const start = Date.parse(document.getElementById('territory-date').value + 'T00:00:00Z')
              - Number(s.value) * 86400000;
            s.value = String(Math.round((Date.parse(day + 'T00:00:00Z') - start) / 86400000));
            s.dispatchEvent(new Event('input')); }""",
            [day],
        )
        assert page.get_attribute("#chart-territory", "data-day") == day
        territory = server.api("/organizations/territory", on=day)
        expected = sum(1 for c in territory["claims"] if c["org_id"] == org["id"] and not c["disputed"])
        assert int(page.get_attribute("#chart-territory", "data-held") or "0") == expected >= 1
        assert slider.is_visible()
        page.screenshot(path=str(screenshot_dir / "organization-en.png"))
        page.click("#lang-es")
        page.wait_for_selector("html[lang=es]")
        assert page.inner_text("#timeline-title") == "Cronología"
        page.wait_for_selector("#chart-territory[data-drawn='1'] canvas")
        page.screenshot(path=str(screenshot_dir / "organization-es.png"))
        page.click("#lang-en")
        page.wait_for_selector("html[lang=en]")
    finally:
        context.close()
