"""Importing from the page and the API: progress, summary, rejected rows as CSV; uploads refused when
too large, of the wrong type, or named to escape the upload folder."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

from cruce.demo import write_purchases_csv
from tests.web.conftest import TestClient, World, csrf_of

MAPPING = "example-firearm-purchases"


def _sales(tmp: Path, rows: int = 20) -> bytes:
    path = write_purchases_csv(tmp / "sales.csv", rows)
    text = path.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace(text[3].split(",")[1], "13/45/2020", 1)  # a bad sale date: one rejected value
    return ("\n".join(text) + "\n").encode("utf-8")


def _wait(world: World, who: str, job_id: str) -> dict[str, object]:
    for _ in range(200):
        job = world.client().get(f"/api/v1/jobs/{job_id}", headers=world.api(who)).json()
        if job["state"] in ("done", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def test_import_from_the_page_with_progress_and_rejects(world: World, tmp_path: Path) -> None:
    client = world.session("analyst")
    form = client.get("/import")
    assert 'id="mapping"' in form.text
    assert MAPPING in form.text
    sent = client.post(
        "/import",
        data={"mapping": MAPPING, "dataset": "sales-web", "csrf_token": csrf_of(form.text)},
        files={"file": ("sales.csv", _sales(tmp_path), "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    job_id = sent.headers["location"].rsplit("/", 1)[-1]
    job = _wait(world, "analyst", job_id)
    assert job["state"] == "done", job
    assert job["rows_stored"] == 19  # the row with the bad date is rejected whole
    page = client.get(f"/import/{job_id}").text
    assert 'id="job-summary"' in page
    assert 'data-state="done"' in page
    fragment = client.get(f"/import/{job_id}/progress").text
    assert fragment.lstrip().startswith("<div")  # what htmx swaps in while it runs
    assert job["rows_rejected"] == 1
    rejects = client.get(f"/imports/{job['import_id']}/rejects.csv")
    assert rejects.status_code == 200
    assert rejects.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejects.text)))
    assert rows[0] == ["File", "Row", "Field", "Reason", "Value"]
    assert rows[1][1] == "4"
    assert "13/45/2020" in rows[1][4]
    # the job belongs to the analyst: another user cannot follow it
    assert world.session("caseworker").get(f"/import/{job_id}").status_code == 404
    audit = world.view.security.audit.entries(actor="analyst", action="import")
    assert audit[0].target == "sales-web"


def test_import_through_the_api(world: World, tmp_path: Path) -> None:
    client = world.client()
    sent = client.post(
        "/api/v1/imports",
        data={"mapping": MAPPING, "dataset": "sales-api"},
        files={"file": ("sales.csv", _sales(tmp_path), "text/csv")},
        headers=world.api("admin"),
    )
    assert sent.status_code == 202, sent.text
    job = _wait(world, "admin", sent.json()["id"])
    assert job["state"] == "done"
    imports = client.get("/api/v1/imports", params={"dataset": "sales-api"}, headers=world.api("admin")).json()
    assert imports[0]["rows_stored"] == 19
    rejects = client.get("/api/v1/rejects", params={"import_id": job["import_id"]}, headers=world.api("admin"))
    assert rejects.json()[0]["reason_code"]
    viewer = client.post(
        "/api/v1/imports", data={"mapping": MAPPING}, files={"file": ("s.csv", b"a\n1\n", "text/csv")},
        headers=world.api("viewer"),
    )  # fmt: skip
    assert viewer.status_code == 403
    assert world.session("viewer").get("/import").status_code == 403


def test_uploads_are_contained_checked_and_limited(world: World) -> None:
    client = world.session("analyst")
    token = csrf_of(client.get("/import").text)
    upload_dir = world.tmp / "uploads"
    before = {p for p in world.tmp.rglob("*") if p.is_file()}

    def send(name: str, content: bytes):  # type: ignore[no-untyped-def]
        return client.post(
            "/import", data={"mapping": MAPPING, "csrf_token": token}, files={"file": (name, content, "text/csv")},
            follow_redirects=False,
        )  # fmt: skip

    assert send("sales.exe", b"MZ\x90\x00").status_code == 415
    assert send("sales.xlsx", b"purchase_id,sale_date\n1,2\n").status_code == 415  # not a ZIP inside
    assert send("sales.csv", b"\x00\x01\x02binary").status_code == 415
    assert send("sales.csv", b"a" * (64 * 1024 + 1)).status_code == 413
    assert send("sales.csv", b"").status_code == 400
    for evil in ("../../escaped.csv", "..\\..\\escaped.csv", "/etc/escaped.csv", "....//escaped.csv"):
        response = send(evil, b"purchase_id\nP1\n")
        assert response.status_code == 303, evil  # accepted, but kept inside the upload folder
    after = {p for p in world.tmp.rglob("*") if p.is_file()} - before
    outside = [p for p in after if upload_dir not in p.parents and not p.name.startswith("web.duckdb")]
    assert outside == []
    assert not list(world.tmp.parent.glob("escaped.csv"))
    assert not Path("/etc/escaped.csv").exists()
    assert all(p.name == "escaped.csv" for p in after if upload_dir in p.parents and p.suffix == ".csv")
    refused = world.view.security.audit.entries(actor="analyst", action="upload")
    assert len(refused) == 5
    assert all(e.outcome == "refused" for e in refused)
    api = world.client().post(
        "/api/v1/imports", data={"mapping": MAPPING}, files={"file": ("big.csv", b"a" * (64 * 1024 + 1), "text/csv")},
        headers=world.api("analyst"),
    )  # fmt: skip
    assert api.status_code == 413


def _upload(world: World, client: TestClient, content: bytes, dataset: str) -> dict[str, object]:
    form = client.get("/import")
    sent = client.post(
        "/import",
        data={"mapping": MAPPING, "dataset": dataset, "csrf_token": csrf_of(form.text)},
        files={"file": ("sales.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    return _wait(world, "analyst", sent.headers["location"].rsplit("/", 1)[-1])


def test_an_import_from_the_page_links_its_people_to_resolved_entities(fresh: World, tmp_path: Path) -> None:
    """Once people are resolved, a web import links its new records without a full re-run."""
    from cruce.resolve.engine import resolve

    client = fresh.session("analyst")
    first = write_purchases_csv(tmp_path / "first.csv", 150, seed=7).read_bytes()
    assert _upload(fresh, client, first, "sales-one")["state"] == "done"
    store = fresh.app.state.services.main.store
    resolve(store, "Person")
    second = write_purchases_csv(tmp_path / "second.csv", 150, seed=8).read_bytes()
    job = _upload(fresh, client, second, "sales-two")
    assert job["state"] == "done", job
    from cruce.security.db import AppDB

    db = AppDB(store)
    linked = db.one(
        "SELECT count(DISTINCT c.entity_id) FROM entity_cluster c JOIN statements s ON s.entity_id = c.entity_id "
        "WHERE s.import_id = ? AND s.schema = 'Person'",
        (job["import_id"],),
    )
    made = db.one(
        "SELECT count(DISTINCT entity_id) FROM statements WHERE import_id = ? AND schema = 'Person'",
        (job["import_id"],),
    )
    assert made is not None
    assert linked is not None
    assert made[0] > 0
    assert linked[0] == made[0]  # every person of the second import is in a cluster now


def test_an_import_from_the_page_brings_the_link_graph_up_to_date(fresh: World, tmp_path: Path) -> None:
    """After a web import the graph already holds its records: the next network question waits for nothing."""
    from cruce.graph.build import cache_dir, fingerprint, load

    client = fresh.session("analyst")
    sales = write_purchases_csv(tmp_path / "sales.csv", 40, seed=3).read_bytes()
    job = _upload(fresh, client, sales, "sales-graph")
    assert job["state"] == "done", job
    store = fresh.app.state.services.main.store
    snapshot = load(cache_dir(store))
    assert snapshot is not None, "the import job wrote the graph snapshot"
    assert snapshot.fingerprint == fingerprint(store)
    assert snapshot.nodes.num_rows > 40


def test_an_import_from_the_page_brings_search_up_to_date(fresh: World, tmp_path: Path) -> None:
    """After a web import its terms are indexed and the index is in memory: the next search waits for nothing."""
    from cruce.search import memory as search_memory
    from cruce.search import state
    from cruce.security.db import AppDB

    client = fresh.session("analyst")
    sales = write_purchases_csv(tmp_path / "sales.csv", 40, seed=5).read_bytes()
    job = _upload(fresh, client, sales, "sales-search")
    assert job["state"] == "done", job
    db = AppDB(fresh.app.state.services.main.store)
    now = state(db)
    assert not now.behind  # the import's terms are in the index
    held = search_memory.current(db.store.url)
    assert held is not None
    assert held.generation == now.generation  # and the index of this generation is in memory
