"""The screening instrument and interviews: the instrument file is valid and covers every domain;
scoring is transparent (points, cut-offs, the answers that drove it); answers are saved once per
question whatever the network repeats or reorders, encrypted at rest, on both backends; only
the caseworker who holds an interview and admins open it, every reading audited; nothing the
person said reaches the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from cruce.people.interviews import AnswerIn, Interviews
from cruce.people.screening import (
    ANSWERS,
    Cutoffs,
    InstrumentError,
    effective_cutoffs,
    instrument,
    load_instrument,
    score,
)
from cruce.schema.loader import default_schema
from cruce.security.audit import now
from cruce.security.db import AppDB
from cruce.store import open_store
from cruce.synth.people import TVIT_DOMAINS
from cruce.web import create_app
from tests.web.conftest import PASSWORD, TestClient, csrf_of, signin

SUBJECT = "Guadalupe Ixcoy Tzul"
NOTE = "la patrona guarda el pasaporte en la caja fuerte"
T0 = datetime(2026, 3, 1, 12, 0)
USERS = {"admin": "admin", "analyst": "analyst", "caseworker": "caseworker", "other": "caseworker", "viewer": "viewer"}


# -- the instrument ---------------------------------------------------------------------------------
def test_the_instrument_validates_and_covers_every_screening_domain() -> None:
    tool = load_instrument()
    domains = [d.id for d in tool.domains]
    # the domains of the issue (and of synth's imported screenings), each with its questions
    covered = {"recruitment", "false_promises", "debt", "documents_money", "movement", "threats_violence",
               "conditions", "sexual_exploitation", "isolation"}  # fmt: skip
    assert set(domains) == covered
    assert {"documents_kept", "money_kept"} <= set(TVIT_DOMAINS)  # synth splits what the instrument joins
    for domain in domains:
        assert tool.in_domain(domain), domain
    for q in tool.questions:
        assert q.en.strip()
        assert q.es.strip()
        assert q.en != q.es
    assert [a.code for a in tool.answers] == list(ANSWERS)
    enums = default_schema().enums
    supported = {c for q in tool.questions for c in q.means_of_control}
    assert supported <= set(enums["means_of_control"].values)
    assert {c for q in tool.questions for c in q.exploitation} >= {"sexual_exploitation", "forced_labour"}
    assert "legal determination" in tool.guidance.en
    assert "determinación legal" in tool.guidance.es


def test_a_bad_instrument_file_is_refused_with_the_reason(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/cruce/people/screening.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "screening.yaml"
    bad.write_text(text.replace("means_of_control: [withholds_documents]", "means_of_control: [keeps_passport]"))
    with pytest.raises(InstrumentError, match="keeps_passport"):
        load_instrument(bad)
    bad.write_text(text.replace("domain: isolation", "domain: loneliness"))
    with pytest.raises(InstrumentError, match="loneliness"):
        load_instrument(bad)


# -- scoring ----------------------------------------------------------------------------------------
def _weights() -> dict[str, int]:
    return {q.id: q.weight for q in instrument().questions}


def test_score_adds_the_yes_answers_and_names_the_drivers_with_their_codes() -> None:
    w = _weights()
    answers = {"doc_kept": "yes", "debt_owed": "yes", "thr_hurt": "no", "sex_for_money": "unsure",
               "iso_contact": "declined", "nonsense": "yes"}  # fmt: skip
    result = score(answers)
    assert result.points == w["doc_kept"] + w["debt_owed"]
    assert [d.question for d in result.drivers] == sorted(["doc_kept", "debt_owed"], key=lambda q: -w[q])
    assert result.drivers[0].means_of_control == ("withholds_documents",)
    assert set(result.means_of_control) == {"withholds_documents", "debt_bondage"}
    assert result.answered == 5  # the unknown question id is not an answer
    assert result.total == len(instrument().questions)


def test_the_cutoffs_decide_the_recommendation() -> None:
    w = _weights()
    yes = {"debt_owed": "yes", "money_kept": "yes"}  # two non-key questions
    points = w["debt_owed"] + w["money_kept"]
    assert score(yes, Cutoffs(likely=points, possible=1)).recommendation == "likely"
    assert score(yes, Cutoffs(likely=points + 1, possible=points)).recommendation == "possible"
    assert score(yes, Cutoffs(likely=points + 2, possible=points + 1)).recommendation == "not_indicated"
    assert score({}).recommendation == "not_indicated"
    everything = score({q.id: "yes" for q in instrument().questions})
    assert everything.recommendation == "likely"


def test_a_key_question_makes_trafficking_at_least_possible() -> None:
    high = Cutoffs(likely=50, possible=40)
    raised = score({"doc_kept": "yes"}, high)
    assert raised.recommendation == "possible"
    assert raised.core_raised
    assert score({"cond_hours": "yes"}, high).recommendation == "not_indicated"


def test_cutoffs_come_from_the_environment_or_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    default = instrument().cutoffs
    monkeypatch.delenv("CRUCE_SCREENING_CUTOFFS", raising=False)
    assert effective_cutoffs() == default
    monkeypatch.setenv("CRUCE_SCREENING_CUTOFFS", "likely=12")
    assert effective_cutoffs() == Cutoffs(likely=12, possible=default.possible)
    assert effective_cutoffs({"possible": 6}) == Cutoffs(likely=12, possible=6)
    monkeypatch.setenv("CRUCE_SCREENING_CUTOFFS", "likely=2,possible=5")
    with pytest.raises(InstrumentError):
        effective_cutoffs()
    monkeypatch.setenv("CRUCE_SCREENING_CUTOFFS", "high=3")
    with pytest.raises(InstrumentError, match="likely=N"):
        effective_cutoffs()


# -- storage ----------------------------------------------------------------------------------------
@pytest.fixture
def interviews(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Interviews]:
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "cruce.key"))
    with open_store(store_url) as store:
        yield Interviews(AppDB(store))


def _answer(question: str, answer: str | None, seq: int, note: str | None = None) -> AnswerIn:
    return AnswerIn(question, answer, note, seq, T0)


def test_an_answer_sent_twice_or_late_is_stored_once_and_the_latest_wins(interviews: Interviews) -> None:
    iid = interviews.create(caseworker="caseworker", language="es", subject=SUBJECT, now=T0)
    interviews.save_answers(iid, [_answer("doc_kept", "yes", 10, NOTE)], now=T0)
    interviews.save_answers(iid, [_answer("doc_kept", "yes", 10, NOTE)], now=T0)  # the retry of a lost reply
    rows = interviews.db.fetch("SELECT count(*) FROM screening_answer WHERE interview_id = ?", (iid,))
    assert rows[0][0] == 1
    # a later answer, then an older one arriving after it: the later stays
    interviews.save_answers(iid, [_answer("doc_kept", "no", 30)], now=T0)
    acknowledged = interviews.save_answers(iid, [_answer("doc_kept", "unsure", 20)], now=T0)
    assert (acknowledged[0].answer, acknowledged[0].seq) == ("no", 30)
    # several in one batch, one of them twice
    batch = [_answer("debt_owed", "yes", 5), _answer("debt_owed", "no", 6), _answer("mov_locked", "yes", 7)]
    interviews.save_answers(iid, batch, now=T0)
    stored = interviews.answers(iid)
    assert {q: a.answer for q, a in stored.items()} == {"doc_kept": "no", "debt_owed": "no", "mov_locked": "yes"}
    assert interviews.get(iid).answers_saved == 3  # type: ignore[union-attr]


def test_answers_and_subject_are_encrypted_at_rest(interviews: Interviews) -> None:
    iid = interviews.create(caseworker="caseworker", language="es", subject=SUBJECT, now=T0)
    interviews.save_answers(iid, [_answer("doc_kept", "yes", 1, NOTE)], now=T0)
    db = interviews.db
    text = repr(db.fetch("SELECT * FROM screening_answer") + db.fetch("SELECT * FROM screening_interview"))
    assert NOTE not in text
    assert SUBJECT not in text
    assert "'yes'" not in text
    assert interviews.subject(iid) == SUBJECT
    assert interviews.answers(iid)["doc_kept"].note == NOTE


# -- the pages --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    tmp = tmp_path_factory.mktemp("screening")
    mp = pytest.MonkeyPatch()
    mp.setenv("CRUCE_SECRET_KEY_FILE", str(tmp / "cruce.key"))
    built = create_app(str(tmp / "web.duckdb"), upload_dir=tmp / "uploads")
    security = built.state.services.main.security
    for name, role in USERS.items():
        security.accounts.add(name, PASSWORD, role, now=now())
    yield built
    built.state.services.close()
    mp.undo()


def _client(app: object, who: str) -> TestClient:
    return signin(TestClient(app), who)  # type: ignore[arg-type]


def _start(client: TestClient, subject: str = SUBJECT, language: str = "es") -> tuple[str, str]:
    form = client.get("/screenings/new")
    assert form.status_code == 200
    made = client.post(
        "/screenings/new", data={"csrf_token": csrf_of(form.text), "language": language, "subject": subject},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    iid = made.headers["location"].rsplit("/", 1)[-1]
    return iid, csrf_of(client.get(f"/screenings/{iid}").text)


def _send(client: TestClient, iid: str, csrf: str, *answers: dict[str, object]):  # type: ignore[no-untyped-def]
    return client.post(f"/screenings/{iid}/answers", json={"answers": list(answers)}, headers={"X-CSRF-Token": csrf})


def test_a_caseworker_conducts_an_interview_and_gets_a_recommendation(app: object) -> None:
    client = _client(app, "caseworker")
    iid, csrf = _start(client)
    page = client.get(f"/screenings/{iid}")
    assert "¿Alguien más guarda su pasaporte" in page.text
    assert 'data-qlang="es"' in page.text
    w = _weights()
    sent = _send(client, iid, csrf, {"question": "doc_kept", "answer": "yes", "note": NOTE, "seq": 1},
                 {"question": "thr_threatened", "answer": "yes", "seq": 2},
                 {"question": "mov_locked", "answer": "yes", "seq": 3},
                 {"question": "cond_hours", "answer": "yes", "seq": 4},
                 {"question": "sex_for_money", "answer": "no", "seq": 5})  # fmt: skip
    assert sent.status_code == 200
    assert sent.json()["saved"][0] == {"question": "doc_kept", "seq": 1}
    assert _send(client, iid, "wrong", {"question": "iso_contact", "answer": "yes", "seq": 6}).status_code == 403
    assert _send(client, iid, csrf, {"question": "no_such", "answer": "yes", "seq": 6}).status_code == 422
    assert _send(client, iid, csrf, {"question": "iso_contact", "answer": "maybe", "seq": 6}).status_code == 422
    held = client.get(f"/screenings/{iid}/answers").json()
    assert held["answers"]["doc_kept"] == {"answer": "yes", "note": NOTE, "seq": 1}
    # switching the language of the questions keeps every answer
    switched = client.post(f"/screenings/{iid}/language", json={"language": "en"}, headers={"X-CSRF-Token": csrf})
    assert switched.status_code == 200
    assert client.get(f"/screenings/{iid}/answers").json()["answers"] == held["answers"]
    assert 'data-qlang="en"' in client.get(f"/screenings/{iid}").text
    done = client.post(f"/screenings/{iid}/complete", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.headers["location"] == f"/screenings/{iid}/result"
    result = client.get(f"/screenings/{iid}/result")
    points = w["doc_kept"] + w["thr_threatened"] + w["mov_locked"] + w["cond_hours"]
    expected = score({"doc_kept": "yes", "thr_threatened": "yes", "mov_locked": "yes", "cond_hours": "yes"})
    assert f'data-recommendation="{expected.recommendation}"' in result.text
    assert f"{points} points" in result.text
    assert "not a legal determination" in result.text
    for question in ("doc_kept", "thr_threatened", "mov_locked", "cond_hours"):
        assert f'data-question="{question}"' in result.text
    assert "withholds_documents" in result.text
    assert "forced_labour" in result.text
    assert 'data-question="sex_for_money"' not in result.text
    listing = client.get("/screenings")
    assert iid in listing.text
    assert SUBJECT in listing.text


def test_only_caseworkers_and_admins_screen_and_only_their_own(app: object) -> None:
    owner = _client(app, "caseworker")
    iid, _csrf = _start(owner, subject="Caso 17")
    for who in ("analyst", "viewer"):
        client = _client(app, who)
        for path in ("/screenings", "/screenings/new", f"/screenings/{iid}", f"/screenings/{iid}/result"):
            assert client.get(path).status_code == 403, (who, path)
        assert client.get(f"/screenings/{iid}/answers").status_code == 403
        assert 'id="nav-screenings"' not in client.get("/").text
    other = _client(app, "other")
    assert other.get(f"/screenings/{iid}").status_code == 403
    assert other.get(f"/screenings/{iid}/answers").status_code == 403
    assert iid not in other.get("/screenings").text
    other_csrf = csrf_of(other.get("/screenings/new").text)
    assert _send(other, iid, other_csrf, {"question": "doc_kept", "answer": "no", "seq": 99}).status_code == 403
    admin = _client(app, "admin")
    assert admin.get(f"/screenings/{iid}").status_code == 200
    assert iid in admin.get("/screenings").text
    assert 'id="nav-screenings"' in owner.get("/").text
    assert TestClient(app).get(f"/screenings/{iid}/answers").status_code == 401  # type: ignore[arg-type]


def test_every_reading_is_audited_without_what_was_said(app: object) -> None:
    client = _client(app, "caseworker")
    iid, csrf = _start(client, subject=SUBJECT)
    _send(client, iid, csrf, {"question": "doc_kept", "answer": "yes", "note": NOTE, "seq": 1})
    client.get(f"/screenings/{iid}/result")
    _client(app, "other").get(f"/screenings/{iid}")
    audit = app.state.services.main.security.audit  # type: ignore[attr-defined]
    reads = [e for e in audit.entries(limit=1000, action="screening_read") if e.target == iid]
    assert {(e.actor, e.outcome) for e in reads} >= {("caseworker", "ok"), ("other", "denied")}
    assert {"interview", "result"} <= {json.loads(e.detail or "{}").get("view") for e in reads}
    everything = repr(audit.entries(limit=10_000))
    assert SUBJECT not in everything
    assert NOTE not in everything


def test_nothing_the_person_said_reaches_the_log(app: object, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client(app, "caseworker")
    iid, csrf = _start(client, subject=SUBJECT)
    _send(client, iid, csrf, {"question": "doc_kept", "answer": "yes", "note": NOTE, "seq": 1})
    _send(client, iid, csrf, {"question": "doc_kept", "answer": "yes", "note": NOTE, "seq": 1})
    client.get(f"/screenings/{iid}/answers")
    client.get(f"/screenings/{iid}/result")
    client.get("/screenings")
    assert caplog.records  # the log was listening
    assert SUBJECT not in caplog.text
    assert NOTE not in caplog.text


def test_the_deployments_cutoffs_decide_the_result_page(app: object, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(app, "caseworker")
    iid, csrf = _start(client)
    _send(client, iid, csrf, {"question": "cond_hours", "answer": "yes", "seq": 1})
    services = app.state.services  # type: ignore[attr-defined]
    assert 'data-recommendation="not_indicated"' in client.get(f"/screenings/{iid}/result").text
    monkeypatch.setattr(
        services, "settings", replace(services.settings, screening_cutoffs={"likely": 1, "possible": 1})
    )
    shown = client.get(f"/screenings/{iid}/result").text
    assert 'data-recommendation="likely"' in shown
    assert "the cut-offs are 1 points for likely" in shown
    monkeypatch.setattr(
        services, "settings", replace(services.settings, screening_cutoffs={"likely": 1, "possible": 5})
    )
    refused = client.get(f"/screenings/{iid}/result")
    assert refused.status_code == 500
    assert "possible" in refused.text
