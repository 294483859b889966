"""Exchange: GraphML, GEXF, Cytoscape, CSV, i2 and FollowTheMoney out, FollowTheMoney in — round trips."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import networkx as nx  # type: ignore[import-untyped]
import pytest
from tests.graph.test_api_graph import OPEN_VICTIM
from tests.graph.test_api_graph import world as world  # the API tests' world: roles, markings, a protected person
from tests.web.conftest import VICTIM, World
from tests.web.conftest import secret_key_file as secret_key_file
from typer.testing import CliRunner

from cruce.cli import build_app
from cruce.graph import exchange
from cruce.graph.exchange_ftm import TYPES, import_ftm
from cruce.graph.graph import LinkGraph, open_graph
from cruce.graph.present import StoreNamer
from cruce.security.guard import caption
from cruce.security.policy import REDACTED
from cruce.store import open_store

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def graph(db: str) -> Iterator[tuple[object, LinkGraph]]:
    with open_store(db) as store:
        yield store, open_graph(store).graph


def _export(store: object, g: LinkGraph, fmt: str, **options: object) -> tuple[str, exchange.Exported]:
    out = io.StringIO()
    done = exchange.export(store, g, StoreNamer(store), fmt, out, **options)  # type: ignore[arg-type]
    return out.getvalue(), done


def _expected(store: object, g: LinkGraph) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    """Every node's label and every edge (source, type, target), straight from the graph and the store."""
    nodes = list(range(g.n))
    labels = StoreNamer(store).labels(g, nodes)  # type: ignore[arg-type]
    edges = {
        (g.id_of(int(s)), g.etypes[int(t)], g.id_of(int(d))) for s, t, d in zip(g.src, g.etype, g.dst, strict=True)
    }
    return {g.id_of(i): labels[i].caption for i in nodes}, edges


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graphml_and_gexf_read_back_with_networkx(graph: tuple[object, LinkGraph], tmp_path: Path, fmt: str) -> None:
    store, g = graph
    text, done = _export(store, g, fmt)
    path = tmp_path / f"graph.{fmt}"
    path.write_text(text, encoding="utf-8")
    read = nx.read_graphml(path, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(path)
    labels, edges = _expected(store, g)
    assert (done.nodes, done.edges) == (g.n, g.m) == (read.number_of_nodes(), read.number_of_edges())
    assert {n: a["label"] for n, a in read.nodes(data=True)} == labels
    assert {(s, a["type"], t) for s, t, a in read.edges(data=True)} == edges
    by_key = {(g.id_of(int(g.src[e])), g.etypes[int(g.etype[e])], g.id_of(int(g.dst[e]))): e for e in range(g.m)}
    for s, t, a in read.edges(data=True):
        e = by_key[(s, a["type"], t)]
        assert a["count"] == int(g.count[e])
        assert a["datasets"] == ";".join(g.edge_datasets(e))
    person = next(i for i in range(g.n) if g.schema_of(i) == "Person")
    assert read.nodes[g.id_of(person)]["type"] == "Person"
    assert read.nodes[g.id_of(person)]["degree"] == int(g.degree[person])


def test_a_neighbourhood_as_cytoscape_csv_and_i2(graph: tuple[object, LinkGraph]) -> None:
    store, g = graph
    center = int(g.degree.argmax())
    text, done = _export(store, g, "cytoscape", entity=g.id_of(center), hops=1)
    elements = json.loads(text)["elements"]
    neighbours = {g.id_of(int(d)) for s, d in zip(g.src, g.dst, strict=True) if s == center}
    neighbours |= {g.id_of(int(s)) for s, d in zip(g.src, g.dst, strict=True) if d == center}
    ids = {n["data"]["id"] for n in elements["nodes"]}
    assert ids == neighbours | {g.id_of(center)}
    assert len(elements["edges"]) == done.edges >= len(neighbours)
    assert all({e["data"]["source"], e["data"]["target"]} <= ids for e in elements["edges"])
    rows = list(csv.DictReader(io.StringIO(_export(store, g, "csv", entity=g.id_of(center), hops=1)[0])))
    assert len(rows) == done.edges
    nodes = list(
        csv.DictReader(io.StringIO(_export(store, g, "csv", entity=g.id_of(center), hops=1, nodes_csv=True)[0]))
    )
    assert {r["id"] for r in nodes} == ids
    i2 = list(csv.reader(io.StringIO(_export(store, g, "i2", entity=g.id_of(center), hops=1)[0])))
    assert len(i2) == done.edges + 1


def test_i2_columns_are_the_documented_ones(graph: tuple[object, LinkGraph]) -> None:
    store, g = graph
    header = next(csv.reader(io.StringIO(_export(store, g, "i2")[0])))
    guide = (DOCS / "guide" / "graph.md").read_text(encoding="utf-8")
    section = guide.split("### i2 Analyst's Notebook", 1)[1].split("\n### ", 1)[0]
    documented = re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)
    assert header == documented


