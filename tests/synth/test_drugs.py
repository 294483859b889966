"""The drugs and violence flow: same bytes for the same seed, honest counts, a consistent truth,
and a small scenario through the real import path with the planted structures found in the store."""

from __future__ import annotations

import csv
import gzip
import itertools
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.store import open_store
from cruce.synth import drugs
from cruce.synth.drugs import write_drugs
from cruce.synth.firearms import generate
from cruce.synth.world import ORGANIZATIONS, PLAZAS, Cast, FlowOutput
from tests.conftest import shared_data

MINE = (
    "organizations.csv", "memberships.csv", "org_relations.csv", "plaza_control.csv", "plaza_disputes.csv",
    "violence_links.csv", "ports.csv",
)  # fmt: skip


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def _scenario(out: Path, records: int, seed: int) -> tuple[FlowOutput, Cast, dict[str, int]]:
    summary = generate(out, scale=300, seed=seed)
    before = {name: _data_rows(out / "truth" / name) for name in ("persons.csv", "identities.csv")}
    cast = Cast(traffickers=list(summary.traffickers))
    return write_drugs(out, records=records, seed=seed, cast=cast), cast, before


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FlowOutput, Cast, dict[str, int]]:
    out = tmp_path_factory.mktemp("drugs")
    flow, cast, before = _scenario(out, 30_000, 5)
    return out, flow, cast, before


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    _scenario(tmp_path / "a", 3000, 3)
    _scenario(tmp_path / "b", 3000, 3)
    _scenario(tmp_path / "c", 3000, 4)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.csv"))
    assert len(files) > 10
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / drugs.SEIZURES_FILE).read_bytes() != (tmp_path / "c" / drugs.SEIZURES_FILE).read_bytes()


def test_counts_match_the_files(scenario: tuple[Path, FlowOutput, Cast, dict[str, int]]) -> None:
    out, flow, _cast, before = scenario
    assert [s.mapping for s in flow.sources] == [
        "cruce-organizations", "cruce-org-members", "cruce-org-relations", "bts-border-crossings",
        "drug-seizures", "acled-events",
    ]  # fmt: skip
    for source in flow.sources:
        assert _data_rows(out / source.path) == source.rows, source.path
    for name in MINE:
        assert _data_rows(out / "truth" / name) == flow.truth[f"truth/{name}"], name
    for name, rows in before.items():
        assert _data_rows(out / "truth" / name) == rows + flow.truth[f"truth/{name}"], name
    rows = {s.path: s.rows for s in flow.sources}
    assert flow.counts["seizures"] == rows[drugs.SEIZURES_FILE]
    assert flow.counts["violence_events"] == rows[drugs.VIOLENCE_FILE]
    assert flow.counts["organizations"] == rows[drugs.ORGS_FILE] == len(ORGANIZATIONS)
    assert 0.9 * 30_000 < sum(rows.values()) < 1.1 * 30_000
    identities = _rows(out / "truth" / "identities.csv")
    new = [r["person_id"] for r in identities if r["person_id"].startswith("D")]
    assert new[0] == "D000001"
    assert len(new) == flow.counts["persons"]


def test_a_tiny_budget_still_writes_every_file(tmp_path: Path) -> None:
    flow, cast, _ = _scenario(tmp_path, 120, 2)
    assert all(s.rows > 0 for s in flow.sources)
    assert sum(s.rows for s in flow.sources) < 400
    assert set(cast.plaza_control) == {p.plaza_id for p in PLAZAS}


def test_plaza_control_covers_the_years_one_holder_at_a_time(
    scenario: tuple[Path, FlowOutput, Cast, dict[str, int]],
) -> None:
    out, _flow, cast, _ = scenario
    truth = defaultdict(list)
    for row in _rows(out / "truth" / "plaza_control.csv"):
        end = date.fromisoformat(row["end"]).toordinal() if row["end"] else drugs.END
        truth[row["plaza_id"]].append((date.fromisoformat(row["start"]).toordinal(), end, row["org_id"]))
    assert dict(truth) == cast.plaza_control
    for spans in cast.plaza_control.values():
        assert spans[0][0] <= drugs.START
        assert spans[-1][1] == drugs.END
        for (_, last, org), (first, _, nxt) in itertools.pairwise(spans):
            assert first == last + 1
            assert org != nxt
    disputes = _rows(out / "truth" / "plaza_disputes.csv")
    taken = [d for d in disputes if d["outcome"] == "taken"]
    assert taken
    for d in taken:  # the challenger holds the plaza from the day after the dispute ends
        day = date.fromisoformat(d["end"]).toordinal() + 1
        assert any(first == day and org == d["challenger_id"] for first, _, org in cast.plaza_control[d["plaza_id"]])
    assert cast.organizations == ORGANIZATIONS


