"""Trafficking statistics reproduce the CTDC file of ../shared/data — records by year, gender and
exploitation type, and their cross-tables — against sums computed here from the raw rows, on
DuckDB and PostgreSQL; and cruce's own cases (the synthetic HTCDS layout) are counted the same way,
a victim once under each of its values of a multi-valued dimension."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from cruce.ingest.pipeline import import_file
from cruce.people import stats
from cruce.schema.loader import default_schema
from cruce.schema.places import normalize_key
from cruce.store import open_store
from cruce.synth.scenario import generate
from tests.conftest import shared_data

CTDC = "ctdc_trafficking_derived/trafficking_cleaned.csv"
# the file's spellings and the HTCDS codes cruce stores
GENDER = {"Female": "female", "Male": "male"}
EXPLOIT = {
    "Sexual Exploitation": "sexual_exploitation",
    "Forced Labor": "forced_labour",
    "Forced Marriage": "forced_marriage",
    "Other": "other",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _triples(rows: list[dict[str, str]]) -> Counter[tuple[int, str, str]]:
    return Counter((int(r["yearOfRegistration"]), GENDER[r["gender"]], EXPLOIT[r["ExploitType"]]) for r in rows)


@pytest.fixture(scope="module")
def ctdc_path() -> Path:
    return shared_data(CTDC)


@pytest.fixture(scope="module")
def synth_cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("people-synth")
    generate(out, scale=5000, seed=3, flows=["people"])
    return out / "trafficking-cases.csv"


@pytest.fixture(scope="module")
def data(ctdc_path: Path, synth_cases: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[stats.CaseData]:
    """The CTDC file and cruce's own (synthetic) cases in one store: two datasets."""
    db = str(tmp_path_factory.mktemp("people-stats") / "store.duckdb")
    with open_store(db) as store:
        assert import_file(store, ctdc_path, "ctdc-derived").rows_rejected == 0
        assert import_file(store, synth_cases, "htcds-cases").rows_rejected == 0
        loaded = stats.CaseData.load(store)
    yield loaded
    loaded.close()


def _of(rows: list[dict[str, object]], dataset: str, *dims: str) -> dict[tuple[object, ...], object]:
    return {tuple(r[d] for d in dims): r["records"] for r in rows if r["dataset"] == dataset}


def test_ctdc_counts_by_year_gender_and_exploitation_type(data: stats.CaseData, ctdc_path: Path) -> None:
    raw = _rows(ctdc_path)
    triples = _triples(raw)
    found = _of(stats.counts(data, ["dataset", "year", "gender", "exploitation_type"]), "ctdc-derived",
                "year", "gender", "exploitation_type")  # fmt: skip
    assert found == triples
    for i, dim in enumerate(("year", "gender", "exploitation_type")):
        expected: Counter[object] = Counter()
        for key, n in triples.items():
            expected[key[i]] += n
        assert _of(stats.counts(data, ["dataset", dim]), "ctdc-derived", dim) == {(k,): n for k, n in expected.items()}
    assert sum(triples.values()) == len(raw) == 14_299


def test_ctdc_citizenship_unknown_is_not_stated(data: stats.CaseData, ctdc_path: Path) -> None:
    expected = Counter(r["citizenship"] for r in _rows(ctdc_path))
    found = _of(stats.counts(data, ["dataset", "citizenship"]), "ctdc-derived", "citizenship")
    assert found[(None,)] == expected.pop("0")  # CTDC's 0: no value
    assert {k: v for k, v in found.items() if k != (None,)} == {(c,): n for c, n in expected.items()}


def _synth_victims(path: Path) -> dict[tuple[str, str], dict[str, set[str]]]:
    """Each synthetic victim's year and values, their rows (one per perpetrator) merged."""
    codes = {normalize_key(s): code for code, v in default_schema().enums["exploitation_type"].values.items()
             for s in (code, v.en, v.es, *v.aliases)}  # fmt: skip
    victims: dict[tuple[str, str], dict[str, set[str]]] = {}
    for row in _rows(path):
        victim = victims.setdefault(
            (row["cas_id"], row["vic_id"]), {"year": set(), "exploitation": set(), "means": set()}
        )
        victim["year"].add(row["hte_year"])
        victim["exploitation"] |= {codes[normalize_key(v)] for v in row["hte_exploitation_type"].split(";") if v}
        victim["means"] |= {v.strip() for v in row["hte_means_of_control"].split(";") if v.strip()}
    return victims


def test_own_cases_counted_once_per_value(data: stats.CaseData, synth_cases: Path) -> None:
    victims = _synth_victims(synth_cases)
    by_year = Counter(int(next(iter(v["year"]))) for v in victims.values())
    assert _of(stats.counts(data, ["dataset", "year"]), "htcds-cases", "year") == {(y,): n for y, n in by_year.items()}
    by_type = Counter(t for v in victims.values() for t in v["exploitation"])
    found = _of(stats.counts(data, ["dataset", "exploitation_type"]), "htcds-cases", "exploitation_type")
    assert found == {(t,): n for t, n in by_type.items()}
    by_means = Counter(m for v in victims.values() for m in v["means"])
    found_means = _of(stats.counts(data, ["dataset", "means_of_control"]), "htcds-cases", "means_of_control")
    assert {k: v for k, v in found_means.items() if k != (None,)} == {(m,): n for m, n in by_means.items()}
    assert sum(by_means.values()) > len(victims)  # many victims have several means: counted under each
    groups = Counter(g for v in victims.values() for g in {stats.group_of(m) for m in v["means"]})
    found_groups = _of(stats.counts(data, ["dataset", "control_category"]), "htcds-cases", "control_category")
    assert {k: v for k, v in found_groups.items() if k != (None,)} == {(g,): n for g, n in groups.items()}


def test_unknown_dimension_is_refused(data: stats.CaseData) -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        stats.counts(data, ["year", "name"])


def test_same_figures_on_both_backends(store_url: str, ctdc_path: Path) -> None:
    with open_store(store_url) as store:
        import_file(store, ctdc_path, "ctdc-derived")
        data = stats.CaseData.load(store)
    try:
        found = {(r["year"], r["gender"], r["exploitation_type"]): r["records"] for r in stats.counts(data)}
        triples = _triples(_rows(ctdc_path))
        assert found == triples
        assert stats.total(data) == 14_299
        table = {r["exploitation_type"]: r for r in stats.crosstab(data, "exploitation_type", "gender")}
        by_pair = Counter((g, e) for (_y, g, e) in triples.elements())
        assert {(g, e): table[e][g] for e in table for g in ("female", "male") if table[e][g]} == by_pair
        assert table["forced_marriage"]["male"] == 0  # a pair the file lacks is a zero, not a gap
        assert sum(line["total"] for line in table.values()) == 14_299
    finally:
        data.close()
