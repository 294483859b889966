"""The k-anonymous release: no released row stands for fewer than k records, the released and
suppressed records add up to all of them, the report names what was suppressed; values are
generalised before anything is suppressed, and k = 1 releases the counts unchanged."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator

import pytest

from cruce.ingest.pipeline import import_file
from cruce.people import kanon, stats
from cruce.store import open_store
from tests.conftest import shared_data

QIS = ["year", "gender", "age_band", "citizenship", "exploitation_type"]
# the file's spellings and the codes cruce stores, for recounting the raw rows
AGE = {f"Age {band}": code for band, code in (
    ("0-8", "age_0_8"), ("9-17", "age_9_17"), ("18-20", "age_18_20"), ("21-23", "age_21_23"), ("24-26", "age_24_26"),
    ("27-29", "age_27_29"), ("30-38", "age_30_38"), ("39-47", "age_39_47"), ("48+", "age_48_plus"))}  # fmt: skip
EXPLOIT = {"Sexual Exploitation": "sexual_exploitation", "Forced Labor": "forced_labour",
           "Forced Marriage": "forced_marriage", "Other": "other"}  # fmt: skip


@pytest.fixture(scope="module")
def raw() -> list[tuple[object, ...]]:
    """The CTDC file's rows as combinations of the quasi-identifiers, read here from the CSV."""
    with shared_data("ctdc_trafficking_derived/trafficking_cleaned.csv").open(encoding="utf-8", newline="") as fh:
        return [
            (int(r["yearOfRegistration"]), r["gender"].lower(), AGE[r["ageCategories"]],
             None if r["citizenship"] == "0" else r["citizenship"], EXPLOIT[r["ExploitType"]])
            for r in csv.DictReader(fh)
        ]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stats.CaseData]:
    path = shared_data("ctdc_trafficking_derived/trafficking_cleaned.csv")
    with open_store(str(tmp_path_factory.mktemp("kanon") / "store.duckdb")) as store:
        import_file(store, path, "ctdc-derived")
        loaded = stats.CaseData.load(store)
    yield loaded
    loaded.close()


@pytest.mark.parametrize("k", [5, 10, 20])
def test_no_released_row_is_rarer_than_k(data: stats.CaseData, raw: list[tuple[object, ...]], k: int) -> None:
    released = kanon.release(data.records(QIS), QIS, k)
    report = released.report
    assert released.rows, "something is released"
    assert min(r["records"] for r in released.rows) >= k
    released_records = sum(r["records"] for r in released.rows)
    assert released_records == report["records_released"]
    assert released_records + report["records_suppressed"] == report["records"] == len(raw)
    assert report["records_suppressed"] <= kanon.MAX_SUPPRESSED * len(raw)
    # the report names each suppressed combination, each rarer than k
    assert sum(r["records"] for r in report["suppressed"]) == report["records_suppressed"]
    assert all(r["records"] < k for r in report["suppressed"])
    assert len(report["suppressed"]) == report["rows_suppressed"]
    # every released count is the raw rows generalised to the levels the report names
    levels = {q: kanon.hierarchy(q).levels.index(name) for q, name in report["levels"].items()}
    recount = Counter(tuple(kanon.hierarchy(q).up(v, levels[q]) for q, v in zip(QIS, row, strict=True)) for row in raw)  # type: ignore[arg-type]
    for row in released.rows:
        assert recount[tuple(row[q] for q in QIS)] == row["records"]
    for row in report["suppressed"]:
        assert recount[tuple(row[q] for q in QIS)] == row["records"]


def test_k_one_releases_everything_unchanged(data: stats.CaseData) -> None:
    released = kanon.release(data.records(QIS), QIS, 1)
    assert released.rows == sorted(stats.counts(data, QIS), key=lambda r: tuple((r[q] is None, str(r[q])) for q in QIS))
    assert released.report["records_suppressed"] == 0
    assert set(released.report["levels"].values()) == {kanon.hierarchy(q).levels[0] for q in QIS}
    assert released.report["information_loss"] == 0


def _records(*groups: tuple[int, tuple[object, ...]]) -> list[tuple[str, tuple[object, ...]]]:
    """``n`` records of each combination, each its own record."""
    out = []
    for n, combination in groups:
        out += [(f"r{len(out) + i}", combination) for i in range(n)]
    return out  # type: ignore[return-value]


def test_generalises_before_suppressing() -> None:
    # 6 + 6 records of two neighbouring age bands: under k = 10 each, 12 together once widened
    records = _records((6, (2020, "female", "age_18_20")), (6, (2020, "female", "age_21_23")))
    released = kanon.release(records, ["year", "gender", "age_band"], k=10)
    assert released.rows == [{"year": 2020, "gender": "female", "age_band": "18-23", "records": 12}]
    assert released.report["levels"] == {"year": "year", "gender": "value", "age_band": "wider band"}
    assert released.report["records_suppressed"] == 0


def test_a_lone_outlier_is_suppressed_rather_than_everything_generalised() -> None:
    records = _records((40, (2020, "female", "MX")), (1, (2020, "male", "ER")))
    released = kanon.release(records, ["year", "gender", "citizenship"], k=10)
    assert released.rows == [{"year": 2020, "gender": "female", "citizenship": "MX", "records": 40}]
    assert released.report["suppressed"] == [{"year": 2020, "gender": "male", "citizenship": "ER", "records": 1}]
    # with no suppression allowed, the country is generalised until the outlier is hidden
    strict = kanon.release(records, ["year", "gender", "citizenship"], k=10, max_suppressed=0)
    assert strict.report["records_suppressed"] == 0
    assert min(r["records"] for r in strict.rows) >= 10


def test_citizenship_goes_to_world_regions() -> None:
    h = kanon.hierarchy("citizenship")
    assert [h.up("MX", level) for level in range(h.height + 1)] == ["MX", "Central America", "Americas", kanon.ANY]
    assert h.up("UA", 1) == "Eastern Europe"


def test_a_victim_with_two_types_of_one_family_counts_once_in_it() -> None:
    records = [("v1", ("forced_labour",)), ("v1", ("slavery_and_similar_practices",))] + [
        (f"w{i}", ("forced_labour",)) for i in range(9)
    ]
    released = kanon.release(records, ["exploitation_type"], k=10)
    assert released.rows == [{"exploitation_type": "labour", "records": 10}]


def test_k_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="k must be"):
        kanon.release([], ["year"], k=0)
