"""The graph's tables, its snapshot kept up to date, the same graph on PostgreSQL, and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.compute as pc
import pytest
from tests.conftest import drop_pg_schema, pg_url_or_skip
from tests.graph.conftest import import_scenario

from cruce.cli import main
from cruce.graph import build as graph_build
from cruce.graph.build import KEEP_RECORDS, build
from cruce.graph.graph import open_graph
from cruce.i18n import set_language
from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import judge
from cruce.resolve.store import ResolutionStore
from cruce.store import open_store

EXTRA = """
name: extra-people
dataset: extra
entities:
  person:
    schema: Person
    key: [pid]
    properties:
      name: name
  org:
    schema: Organization
    key: [org]
    properties:
      name: org
  membership:
    schema: MemberOf
    key: [pid, org, since]
    properties:
      member: {entity: person}
      organization: {entity: org}
      start_date: {column: since, format: "%Y-%m-%d"}
"""


def test_parallel_records_collapse_into_one_edge(db: str, tmp_path: Path) -> None:
    """Two membership records of one person in one organization: one edge, count 2, their time span."""
    (tmp_path / "m.yaml").write_text(EXTRA, encoding="utf-8")
    rows = "pid,name,org,since\nX1,Ana Ruiz,Los Altos,2021-05-01\nX1,Ana Ruiz,Los Altos,2019-02-01\n"
    (tmp_path / "a.csv").write_text(rows, encoding="utf-8")
    with open_store(db) as store:
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        snap = build(store, tmp_path / "graph")
    ids = snap.nodes["id"].to_pylist()
    pairs = [
        (ids[s], ids[d], t)
        for s, d, t in zip(*(snap.edges[c].to_pylist() for c in ("src", "dst", "type")), strict=True)
    ]
    assert len(pairs) == len(set(pairs)), "one edge per pair and type"
    ours = [
        r
        for r in snap.edges.filter(pc.equal(snap.edges["type"], "member_of")).to_pylist()
        if r["datasets"] == ["extra"]
    ]
    assert len(ours) == 1
    assert ours[0]["count"] == 2
    assert len(ours[0]["records"]) == 2
    assert str(ours[0]["first"]) == "2019-02-01"
    assert str(ours[0]["last"]) == "9999-12-31"


def test_an_edge_keeps_its_first_records_by_id_and_lists_are_the_same_in_chunks(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More parallel records than an edge keeps: the count says all, the records are the first
    ``KEEP_RECORDS`` by id; and the lists made a few edges at a time equal those made at once."""
    (tmp_path / "m.yaml").write_text(EXTRA, encoding="utf-8")
    many = KEEP_RECORDS + 5
    rows = "".join(f"X1,Ana Ruiz,Los Altos,20{10 + i:02d}-01-01\n" for i in range(many))
    (tmp_path / "a.csv").write_text("pid,name,org,since\n" + rows, encoding="utf-8")
    with open_store(db) as store:
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        whole = build(store, tmp_path / "graph")
        monkeypatch.setattr(graph_build, "LIST_CHUNK_EDGES", 3)
        chunked = build(store, tmp_path / "graph")
        stored = store._fetch(  # type: ignore[attr-defined]
            "SELECT DISTINCT CAST(s.entity_id AS VARCHAR) FROM statement s JOIN property p ON p.prop_id = s.prop_id "
            "WHERE p.schema = 'MemberOf' AND s.import_no = (SELECT max(no) FROM import_run)"
        )
    ours = [r for r in whole.edges.to_pylist() if r["type"] == "member_of" and r["datasets"] == ["extra"]]
    assert len(ours) == 1
    assert ours[0]["count"] == many
    members = sorted(str(r[0]) for r in stored)
    assert len(members) == many
    assert ours[0]["records"] == members[:KEEP_RECORDS], "the first records by id, none skipped"
    assert whole.edges.num_rows > 3
    assert chunked.edges["records"].num_chunks > 1
    assert chunked.edges.equals(whole.edges)


def test_snapshot_is_rebuilt_when_the_store_changes(db: str, tmp_path: Path) -> None:
    with open_store(db) as store:
        first = open_graph(store)
        assert first.rebuilt
        assert (first.folder / "meta.json").exists()
        again = open_graph(store)
        assert not again.rebuilt
        assert again.graph is first.graph
        # an analyst's decision changes the canonical entities: the graph follows
        clusters = ResolutionStore(store).clusters("Person")
        groups: dict[str, list[str]] = {}
        for record, canonical in clusters.items():
            groups.setdefault(canonical, []).append(record)
        a, b = next(sorted(m)[:2] for m in groups.values() if len(m) >= 2)
        judge(store, a, b, "not_same", "tester")
        after = open_graph(store)
        assert after.rebuilt
        assert after.graph.n > first.graph.n  # a record split off is an entity of its own
        report = after.graph.snapshot.stage
        assert report is not None
        assert report.read_imports == 0
        # a new import too
        (tmp_path / "m.yaml").write_text(EXTRA, encoding="utf-8")
        (tmp_path / "a.csv").write_text("pid,name,org,since\nZ9,Zoe Paz,Nadie,2020-01-01\n", encoding="utf-8")
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        newest = open_graph(store)
        assert newest.rebuilt
        assert newest.graph.m == after.graph.m + 1
        report = newest.graph.snapshot.stage
        assert report is not None
        assert (report.read_imports, report.restarted) == (1, False)
        assert report.kept_imports == len(store.imports()) - 1
    # a fresh process finds the snapshot on disk, up to date
    with open_store(db) as store:
        from cruce.graph import graph as module

        module._LOADED.clear()
        assert not open_graph(store).rebuilt


