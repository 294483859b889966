"""The network explorer in real Chromium: open it on an entity, expand to two hops, find the path
between two entities with the records behind each link, export PNG and SVG, switch to Spanish;
and a large neighbourhood (thousands of elements) laid out within a bound, summarised by type."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import VIEWPORT, Server, build_demo_db, download, serving, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LAYOUT_BOUND_MS = 15_000
"""A bound, not a benchmark: a shared two-core machine lays 5,000 elements out in a few seconds."""
REDRAW_BOUND_MS = 2_000
LARGE_SCALE = 10_000
ENTITIES = "cruceExplorer.cy.nodes('[kind = \"entity\"]')"


def wait_ready(page: Any, more_than: int = 0, timeout: float = 30_000) -> int:
    """Wait until the chart has loaded and been laid out (with more than ``more_than`` entities)."""
    page.wait_for_function(
        "n => { const c = document.getElementById('explorer-canvas');"
        " return c.dataset.ready === '1' && parseInt(c.dataset.nodes || '0', 10) > n; }",
        arg=more_than,
        timeout=timeout,
    )
    return int(page.get_attribute("#explorer-canvas", "data-nodes"))


def linked_person(server: Server) -> str:
    """The person with the most links: a neighbourhood worth exploring."""
    best = server.api("/graph/key-players", measure="degree", type=["Person"], limit=1)
    return str(best[0]["id"])


def test_explore_expand_find_a_path_export_and_switch_to_spanish(
    page: Any, server: Server, screenshot_dir: Path
) -> None:
    sign_in(page, "analyst")
    page.click("#nav-network")
    page.fill("#explorer-q", linked_person(server))  # a record id starts the chart at once
    page.click("#explorer-search")
    one_hop = wait_ready(page)
    assert page.evaluate(f"{ENTITIES}.map(n => n.data('distance')).reduce((a, b) => Math.max(a, b), 0)") == 1
    # two hops: more entities, the farthest two links away
    page.select_option("#explorer-hops", "2")
    page.click("#explorer-reload")
    two_hops = wait_ready(page, more_than=one_hop)
    assert page.evaluate(f"{ENTITIES}.map(n => n.data('distance')).reduce((a, b) => Math.max(a, b), 0)") == 2
    assert "hops=2" in page.url
    status = page.inner_text("#explorer-status")
    assert f"{two_hops:,} entities" in status
    assert "laid out in" in status
    # the path from the start to an entity two links away (the canvas has no element per node:
    # the selection is made through Cytoscape, the search for the path through the page's button)
    start, far = page.evaluate(
        f"() => {{ const cy = cruceExplorer.cy; const s = cy.nodes('.start')[0];"
        f" const f = {ENTITIES}.filter(n => n.data('distance') === 2)[0];"
        f" s.select(); f.select(); return [s.id(), f.id()]; }}"
    )
    assert start != far
    page.click("#explorer-path")
    page.wait_for_selector("#explorer-path-steps li")
    assert page.locator("#explorer-path-steps > li").count() == 2
    assert page.locator("#explorer-path-steps .explorer-evidence li").count() >= 2  # the records behind each link
    assert page.evaluate("cruceExplorer.cy.elements('.path').length") == 5  # three entities, two links
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(screenshot_dir / "explorer-en.png"), animations="disabled", caret="hide")
    # exports: a real PNG of the chart, an SVG drawing
    png = download(page, "#explorer-png")
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width > 200
    assert height > 100
    assert len(png) > 10_000
    svg = download(page, "#explorer-svg").decode("utf-8")
    assert svg.startswith("<svg")
    assert svg.count("<circle") == two_hops
    # Spanish: the page comes back on the same entity and hops, every label in Spanish
    page.click("#lang-es")
    page.wait_for_selector("html[lang=es]")
    assert wait_ready(page) == two_hops
    assert page.inner_text("h1") == "Explorador de redes"
    assert page.inner_text("#explorer-path") == "Ruta entre las seleccionadas"
    assert page.input_value("#explorer-hops") == "2"
    status = page.inner_text("#explorer-status")
    assert "entidades" in status
    assert "vínculos en el gráfico" in status
    assert page.inner_text("#nav-network") == "Red"


@pytest.fixture(scope="module")
def large(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A scenario ten times the demo's (about 26,000 entities, 36,000 links), with its own server:
    its biggest organization reaches about 4,000 entities within two links."""
    folder = tmp_path_factory.mktemp("e2e-large")
    db = build_demo_db(folder, scale=LARGE_SCALE)
    with serving(db, folder) as running:
        yield running


def test_a_large_neighbourhood_is_laid_out_in_bounded_time_and_summarised(browser: Any, large: Server) -> None:
    hub = large.api("/graph/key-players", measure="degree", limit=1)[0]["id"]
    context = browser.new_context(base_url=large.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_in(page, "admin")
        page.goto(f"/graph?entity={hub}&hops=2&max_nodes=5000")
        nodes = wait_ready(page, timeout=90_000)
        elements = nodes + int(page.get_attribute("#explorer-canvas", "data-edges"))
        layout_ms = int(page.get_attribute("#explorer-canvas", "data-layout-ms"))
        print(f"explorer: {nodes:,} entities, {elements:,} elements laid out in {layout_ms:,} ms")
        assert elements >= 5_000
        assert layout_ms < LAYOUT_BOUND_MS
        # still responsive: a zoom is drawn within the next two frames (the first zoom builds the
        # picture drawn while moving and is not counted; the median of three, the machine being shared)
        zooms = page.evaluate(
            "async () => { const cy = cruceExplorer.cy; const frame = () => new Promise(r =>"
            " requestAnimationFrame(() => requestAnimationFrame(r))); const out = [];"
            " for (let i = 0; i < 4; i++) { const t = performance.now(); cy.zoom(cy.zoom() * (i % 2 ? 0.8 : 1.25));"
            " await frame(); out.push(performance.now() - t); } return out; }"
        )
        redraw_ms = sorted(zooms[1:])[1]
        print(
            f"explorer: zooms drawn in {', '.join(f'{z:.0f}' for z in zooms)} ms (median after the first: "
            f"{redraw_ms:.0f})"
        )
        assert redraw_ms < REDRAW_BOUND_MS
        # past the page's limit the rest is summarised by type, and a summary opens on demand
        page.goto(f"/graph?entity={hub}&hops=2&max_nodes=500")
        shown = wait_ready(page, timeout=60_000)
        groups = page.evaluate("cruceExplorer.cy.nodes('.group').map(n => [n.id(), n.data('count'), n.data('label')])")
        assert groups, "a cut neighbourhood shows a summary node per type left out"
        group_id, count, label = max(groups, key=lambda g: g[1])
        assert f"{count:,} more" in label
        page.evaluate("id => cruceExplorer.cy.getElementById(id).select()", group_id)
        page.click("#explorer-expand")
        opened = wait_ready(page, more_than=shown, timeout=60_000)
        assert opened - shown >= min(count, 1_000)  # that type's entities (and those that join them) came in
        left = page.evaluate(
            "id => { const g = cruceExplorer.cy.getElementById(id); return g.empty() ? 0 : g.data('count'); }", group_id
        )
        assert left <= max(count - 1_000, 0)
    finally:
        context.close()
