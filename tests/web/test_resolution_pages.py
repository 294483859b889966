"""Resolution on the web: a small synth scenario imported through the real pipeline and resolved,
then read and decided through the pages and the API — the review queue nearest the threshold
first, a "not same" that splits and an undo that restores, roles, CSRF, explanations whose
weights add up, need-to-know (a pair with a record of a hidden dataset is never shown), audit."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from cruce.ingest.pipeline import import_file
from cruce.resolve.engine import resolve
from cruce.resolve.store import ResolutionStore
from cruce.security import Marking
from cruce.security.audit import now
from cruce.synth import generate
from cruce.web import create_app
from tests.web.conftest import PASSWORD, TestClient, csrf_of, signin

HIDDEN = "firearm-traces"  # amber, group "traces": the plain analyst may not see it
USERS = {
    "admin": ("admin", set()),
    "analyst": ("analyst", set()),
    "tracer": ("analyst", {"traces"}),
    "viewer": ("viewer", set()),
}


class Site:
    def __init__(self, app, tokens: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
        self.app = app
        self.tokens = tokens
        self.clients: dict[str, TestClient] = {}

    @property
    def view(self):  # type: ignore[no-untyped-def]
        return self.app.state.services.main

    def client(self, who: str) -> TestClient:
        if who not in self.clients:
            self.clients[who] = signin(TestClient(self.app), who)
        return self.clients[who]

    def api(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def rs(self) -> ResolutionStore:
        return ResolutionStore(self.view.store)

    def datasets_of(self, entity_id: str) -> set[str]:
        entity = self.view.store.entity(entity_id)
        return set(entity.datasets) if entity else set()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("resolution-web")
    scenario = tmp / "scenario"
    generate(scenario, scale=300, seed=3, flows=["firearms"])
    app = create_app(str(tmp / "store.duckdb"), upload_dir=tmp / "uploads")
    store = app.state.services.main.store
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        import_file(store, scenario / entry["path"], entry["mapping"])
    result = resolve(store, "Person")
    assert result.pairs > 10
    view = app.state.services.main
    t = now()
    view.security.policies.set(HIDDEN, Marking.AMBER, {"traces"}, now=t)
    tokens = {}
    for name, (role, groups) in USERS.items():
        view.security.accounts.add(name, PASSWORD, role, groups=groups, now=t)
        tokens[name] = view.security.accounts.create_token(name, "tests", {"read"}, now=t)
    yield Site(app, tokens)
    app.state.services.close()


def _multi_cluster(site: Site, who_sees_all: bool = True) -> list[str]:
    groups: dict[str, list[str]] = {}
    for record, canonical in sorted(site.rs().clusters("Person").items()):
        if not who_sees_all and HIDDEN in site.datasets_of(record):
            continue
        groups.setdefault(canonical, []).append(record)
    return next(m for m in sorted(groups.values(), key=len, reverse=True) if len(m) >= 2)


def test_review_queue_nearest_the_threshold_first(site: Site) -> None:
    got = site.client("admin").get("/api/v1/resolution/review", params={"limit": 30}, headers=site.api("admin"))
    assert got.status_code == 200, got.text
    pairs = got.json()["pairs"]
    assert len(pairs) == 30
    distances = [p["distance"] for p in pairs]
    assert distances == sorted(distances)
    threshold = site.rs().current_run("Person").threshold  # type: ignore[union-attr]
    for p in pairs:
        assert p["distance"] == pytest.approx(abs(p["probability"] - threshold))
    # nothing nearer the threshold was left out
    table = site.rs().pairs_table("Person")
    nearest = min(abs(p - threshold) for p in table.column("probability").to_pylist())
    assert distances[0] == pytest.approx(nearest)
    # the page shows the same first pair, side by side, with a waterfall and the three buttons
    page = site.client("admin").get("/resolution/review", params={"type": "Person"})
    assert page.status_code == 200
    first = re.search(r'id="pair-1" data-a="([^"]+)" data-b="([^"]+)"', page.text)
    assert first
    assert (first.group(1), first.group(2)) == (pairs[0]["a"]["id"], pairs[0]["b"]["id"])
    assert 'class="waterfall"' in page.text
    assert "wf-bar" in page.text
    for decision in ("same", "not_same", "unsure"):
        assert f'name="decision" value="{decision}"' in page.text
    assert 'style="' not in page.text  # the bars are classes: no inline style under the CSP
    # in Spanish: field labels translated
    site.client("admin").cookies.set("cruce_lang", "es")
    es = site.client("admin").get("/api/v1/resolution/review", params={"limit": 1}, headers=site.api("admin"))
    assert es.status_code == 200


def test_not_same_splits_shows_in_decisions_and_undo_restores(site: Site) -> None:
    members = _multi_cluster(site, who_sees_all=False)
    a, b = members[0], members[1]
    before = site.rs().clusters("Person")
    client = site.client("analyst")
    page = client.get(f"/entity/{a}")
    assert page.status_code == 200
    assert 'id="resolution"' in page.text
    assert b in page.text
    # the decision, as the review page's buttons send it
    sent = client.post(
        "/resolution/judgements",
        data={"csrf_token": csrf_of(page.text), "a": a, "b": b, "decision": "not_same", "next": "/resolution/review"},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text[:500]
    after = site.rs().clusters("Person")
    assert after[a] != after[b]
    # no longer in the queue; in the decisions list, with an undo button
    queued = client.get("/api/v1/resolution/review", params={"limit": 100}, headers=site.api("analyst")).json()
    assert all({p["a"]["id"], p["b"]["id"]} != {a, b} for p in queued["pairs"])
    decisions = client.get("/resolution/decisions")
    group = re.search(r'data-group="([0-9a-f]+)"', decisions.text)
    assert group is not None
    assert f"/resolution/decisions/{group.group(1)}/undo" in decisions.text
    api = client.get("/api/v1/resolution/decisions", headers=site.api("analyst")).json()
    assert api[0]["id"] == group.group(1)
    assert api[0]["decision"] == "not_same"
    undone = client.post(
        f"/resolution/decisions/{group.group(1)}/undo",
        data={"csrf_token": csrf_of(decisions.text)},
        follow_redirects=False,
    )
    assert undone.status_code == 303
    assert site.rs().clusters("Person") == before
    # both are in the audit log, with ids and the decision, never a name
    entries = site.view.security.audit.entries(actor="analyst", limit=100)
    judged = next(e for e in entries if e.action == "resolution_judge")
    assert json.loads(judged.detail or "{}") == {"a": a, "b": b, "decision": "not_same"}
    assert judged.target == group.group(1)
    assert any(e.action == "resolution_undo" and e.target == group.group(1) for e in entries)


def test_viewers_may_not_decide_and_csrf_is_required(site: Site) -> None:
    members = _multi_cluster(site, who_sees_all=False)
    a, b = members[0], members[1]
    viewer = site.client("viewer")
    page = viewer.get("/resolution/review")
    assert page.status_code == 200
    assert 'name="decision"' not in page.text  # no buttons for who may not decide
    form = {"csrf_token": csrf_of(page.text), "a": a, "b": b, "decision": "same"}
    assert viewer.post("/resolution/judgements", data=form, follow_redirects=False).status_code == 403
    body = {"a": a, "b": b, "decision": "same"}
    assert viewer.post("/api/v1/resolution/judgements", json=body, headers=site.api("viewer")).status_code == 403
    assert viewer.post("/resolution/split", data={**form, "record": a}, follow_redirects=False).status_code == 403
    # an analyst without the form's token is refused too
    analyst = site.client("analyst")
    no_token = {"a": a, "b": b, "decision": "same"}
    assert analyst.post("/resolution/judgements", data=no_token, follow_redirects=False).status_code == 403
    assert (
        analyst.post(
            "/resolution/judgements", data={**no_token, "csrf_token": "forged"}, follow_redirects=False
        ).status_code
        == 403
    )
    assert site.rs().decisions("Person").get(tuple(sorted((a, b)))) is None  # type: ignore[call-overload]
    denied = site.view.security.audit.entries(actor="viewer", action="resolution_decide", limit=10)
    assert denied
    assert all(e.outcome == "denied" for e in denied)


def test_explain_api_weights_add_up(site: Site) -> None:
    members = _multi_cluster(site, who_sees_all=False)
    got = site.client("analyst").get(
        "/api/v1/resolution/explain", params={"a": members[1], "b": members[0]}, headers=site.api("analyst")
    )
    assert got.status_code == 200, got.text
    ex = got.json()
    assert ex["stored"]
    assert ex["blocking_rule"]
    assert ex["prior_weight"] + sum(w["weight"] for w in ex["weights"]) == pytest.approx(ex["match_weight"], abs=1e-2)
    assert ex["probability"] == pytest.approx(2 ** ex["match_weight"] / (1 + 2 ** ex["match_weight"]), abs=1e-3)
    assert {w["label"] for w in ex["weights"]} >= {"Surnames", "Given names"}
    # the page's waterfall: the same numbers as text, in Spanish for a Spanish reader
    client = site.client("analyst")
    page = client.get("/resolution/explain", params={"a": members[0], "b": members[1]})
    assert page.status_code == 200
    assert f"{ex['match_weight']:+.2f}" in page.text
    client.post("/language", data={"csrf_token": csrf_of(page.text), "lang": "es", "next": "/"})
    es = client.get("/resolution/explain", params={"a": members[0], "b": members[1]})
    assert "Apellidos" in es.text
    client.post("/language", data={"csrf_token": csrf_of(es.text), "lang": "en", "next": "/"})
    # the cluster of the entity: canonical id, members and explained pairs
    cluster = client.get(f"/api/v1/entities/{members[0]}/cluster", headers=site.api("analyst")).json()
    assert {m["id"] for m in cluster["members"]} >= set(members)
    assert cluster["pairs"]


def _hidden_pair(site: Site) -> tuple[str, str]:
    """A stored pair with one record in the hidden dataset and one in a visible one."""
    table = site.rs().pairs_table("Person").sort_by([("probability", "descending")])
    for a, b in zip(table.column("id_l").to_pylist(), table.column("id_r").to_pylist(), strict=True):
        da, db = site.datasets_of(a), site.datasets_of(b)
        if (HIDDEN in da) != (HIDDEN in db) and da and db:
            return (a, b) if HIDDEN in db else (b, a)
    pytest.fail("no pair across the two datasets")


def test_a_pair_with_a_hidden_record_is_never_shown(site: Site) -> None:
    seen, hidden = _hidden_pair(site)
    analyst, tracer = site.client("analyst"), site.client("tracer")
    # the queue, the explanation, the cluster and the page: nothing of the hidden record
    queue = analyst.get("/api/v1/resolution/review", params={"limit": 100}, headers=site.api("analyst")).json()
    assert all(hidden not in (p["a"]["id"], p["b"]["id"]) for p in queue["pairs"])
    assert all(HIDDEN not in site.datasets_of(p["a"]["id"]) | site.datasets_of(p["b"]["id"]) for p in queue["pairs"])
    explain = {"a": seen, "b": hidden}
    assert analyst.get("/api/v1/resolution/explain", params=explain, headers=site.api("analyst")).status_code == 404
    assert analyst.get("/resolution/explain", params=explain).status_code == 404
    assert tracer.get("/api/v1/resolution/explain", params=explain, headers=site.api("tracer")).status_code == 200
    cluster = analyst.get(f"/api/v1/entities/{seen}/cluster", headers=site.api("analyst"))
    if cluster.status_code == 200:
        body = cluster.json()
        assert hidden not in json.dumps(body)
        assert all(HIDDEN not in site.datasets_of(m["id"]) for m in body["members"])
    assert hidden not in analyst.get(f"/entity/{seen}").text
    assert analyst.get(f"/api/v1/entities/{hidden}/cluster", headers=site.api("analyst")).status_code == 404
    # nor can they decide about it, by form or API
    page = analyst.get("/resolution/review")
    form = {"csrf_token": csrf_of(page.text), "a": seen, "b": hidden, "decision": "same"}
    assert analyst.post("/resolution/judgements", data=form, follow_redirects=False).status_code == 404
    body = {"a": seen, "b": hidden, "decision": "same"}
    assert analyst.post("/api/v1/resolution/judgements", json=body, headers=site.api("analyst")).status_code == 404
    assert site.rs().decisions("Person").get(tuple(sorted((seen, hidden)))) is None  # type: ignore[call-overload]


def test_merge_and_split_by_hand_through_the_api_and_the_page(site: Site) -> None:
    members = _multi_cluster(site, who_sees_all=False)
    record = members[0]
    before = site.rs().clusters("Person")
    analyst = site.client("analyst")
    page = analyst.get(f"/entity/{record}")
    assert 'id="split-form"' in page.text
    assert 'id="merge-form"' in page.text
    split = analyst.post(
        "/resolution/split", data={"csrf_token": csrf_of(page.text), "record": record}, follow_redirects=False
    )
    assert split.status_code == 303
    after = site.rs().clusters("Person")
    assert all(after[m] != after[record] for m in members[1:])
    entry = site.view.security.audit.entries(actor="analyst", action="resolution_split", limit=1)[0]
    assert json.loads(entry.detail or "{}") == {"record": record, "decision": "not_same"}
    undone = analyst.post(f"/api/v1/resolution/decisions/{entry.target}/undo", headers=site.api("analyst"))
    assert undone.status_code == 200
    assert undone.json()["undone"] == len(members) - 1
    assert site.rs().clusters("Person") == before
    # merge two records of different entities, then undo
    other = next(r for r, c in sorted(before.items()) if c != before[record] and HIDDEN not in site.datasets_of(r))
    merged = analyst.post(f"/api/v1/entities/{record}/merge", json={"other": other}, headers=site.api("analyst"))
    assert merged.status_code == 201, merged.text
    ids = merged.json()["canonical_ids"]
    assert ids[record] == ids[other]
    group = merged.json()["id"]
    audit = site.view.security.audit.entries(actor="analyst", action="resolution_merge", limit=1)[0]
    assert audit.target == group
    assert json.loads(audit.detail or "{}")["b"] == other
    assert analyst.post(f"/api/v1/resolution/decisions/{group}/undo", headers=site.api("analyst")).status_code == 200
    assert site.rs().clusters("Person") == before


def test_every_decision_is_audited_without_names(site: Site) -> None:
    actions = ("resolution_judge", "resolution_undo", "resolution_merge", "resolution_split")
    entries = [e for e in site.view.security.audit.entries(limit=10_000) if e.action in actions]
    judgements = site.rs().judgements(None, active_only=False)
    groups = {j.group_id for j in judgements}
    assert groups <= {e.target for e in entries}  # every decision made here has its audit entry
    names = set()
    for j in judgements:
        for i in (j.id_l, j.id_r):
            entity = site.view.store.entity(i)
            if entity and entity.first("name"):
                names.add(entity.first("name"))
    assert names
    assert all(name not in (e.detail or "") for e in entries for name in names)
    assert site.view.security.audit.verify().ok
