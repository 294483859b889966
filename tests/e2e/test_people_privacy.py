"""Identity protection in real Chromium: an analyst follows a trafficker's links in the network
explorer to the person he exploited — the link and the node are there, the victim's name is not
(the victim of an ``Exploited`` relation is protected); an admin sees it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import TRAFFICKER, VICTIM, VIEWPORT, Server, sign_in
from tests.e2e.test_explorer import wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def captions_around(browser: Any, server: Server, who: str, entity: str) -> tuple[dict[str, str], int, str]:
    """The explorer opened by ``who`` on ``entity``: each node's caption by id, the links, the page's HTML."""
    context = browser.new_context(base_url=server.url, viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, who)
        page.click("#nav-network")
        page.fill("#explorer-q", entity)
        page.click("#explorer-search")
        wait_ready(page)
        nodes = page.evaluate(
            "() => Object.fromEntries(cruceExplorer.cy.nodes('[kind = \"entity\"]')"
            ".map(n => [n.id(), n.data('caption')]))"
        )
        links = page.evaluate("() => cruceExplorer.cy.edges().length")
        return nodes, links, page.content()
    finally:
        context.close()


def test_an_analyst_sees_the_victims_links_but_not_who_the_victim_is(browser: Any, privacy_server: Server) -> None:
    server = privacy_server
    found = server.api("/search", q=TRAFFICKER)["hits"]
    trafficker = next(h["id"] for h in found if h["caption"] == TRAFFICKER)
    seen, links, html = captions_around(browser, server, "analyst", trafficker)
    assert seen[trafficker] == TRAFFICKER
    assert "Rancho El Alamo" in seen.values()  # the trafficker's other links, as they are
    assert "[redacted]" in seen.values()  # the victim is in the chart, linked ...
    assert links >= 2
    assert VICTIM not in html  # ... and nothing on the page says who she is
    assert VICTIM not in str(seen)
    admin_seen, _links, _html = captions_around(browser, server, "admin", trafficker)
    assert VICTIM in admin_seen.values()
    assert VICTIM not in (server.folder / "serve.log").read_text(encoding="utf-8", errors="replace")
