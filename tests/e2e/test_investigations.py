"""Issue #11's acceptance in real Chromium: an analyst opens an investigation case, fills it from the
search results and from the network explorer, adds a note and a task, and downloads its briefing in
Spanish as a PDF. The PDF is read back — its text (pypdf) and its pages as images (pdftoppm): what
it says, the marking at the top and the bottom of every page, and the victim of the trafficker,
linked on the chart, without her name."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import TRAFFICKER, VICTIM, VIEWPORT, Server, download, sign_in
from tests.e2e.test_explorer import wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TITLE = "Operación Rancho El Álamo"
NOTE = "Confirmar el empleo en el rancho con @analyst"
TASK = "Pedir los registros del rancho"
MARKING_RED = (184, 50, 42)  # the colour the briefing prints its marking in (briefing.css)


def _pages_as_images(pdf: Path, folder: Path) -> list[Path]:
    assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) is needed to look at the pages"
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(folder / "page")], check=True, timeout=60)
    return sorted(folder.glob("page-*.png"))


def _marked(image: Path, top: bool) -> bool:
    """Whether the page's top (or bottom) band holds the marking's red."""
    from PIL import Image

    with Image.open(image) as img:
        rgb = img.convert("RGB")
        w, h = rgb.size
        band = range(0, h // 12) if top else range(h - h // 12, h)
        for y in band:
            for x in range(0, w, 2):
                r, g, b = rgb.getpixel((x, y))  # type: ignore[misc]
                if abs(r - MARKING_RED[0]) < 40 and abs(g - MARKING_RED[1]) < 40 and abs(b - MARKING_RED[2]) < 40:
                    return True
    return False


def _case_status(page: Any) -> str:
    """The explorer's answer to an "add to case" (once it has one)."""
    page.wait_for_function(
        "() => { const t = document.getElementById('explorer-case-status').textContent; return t && t !== '…'; }"
    )
    return str(page.inner_text("#explorer-case-status"))


def test_build_a_case_and_export_a_spanish_briefing(browser: Any, privacy_server: Server, tmp_path: Path) -> None:
    server = privacy_server
    context = browser.new_context(base_url=server.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC",
                                  accept_downloads=True)  # fmt: skip
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        sign_in(page, "analyst")
        # a new case
        page.click("#nav-investigations")
        page.fill("#inv-title", TITLE)
        page.select_option("#inv-marking", "amber")
        page.click("#create-investigation")
        page.wait_for_selector("#case-title")
        case_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        # from the search results: tick the trafficker and the ranch, add them
        page.goto("/search?q=" + "Rogelio Tamez")
        page.wait_for_selector("#results")
        trafficker = (
            page.locator("#results tr", has_text=TRAFFICKER).locator("input[type=checkbox]").get_attribute("value")
        )
        page.check(f"#pick-{trafficker}")
        page.select_option("#add-hits-case", case_id)
        page.click("#add-hits-submit")
        page.wait_for_selector("#added-to-case")
        assert "1" in page.inner_text("#added-to-case")
        # from the network explorer: the trafficker's neighbourhood, every entity on it
        page.goto(f"/graph?entity={trafficker}")  # the explorer starts there by itself
        on_chart = wait_ready(page, more_than=1)
        assert on_chart >= 3  # the trafficker, the person he exploited, the ranch
        page.evaluate("cruceExplorer.cy.nodes('[kind = \"entity\"]').select()")
        page.select_option("#explorer-case", case_id)
        page.click("#explorer-add-to-case")
        assert "Added" in _case_status(page)
        page.fill("#explorer-name", "Red del rancho")
        page.click("#explorer-chart-to-case")
        assert "chart" in _case_status(page)
        # the case page: its records (the victim redacted), a note and a task
        page.goto(f"/investigations/{case_id}")
        records = page.inner_text("#case-records")
        assert TRAFFICKER in records
        assert "Rancho El Alamo" in records
        assert VICTIM not in page.content()
        page.fill("#note-body", NOTE)
        page.click("#note-submit")
        page.wait_for_selector(".case-note")
        page.fill("#task-title", TASK)
        page.fill("#task-due", "2030-03-31")
        page.click("#task-submit")
        page.wait_for_selector("#case-tasks")
        assert TASK in page.inner_text("#case-tasks")
        # the briefing in Spanish, whatever the page's language
        page.select_option("#report-lang", "es")
        page.select_option("#report-format", "pdf")
        pdf = download(page, "#report-download")
    finally:
        context.close()
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "briefing.pdf"
    path.write_bytes(pdf)
    from pypdf import PdfReader

    texts = [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]
    whole = "\n".join(texts)
    assert TITLE in whole
    assert TRAFFICKER in whole
    assert "Rancho El Alamo" in whole
    assert NOTE in whole
    assert TASK in whole
    assert "case-file-7" in whole  # the sources of the figures: dataset, file, row
    assert "case.csv" in whole
    assert "Persona" in whole  # the schema's Spanish labels
    assert "[reservado]" in whole  # the victim is in the briefing, linked, without her name
    assert VICTIM not in whole
    assert VICTIM.split()[0] not in whole
    assert all("TLP:AMBER" in text for text in texts), "the marking on every page"
    images = _pages_as_images(path, tmp_path)
    assert len(images) == len(texts) >= 2
    assert all(_marked(image, top=True) and _marked(image, top=False) for image in images)
    assert VICTIM not in (server.folder / "serve.log").read_text(encoding="utf-8", errors="replace")
