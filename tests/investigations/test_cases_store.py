"""The investigation tables on both backends: a case with its lead, members (never without a lead),
records added once, notes encrypted at rest with their mentions, tasks, and the history read back
from the audit log by the case's id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from cruce.investigations.access import Desk
from cruce.investigations.store import CaseError, mentions_in
from cruce.schema.loader import default_schema
from cruce.security import Guard, Security
from cruce.security.audit import now
from cruce.store import open_store
from cruce.store.base import Store

PASSWORD = "correct horse battery"


@pytest.fixture
def desk(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Desk, Desk]]:
    monkeypatch.setenv("CRUCE_SECRET_KEY_FILE", str(tmp_path / "cruce.key"))
    store = open_store(store_url)
    security = Security(store)
    guard = Guard(store, security, default_schema())
    for name, role in (("ana", "analyst"), ("beto", "analyst")):
        security.accounts.add(name, PASSWORD, role, now=now())
    users = [security.accounts.find(n) for n in ("ana", "beto")]
    assert all(users)
    yield store, Desk(guard, users[0].principal()), Desk(guard, users[1].principal())  # type: ignore[union-attr]
    store.close()


def test_a_case_its_members_notes_tasks_and_history(desk: tuple[Store, Desk, Desk]) -> None:
    store, ana, beto = desk
    case = ana.create("Operación Frontera", "ruta", "amber")
    assert [(m.username, m.role) for m in ana.open(case.id).members] == [("ana", "lead")]
    assert beto.visible_cases() == []
    ana.set_member(case.id, "beto", "editor")
    assert [c.id for c, _role in beto.visible_cases()] == [case.id]
    with pytest.raises(CaseError):
        ana.remove_member(case.id, "ana")  # the only lead
    note = beto.add_note(case.id, "Hablar con @ana sobre la ruta; cc @nadie")
    assert note.mentions == ("ana", "nadie")
    sealed = store._fetch("SELECT body_encrypted FROM investigation_note")  # type: ignore[attr-defined]
    assert "ruta" not in str(sealed)  # encrypted at rest
    assert [(c.id, n.body) for c, n in ana.mentions()] == [(case.id, note.body)]
    task = beto.add_task(case.id, "Pedir trazas", "ana", date(2030, 1, 31))
    assert ana.update_task(case.id, task.id, state="done").state == "done"
    search = ana.add_search(case.id, "  glock   sonora ", {"type": "Firearm", "nonsense": "x"})
    assert search.ref == "/search?q=glock+sonora&type=Firearm"
    assert ana.add_search(case.id, "glock sonora", {"type": "Firearm"}).id == search.id  # kept once
    with pytest.raises(CaseError):
        ana.add_view(case.id, "https://example.org/", "elsewhere")
    actions = [e.action for e in ana.activity(ana.open(case.id, audit=False))]
    assert actions[-1] == "investigation_create"
    assert {"investigation_member", "investigation_note", "investigation_task", "investigation_add"} <= set(actions)


def test_mentions_are_user_names_not_mail_addresses() -> None:
    assert mentions_in("@Ana, see ana@example.org and @beto.") == ("ana", "beto")