def test_a_community(graph: tuple[object, LinkGraph]) -> None:
    store, g = graph
    _text, whole = _export(store, g, "csv", method="components")
    text, done = _export(store, g, "cytoscape", community=0, method="components")
    assert 0 < done.nodes < whole.nodes
    assert len(json.loads(text)["elements"]["nodes"]) == done.nodes


def test_ftm_round_trip_into_a_fresh_store(graph: tuple[object, LinkGraph], tmp_path: Path) -> None:
    store, g = graph
    text, _done = _export(store, g, "ftm")
    path = tmp_path / "entities.ftm.json"
    path.write_text(text, encoding="utf-8")
    lines = [json.loads(x) for x in text.splitlines()]
    labels = StoreNamer(store).labels(g, list(range(g.n)))  # type: ignore[arg-type]
    kept = {t for t in TYPES if t != "Tip"}  # a Tip goes out as a Note, which is not imported
    expected = sorted((labels[i].caption, g.schema_of(i)) for i in range(g.n) if g.schema_of(i) in kept)
    assert any(c == REDACTED for c, _t in expected)  # the operator's export redacts protected people too
    with open_store(str(tmp_path / "fresh.duckdb")) as fresh:
        done = import_ftm(fresh, path, "from-ftm")
        assert done.result is not None
        came_back = sorted((caption(e), e.schema) for t in kept for e in fresh.iter_entities(schema=t))
        assert came_back == expected
        assert done.skipped["Event"] > 0
        # every statement names the file and the line its entity came from
        member = next(fresh.iter_entities(schema="MemberOf"))
        st = member.statements[0]
        assert st.source_file.endswith("entities.ftm.json.jsonl")
        original = lines[st.source_row - 1]
        assert original["schema"] == "Membership"
        members = {e.id for t in ("Person", "Organization") for e in fresh.iter_entities(schema=t)}
        assert set(member.properties["member"]) <= members
        count = fresh.statement_count()
        again = import_ftm(fresh, path, "from-ftm")
        assert again.result is not None
        assert again.result.already_imported is not None
        assert fresh.statement_count() == count


def test_a_bad_ftm_line_names_its_line(tmp_path: Path) -> None:
    good = json.dumps({"id": "p1", "schema": "Person", "properties": {"name": ["Ana Ruiz"]}})
    for bad in ("{not json", json.dumps({"id": "x", "schema": "Spaceship", "properties": {}})):
        path = tmp_path / "bad.ftm.json"
        path.write_text(f"{good}\n\n{bad}\n", encoding="utf-8")
        with open_store(str(tmp_path / "store.duckdb")) as store, pytest.raises(exchange.ExchangeError, match="line 3"):
            import_ftm(store, path, "bad")
        result = CliRunner().invoke(
            build_app(), ["--db", str(tmp_path / "store.duckdb"), "graph", "import-ftm", str(path), "--dataset", "bad"]
        )
        assert result.exit_code == 2
        assert "line 3" in result.output
    with open_store(str(tmp_path / "store.duckdb")) as store:
        assert store.statement_count() == 0


def test_the_cli_exports_and_audits(db: str, tmp_path: Path) -> None:
    out = tmp_path / "g.csv"
    result = CliRunner().invoke(build_app(), ["--db", db, "graph", "export", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    assert (tmp_path / "g.nodes.csv").exists()
    from cruce.security.guard import Security

    with open_store(db) as store:
        entries = Security(store).audit.entries(action="graph_export")
    assert entries
    assert json.loads(entries[0].detail or "{}")["format"] == "csv"
    bad = CliRunner().invoke(build_app(), ["--db", db, "graph", "export", "--format", "pdf", "--out", str(out)])
    assert bad.exit_code == 2
    for wrong in (["--entity", "00000000-0000-0000-0000-000000000000"], ["--community", "-1"]):
        missing = tmp_path / "missing.graphml"
        result = CliRunner().invoke(build_app(), ["--db", db, "graph", "export", *wrong, "--out", str(missing)])
        assert result.exit_code == 2, result.output
        assert not missing.exists()


def test_a_viewers_export_has_no_protected_names(world: World) -> None:
    for fmt in exchange.FORMATS:
        response = world.client().get("/api/v1/graph/export", params={"format": fmt}, headers=world.api("viewer"))
        assert response.status_code == 200, (fmt, response.text)
        assert OPEN_VICTIM not in response.text, fmt
        assert VICTIM not in response.text, fmt
        assert world.victim_id not in response.text, fmt  # in a dataset the viewer may not see: left out
    response = world.client().get("/api/v1/graph/export", params={"format": "ftm"}, headers=world.api("admin"))
    assert OPEN_VICTIM in response.text  # the admin may read it: the viewer's export left it out, not the format
    assert world.victim_id in response.text
    assert response.headers["content-disposition"].endswith('.ftm.json"')
    entries = world.view.security.audit.entries(action="graph_export")
    assert {e.actor for e in entries} >= {"viewer", "admin"}
    assert (
        world.client().get("/api/v1/graph/export", params={"format": "pdf"}, headers=world.api("admin")).status_code
        == 422
    )
    assert world.client().get("/api/v1/graph/export").status_code == 401
