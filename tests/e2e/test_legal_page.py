"""The "Law and enforcement" page in real Chromium, in English and Spanish: the map of the states with
a sex-trafficking law in force is drawn on the shipped boundaries from the seed's law records, and
the year slider gives, for each year, the count the API computes from the same records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, _cruce, build_demo_db, serving, sign_in

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def legal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e-legal")
    db = build_demo_db(folder)
    _cruce(db, "legal", "seed")
    with serving(db, folder) as running:
        yield running


def _set_year(page: Any, year: int) -> None:
    page.eval_on_selector(
        "#legal-year", "(el, y) => { el.value = String(y); el.dispatchEvent(new Event('input')); }", year
    )


def _check(browser: Any, server: Server, lang: str, screenshot_dir: Path) -> None:
    expected = {r["year"]: r["count"] for r in server.api("/legal/by-year", kind="sex_trafficking")["rows"]}
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 1400},
                                  locale="en-US", timezone_id="UTC", reduced_motion="reduce")  # fmt: skip
    page = context.new_page()
    errors: list[str] = []  # what the browser reported, shown if the map is not drawn
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    try:
        sign_in(page, "analyst", lang)
        page.goto("/legal?kind=sex_trafficking")
        try:
            page.wait_for_selector("#chart-legal[data-drawn='1'] canvas", timeout=20_000)
        except Exception as exc:
            raise AssertionError(f"the map was not drawn: {errors}") from exc
        last = max(expected)
        assert page.get_attribute("#chart-legal", "data-count") == str(expected[last])
        for year in (2003, 2005, 2008):
            _set_year(page, year)
            assert page.get_attribute("#chart-legal", "data-year") == str(year)
            assert page.get_attribute("#chart-legal", "data-count") == str(expected[year])
        assert page.is_hidden("#map-note")
        assert page.get_attribute("html", "lang") == lang
        page.screenshot(path=str(screenshot_dir / f"legal-{lang}.png"), full_page=False)
        if lang == "en":
            _add_a_law(page, screenshot_dir)
    finally:
        context.close()


def _add_a_law(page: Any, screenshot_dir: Path) -> None:
    """An analyst enters a state law by hand: after saving, the map's series counts Sonora."""
    page.click("#legal-new a[href='/legal/new/law']")
    page.fill("input[name=name]", "Ley de prueba (Sonora)")
    page.select_option("select[name=level]", "state")
    page.fill("input[name=jurisdiction]", "Sonora")
    page.check("input[name=law_kind][value=sex_trafficking]")
    page.fill("input[name=enacted_date]", "2010-05-01")
    page.fill("input[name=source_url]", "https://example.org/sonora")
    page.fill("input[name=source_title]", "Test source")
    page.screenshot(path=str(screenshot_dir / "legal-edit-en.png"), full_page=True)
    page.click("#legal-edit button[type=submit]")
    page.wait_for_url("**/legal")
    page.wait_for_selector("#chart-legal[data-drawn='1'] canvas", timeout=20_000)
    _set_year(page, 2010)
    assert "MX-SON" in page.inner_text("#legal-series tr[data-year='2010']")
    assert "MX-SON" not in page.inner_text("#legal-series tr[data-year='2009']")


def test_the_map_over_time_in_both_languages(browser: Any, legal_server: Server, screenshot_dir: Path) -> None:
    for lang in ("en", "es"):  # English adds a law by hand: Spanish then counts it too
        _check(browser, legal_server, lang, screenshot_dir)
