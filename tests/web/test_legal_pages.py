"""The "Law and enforcement" page and API: the map's per-year series, the tables, both languages;
edits by hand through the import pipeline, audited, for analysts and admins only."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.legal.edit import COLUMNS
from cruce.legal.seed import load_seed
from tests.web.conftest import World, csrf_of


@pytest.fixture(scope="module")
def seeded(world: World) -> Iterator[World]:
    load_seed(world.view.store)
    return world


def _series(html: str) -> list[dict[str, object]]:
    found = re.search(r'<script type="application/json" id="legal-data">(.*?)</script>', html, re.S)
    assert found, "no map data in the page"
    series: list[dict[str, object]] = json.loads(found.group(1))["series"]
    return series


def test_page_renders_in_english_and_spanish_with_the_map_series(seeded: World) -> None:
    client = seeded.session("viewer")
    page = client.get("/legal")
    assert page.status_code == 200
    assert 'id="nav-legal"' in page.text
    assert "Law and enforcement" in page.text
    series = {row["year"]: row for row in _series(page.text)}
    assert series[2003]["jurisdictions"] == ["US-TX", "US-WA"]
    assert series[2008]["count"] == 6
    assert "/static/legal.js" in page.text
    assert 'id="chart-legal"' in page.text
    assert "Mérida Initiative" in page.text
    assert "At least 39 US states" in page.text
    assert "/legal/new/law" not in page.text  # a viewer is offered no edit
    spanish = seeded.client("caseworker")  # the language is remembered for the user: not the viewer's
    home = spanish.get("/")
    spanish.post("/language", data={"lang": "es", "next": "/", "csrf_token": csrf_of(home.text)})
    es = spanish.get("/legal?kind=firearms_trafficking")
    assert es.status_code == 200
    assert '<html lang="es"' in es.text
    assert "Al menos 39 estados" in es.text


def test_a_viewer_may_not_edit_and_the_refusal_is_audited(seeded: World) -> None:
    client = seeded.session("viewer")
    assert client.get("/legal/new/law").status_code == 403
    csrf = csrf_of(client.get("/legal").text) if 'name="csrf_token"' in client.get("/legal").text else "x"
    refused = client.post("/legal/new/law", data={"csrf_token": csrf, "name": "X", "level": "state"})
    assert refused.status_code == 403
    denied = seeded.view.security.audit.entries(actor="viewer", action="legal_edit_denied")
    assert len(denied) >= 2


def test_an_analyst_adds_a_law_and_corrects_it_both_audited(seeded: World) -> None:
    client = seeded.session("analyst")
    form = client.get("/legal/new/law")
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_of(form.text),
        "name": "Ley de prueba de Sonora",
        "country": "MX",
        "level": "state",
        "jurisdiction": "MX-SON",
        "law_kind": ["sex_trafficking", "labor_trafficking"],
        "enacted_date": "2010-05-01",
        "source_url": "https://example.org/sonora",
        "source_title": "Test source",
    }
    saved = client.post("/legal/new/law", data=data, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:500]
    entry = seeded.view.security.audit.entries(actor="analyst", action="legal_edit")[0]
    assert entry.outcome == "ok"
    assert "manual" in (entry.detail or "")
    series = {row["year"]: row for row in _series(client.get("/legal").text)}
    assert "MX-SON" in series[2010]["jurisdictions"]
    assert "MX-SON" not in series[2009]["jurisdictions"]
    law_id = entry.target
    edit = client.get(f"/legal/edit/{law_id}")
    assert edit.status_code == 200
    assert "Ley de prueba de Sonora" in edit.text
    corrected = {**data, "csrf_token": csrf_of(edit.text), "enacted_date": "2012-01-15"}
    assert client.post(f"/legal/edit/{law_id}", data=corrected, follow_redirects=False).status_code == 303
    series = {row["year"]: row for row in _series(client.get("/legal").text)}
    assert "MX-SON" not in series[2011]["jurisdictions"]
    assert "MX-SON" in series[2012]["jurisdictions"]
    assert len(seeded.view.security.audit.entries(target=law_id, action="legal_edit")) == 2


def test_a_bad_edit_is_refused_with_its_field(seeded: World) -> None:
    client = seeded.session("analyst")
    form = client.get("/legal/new/outcome")
    data = {
        "csrf_token": csrf_of(form.text),
        "country": "MX",
        "level": "state",
        "jurisdiction": "Atlantis",
        "year": "2015",
        "flow": "people",
        "measure": "investigations",
        "value": "24",
        "source_title": "Test",
    }
    refused = client.post("/legal/new/outcome", data=data)
    assert refused.status_code == 422
    assert "jurisdiction" in refused.text
    assert "Atlantis" in refused.text
    assert "not a state name or code cruce knows" in refused.text
    no_source = {**data, "jurisdiction": "MX-SON", "source_title": ""}
    assert client.post("/legal/new/outcome", data=no_source).status_code == 422


def test_api_answers(seeded: World) -> None:
    client = seeded.client()
    headers = seeded.api("viewer")
    by_year = client.get("/api/v1/legal/by-year?kind=sex_trafficking&from=2003&to=2005", headers=headers)
    assert by_year.status_code == 200
    assert [r["count"] for r in by_year.json()["rows"]] == [2, 2, 3]
    in_force = client.get("/api/v1/legal/in-force?kind=firearms_trafficking&on=2023-01-01", headers=headers).json()
    assert {r["jurisdiction"] for r in in_force["rows"]} == {"US", "MX"}
    check = {r["claim"]: r for r in client.get("/api/v1/legal/check", headers=headers).json()["rows"]}
    assert check["investigations-24"]["status"] == "unscoped"
    funding = client.get("/api/v1/legal/funding", headers=headers).json()
    assert funding["totals"] == [{"currency": "usd", "amount": 1300000000.0}]
    outcomes = client.get("/api/v1/legal/outcomes?country=MX&measure=convictions", headers=headers).json()
    assert len(outcomes["rows"]) == 3
    timeline = client.get("/api/v1/legal/timeline?jurisdiction=MX-CHH", headers=headers).json()
    assert timeline["events"][0]["event"] in ("enacted", "in_force")
    assert client.get("/api/v1/legal/by-year?kind=nope", headers=headers).status_code == 422
    assert client.get("/api/v1/legal/laws?jurisdiction=XX-1", headers=headers).status_code == 422
    assert client.get("/api/v1/legal/laws").status_code == 401


def test_exports_and_the_jurisdiction_page_beside_the_flows(seeded: World, tmp_path: Path) -> None:
    rows = "cve_ent|year|month|homicides|pop_est|homicide_rate\n"
    rows += "".join(f"08|{year}|{month}|{10 + year - 2005}|3000000|4.0\n" for year in (2005, 2006, 2007, 2008)
                    for month in (1, 2))  # fmt: skip
    (tmp_path / "homicides.csv").write_text(rows, encoding="utf-8")
    assert import_file(seeded.view.store, tmp_path / "homicides.csv", "mx-homicides-state-month").rows_stored == 8
    client = seeded.session("viewer")
    page = client.get("/legal/jurisdiction/MX-CHH")
    assert page.status_code == 200
    assert "Reforma al Código Penal de Chihuahua" in page.text
    table = page.text[page.text.index('id="legal-counts"') :]
    assert '<td>2006</td><td class="num">22</td>' in table  # (10 + 1) × 2 months
    row_2007 = table[table.index("<td>2007</td>") :].split("</tr>")[0]
    assert '<td class="num">24</td>' in row_2007
    assert "Reforma al Código Penal de Chihuahua" in row_2007
    assert "Ley para Prevenir y Sancionar la Trata de Personas" in row_2007  # federal, in force from 2007-11-27
    row_2006 = table[table.index("<td>2006</td>") :].split("</tr>")[0]
    assert "Chihuahua" not in row_2006
    assert client.get("/legal/jurisdiction/Narnia").status_code == 422
    api = seeded.client().get("/api/v1/legal/timeline?jurisdiction=MX-CHH", headers=seeded.api("viewer")).json()
    assert {"year": 2008, "series": "homicides", "value": 26.0} in api["counts"]
    series = client.get("/legal/export/series.csv?kind=sex_trafficking")
    assert series.status_code == 200
    assert series.headers["content-type"].startswith("text/csv")
    parsed = list(csv.DictReader(io.StringIO(series.text)))
    assert {r["year"]: r["count"] for r in parsed}["2003"] == "2"
    check = list(csv.DictReader(io.StringIO(client.get("/legal/export/check.csv").text)))
    assert {r["claim"] for r in check} >= {"us-states-sex-trafficking-39", "funding-73-5m"}
    assert client.get("/legal/export/nothing.csv").status_code == 422


def test_a_source_address_that_is_not_a_web_address_is_never_a_link(seeded: World, tmp_path: Path) -> None:
    evil = "javascript:alert(1)"
    row = {"law_id": "x", "level": "state", "jurisdiction": "MX-ZAC", "law_kind": "victim_protection",
           "enacted_date": "2001", "source_url": evil, "source_title": "Zac"}  # fmt: skip
    with (tmp_path / "laws.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(COLUMNS["law"]))
        writer.writeheader()
        writer.writerow(row)
    import_file(seeded.view.store, tmp_path / "laws.csv", "cruce-laws")
    client = seeded.session("analyst")
    page = client.get("/legal?kind=victim_protection")
    assert "Zac" in page.text
    assert 'href="javascript:' not in page.text
    form = client.get("/legal/new/law")
    data = {"csrf_token": csrf_of(form.text), "level": "state", "jurisdiction": "MX-ZAC",
            "law_kind": "victim_protection", "source_url": evil, "source_title": "t"}  # fmt: skip
    refused = client.post("/legal/new/law", data=data)
    assert refused.status_code == 422
    assert "not a web address" in refused.text
