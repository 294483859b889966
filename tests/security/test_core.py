"""Accounts, sessions, markings, redaction and the audit chain, on both backends."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.search import catch_up, state
from cruce.search import memory as search_memory
from cruce.security import REDACTED, AccountError, Guard, Marking, Principal, Role, Security
from cruce.security import SYSTEM as SYSTEM_PRINCIPAL
from cruce.security.audit import now
from cruce.store import Store, open_store
from cruce.store.memo import one_request
from tests.conftest import SCREENING_MAPPING as MAPPING
from tests.conftest import drop_pg_schema, pg_url_or_skip

ROWS = (
    "sid,date,person_name,nationality,screener\n"
    "S1,2024-03-01,María Pérez López,GT,Ana Ruiz\n"
    "S2,2024-03-02,Juan Gómez,MX,Ana Ruiz\n"
)
PASSWORD = "correct horse battery"


@pytest.fixture
def opened(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Security]]:
    monkeypatch.setenv("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    with open_store(store_url) as store:
        yield store, Security(store)


def _import(store: Store, tmp_path: Path, dataset: str) -> None:
    mapping = tmp_path / f"{dataset}.yaml"
    mapping.write_text(MAPPING.format(dataset=dataset), encoding="utf-8")
    source = tmp_path / f"{dataset}.csv"
    source.write_text(ROWS, encoding="utf-8")
    assert import_file(store, source, mapping).rows_stored == 2


def _user(sec: Security, name: str, role: Role, groups: set[str] = frozenset()) -> Principal:  # type: ignore[assignment]
    return sec.accounts.add(name, PASSWORD, role, groups=groups, now=now()).principal()


def test_passwords_are_hashed_and_lockout_after_five_failures(opened: tuple[Store, Security]) -> None:
    _, sec = opened
    sec.accounts.add("ana", PASSWORD, "analyst", now=now())
    stored = sec.db.one("SELECT password_hash FROM app_user WHERE username = 'ana'")
    assert stored is not None
    assert stored[0].startswith("$argon2")
    assert PASSWORD not in stored[0]
    t = now()
    for _ in range(4):
        assert sec.accounts.authenticate("ana", "wrong password!", now=t) == (None, "bad")
    assert sec.accounts.authenticate("ana", "wrong password!", now=t) == (None, "locked")
    assert sec.accounts.authenticate("ana", PASSWORD, now=t)[1] == "locked"
    user, outcome = sec.accounts.authenticate("ana", PASSWORD, now=t + timedelta(minutes=11))
    assert outcome == "ok"
    assert user is not None
    assert user.username == "ana"
    assert sec.accounts.authenticate("nobody", PASSWORD, now=t) == (None, "bad")
    with pytest.raises(AccountError):
        sec.accounts.add("bob", "short", "analyst", now=t)
    with pytest.raises(AccountError):
        sec.accounts.add("bob", PASSWORD, "superuser", now=t)


def test_sessions_rotate_lock_when_idle_and_end_when_disabled(opened: tuple[Store, Security]) -> None:
    _, sec = opened
    user = sec.accounts.add("ana", PASSWORD, "analyst", now=now())
    t = now()
    first = sec.sessions.start(user.id, now=t, second_factor_done=True)
    second = sec.sessions.start(user.id, now=t, second_factor_done=True, replaces=first.token)
    assert sec.sessions.resume(first.token, now=t) is None
    active = sec.sessions.resume(second.token, now=t + timedelta(minutes=29))
    assert active is not None
    assert active.principal.username == "ana"
    assert sec.sessions.csrf_ok(active, second.csrf_token)
    assert not sec.sessions.csrf_ok(active, "forged")
    assert sec.sessions.resume(second.token, now=t + timedelta(minutes=29 + 31)) is None
    third = sec.sessions.start(user.id, now=t, second_factor_done=True)
    sec.accounts.set_disabled("ana", True)
    assert sec.sessions.resume(third.token, now=t) is None
    assert sec.db.one("SELECT count(*) FROM app_session WHERE token_hash = ?", (third.token,)) == (0,)


def test_api_tokens_are_scoped_and_revocable(opened: tuple[Store, Security]) -> None:
    _, sec = opened
    sec.accounts.add("ana", PASSWORD, "analyst", now=now())
    token = sec.accounts.create_token("ana", "script", {"read"}, now=now())
    principal = sec.accounts.principal_for_token(token, now=now())
    assert principal is not None
    assert {s.value for s in principal.scopes} == {"read"}
    with pytest.raises(AccountError):
        sec.accounts.create_token("ana", "too much", {"admin"}, now=now())
    (token_id, *_rest) = sec.accounts.tokens(principal.user_id)[0]
    assert sec.accounts.revoke_token(token_id, now=now())
    assert sec.accounts.principal_for_token(token, now=now()) is None


def test_audit_chain_detects_edits_deletions_and_survives_retention(opened: tuple[Store, Security]) -> None:
    _, sec = opened
    for i in range(5):
        sec.audit.record("ana", "search", detail={"q": f"query {i}"}, address="127.0.0.1")
    assert sec.audit.verify().ok
    assert sec.audit.verify().entries == 5
    sec.db.execute('UPDATE audit_log SET detail = \'{"q":"other"}\' WHERE seq = 3')
    bad = sec.audit.verify()
    assert not bad.ok
    assert bad.first_bad_seq == 3
    sec.db.execute("DELETE FROM audit_log WHERE seq = 3")
    assert sec.audit.verify().first_bad_seq == 3
    sec.db.execute("DELETE FROM audit_log")
    sec.audit.clock = lambda: now() - timedelta(days=400)
    for i in range(3):
        sec.audit.record("ana", "search", detail={"q": f"old {i}"})
    sec.audit.clock = now
    sec.audit.record("ana", "export")
    assert sec.audit.apply_retention(days=365) == 3
    sec.audit.record("ana", "search")
    check = sec.audit.verify()
    assert check.ok
    assert check.entries == 3
    assert [e.action for e in sec.audit.entries()] == ["search", "export", "retention"]
    sec.db.execute("UPDATE audit_log SET actor = 'someone else' WHERE action = 'export'")
    assert not sec.audit.verify().ok


def _search_in(guard: Guard, in_memory: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Searches from here on answered by the term index in memory, or by the store's SQL alone."""
    monkeypatch.setenv("CRUCE_SEARCH_IN_MEMORY", "1" if in_memory else "0")
    if in_memory:
        catch_up(guard.db, guard.schema)
        now_ = state(guard.db)
        assert search_memory.held(guard.db, now_.generation, now_.entities, wait=True) is not None
        monkeypatch.setattr("cruce.security.guard.find", None)  # the SQL path would fail


