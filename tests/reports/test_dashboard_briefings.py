"""Briefings from the flow dashboards (issue #11): the same figures as the dashboard for the same
reader, in the language chosen for the report, each with its sources, the marking on every page,
victim statistics below k never shown as a count; from the CLI, the pages and the API, audited."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cruce.analyses.firearms import figures as ff
from cruce.analyses.firearms.data import Filters, FirearmsData
from cruce.analyses.service import analysis
from cruce.cli import build_app
from cruce.i18n import set_language
from cruce.investigations.cli import desk_for
from cruce.people import stats
from cruce.reports import render
from cruce.reports.dashboards import DashboardAsk, dashboard_briefing
from cruce.store import open_store
from tests.e2e.conftest import PASSWORDS, build_demo_db
from tests.web.conftest import TestClient, signin

SCALE = 1500


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("dashboard-briefings"), scale=SCALE)


@pytest.fixture
def store(demo: Path) -> Iterator[Any]:
    with open_store(str(demo)) as opened:
        yield opened


def _cells(briefing: Any, figure: str) -> list[tuple[str, ...]]:
    return [row for block in briefing.dashboard if block.id == figure for row in block.rows]


def test_firearms_briefing_gives_the_dashboards_figures_with_their_sources(store: Any) -> None:
    desk = desk_for(store, "analyst")
    briefing = dashboard_briefing(desk.guard, desk.principal, "firearms", DashboardAsk(), "es")
    data = analysis(store, FirearmsData, desk.guard.visible_imports(desk.principal)).data
    states = ff.source_states(data, Filters(), 60)
    assert states
    shown = {
        row[0].rsplit("(", 1)[-1].rstrip(")"): int(row[1].replace(",", "")) for row in _cells(briefing, "fig-sources")
    }
    assert shown == {r["state"]: r["traces"] for r in states[: len(shown)]}
    assert dict(briefing.summary)["Rastreos"] == f"{ff.summary(data, Filters())['traces']:,}"
    assert briefing.title == "Armas de fuego"
    for block in briefing.dashboard:
        assert block.sources, block.id  # every figure names the imports it was computed from
        assert {s.file for s in block.sources} >= {"traces.csv"}
    # filtered as the page is: one state of recovery
    sonora = dashboard_briefing(desk.guard, desk.principal, "firearms", DashboardAsk(state="MX-SON"), "en")
    assert dict(sonora.summary)["Traces"] == f"{ff.summary(data, Filters(recovery_state='MX-SON'))['traces']:,}"


def test_the_pdf_carries_the_marking_on_every_page_in_the_reports_language(store: Any, tmp_path: Path) -> None:
    desk = desk_for(store, "analyst")
    briefing = dashboard_briefing(desk.guard, desk.principal, "drugs-violence", DashboardAsk(), "es")
    pdf = tmp_path / "flows.pdf"
    pdf.write_bytes(render.render(briefing, "pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 2
    marking = render.MARKING_TEXT[briefing.marking]
    assert all(marking in page for page in pages)
    assert "Drogas y violencia" in pages[0]
    assert "Fuentes de esta figura" in text


def test_victim_statistics_never_show_a_count_below_k(store: Any, demo: Path) -> None:
    desk = desk_for(store, "analyst")
    k = 12
    briefing = dashboard_briefing(desk.guard, desk.principal, "people", DashboardAsk(k=k), "en")
    data = analysis(store, stats.CaseData, desk.guard.visible_imports(desk.principal)).data
    small = [r for dim in ("year", "gender", "age_band", "exploitation_type") for r in stats.counts(data, [dim])
             if 0 < r["records"] < k]  # fmt: skip
    assert small  # the scenario has cells to suppress
    cells = [row[-1] for block in briefing.dashboard for row in block.rows]
    assert cells.count(f"< {k}") == len(small)
    for cell in cells:
        assert cell == f"< {k}" or int(cell.replace(",", "")) >= k
    html = render.html(briefing)
    with (demo.parent / "scenario" / "trafficking-cases.csv").open(encoding="utf-8") as fh:
        names = {row["per_name"] for row in csv.DictReader(fh)}
    assert not [n for n in names if n and n in html]  # aggregates only: no person named


def test_from_the_cli_the_page_and_the_api_each_audited(store: Any, demo: Path, tmp_path: Path) -> None:
    store.close()
    set_language("en")
    out = tmp_path / "firearms.html"
    result = CliRunner().invoke(build_app(), ["--db", str(demo), "report", "dashboard", "firearms", "--lang", "es",
                                              "--format", "html", "--out", str(out), "--as", "analyst"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Armas de fuego" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(build_app(), ["--db", str(demo), "report", "dashboard", "weather"])
    assert bad.exit_code == 2
    assert "firearms, drugs-violence or people" in bad.output
    from cruce.web.app import create_app

    app = create_app(str(demo))
    with TestClient(app, base_url="http://testserver") as client:
        signin(client, "analyst", PASSWORDS["analyst"])
        page = client.get("/firearms")
        assert 'id="briefing-form"' in page.text
        got = client.get("/firearms/briefing", params={"lang": "es", "format": "pdf", "state": "MX-SON"})
        assert got.status_code == 200
        assert got.content.startswith(b"%PDF-")
        assert got.headers["content-disposition"].startswith("attachment;")
        assert 'id="briefing-form"' in client.get("/people/statistics").text
        assert client.get("/people/statistics/briefing", params={"k": 1}).status_code == 422
        html = client.get("/drugs-violence/briefing", params={"lang": "en", "format": "html"})
        assert html.status_code == 200
        assert "Drugs and violence" in html.text
        actions = [(e.actor, e.action, e.target) for e in app.state.services.main.security.audit.entries(limit=50)]
    app.state.services.close()
    assert ("analyst", "dashboard_report", "firearms") in actions
    assert ("analyst", "dashboard_report", "drugs-violence") in actions
