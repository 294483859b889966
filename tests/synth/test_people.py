"""The people flow: deterministic, counted right, and imported whole with its planted structure."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cruce.export import write_csv
from cruce.ingest.compile import entity_id
from cruce.ingest.mapping import load_mapping
from cruce.ingest.pipeline import import_file
from cruce.schema.loader import default_schema
from cruce.store import open_store
from cruce.synth import firearms
from cruce.synth.names import strip_accents
from cruce.synth.people import (
    CASES_FILE,
    CROSSINGS_FILE,
    TIPS_FILE,
    write_people,
)
from cruce.synth.world import ORGANIZATIONS, PLAZAS, Cast, FlowOutput


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def _scenario(out: Path, *, records: int = 1500, seed: int = 3, partial_cast: bool = False) -> FlowOutput:
    summary = firearms.generate(out, scale=300, seed=seed)
    cast = Cast(traffickers=list(summary.traffickers))
    if partial_cast:
        # as the drugs flow leaves it: a few organizations, two bosses placed, one plaza held
        cast.organizations = ORGANIZATIONS[:4]
        cast.memberships = {t.person.pid: ORGANIZATIONS[i % 2].org_id for i, t in enumerate(cast.traffickers[:2])}
        cast.plaza_control = {"PZ08": [(firearms.SALES_START, firearms.AS_OF, ORGANIZATIONS[1].org_id)]}
    return write_people(out, records=records, seed=seed, cast=cast)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    _scenario(tmp_path / "a", partial_cast=True)
    _scenario(tmp_path / "b", partial_cast=True)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert a.keys() == b.keys()
    assert CASES_FILE in a
    assert all(a[k] == b[k] for k in a)
    _scenario(tmp_path / "c", seed=4)
    assert _tree(tmp_path / "c")[TIPS_FILE] != a[TIPS_FILE]
    assert not (tmp_path / "a" / ".people-tmp").exists()


def test_counts_match_the_files(tmp_path: Path) -> None:
    summary = firearms.generate(tmp_path, scale=300, seed=5)
    before = {name: _data_rows(tmp_path / "truth" / name) for name in ("persons.csv", "identities.csv")}
    out = write_people(tmp_path, records=2000, seed=5, cast=Cast(traffickers=list(summary.traffickers)))
    for source in out.sources:
        assert _data_rows(tmp_path / source.path) == source.rows, source.path
        assert source.rows > 0, source.path
        load_mapping(source.mapping)  # each is a built-in mapping
    assert 1800 <= out.counts["records"] == sum(s.rows for s in out.sources) <= 2200
    for path, rows in out.truth.items():
        written = _data_rows(tmp_path / path)
        if path.endswith(("persons.csv", "identities.csv")):
            written -= before[path.split("/")[1]]
        assert written == rows, path
    identities = _rows(tmp_path / "truth" / "identities.csv")
    new = [r for r in identities if r["person_id"].startswith("H")]
    assert len(new) == out.counts["persons"]
    assert [r["person_id"] for r in new] == [f"H{i:06d}" for i in range(1, len(new) + 1)]
    # every person named in one of the flow's records is in the identities
    known = {r["person_id"] for r in identities}
    people_files = {s.path for s in out.sources}
    named = [r for r in _rows(tmp_path / "truth" / "persons.csv") if r["file"] in people_files]
    assert named
    assert {r["person_id"] for r in named} <= known
    cases = _rows(tmp_path / "truth" / "cases.csv")
    assert len(cases) == out.counts["cases"]
    assert {c["exploitation_type"] for c in cases} >= {"sexual_exploitation", "forced_labour"}


def test_runs_alone_with_an_empty_cast(tmp_path: Path) -> None:
    firearms.generate(tmp_path, scale=100, seed=2)
    out = write_people(tmp_path, records=300, seed=2, cast=Cast())
    assert out.counts["cast_perpetrators"] == out.counts["tips_naming_traffickers"] == 0
    orgs = {c["org_id"] for c in _rows(tmp_path / "truth" / "cases.csv")} - {""}
    assert orgs <= {o.org_id for o in ORGANIZATIONS}


def test_needs_the_firearms_truth(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_people(tmp_path, records=200, seed=1, cast=Cast())


def test_phones_are_made_up_and_valid(tmp_path: Path) -> None:
    _scenario(tmp_path)
    numbers = [r["number"] for r in _rows(tmp_path / "truth" / "phones.csv")]
    assert numbers
    us = [n for n in numbers if n.startswith("+1")]
    assert all(n[5:10] == "55501" for n in us)  # the 555-0100…0199 block reserved for fiction
    assert all(n.startswith("+52") and len(n) == 13 for n in numbers if not n.startswith("+1"))


def test_imports_whole_and_shows_what_was_planted(tmp_path: Path) -> None:
    out = _scenario(tmp_path, partial_cast=True)
    truth = tmp_path / "truth"
    schema = default_schema()
    with open_store(":memory:") as store:
        for source in out.sources:
            result = import_file(store, tmp_path / source.path, source.mapping)
            assert (result.rows_read, result.rows_stored, result.rows_rejected) == (source.rows, source.rows, 0), (
                source.path
            )
        assert list(store.rejects()) == []
        counts = store.counts_by_schema()
        assert counts["TraffickingCase"] == out.counts["victims"]
        assert counts["Case"] == out.counts["cases"]
        assert counts["Tip"] == out.counts["tips"]
        assert counts["BorderCrossing"] == out.counts["crossings"]
        assert counts["Screening"] == out.counts["screenings"]

        # a case with its HTCDS codes, as the truth has it
        case_truth = {c["case_id"]: c for c in _rows(truth / "cases.csv")}
        found = 0
        for tc in store.iter_entities(schema="TraffickingCase"):
            case = store.entity(tc.first("case") or "")
            assert case is not None
            expected = case_truth[case.first("case_number") or ""]
            assert tc.properties["exploitation_type"] == [expected["exploitation_type"]]
            assert tc.first("age_band")
            assert tc.first("citizenship")
            assert tc.first("gender") in {"female", "male"}
            found += 1
        assert found == out.counts["victims"]

        # a tip naming a ring boss of the firearms flow
        bosses = {r["person_id"]: r for r in _rows(truth / "identities.csv") if r["kind"] == "trafficker"}
        boss_tips = [t for t in _rows(truth / "tips.csv") if t["subject_id"] in bosses]
        assert boss_tips
        hits = 0
        for t in boss_tips:
            tip = store.entity(entity_id("cruce-tips", "tip", t["tip_id"]))
            assert tip is not None
            subject = store.entity(entity_id("cruce-tips", "tip-subject", t["tip_id"]))
            names = [tip.first("text") or "", *(subject.properties["name"] if subject else [])]
            name = strip_accents(" ".join(names)).casefold()
            boss = bosses[t["subject_id"]]
            surnames = [strip_accents(boss[k]).casefold() for k in ("last_name", "second_last_name") if boss[k]]
            hits += any(s.split(" ")[-1] in name for s in surnames)
        assert hits >= len(boss_tips) // 2

        # a ring boss crossing at a port of one of his plazas
        ports = {code for p in PLAZAS for _, code, _ in p.ports}
        crossings = [c for c in _rows(truth / "crossings.csv") if c["kind"] == "trafficker"]
        assert crossings
        for c in crossings[:5]:
            crossing = store.entity(entity_id("cruce-person-crossings", "crossing", c["crossing_id"]))
            assert crossing is not None
            port = store.entity(crossing.first("port") or "")
            assert port is not None
            assert port.first("location_type") == "port_of_entry"
            assert port.first("port_code") in ports
            plaza = next(p for p in PLAZAS if p.plaza_id == c["plaza_id"])
            assert port.first("port_code") in {code for _, code, _ in plaza.ports}
            traveler = store.entity(crossing.first("person") or "")
            assert traveler is not None
            assert traveler.first("name")

        # victims brought north with their trafficker: one vehicle, one port, one day
        groups: dict[str, list[dict[str, str]]] = {}
        for c in _rows(truth / "crossings.csv"):
            if c["group_id"]:
                groups.setdefault(c["group_id"], []).append(c)
        assert groups
        for group in list(groups.values())[:3]:
            entities = [store.entity(entity_id("cruce-person-crossings", "crossing", c["crossing_id"])) for c in group]
            assert len({e.first("port") for e in entities if e}) == 1
            assert len({e.first("date") for e in entities if e}) == 1

        # tipsters: stored only in the Tip's protected properties
        tip_type = schema.get("Tip")
        assert all(tip_type.properties[p].protected for p in ("tipster_name", "tipster_phone", "tipster_email"))
        named_tips = [t for t in store.iter_entities(schema="Tip") if t.first("tipster_name")]
        assert named_tips
        assert all(t.first("anonymous") == "no" for t in named_tips)
        assert any(
            t.first(
                "tipster_phone",
            )
            for t in named_tips
        )
        public = io.StringIO()
        write_csv(iter(named_tips), tip_type, public)
        assert "tipster" not in public.getvalue().splitlines()[0]
        tipster_names = {t.first("tipster_name") for t in named_tips}
        assert not tipster_names & {
            n for p in store.iter_entities(schema="Person") for n in p.properties.get("name", [])
        }
        # the person screened is protected too
        assert schema.get("Screening").properties["person"].protected
        # a member of an organization appears in a case the truth ties to that organization
        cases = _rows(truth / "cases.csv")
        assert any(c["org_id"] for c in cases)
        langs = {t.first("language") for t in store.iter_entities(schema="Tip")}
        assert langs == {"en", "es"}
    assert (tmp_path / CROSSINGS_FILE).exists()
