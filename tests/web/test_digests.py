"""Place and search watches and the watch digest: an import raises alerts for the watches of each
new kind (need-to-know: not for a user who may not see or read the record); the digest lists
exactly the matches since the previous one, in the user's language, each record as the user may
see it (a victim's name redacted for an analyst); the e-mail HTML loads nothing; the API, the
page and the command line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cruce.cli import main
from cruce.ingest.pipeline import import_file
from cruce.jobs.imports import after_import
from cruce.resolve import digest as digests
from cruce.resolve.watch import Watch, WatchError, Watchlists
from cruce.resolve.watch_match import place_target
from cruce.security import Marking, Security
from cruce.security.audit import now
from cruce.store import open_store
from tests.web.conftest import PASSWORD, VICTIM, World

PLACED_MAPPING = """
name: test-placed-screenings
dataset: screenings-a
entities:
  screening:
    schema: Screening
    key: [sid]
    properties:
      name: sid
      date: {column: date, format: "%Y-%m-%d"}
      state: state
      municipality: municipality
      person: {entity: person}
  person:
    schema: Person
    key: [sid]
    properties:
      name: person_name
"""
HEADER = "sid,date,state,municipality,person_name\n"
NEW_VICTIM = "Lucía Romero Díaz"


def _import(world: World, name: str, rows: str) -> str:
    (world.tmp / f"{name}.yaml").write_text(PLACED_MAPPING, encoding="utf-8")
    (world.tmp / f"{name}.csv").write_text(HEADER + rows, encoding="utf-8")
    store = world.view.store
    result = import_file(store, world.tmp / f"{name}.csv", world.tmp / f"{name}.yaml")
    after_import(store, result.import_id, "tests")  # what an import job does next
    return result.import_id


def _record(world: World, sid: str, schema: str) -> str:
    rows = world.view.store._fetch(
        "SELECT DISTINCT CAST(s.entity_id AS VARCHAR) FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "WHERE p.schema = ? AND p.prop = 'name' AND s.value = ?",
        (schema, sid),
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])


def _principal(world: World, who: str) -> Any:
    return world.view.security.accounts.find(who).principal()


@pytest.fixture(scope="module")
def watched(world: World) -> dict[str, Watch]:
    """Watches of each new kind, then an import into the victims' dataset (Sonora and Chihuahua);
    the caseworker reads Spanish."""
    accounts = world.view.security.accounts
    accounts.set_language(accounts.find("caseworker").id, "es")
    wl = Watchlists(world.view.store)
    made = {
        "state": wl.add("caseworker", "place", "Sonora"),
        "town": wl.add("caseworker", "place", "Nogales, Sonora"),
        "words": wl.add("caseworker", "search", "lucia romero"),
        "analyst_state": wl.add("analyst", "place", "MX-SON"),
        "analyst_words": wl.add("analyst", "search", "Lucía Romero"),
        "viewer_state": wl.add("viewer", "place", "MX-SON"),
    }
    _import(
        world, "placed-1",
        f"S7,2024-05-01,Sonora,Nogales,{NEW_VICTIM}\nS8,2024-05-02,Chihuahua,Juárez,Pedro Soto\n"
        "S9,2024-05-03,SON,Hermosillo,Ana Gil\n",
    )  # fmt: skip
    return made


def _alerted(world: World, who: str, watch: Watch) -> set[str]:
    return {a.entity_id for a in Watchlists(world.view.store).alerts(who) if a.watch_id == watch.id}


def test_places_are_watched_as_codes() -> None:
    assert place_target("Sonora") == "MX-SON"
    assert place_target("Nogales, Sonora") == "MX-SON:nogales"
    assert place_target("MX-SON:Nogales") == "MX-SON:nogales"
    assert place_target("Ciudad Juárez") == "ciudad juarez"
    with pytest.raises(WatchError):
        place_target("Nogales, Atlantis")


def test_place_and_search_watches_raise_alerts(world: World, watched: dict[str, Watch]) -> None:
    s7, s8, s9 = (_record(world, sid, "Screening") for sid in ("S7", "S8", "S9"))
    victim = _record(world, NEW_VICTIM, "Person")
    assert _alerted(world, "caseworker", watched["state"]) == {s7, s9}
    assert s8 not in _alerted(world, "caseworker", watched["state"])
    assert _alerted(world, "caseworker", watched["town"]) == {s7}
    assert _alerted(world, "caseworker", watched["words"]) == {victim}  # accents and case do not matter
    assert _alerted(world, "analyst", watched["analyst_state"]) == {s7, s9}
    # the analyst may not read the protected person's name: no alert reveals it
    assert _alerted(world, "analyst", watched["analyst_words"]) == set()
    # the viewer may not see the victims' dataset at all
    assert _alerted(world, "viewer", watched["viewer_state"]) == set()
    # the same records again raise nothing twice
    from cruce.resolve.watch_match import alert_after_import

    assert alert_after_import(world.view.store, [a.import_id for a in Watchlists(world.view.store).alerts("analyst")
                                                 if a.import_id][:1]) == 0  # fmt: skip


def _no_external(html: str) -> None:
    assert not re.search(r"https?://|//[a-z]|<link|<script|<img|src=|url\(|@import", html, re.IGNORECASE)


def test_digest_lists_the_new_matches_in_the_users_language(world: World, watched: dict[str, Watch]) -> None:
    store, guard = world.view.store, world.view.guard
    caseworker = _principal(world, "caseworker")
    first = digests.make(store, guard, caseworker, "daily")
    wl = Watchlists(store)
    assert {i.alert.id for i in first.items} == {a.id for a in wl.alerts("caseworker")}
    html = digests.email_html(first)
    assert '<html lang="es">' in html
    assert "Evaluación" in html
    assert "Vigilado" in html
    assert NEW_VICTIM in html  # the caseworker's caseload
    _no_external(html)
    # nothing new since: an empty digest; then a later import's matches only
    assert digests.collect(store, guard, caseworker, "daily").items == []
    _import(world, "placed-2", "S10,2024-06-01,Sonora,Cananea,Rosa Ruiz\n")
    s10 = _record(world, "S10", "Screening")
    second = digests.make(store, guard, caseworker, "daily")
    assert sorted((i.alert.entity_id, i.alert.watch_id) for i in second.items) == [(s10, watched["state"].id)]
    # another period has its own previous digest: the weekly one still holds everything of the week
    assert len(digests.collect(store, guard, caseworker, "weekly").items) == len(first.items) + 1


def test_digest_is_redacted_for_an_analyst(world: World, watched: dict[str, Watch]) -> None:
    store, guard = world.view.store, world.view.guard
    wl = Watchlists(store)
    watch = wl.add("analyst", "entity", world.victim_id)
    wl.write_alerts([(watch, world.victim_id, 0.97, "an-import")])
    made = digests.collect(store, guard, _principal(world, "analyst"), "weekly")
    assert world.victim_id in {i.alert.entity_id for i in made.items}
    html = digests.email_html(made)
    assert '<html lang="en">' in html
    assert "Screening" in html
    assert VICTIM not in html
    assert NEW_VICTIM not in html
    _no_external(html)


def test_digest_api_and_page(world: World, watched: dict[str, Watch]) -> None:
    client = world.client()
    answer = client.get("/api/v1/digest?period=weekly", headers=world.api("caseworker"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["language"] == "es"
    assert body["period"] == "weekly"
    expected = digests.collect(world.view.store, world.view.guard, _principal(world, "caseworker"), "weekly")
    assert [m["id"] for m in body["matches"]] == [i.alert.id for i in expected.items]
    assert {m["kind"] for m in body["matches"]} >= {"place", "search"}
    analyst = client.get("/api/v1/digest?period=weekly", headers=world.api("analyst")).json()
    assert analyst["matches"]
    assert VICTIM not in str(analyst)
    assert NEW_VICTIM not in str(analyst)
    assert client.get("/api/v1/digest?period=monthly", headers=world.api("analyst")).status_code == 422
    alerts_page = world.session("caseworker").get("/alerts")
    assert alerts_page.status_code == 200
    assert "MX-SON:nogales" in alerts_page.text
    assert "/search?q=lucia%20romero" in alerts_page.text
    page = world.session("caseworker").get("/digest?period=weekly")
    assert page.status_code == 200
    assert "Vigilado" in page.text
    assert NEW_VICTIM in page.text
    assert world.session("analyst").get("/digest?period=monthly").status_code == 422
    analyst_page = world.session("analyst").get("/digest?period=weekly")
    assert analyst_page.status_code == 200
    assert VICTIM not in analyst_page.text
    # a place watch from the alerts page's form
    session = world.session("analyst")
    from tests.web.conftest import csrf_of

    form = session.get("/alerts")
    added = session.post(
        "/watches", data={"csrf_token": csrf_of(form.text), "kind": "place", "target": "Chihuahua"},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    assert "MX-CHH" in session.get("/alerts").text


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class _FakeSmtp:
    sent: ClassVar[list[Any]] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> _FakeSmtp:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def starttls(self) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: Any) -> None:
        _FakeSmtp.sent.append(message)


def test_cli_digest(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "cli.duckdb")
    (tmp_path / "m.yaml").write_text(PLACED_MAPPING, encoding="utf-8")
    (tmp_path / "a.csv").write_text(HEADER + "S1,2024-05-01,Sonora,Nogales,Marta Vela\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text(HEADER + "S2,2024-05-02,Sonora,Nogales,Elena Ríos\n", encoding="utf-8")
    with open_store(db) as store:
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        security = Security(store)
        security.policies.set("screenings-a", Marking.AMBER, {"unit"}, now=now())
        security.accounts.add("eva", PASSWORD, "caseworker", groups={"unit"}, language="es", now=now())
    assert _cli("--db", db, "watch", "add", "--user", "eva", "--place", "Nogales, Sonora") == 0
    assert _cli("--db", db, "watch", "add", "--user", "eva", "--search", "elena rios") == 0
    capsys.readouterr()
    assert _cli("--db", db, "import", str(tmp_path / "b.csv"), "--mapping", str(tmp_path / "m.yaml")) == 0
    assert "2 watch alerts raised" in capsys.readouterr().out
    out = tmp_path / "digests"
    assert _cli("--db", db, "watch", "digest", "--user", "eva", "--period", "weekly", "--out", str(out)) == 0
    assert "eva: 2" in capsys.readouterr().out
    [written] = list(out.glob("*.html"))
    html = written.read_text(encoding="utf-8")
    assert "Elena Ríos" in html
    assert "Marta Vela" not in html
    assert '<html lang="es">' in html
    _no_external(html)
    # mail: refused unless configured; sent through SMTP when it is
    monkeypatch.delenv("CRUCE_SMTP_HOST", raising=False)
    assert _cli("--db", db, "watch", "digest", "--user", "eva", "--out", str(out), "--send", "--to", "e@x.org") != 0
    monkeypatch.setenv("CRUCE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(digests.smtplib, "SMTP", _FakeSmtp)
    _FakeSmtp.sent.clear()
    assert _cli("--db", db, "watch", "digest", "--user", "eva", "--period", "weekly", "--out", str(out),
                "--send", "--to", "e@x.org") == 0  # fmt: skip
    assert "eva: 0" in capsys.readouterr().out  # nothing new since the previous weekly digest
    [message] = _FakeSmtp.sent
    assert message["To"] == "e@x.org"
    assert '<html lang="es">' in message.get_body(("html",)).get_content()
    assert _cli("--db", db, "watch", "digest", "--user", "eva", "--period", "monthly") != 0


def test_on_each_backend(fresh: World) -> None:
    """The store's digest table (migration 0015) and the records an import brought, on DuckDB and PostgreSQL."""
    store, guard = fresh.view.store, fresh.view.guard
    watch = Watchlists(store).add("caseworker", "place", "Nogales, Sonora")
    _import(fresh, "placed-pg", "S20,2024-05-01,Sonora,Nogales,Inés Paz\nS21,2024-05-01,Sonora,Cananea,Luz Mar\n")
    s20 = _record(fresh, "S20", "Screening")
    assert _alerted(fresh, "caseworker", watch) == {s20}
    made = digests.make(store, guard, _principal(fresh, "caseworker"), "daily")
    assert [i.alert.entity_id for i in made.items] == [s20]
    assert digests.Digests(store).last("caseworker", "daily") == made.until
    assert digests.collect(store, guard, _principal(fresh, "caseworker"), "daily").items == []