@pytest.mark.parametrize("in_memory", [False, True], ids=["sql", "memory"])
def test_markings_groups_and_protected_values(
    opened: tuple[Store, Security], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> None:
    store, sec = opened
    _import(store, tmp_path, "screenings-unit")
    _import(store, tmp_path, "screenings-open")
    t = now()
    sec.policies.set("screenings-unit", Marking.RED, {"victim-services"}, now=t)
    guard = Guard(store, sec, default_schema())
    _search_in(guard, in_memory, monkeypatch)
    admin = _user(sec, "root", Role.ADMIN)
    caseworker = _user(sec, "case", Role.CASEWORKER, {"victim-services"})
    other_caseworker = _user(sec, "case2", Role.CASEWORKER, {"elsewhere"})
    analyst = _user(sec, "ana", Role.ANALYST, {"victim-services"})
    viewer = _user(sec, "view", Role.VIEWER, {"victim-services"})
    assert guard.visible_datasets(admin) == ["screenings-open", "screenings-unit"]
    assert guard.visible_datasets(analyst) == ["screenings-open", "screenings-unit"]
    assert guard.visible_datasets(viewer) == ["screenings-open"]  # red: no viewers
    assert guard.visible_datasets(other_caseworker) == ["screenings-open"]  # red: not in the group

    hits = guard.search(admin, "maria perez")
    assert hits.total == 2  # both datasets hold a María Pérez López
    person_ids = [h.entity_id for h in hits.hits]
    unit_person = next(
        pid for pid in person_ids if (e := store.entity(pid)) is not None and e.datasets == ["screenings-unit"]
    )
    # a screened person is protected: her name shows to admin and to the caseworker of the unit
    for principal, sees in ((admin, True), (caseworker, True), (analyst, False)):
        entity = guard.entity(principal, unit_person)
        assert entity is not None
        assert (entity.first("name") == "María Pérez López") is sees, principal.username
        if not sees:
            assert entity.first("name") == REDACTED
            assert entity.first("nationality") == "GT"  # not identifying: kept for statistics
    assert guard.entity(viewer, unit_person) is None
    # search does not reveal protected names to those who may not see them
    assert guard.search(analyst, "perez").total == 0
    assert guard.search(caseworker, "perez").total == 1  # the open dataset has no caseworker group: redacted
    disclosures = sec.audit.entries(action="view_protected")
    assert {e.actor for e in disclosures} >= {"root", "case"}
    assert all("María" not in (e.detail or "") for e in sec.audit.entries(limit=1000))
    exported = list(guard.export_entities(analyst, "Person"))
    assert exported
    assert all(e.first("name") == REDACTED for e in exported)
    assert sec.audit.entries(action="export")[0].actor == "ana"


def test_token_last_use_is_recorded_to_the_minute(opened: tuple[Store, Security]) -> None:
    _, sec = opened
    sec.accounts.add("ana", PASSWORD, "analyst", now=now())
    token = sec.accounts.create_token("ana", "script", {"read"}, now=now())
    t = now()
    principal = sec.accounts.principal_for_token(token, now=t)
    assert principal is not None
    assert sec.accounts.tokens(principal.user_id)[0][4] == t
    sec.accounts.principal_for_token(token, now=t + timedelta(seconds=30))
    assert sec.accounts.tokens(principal.user_id)[0][4] == t  # not rewritten within the minute
    later = t + timedelta(minutes=2)
    sec.accounts.principal_for_token(token, now=later)
    assert sec.accounts.tokens(principal.user_id)[0][4] == later


def test_protected_people_follow_each_import(opened: tuple[Store, Security], tmp_path: Path) -> None:
    """The set of protected people is kept between requests, and a finished import renews it."""
    store, sec = opened
    guard = Guard(store, sec, default_schema())
    analyst = _user(sec, "ana", Role.ANALYST)
    _import(store, tmp_path, "screenings-a")
    first = guard.search(SYSTEM_PRINCIPAL, "maria perez").hits[0].entity_id
    assert guard.entity(analyst, first).first("name") == REDACTED  # type: ignore[union-attr]
    _import(store, tmp_path, "screenings-b")  # a second screening: another protected María
    second = next(h.entity_id for h in guard.search(SYSTEM_PRINCIPAL, "maria perez").hits if h.entity_id != first)
    assert guard.entity(analyst, second).first("name") == REDACTED  # type: ignore[union-attr]
    assert guard.search(analyst, "maria perez").total == 0


def test_a_request_reads_each_small_answer_once(opened: tuple[Store, Security], tmp_path: Path) -> None:
    store, sec = opened
    _import(store, tmp_path, "screenings-a")
    guard = Guard(store, sec, default_schema())
    with one_request():
        before = guard.policies()
        sec.policies.set("screenings-a", Marking.RED, {"victim-services"}, now=now())
        assert guard.policies() == before  # within one read request: the answer first given
        first = store.import_generation()
        assert first[:2] == (1, 1)
        _import(store, tmp_path, "screenings-b")
        assert store.import_generation() == first
    assert guard.policies()["screenings-a"].marking is Marking.RED  # the next request reads again
    assert store.import_generation()[:2] == (2, 2)


@pytest.fixture
def on_postgresql(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A PostgreSQL store alone: DuckDB serialises the writes of a process on purpose (optimistic
    transactions), so what the test below checks is PostgreSQL's."""
    monkeypatch.setenv("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    url = pg_url_or_skip()
    try:
        with open_store(url) as store:
            yield store
    finally:
        drop_pg_schema(url)


@pytest.mark.postgres
def test_a_long_transaction_does_not_hold_up_writes_on_postgresql(on_postgresql: Store) -> None:
    """PostgreSQL orders writes with its own locks: one connection's long transaction (a search
    postings load, an index catch-up) no longer makes every write of the process wait."""
    store = on_postgresql
    from cruce.security.db import AppDB

    other = store.sibling()  # type: ignore[attr-defined]
    try:
        inside, done = threading.Event(), threading.Event()

        def long_transaction() -> None:
            with AppDB(store).transaction() as db:
                db.one("SELECT count(*) FROM cruce_meta")
                inside.set()
                done.wait(10)

        holder = threading.Thread(target=long_transaction)
        holder.start()
        assert inside.wait(10)
        started = time.monotonic()
        Security(other).audit.record("test", "probe")
        took = time.monotonic() - started
        done.set()
        holder.join(10)
        assert took < 5
    finally:
        other.close()
