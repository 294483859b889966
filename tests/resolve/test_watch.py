"""Watchlists: an entity and a name watched before a later import; incremental linking after it
raises alerts for the watcher — not for a user who may not see the dataset; marking seen; the
command line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cruce.cli import main
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import resolve
from cruce.resolve.incremental import link_imports
from cruce.resolve.store import ResolutionStore
from cruce.resolve.watch import WatchError, Watchlists
from cruce.schema.loader import default_schema
from cruce.security import Guard, Marking, Security
from cruce.security.audit import now
from cruce.store import open_store
from cruce.synth import generate

PASSWORD = "correct horse battery"


def _files(scenario: Path) -> list[tuple[Path, str]]:
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    return [(scenario / e["path"], e["mapping"]) for e in manifest["files"]]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenario")
    generate(out, scale=1500, seed=3, flows=["firearms"])
    return out


@pytest.fixture(scope="module")
def first_part(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str]:
    """A store with the sales imported and resolved (and two users: ana may see the traces,
    otro may not); and, found on a copy, a trace record that the traces will join to a sales
    record's entity: (store, sales record, trace record, the trace record's name)."""
    (first, first_mapping), (second, second_mapping) = _files(scenario)
    db = tmp_path_factory.mktemp("first") / "store.duckdb"
    with open_store(str(db)) as store:
        import_file(store, first, first_mapping)
        resolve(store, "Person")
        security = Security(store)
        t = now()
        security.policies.set("firearm-traces", Marking.AMBER, {"atf"}, now=t)
        security.accounts.add("ana", PASSWORD, "analyst", groups={"atf"}, now=t)
        security.accounts.add("otro", PASSWORD, "analyst", groups={"other"}, now=t)
        before = ResolutionStore(store).clusters("Person")
    probe = db.parent / "probe.duckdb"
    shutil.copy(db, probe)
    with open_store(str(probe)) as store:
        import_file(store, second, second_mapping)
        [result] = link_imports(store, types=["Person"])
        after = ResolutionStore(store).clusters("Person")
        record = next(r for r in sorted(result.touched) if r not in before and after[r] in set(before.values()))
        old = next(r for r in sorted(before) if after.get(r) == after[record])
        name = next(st.value for st in store.statements(record) if st.prop == "name")
    return db, old, record, name


@pytest.fixture
def db(first_part: tuple[Path, str, str, str], tmp_path: Path) -> str:
    copy = tmp_path / "store.duckdb"
    shutil.copy(first_part[0], copy)
    return str(copy)


def test_later_import_alerts_the_watcher(scenario: Path, first_part: tuple[Path, str, str, str], db: str) -> None:
    _db, old, record, name = first_part
    (_first, _m), (second, second_mapping) = _files(scenario)
    with open_store(db) as store:
        watchlists = Watchlists(store)
        by_entity = watchlists.add("ana", "entity", old)
        by_name = watchlists.add("ana", "name", name.upper())  # case and accents do not matter
        blind = watchlists.add("otro", "entity", old)
        later = import_file(store, second, second_mapping)
        results = link_imports(store, [later.import_id])
        assert sum(r.alerts for r in results) >= 2
        alerts = watchlists.alerts("ana")
        entity_alerts = [a for a in alerts if a.watch_id == by_entity.id]
        assert record in {a.entity_id for a in entity_alerts}
        hit = next(a for a in entity_alerts if a.entity_id == record)
        assert hit.import_id == later.import_id
        assert hit.probability >= ResolutionStore(store).current_run("Person").threshold  # type: ignore[union-attr]
        assert hit.kind == "entity"
        named = next(a for a in alerts if a.watch_id == by_name.id and a.entity_id == record)
        assert named.probability >= 0.85
        # otro may not see the traces: no alert about a trace record for them
        assert watchlists.alerts("otro") == []
        assert blind.active
        # nothing new: linking again raises nothing twice
        assert sum(r.alerts for r in link_imports(store)) == 0
        assert len(watchlists.alerts("ana")) == len(alerts)
        # marking seen
        assert watchlists.mark_seen("ana", [hit.id]) != 0
        unseen = watchlists.alerts("ana", unseen_only=True)
        assert hit.id not in {a.id for a in unseen}
        assert len(unseen) == len(alerts) - 1
        assert watchlists.mark_seen("otro", [named.id]) == 0  # not theirs
        assert watchlists.mark_seen("ana") == len(alerts) - 1
        assert watchlists.alerts("ana", unseen_only=True) == []
        # read through Guard for the user
        guard = Guard(store, Security(store), default_schema())
        ana = Security(store).accounts.find("ana").principal()  # type: ignore[union-attr]
        assert {a.id for a, _e in watchlists.view(guard, ana)} == {a.id for a in alerts}


def test_removed_watch_raises_nothing(scenario: Path, first_part: tuple[Path, str, str, str], db: str) -> None:
    _db, old, _record, name = first_part
    (_first, _m), (second, second_mapping) = _files(scenario)
    with open_store(db) as store:
        watchlists = Watchlists(store)
        watch = watchlists.add("ana", "name", name)
        assert watchlists.remove("ana", watch.id)
        assert not watchlists.remove("ana", watch.id)
        assert not watchlists.remove("otro", watchlists.add("ana", "entity", old).id)  # not theirs
        assert [w.kind for w in watchlists.watches("ana")] == ["entity"]
        assert len(watchlists.watches("ana", include_inactive=True)) == 2
        import_file(store, second, second_mapping)
        link_imports(store)
        assert all(a.watch_id != watch.id for a in watchlists.alerts("ana"))


def test_bad_watches_are_refused(db: str) -> None:
    with open_store(db) as store:
        watchlists = Watchlists(store)
        for kind, target, threshold in (("thing", "x", None), ("entity", "not-an-id", None), ("name", " ", None)):
            with pytest.raises(WatchError):
                watchlists.add("ana", kind, target, threshold)
        with pytest.raises(WatchError):
            watchlists.add("ana", "name", "Juan", 1.5)


def _cli(*args: str) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli(
    scenario: Path, first_part: tuple[Path, str, str, str], db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _db, old, record, _name = first_part
    (_first, _m), (second, second_mapping) = _files(scenario)
    assert _cli("--db", db, "watch", "add", "--user", "ana", "--entity", old) == 0
    assert "added for ana" in capsys.readouterr().out
    assert _cli("--db", db, "watch", "add", "--user", "ana", "--name", "Pepe Ramírez", "--threshold", "0.9") == 0
    assert _cli("--db", db, "watch", "add", "--user", "nobody", "--name", "Pepe") != 0
    assert _cli("--db", db, "watch", "add", "--user", "ana") != 0
    capsys.readouterr()
    assert _cli("--db", db, "watch", "list", "--user", "ana") == 0
    listed = capsys.readouterr().out
    assert "Pepe" in listed
    assert old.split("-")[0] in listed
    assert _cli("--db", db, "import", str(second), "--mapping", second_mapping, "--resolve") == 0
    assert "watchlist alerts" in capsys.readouterr().out
    assert _cli("--db", db, "watch", "alerts", "--user", "ana", "--mark-seen") == 0
    out = capsys.readouterr().out
    assert record.split("-")[0] in out
    assert "alerts marked seen" in out
    assert _cli("--db", db, "watch", "alerts", "--user", "ana", "--unseen") == 0
    assert record.split("-")[0] not in capsys.readouterr().out
    with open_store(db) as store:
        watch = Watchlists(store).watches("ana")[0]
    assert _cli("--db", db, "watch", "remove", watch.id, "--user", "ana") == 0
    assert _cli("--db", db, "watch", "remove", watch.id, "--user", "ana") != 0