def test_the_split_the_succession_and_the_ring_bosses(
    scenario: tuple[Path, FlowOutput, Cast, dict[str, int]],
) -> None:
    out, _flow, cast, _ = scenario
    orgs = {r["org_id"]: r for r in _rows(out / "truth" / "organizations.csv")}
    split = orgs[drugs.SPLIT_ORG]
    assert split["split_from"] == drugs.SPLIT_FROM
    members = _rows(out / "truth" / "memberships.csv")
    leaders = [m for m in members if m["org_id"] == drugs.SPLIT_ORG and m["leads_start"]]
    assert len(leaders) == 1
    assert leaders[0]["leads_start"] == split["founded"]
    rebel = leaders[0]["person_id"]
    assert any(
        m["person_id"] == rebel and m["org_id"] == drugs.SPLIT_FROM and m["end"] == split["founded"] for m in members
    )
    relations = _rows(out / "truth" / "org_relations.csv")
    assert any(
        r["relation"] == "rival_of" and {r["org_id"], r["other_id"]} == {drugs.SPLIT_FROM, drugs.SPLIT_ORG}
        and r["start"] == split["founded"]
        for r in relations
    )  # fmt: skip
    # a succession: one leader's leadership ends, another's begins in the same organization
    led = defaultdict(list)
    for m in members:
        if m["leads_start"]:
            led[m["org_id"]].append(m)
    assert any(len(v) >= 2 and any(m["leads_end"] and m["end_reason"] for m in v) for v in led.values())
    # ring bosses keep their firearms ids and sit where their guns went, where possible
    rings = {r["trafficker_id"]: r for r in _rows(out / "truth" / "rings.csv")}
    for pid, org in cast.memberships.items():
        assert pid in rings
        assert any(m["person_id"] == pid and m["org_id"] == org for m in members)
    persons = _rows(out / "truth" / "persons.csv")
    ids = {r["person_id"] for r in _rows(out / "truth" / "identities.csv")}
    assert {p["person_id"] for p in persons} <= ids


def test_seizures_follow_crossings_and_violence_follows_disputes(
    scenario: tuple[Path, FlowOutput, Cast, dict[str, int]],
) -> None:
    out, _flow, _cast, _ = scenario
    volume: Counter[str] = Counter()
    for row in _rows(out / drugs.CROSSINGS_FILE):
        if row["Measure"] == "Personal Vehicles":
            volume[row["Port Name"]] += int(row["Value"])
    seized = Counter(row["port"] for row in _rows(out / drugs.SEIZURES_FILE) if row["port"])
    total_v, total_s = sum(volume.values()), sum(seized.values())
    for port, v in volume.items():
        if v / total_v > 0.05:  # the larger ports: the share of seizures is the share of crossings
            assert abs(seized[port] / total_s - v / total_v) < 0.02, port
    # more violence at a plaza while it is disputed than otherwise
    disputes = {d["dispute_id"]: d for d in _rows(out / "truth" / "plaza_disputes.csv")}
    links = _rows(out / "truth" / "violence_links.csv")
    events = {e["event_id_cnty"]: e for e in _rows(out / drugs.VIOLENCE_FILE)}
    assert len(links) == len(events)
    for d in disputes.values():
        start, end = date.fromisoformat(d["start"]), date.fromisoformat(d["end"])
        inside = outside = 0
        for link in links:
            if link["plaza_id"] != d["plaza_id"]:
                continue
            year = int(events[link["event_id_cnty"]]["year"])
            if start.year <= year <= end.year:
                inside += 1
            else:
                outside += 1
        years_in = end.year - start.year + 1
        assert inside / years_in > 2 * outside / (10 - years_in), d["dispute_id"]
    linked = [link for link in links if link["dispute_id"]]
    assert linked
    for link in linked:
        d = disputes[link["dispute_id"]]
        assert {link["actor1_org_id"], link["actor2_org_id"]} - {""} <= {d["holder_id"], d["challenger_id"]}


