"""The triage queue shows each tip's indicators highlighted and its triage score."""

from __future__ import annotations

from pathlib import Path

from cruce.security.audit import now
from tests.web.conftest import build_world


def test_the_queue_highlights_indicators_and_scores_tips(tmp_path: Path) -> None:
    world = build_world(str(tmp_path / "tips.duckdb"), tmp_path)
    try:
        tips = world.view.security.tips
        tips.submit(
            what='Les quitaron sus papeles y no los dejan salir. Hay niñas de 14 años. <b onclick="x()">',
            where="Ciudad Juárez", when="", who="", contact="", language="es", now=now(),
        )  # fmt: skip
        tips.submit(what="Hay un bache en la avenida.", where="", when="", who="", contact="", language="es", now=now())
        page = world.client("analyst").get("/tips")
        assert page.status_code == 200
        html = page.text
        assert (
            '<mark data-indicator="documents_kept" data-family="control" title="Identity documents withheld">'
            "Les quitaron sus papeles</mark>"
        ) in html
        assert '<mark data-indicator="minors" data-family="minors" title="Minors">' in html
        assert '<b onclick="x()">' not in html  # the tip's own markup is shown, never run
        assert "&lt;b onclick=" in html
        assert html.count('class="tip-score" data-level="high"') == 1
        assert html.count('class="tip-score" data-level="none"') == 1
    finally:
        world.app.state.services.close()
