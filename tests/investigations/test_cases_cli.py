"""``cruce investigations`` and ``cruce report``: as a user or as the operator, who sees protected
values only when asked (and that is audited)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cruce.cli import build_app
from cruce.i18n import set_language
from tests.web.conftest import VICTIM, World, build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("cases-cli")
    built = build_world(str(tmp / "cli.duckdb"), tmp)
    built.app.state.services.close()
    return built


def _run(world: World, *args: str) -> tuple[int, str]:
    set_language("en")
    result = CliRunner().invoke(build_app(), ["--db", world.url, *args])
    return result.exit_code, result.output


def test_create_add_show_and_report(world: World, tmp_path: Path) -> None:
    code, out = _run(world, "investigations", "create", "Caso Sonora", "--as", "analyst", "--marking", "amber")
    assert code == 0, out
    case_id = out.split()[1]
    code, out = _run(world, "investigations", "add-item", case_id, world.victim_id, "--search", "perez", "--as",
                     "analyst")  # fmt: skip
    assert code == 0, out
    assert "Added 2 items" in out
    code, out = _run(world, "investigations", "show", case_id, "--as", "analyst", "--format", "json")
    assert code == 0, out
    shown = json.loads(out)
    assert [r["caption"] for r in shown["records"]] == ["[redacted]"]
    assert VICTIM not in out
    code, out = _run(world, "investigations", "show", case_id, "--as", "outsider")
    assert code == 2
    # the operator sees every case, protected values only when asked
    assert case_id in _run(world, "investigations", "list")[1]
    report = tmp_path / "caso.html"
    code, out = _run(world, "report", "case", case_id, "--lang", "es", "--format", "html", "--out", str(report))
    assert code == 0, out
    html = report.read_text(encoding="utf-8")
    assert VICTIM not in html
    assert "[reservado]" in html
    assert "TLP:AMBER" in html
    code, out = _run(world, "report", "case", case_id, "--format", "pdf", "--out", str(tmp_path / "caso.pdf"),
                     "--include-protected")  # fmt: skip
    assert code == 0, out
    assert (tmp_path / "caso.pdf").read_bytes().startswith(b"%PDF-")
    code, out = _run(world, "report", "entity", world.victim_id, "--format", "html", "--out", str(tmp_path / "e.html"),
                     "--as", "caseworker")  # fmt: skip
    assert code == 0, out
    assert VICTIM in (tmp_path / "e.html").read_text(encoding="utf-8")  # her caseworker's caseload
    code, out = _run(world, "report", "case", case_id, "--lang", "fr")
    assert code == 2
