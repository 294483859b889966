"""A screening interview in Spanish in real Chromium: answers saved as they are given, kept through
a reload, kept in the browser while the connection is down and sent when it is back, none lost;
the language of the questions switched mid-interview without touching an answer; a
recommendation with the answers that drove it. The server's log holds nothing the person said."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cruce.people.screening import instrument, score
from cruce.web.launch import stop_server
from tests.e2e.conftest import _require_chromium, sign_in, start

pytestmark = [pytest.mark.e2e]

SUBJECT = "Xiomara Tzoc Ajú"
NOTE = "el encargado guarda su pasaporte"
# The interview, topic by topic: what the person answers (unanswered questions are left out).
BEFORE_DROP = {
    "rec_offer": "yes", "rec_journey_arranged": "yes", "rec_kept_on_journey": "no",
    "fp_work_different": "yes", "fp_pay_different": "unsure",
}  # fmt: skip
WHILE_OFFLINE = {"debt_owed": "yes", "debt_grows": "no", "debt_cannot_leave": "declined", "doc_kept": "yes"}
AFTER = {"money_kept": "yes", "mov_locked": "yes", "thr_threatened": "no", "cond_hours": "yes"}


@pytest.fixture(scope="module")
def screening_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A server of its own over an empty database with the demo accounts (no data is needed)."""
    _require_chromium()
    folder = tmp_path_factory.mktemp("e2e-screening")
    db = folder / "screening.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "cruce.web.demo_setup", "--db", str(db)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    process, url, log = start(db, folder)
    try:
        yield url, log
    finally:
        stop_server(process)


@pytest.fixture
def context(browser: Any, screening_server: tuple[str, Path]) -> Iterator[Any]:
    """A tablet's browser context (touch, portrait) on the suite's Chromium: one Playwright per run."""
    url, _log = screening_server
    context = browser.new_context(
        base_url=url, viewport={"width": 1024, "height": 1366}, locale="es-MX", timezone_id="UTC",
        has_touch=True, reduced_motion="reduce",
    )  # fmt: skip
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


def answer(page: Any, question: str, value: str) -> None:
    page.check(f"#a-{question}-{value}")


def state(page: Any, question: str) -> str:
    return str(page.get_attribute(f"#s-{question}", "data-state"))


def wait_saved(page: Any, questions: dict[str, str]) -> None:
    for question in questions:
        page.wait_for_selector(f"#s-{question}[data-state='saved']", state="attached")


def next_topic(page: Any) -> None:
    page.click("#sc-next")


def test_a_spanish_interview_survives_a_dropped_connection(
    context: Any, screening_server: tuple[str, Path], screenshot_dir: Path
) -> None:
    tool = instrument()
    page = context.new_page()
    sign_in(page, "caseworker", lang="es")
    page.click("#nav-screenings")
    page.click("#new-screening")
    page.check("#new-lang-es")
    page.fill("#subject", SUBJECT)
    page.click("#screening-start")
    page.wait_for_selector("#sc-interview[data-qlang='es']")
    interview = page.url.split("/screenings/", 1)[1].split("#")[0]
    question = tool.question("rec_offer")
    assert question is not None
    assert page.inner_text("#q-rec_offer legend").strip() == question.es  # the Spanish of the instrument
    assert page.is_hidden("#domain-debt")  # one topic per screen

    # topics 1 and 2, online: each answer saved at once
    for q, value in list(BEFORE_DROP.items())[:3]:
        answer(page, q, value)
    next_topic(page)
    for q, value in list(BEFORE_DROP.items())[3:]:
        answer(page, q, value)
    wait_saved(page, BEFORE_DROP)
    # a reload in the middle keeps every answer and the topic
    page.reload()
    page.wait_for_selector("#domain-false_promises:not([hidden])")
    for q, value in BEFORE_DROP.items():
        assert page.is_checked(f"#a-{q}-{value}"), q
    assert page.get_attribute("#sc-progress", "value") == str(len(BEFORE_DROP))

    # the connection drops: answers wait in the browser, shown as waiting
    context.set_offline(True)
    next_topic(page)
    for q, value in list(WHILE_OFFLINE.items())[:3]:
        answer(page, q, value)
    next_topic(page)
    answer(page, "doc_kept", "yes")
    page.fill("#n-doc_kept", NOTE)
    page.press("#n-doc_kept", "Tab")
    for q in WHILE_OFFLINE:
        assert state(page, q) == "waiting", q
    kept = json.loads(page.evaluate(f"window.localStorage.getItem('cruce-screening-{interview}')"))
    assert {q: e["answer"] for q, e in kept["pending"].items()} == WHILE_OFFLINE
    # switching the language of the questions changes only the display
    page.click("#q-lang-en")
    english = tool.question("doc_kept")
    assert english is not None
    assert page.inner_text("#q-doc_kept legend").strip() == english.en
    assert page.is_checked("#a-doc_kept-yes")
    page.click("#q-lang-es")
    assert page.inner_text("#q-doc_kept legend").strip() == english.es
    page.screenshot(path=str(screenshot_dir / "screening-offline-es.png"))

    # back online: everything reaches the server, nothing is lost
    context.set_offline(False)
    wait_saved(page, WHILE_OFFLINE)
    held = page.request.get(f"/screenings/{interview}/answers").json()
    assert held["language"] == "es"
    assert {q: a["answer"] for q, a in held["answers"].items()} == {**BEFORE_DROP, **WHILE_OFFLINE}
    assert held["answers"]["doc_kept"]["note"] == NOTE
    assert page.evaluate(f"window.localStorage.getItem('cruce-screening-{interview}')") is None

    # a save the server never receives, then the page opened again: the answer comes back from the
    # browser, waits, and is sent
    page.route("**/screenings/*/answers", lambda route: route.abort())
    page.click("#step-4")
    answer(page, "mov_permission", "yes")
    page.wait_for_selector("#s-mov_permission[data-state='waiting']")
    page.reload()
    page.wait_for_selector("#domain-movement:not([hidden])")
    assert page.is_checked("#a-mov_permission-yes")
    assert state(page, "mov_permission") == "waiting"
    page.unroute("**/screenings/*/answers")
    wait_saved(page, {"mov_permission": "yes"})

    # the rest of the interview, then the result
    for q, value in AFTER.items():
        page.click(f"#step-{[d.id for d in tool.domains].index(tool.question(q).domain)}")  # type: ignore[union-attr]
        answer(page, q, value)
    wait_saved(page, AFTER)
    page.click("#sc-finish")
    page.wait_for_selector("#recommendation")
    everything = {**BEFORE_DROP, **WHILE_OFFLINE, "mov_permission": "yes", **AFTER}
    held = page.request.get(f"/screenings/{interview}/answers").json()
    assert {q: a["answer"] for q, a in held["answers"].items()} == everything
    expected = score(everything)
    assert page.get_attribute("#recommendation", "data-recommendation") == expected.recommendation
    assert expected.recommendation != "not_indicated"
    assert page.inner_text("#guidance").strip() == tool.guidance.es
    drivers = page.locator("#drivers tbody tr")
    assert [drivers.nth(i).get_attribute("data-question") for i in range(drivers.count())] == [
        d.question for d in expected.drivers
    ]
    assert "withholds_documents" in page.inner_text("#drivers")
    page.screenshot(path=str(screenshot_dir / "screening-result-es.png"), full_page=True)

    _url, log = screening_server
    served = log.read_text(errors="replace")
    assert "cruce is at" in served  # the server's own output, all of it
    assert SUBJECT not in served
    assert NOTE not in served