def test_the_port_figures_are_those_of_the_bts_file() -> None:
    path = shared_data("border_crossing", "border_crossing_entry_data_us_mexico.csv.gz")
    totals: Counter[tuple[str, str]] = Counter()
    points: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Port Code"] in drugs.PORT_VOLUMES_2019 and row["Date"].endswith("2019"):
                totals[row["Port Code"], row["Measure"]] += int(row["Value"])
                points[row["Port Code"]] = row["Point"]
    for code, values in drugs.PORT_VOLUMES_2019.items():
        assert values == tuple(totals[code, m] for m in drugs.MEASURES), code
        lon, lat = drugs.PORT_POINTS[code]
        assert points[code] == f"POINT ({lon} {lat})"


def test_a_scenario_imports_whole_and_shows_what_was_planted(tmp_path: Path) -> None:
    out = tmp_path
    flow, cast, _ = _scenario(out, 6000, 7)
    with open_store(":memory:") as store:
        for source in flow.sources:
            result = import_file(store, out / source.path, source.mapping)
            assert result.rows_read == result.rows_stored == source.rows, source.path
            assert result.rows_rejected == 0, source.path
        assert list(store.rejects()) == []
        counts = store.counts_by_schema()
        rows = {s.path: s.rows for s in flow.sources}
        assert counts["DrugSeizure"] == rows[drugs.SEIZURES_FILE]
        assert counts["ViolenceEvent"] == rows[drugs.VIOLENCE_FILE]
        assert counts["CrossingCount"] == rows[drugs.CROSSINGS_FILE]
        assert counts["MemberOf"] == rows[drugs.MEMBERS_FILE]

        entities = {e.id: e for e in store.iter_entities(dataset="cruce-organizations")}
        by_name = {e.first("name"): e for e in entities.values() if e.schema == "Organization"}
        brotherhood = by_name["La Hermandad del Bravo"]
        assert set(brotherhood.properties["alias"]) == {"Los Hermanos", "The Brotherhood", "HDB"}
        assert by_name["Los Centinelas"].first("founded_date")
        # every plaza tenure of the truth is a Controls relation with its dates
        plazas = {e.id: e.first("name") for e in entities.values() if e.first("location_type") == "plaza"}
        controls = {
            (
                entities[c.first("organization") or ""].first("name"),
                plazas[c.first("plaza") or ""],
                c.first("start_date"),
                c.first("end_date"),
                c.first("disputed"),
            )
            for c in entities.values()
            if c.schema == "Controls"
        }
        names = {o.org_id: o.name for o in ORGANIZATIONS}
        towns = {p.plaza_id: p.municipality for p in PLAZAS}
        for row in _rows(out / "truth" / "plaza_control.csv"):
            assert (names[row["org_id"]], towns[row["plaza_id"]], row["start"], row["end"] or None, "no") in controls
        for d in _rows(out / "truth" / "plaza_disputes.csv"):
            key = (names[d["challenger_id"]], towns[d["plaza_id"]], d["start"], d["end"], "yes")
            assert key in controls
        leads = [e for e in entities.values() if e.schema == "Leads"]
        assert {entities[e.first("organization") or ""].first("name") for e in leads} == set(names.values())

        # seizures at a port, as many as the file has there
        ports = {e.id: e.first("name") for e in store.iter_entities(schema="Location", dataset="drug-seizures")}
        at_port = Counter(ports.get(s.first("port") or "") for s in store.iter_entities(schema="DrugSeizure"))
        in_file = Counter(row["port"] for row in _rows(out / drugs.SEIZURES_FILE))
        assert at_port["San Ysidro"] == in_file["San Ysidro"] > 0
        # violence events name the organizations by their names and aliases
        actors = {e.id: e.first("name") for e in store.iter_entities(schema="Organization", dataset="acled-events")}
        named = Counter(
            actors[p] for e in store.iter_entities(schema="ViolenceEvent") for p in e.properties.get("perpetrator", [])
        )
        spellings = {n for o in ORGANIZATIONS for n in (o.name, *o.aliases)}
        assert sum(1 for n in named if n in spellings) >= 10
        assert cast.plaza_control
