"""The organization registry on a synth scenario: who held each plaza on each day of its tenures,
the split of O04 from O03 seen from both sides, leaders and successions as the truth has them,
the rows behind each claim; the same answers on PostgreSQL, on the command line and on the API."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cruce.analyses.organizations import (
    OrgData,
    UnknownOrganizationError,
    find,
    organization,
    registry,
    territory,
)
from cruce.ingest.compile import entity_id
from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import generate
from cruce.synth.drugs import END, MEMBERS_FILE, ORGS_FILE, RELATIONS_FILE, SPLIT_FROM, SPLIT_ORG
from tests.test_cli import run
from tests.web.conftest import World, build_world
from tests.web.conftest import secret_key_file as secret_key_file  # the web tests' key file, for PostgreSQL

SCALE, SEED = 6000, 3
DATASET = "cruce-organizations"
FILES = (
    (ORGS_FILE, "cruce-organizations"),
    (MEMBERS_FILE, "cruce-org-members"),
    (RELATIONS_FILE, "cruce-org-relations"),
)
LAST_DAY = date.fromordinal(END).isoformat()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _org(key: str) -> str:
    """The id the import gives the organization of registry id ``key`` (no resolution run)."""
    return entity_id(DATASET, "organization", key)


def _plaza(key: str) -> str:
    return entity_id(DATASET, "plaza", key)


def _import(store: Any, scenario: Path) -> None:
    for name, mapping in FILES:
        result = import_file(store, scenario / name, mapping)
        assert result.rows_rejected == 0


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("orgs-scenario")
    generate(out, scale=SCALE, seed=SEED, flows=["drugs"])
    return out


@pytest.fixture(scope="module")
def db(scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("orgs-db") / "store.duckdb")
    with open_store(path) as store:
        _import(store, scenario)
    return path


@pytest.fixture(scope="module")
def data(db: str) -> Iterator[OrgData]:
    with open_store(db) as store:
        loaded = OrgData.load(store)
    yield loaded
    loaded.close()


def _days_in(start: str, end: str) -> list[str]:
    """The first, middle and last day of a span (``end`` empty: to the scenario's last day)."""
    first, last = date.fromisoformat(start).toordinal(), date.fromisoformat(end or LAST_DAY).toordinal()
    return sorted({date.fromordinal(d).isoformat() for d in (first, (first + last) // 2, last)})


def test_territory_gives_every_plaza_holder_of_the_truth(scenario: Path, data: OrgData) -> None:
    """On the first, middle and last day of each tenure in truth/plaza_control.csv, the plaza's one
    undisputed claim is the truth's holder's; during each planted dispute, the challenger's claim
    is there too, marked disputed."""
    checked, wrong = 0, []
    answers: dict[str, dict[str, Any]] = {}

    def claims_on(day: str) -> list[dict[str, Any]]:
        if day not in answers:
            answers[day] = territory(data, day)
        assert answers[day]["on"] == day
        return list(answers[day]["claims"])

    for span in _rows(scenario / "truth" / "plaza_control.csv"):
        for day in _days_in(span["start"], span["end"]):
            held = {
                c["org_id"] for c in claims_on(day) if c["plaza_id"] == _plaza(span["plaza_id"]) and not c["disputed"]
            }
            checked += 1
            if held != {_org(span["org_id"])}:
                wrong.append((span, day, held))
    rate = (checked - len(wrong)) / checked
    assert checked >= 3 * 15
    assert rate == 1.0, wrong
    disputes = _rows(scenario / "truth" / "plaza_disputes.csv")
    assert disputes
    for dispute in disputes:
        for day in _days_in(dispute["start"], dispute["end"]):
            fighting = {
                c["org_id"] for c in claims_on(day) if c["plaza_id"] == _plaza(dispute["plaza_id"]) and c["disputed"]
            }
            assert _org(dispute["challenger_id"]) in fighting, (dispute, day)


def test_territory_without_a_day_is_the_latest(data: OrgData) -> None:
    latest = territory(data)
    assert latest["on"] == registry(data)["as_of"]
    assert latest["first"] <= latest["on"] <= LAST_DAY
    assert latest["changes"] == sorted(latest["changes"])
    assert {c["state"] for c in latest["claims"]} <= {"MX-BCN", "MX-SON", "MX-CHH", "MX-COA", "MX-TAM"}
    assert all(c["municipality"] for c in latest["claims"])


def test_the_split_is_seen_from_both_organizations(scenario: Path, data: OrgData) -> None:
    founded = {r["org_id"]: r for r in _rows(scenario / "truth" / "organizations.csv")}[SPLIT_ORG]["founded"]
    faction, parent = organization(data, _org(SPLIT_ORG)), organization(data, _org(SPLIT_FROM))
    assert [(s["id"], s["start"]) for s in faction["broke_from"]] == [(_org(SPLIT_FROM), founded)]
    assert [(s["id"], s["start"]) for s in parent["factions"]] == [(_org(SPLIT_ORG), founded)]
    assert faction["factions"] == []
    assert parent["broke_from"] == []
    assert {
        "date": founded,
        "kind": "split_from",
        "parts": {"parent": {"id": parent["id"], "name": parent["name"]}},
    } in (faction["timeline"])
    assert {
        "date": founded,
        "kind": "faction_split",
        "parts": {"faction": {"id": faction["id"], "name": faction["name"]}},
    } in (parent["timeline"])
    edges = {(e["source"], e["target"], e["kind"]) for e in parent["network"]["edges"]}
    assert (faction["id"], parent["id"], "split_from") in edges


def test_leaders_and_successions_are_the_truths(scenario: Path, data: OrgData) -> None:
    leads: dict[str, list[dict[str, str]]] = defaultdict(list)
    for m in _rows(scenario / "truth" / "memberships.csv"):
        if m["leads_start"]:
            leads[m["org_id"]].append(m)
    assert any(any(m["leads_end"] for m in v) for v in leads.values())  # there are successions to find
    for key, truth in leads.items():
        found = organization(data, _org(key))
        expected = {
            (entity_id(DATASET, "member", m["record_key"]), m["leads_start"], m["leads_end"] or None) for m in truth
        }
        assert {(x["id"], x["start"], x["end"]) for x in found["leaders"]} == expected, key
        # the truth's successions: a leadership that begins once another has ended follows the last one ended
        successions = []
        for new in truth:
            before = sorted(
                (m for m in truth if m["leads_end"] and m["leads_end"] <= new["leads_start"]),
                key=lambda m: m["leads_end"],
            )
            if before:
                old = before[-1]
                successions.append((new["leads_start"], entity_id(DATASET, "member", old["record_key"]),
                                    entity_id(DATASET, "member", new["record_key"])))  # fmt: skip
        assert sorted((s["date"], s["from_id"], s["to_id"]) for s in found["successions"]) == sorted(successions), key
        assert all(s["from_name"] and s["to_name"] for s in found["successions"])


def test_names_and_aliases(scenario: Path, data: OrgData) -> None:
    truth = _rows(scenario / "truth" / "organizations.csv")
    found = {o["id"]: o for o in registry(data)["organizations"]}
    assert len(found) == len(truth)
    for org in truth:
        mine = found[_org(org["org_id"])]
        assert mine["name"] == org["name"]
        assert set(org["aliases"].split(";")) == set(mine["aliases"])
        assert mine["home_state"] == org["home_state"]
        assert find(data, org["aliases"].split(";")[-1].upper()) == mine["id"]  # a name in any case finds it
        assert organization(data, mine["id"])["aliases"] == mine["aliases"]


def test_the_registry_as_of_its_latest_date(scenario: Path, data: OrgData) -> None:
    answer = registry(data)
    day = answer["as_of"]
    found = {o["id"]: o for o in answer["organizations"]}
    held: dict[str, set[str]] = defaultdict(set)
    for span in _rows(scenario / "truth" / "plaza_control.csv"):
        if span["start"] <= day and (not span["end"] or span["end"] >= day):
            held[_org(span["org_id"])].add(_plaza(span["plaza_id"]))
    leaders: dict[str, set[str]] = defaultdict(set)
    for m in _rows(scenario / "truth" / "memberships.csv"):
        if m["leads_start"] and m["leads_start"] <= day and (not m["leads_end"] or m["leads_end"] >= day):
            leaders[_org(m["org_id"])].add(entity_id(DATASET, "member", m["record_key"]))
    for oid, org in found.items():
        assert {p["id"] for p in org["plazas"]} == held[oid], org["name"]
        assert {p["id"] for p in org["leaders"]} == leaders[oid], org["name"]
        assert org["members"] >= org["current_members"] > 0


def test_every_claim_names_the_row_behind_it(scenario: Path, data: OrgData) -> None:
    with (scenario / RELATIONS_FILE).open(encoding="utf-8", newline="") as fh:
        by_line = dict(enumerate(csv.DictReader(fh), start=2))  # the header is line 1
    claims = [c for key in (SPLIT_FROM, SPLIT_ORG) for c in organization(data, _org(key))["claims"]]
    assert claims
    for claim in claims:
        (source,) = claim["sources"]
        assert (source["dataset"], source["file"]) == (DATASET, RELATIONS_FILE)
        row = by_line[source["row"]]
        assert _plaza(row["plaza_id"]) == claim["plaza_id"]
        assert (row["start"], row["end"] or None, row["source"]) == (claim["start"], claim["end"], claim["source"])
        assert claim["disputed"] == (row["disputed"] == "yes")


def test_an_unknown_organization_is_an_error(data: OrgData) -> None:
    with pytest.raises(UnknownOrganizationError):
        organization(data, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(UnknownOrganizationError):
        find(data, "Cártel que no existe")
    with pytest.raises(UnknownOrganizationError):  # a plaza is not an organization
        organization(data, _plaza("PZ01"))


def _without_import_ids(answer: Any) -> Any:
    """An answer with the import ids left out (each store numbers its own imports)."""
    if isinstance(answer, dict):
        return {k: _without_import_ids(v) for k, v in answer.items() if k != "import_id"}
    if isinstance(answer, list):
        return [_without_import_ids(v) for v in answer]
    return answer


def test_both_backends_give_the_same_answers(store_url: str, scenario: Path, data: OrgData) -> None:
    with open_store(store_url) as store:
        _import(store, scenario)
        theirs = OrgData.load(store)
    try:
        assert registry(theirs) == registry(data)
        for key in (SPLIT_FROM, SPLIT_ORG, "O01"):
            assert _without_import_ids(organization(theirs, _org(key))) == _without_import_ids(
                organization(data, _org(key))
            )
        assert territory(theirs, "2020-06-30") == territory(data, "2020-06-30")
    finally:
        theirs.close()


def test_orgs_show_prints_the_organization(capsys: pytest.CaptureFixture[str], db: str, scenario: Path) -> None:
    truth = {r["org_id"]: r for r in _rows(scenario / "truth" / "organizations.csv")}
    code, out, _err = run(capsys, "--db", db, "orgs", "show", truth[SPLIT_ORG]["name"].upper())
    assert code == 0
    assert truth[SPLIT_ORG]["name"] in out
    assert truth[SPLIT_FROM]["name"] in out  # the organization it broke from
    assert truth[SPLIT_ORG]["founded"] in out
    code, out, _err = run(capsys, "--db", db, "orgs", "show", _org(SPLIT_ORG), "--json")
    assert code == 0
    assert json.loads(out)["broke_from"][0]["id"] == _org(SPLIT_FROM)
    code, _out, err = run(capsys, "--db", db, "orgs", "show", "nadie")
    assert code == 2
    assert "nadie" in err
    code, out, _err = run(capsys, "--db", db, "orgs", "territory", "--on", "2020-06-30", "--json")
    assert code == 0
    assert json.loads(out)["on"] == "2020-06-30"


@pytest.fixture
def world(scenario: Path, tmp_path: Path) -> Iterator[World]:
    built = build_world(str(tmp_path / "api.duckdb"), tmp_path)
    _import(built.app.state.services.main.store, scenario)
    yield built
    built.app.state.services.close()


def test_the_territory_endpoint(world: World, data: OrgData) -> None:
    client = world.client()
    response = client.get("/api/v1/organizations/territory", params={"on": "2020-06-30"}, headers=world.api("viewer"))
    assert response.status_code == 200
    assert response.json() == territory(data, "2020-06-30")
    assert (
        client.get(
            "/api/v1/organizations/territory", params={"on": "30/06/2020"}, headers=world.api("viewer")
        ).status_code
        == 422
    )
    assert client.get("/api/v1/organizations/territory").status_code == 401
    listed = client.get("/api/v1/organizations", headers=world.api("viewer")).json()
    assert listed == registry(data)
    one = client.get(f"/api/v1/organizations/{_org(SPLIT_ORG)}", headers=world.api("viewer"))
    assert _without_import_ids(one.json()) == _without_import_ids(organization(data, _org(SPLIT_ORG)))
    missing = client.get("/api/v1/organizations/00000000-0000-0000-0000-000000000000", headers=world.api("viewer"))
    assert missing.status_code == 404


PROTECTED_MAPPING = """
name: test-protected-member
dataset: test-protected
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
      org_type: {value: cartel}
  member:
    schema: MemberOf
    key: [pid]
    properties:
      member: {entity: person}
      organization: {entity: org}
      role: role
  victim:
    schema: Exploited
    key: [pid]
    only_if: [exploited]
    properties:
      exploiter: {entity: org}
      victim: {entity: person}
"""


def test_a_protected_member_counts_without_a_name(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(PROTECTED_MAPPING, encoding="utf-8")
    rows = (
        "pid,name,org,role,exploited\n"
        "P1,Ana Victima Ruiz,Los Rojos,halcón,yes\n"  # the victim of an exploitation: protected
        "P2,Beto Sicario Luna,Los Rojos,sicario,\n"
    )
    (tmp_path / "m.csv").write_text(rows, encoding="utf-8")
    with open_store(str(tmp_path / "p.duckdb")) as store:
        import_file(store, tmp_path / "m.csv", tmp_path / "m.yaml")
        data = OrgData.load(store)
    try:
        (org,) = registry(data)["organizations"]
        members = {m["role"]: m["name"] for m in organization(data, org["id"])["members"]}
        assert members == {"halcón": None, "sicario": "Beto Sicario Luna"}
        assert org["members"] == 2
    finally:
        data.close()