def test_while_an_import_job_runs_the_graph_before_it_answers(db: str, tmp_path: Path) -> None:
    """A network question asked while an import job runs gets the graph as it was, at once; the
    job brings it up to date (``current``), and another process's build is not waited for either."""
    import fcntl

    from cruce.jobs.queue import JobQueue

    (tmp_path / "m.yaml").write_text(EXTRA, encoding="utf-8")
    (tmp_path / "a.csv").write_text("pid,name,org,since\nZ9,Zoe Paz,Nadie,2020-01-01\n", encoding="utf-8")
    with open_store(db) as store:
        before = open_graph(store)
        queue = JobQueue(store)
        job = queue.enqueue("import", "analyst", {"path": "a.csv"})
        assert queue.claim("test-worker") is not None
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        during = open_graph(store)
        assert not during.rebuilt
        assert during.graph is before.graph
        by_the_job = open_graph(store, current=True)
        assert by_the_job.rebuilt
        assert by_the_job.graph.m == before.graph.m + 1
        assert queue.finish(job.id, "test-worker", {})
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml", dataset="extra-again")
        with open(f"{by_the_job.folder}.lock", "a+b") as other_process:  # builds into the folder meanwhile
            fcntl.flock(other_process, fcntl.LOCK_EX)
            assert open_graph(store).graph is by_the_job.graph
            fcntl.flock(other_process, fcntl.LOCK_UN)
        after = open_graph(store)
        assert after.rebuilt
        assert after.graph.m == by_the_job.graph.m + 1


def test_an_update_after_an_import_equals_a_build_from_scratch(db: str, tmp_path: Path) -> None:
    """The stage read import by import gives the graph that reading the whole store gives."""
    with open_store(db) as store:
        build(store, tmp_path / "kept")
        (tmp_path / "m.yaml").write_text(EXTRA, encoding="utf-8")
        rows = "pid,name,org,since\nX1,Ana Ruiz,Los Altos,2021-05-01\nX2,Eva Sol,Los Altos,2018-03-01\n"
        (tmp_path / "a.csv").write_text(rows, encoding="utf-8")
        import_file(store, tmp_path / "a.csv", tmp_path / "m.yaml")
        # a part left by a killed build is not in the manifest, so never read
        (tmp_path / "kept" / "stage" / "part-99999999-0000.tmp").mkdir()
        updated = build(store, tmp_path / "kept")
        fresh = build(store, tmp_path / "fresh")
    assert updated.stage is not None
    assert updated.stage.read_imports == 1
    assert fresh.stage is not None
    assert fresh.stage.read_imports == updated.stage.kept_imports + 1
    assert updated.nodes.to_pylist() == fresh.nodes.to_pylist()
    assert updated.edges.to_pylist() == fresh.edges.to_pylist()


@pytest.mark.postgres
def test_the_same_graph_on_postgresql(scenario: Path, tmp_path: Path) -> None:
    url = pg_url_or_skip()
    try:
        import_scenario(scenario, url)
        import_scenario(scenario, str(tmp_path / "plain.duckdb"))
        with open_store(url) as pg, open_store(str(tmp_path / "plain.duckdb")) as duck:
            a, b = build(pg, tmp_path / "pg"), build(duck, tmp_path / "duck")
    finally:
        drop_pg_schema(url)

    def edges(snap):  # type: ignore[no-untyped-def]
        ids = snap.nodes["id"].to_pylist()
        return sorted(
            (ids[r["src"]], ids[r["dst"]], r["type"], r["count"], str(r["first"]), str(r["last"]), r["flows"])
            for r in snap.edges.select(["src", "dst", "type", "count", "first", "last", "flows"]).to_pylist()
        )

    assert a.nodes.num_rows == b.nodes.num_rows > 1000
    assert edges(a) == edges(b)
    assert (
        a.nodes.select(["id", "schema", "protected", "flows"]).to_pylist()
        == b.nodes.select(["id", "schema", "protected", "flows"]).to_pylist()
    )


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        set_language("en")
    return code, capsys.readouterr().out


def test_command_line(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "--db", db, "graph", "build", "--json")
    assert code == 0
    assert json.loads(out)["edges"] > 1000
    code, out = _run(capsys, "--db", db, "graph", "cross-flow", "--type", "Person", "--json", "--limit", "3")
    people = json.loads(out)
    assert code == 0
    assert len(people) == 3
    assert all(len(p["flows"]) >= 2 for p in people)
    a, b = people[0]["id"], people[1]["id"]
    code, out = _run(capsys, "--db", db, "graph", "path", a, b, "--k", "2")
    assert code == 0
    assert "Path 1" in out
    code, out = _run(capsys, "--db", db, "graph", "neighbours", a, "--hops", "2", "--json")
    assert code == 0
    assert json.loads(out)["center"] == a
    code, out = _run(capsys, "--db", db, "graph", "neighbours", a, "--since", "2019-01-01", "--until", "2019-12-31")
    assert code == 0
    for command in (["communities", "--limit", "3"], ["key-players", "--measure", "degree"], ["bridges"],
                    ["growth", "2017-01-01", "2019-01-01"]):  # fmt: skip
        code, out = _run(capsys, "--db", db, "graph", *command)
        assert code == 0, (command, out)
    code, out = _run(capsys, "--db", db, "--lang", "es", "graph", "neighbours", "00000000-0000-0000-0000-000000000000")
    assert code == 2
    code, _out = _run(capsys, "--db", db, "graph", "key-players", "--measure", "fame")
    assert code == 2
