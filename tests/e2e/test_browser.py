"""The web application in real Chromium: sign in, search, an entity, Spanish, an import with live
progress, an anonymous tip, and what a viewer may not see; screenshots for the docs on the way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UPLOAD = "".join(
    line + "\n"
    for line in (  # a gun dealer's extract: two sales, and a third with a date that is none
        "purchase_id,sale_date,buyer_first,buyer_last,buyer_second_last,buyer_dob,buyer_sex,"
        "dealer_ffl,dealer_name,dealer_state,serial,manufacturer,model,caliber,firearm_type,price,multiple_sale",
        "E2E0000001,03/02/2021,Rosa,Treviño,Muñoz,05/17/1988,F,5-74-001-07-AB-12345,"
        "Laredo Arms,TX,E2ESER001,Colt,AR-15 Sporter,5.56mm,rifle,899.00,N",
        "E2E0000002,03/02/2021,ROSA,TREVINO,,05/17/1988,F,5-74-001-07-AB-12345,Laredo Arms,"
        "TX,E2ESER002,Glock,19,9mm,pistol,549.99,Y",
        "E2E0000003,not a date,Juan,Ramírez,López,01/01/1990,M,5-74-001-07-AB-12345,"
        "Laredo Arms,TX,E2ESER003,Ruger,LCP,.380 ACP,pistol,299.00,N",
    )
)


def shoot(page: Any, folder: Path, name: str) -> None:
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(folder / name), full_page=False, animations="disabled", caret="hide")


def switch_language(page: Any, lang: str) -> None:
    page.click(f"#lang-{lang}")
    page.wait_for_selector(f"html[lang={lang}]")


def showcase_person(server: Server) -> str:
    """A member of an organization with links and dates: the entity page the docs show."""
    people = server.api("/export/Person", dataset="cruce-organizations")
    best = max(sorted(people, key=lambda e: e["id"]), key=lambda e: len(e["values"]))
    return str(best["id"])


def test_sign_in_shows_the_dashboard(page: Any, server: Server, screenshot_dir: Path) -> None:
    page.goto("/")
    page.wait_for_url(re.compile(r"/signin"))  # not signed in: sent to the sign-in page
    sign_in(page, "admin")
    assert page.inner_text("#signed-in-as").startswith("admin")
    assert page.inner_text("h1") == "Overview"
    assert page.locator("#flow-counts li").count() >= 3
    shoot(page, screenshot_dir, "dashboard-en.png")
    switch_language(page, "es")
    assert page.inner_text("h1") == "Panorama"
    shoot(page, screenshot_dir, "dashboard-es.png")


def test_search_for_a_name_and_open_an_entity(page: Any) -> None:
    sign_in(page, "analyst")
    page.click("#nav-search")
    page.fill("#q", "sandoval")  # lower case, as people type: capitals and accents do not matter
    page.click("#search-submit")
    page.wait_for_selector("#results")
    assert int(re.sub(r"\D", "", page.inner_text("#result-count"))) > 0
    first = page.locator("#results tbody tr a").first
    name = first.inner_text()
    assert "sandoval" in name.lower()
    first.click()
    page.wait_for_url(re.compile(r"/entity/[0-9a-f-]{36}$"))
    assert page.inner_text("#entity-caption") == name
    assert page.locator("#properties tbody tr").count() > 0


def test_spanish_stays_after_navigation(page: Any, server: Server, screenshot_dir: Path) -> None:
    sign_in(page, "admin")
    entity = showcase_person(server)
    page.goto(f"/entity/{entity}")
    assert page.inner_text("#props-title") == "Properties and where each comes from"
    shoot(page, screenshot_dir, "entity-en.png")
    switch_language(page, "es")
    assert page.url.endswith(f"/entity/{entity}")  # the switch comes back to the same page
    assert page.inner_text("#props-title") == "Propiedades y de dónde viene cada una"
    shoot(page, screenshot_dir, "entity-es.png")
    page.click("#nav-search")
    page.wait_for_url(re.compile(r"/search$"))
    assert page.get_attribute("html", "lang") == "es"
    assert page.inner_text("h1") == "Buscar"
    page.click("#nav-home")
    assert page.inner_text("h1") == "Panorama"
    switch_language(page, "en")
    assert page.inner_text("h1") == "Overview"


def test_import_a_file_with_live_progress(page: Any, server: Server, tmp_path: Path) -> None:
    upload = tmp_path / "e2e-sales.csv"
    upload.write_text(UPLOAD, encoding="utf-8")
    sign_in(page, "analyst")
    page.click("#nav-import")
    page.set_input_files("#file", str(upload))
    page.select_option("#mapping", "example-firearm-purchases")
    page.fill("#dataset", "e2e-upload")
    page.click("#import-submit")
    page.wait_for_url(re.compile(r"/import/[^/]+$"))
    page.wait_for_selector("#job-progress[data-state=done]", timeout=60_000)  # htmx polls the progress
    assert page.inner_text("#job-state") == "finished"
    assert page.inner_text("#job-percent").strip() == "100 %"
    assert page.inner_text("#rows-read") == "3"
    assert page.inner_text("#rows-stored") == "2"
    assert page.inner_text("#rows-rejected") == "1"
    with page.expect_download() as download:
        page.click("#rejects-download")
    rejects = Path(download.value.path()).read_text(encoding="utf-8")
    assert "not a date" in rejects


def test_anonymous_tip(page: Any, screenshot_dir: Path) -> None:
    page.goto("/tip")
    assert page.locator("#signed-in-as").count() == 0
    page.fill("#what", "A white pickup loads boxes of rifles behind the shop every Friday night.")
    page.fill("#where", "Nogales, Sonora")
    page.fill("#when", "Fridays, late")
    shoot(page, screenshot_dir, "tip-form.png")
    page.click("#tip-submit")
    page.wait_for_url(re.compile(r"/tip/thanks$"))
    assert page.inner_text("#tip-thanks") == "Thank you"


def test_protected_victim_name_stays_hidden(page: Any, server: Server) -> None:
    screening = server.api("/export/Screening")[0]
    victim_id = next(v["value"] for v in screening["values"] if v["property"] == "person")
    victim = server.api(f"/entities/{victim_id}")  # the admin sees the name
    name = next(v["value"] for v in victim["values"] if v["property"] == "name")
    assert name
    assert name != "[redacted]"

    sign_in(page, "viewer")  # no group: the amber screening dataset is out of sight altogether
    response = page.goto(f"/entity/{victim_id}")
    assert response is not None
    assert response.status == 404
    assert name not in page.content()
    page.goto("/search?q=" + name.replace(" ", "+"))
    assert page.locator(f'a[href="/entity/{victim_id}"]').count() == 0

    page.click("#signout")
    sign_in(page, "analyst")  # in the group, but no caseworker: the record shows, its identity does not
    page.goto(f"/entity/{victim_id}")
    assert page.locator("#properties .redacted-value").count() > 0
    assert name not in page.content()
