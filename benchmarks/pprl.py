"""Privacy-preserving record linkage against plain linkage, on the people of resolve-synth.

The data: the same records as ``resolve-synth`` (``cruce synth --flows firearms --scale 130000
--seed 1``, about 100,000 person records: gun-shop buyers, trace purchasers and possessors),
imported into one DuckDB store. They are split as two agencies would hold them: agency A has
the gun-shop sales (dataset ``example-purchases``: names in parts, dates of birth), agency B the
firearm traces (``firearm-traces``: full names written in any order, some dates missing). The
truth is every pair of one record of A and one of B that ``truth/persons.csv`` gives one
person; pairs within one agency do not count, for any method.

**PPRL** (ours): ``cruce pprl encode`` of each dataset with one shared secret (cruce's
normalisers, then clkhash with ``src/cruce/pprl/schema.json``), then ``cruce pprl match``
(anonlink, Dice) at its default threshold (0.85): every pair at or above it (the default), and
``--one-to-one`` (anonlink's greedy solver) under ``one_to_one``, with the best recall a
one-to-one matching could reach on these files (both hold some people several times). A sweep of
thresholds follows (``by_threshold``).
**Plain linkage** (``baseline``): cruce's own resolution on the same store with the names in
clear (its Splink Person model, trained, clustered at 0.8), the pairs of its clusters kept
when they join A to B.

    python -m benchmarks.pprl                  # writes benchmarks/results/resolve-pprl.json
    python -m benchmarks.pprl --synth-scale 26000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, peak_rss_mb, run_measured, write_result
from benchmarks.resolve import THRESHOLD, _cluster_pairs, _score, _synth

TOPIC = "resolve-pprl"
DEFAULT_SCALE = 130_000  # resolve-synth's scale in benchmarks/results/resolve-synth.json
AGENCIES = {"a": "example-purchases", "b": "firearm-traces"}
SWEEP = (0.75, 0.8, 0.82, 0.85, 0.88, 0.9)


def _store_path(scale: int) -> Path:
    return WORK / f"pprl-synth-{scale}.duckdb"


def _imported(scale: int) -> tuple[Path, float]:
    """The scenario imported into the benchmark's store (once); (path, seconds it took)."""
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store

    db = _store_path(scale)
    done = db.with_suffix(".imported")
    if done.exists():
        return db, float(done.read_text())
    for leftover in (db, Path(str(db) + ".wal")):
        leftover.unlink(missing_ok=True)
    scenario = _synth(scale)
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    started = time.perf_counter()
    with open_store(str(db)) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])
    seconds = time.perf_counter() - started
    done.write_text(f"{seconds:.2f}")
    return db, seconds


def _truth(scale: int, sides: dict[str, str]) -> dict[str, str]:
    from cruce.resolve.evaluate import synth_truth

    truth = synth_truth(_synth(scale))
    return {r: p for r, p in truth.items() if r in sides}


def _sides(store: Any) -> dict[str, str]:
    """Record id -> agency (a or b), from the datasets whose imports wrote its Person statements."""
    from cruce.security.db import AppDB

    rows = AppDB(store).fetch(
        "SELECT DISTINCT CAST(s.entity_id AS VARCHAR), i.dataset FROM statement s "
        "JOIN import_run i ON i.no = s.import_no JOIN property p ON p.prop_id = s.prop_id WHERE p.schema = 'Person'"
    )
    agency = {dataset: side for side, dataset in AGENCIES.items()}
    return {str(r[0]): agency[r[1]] for r in rows if r[1] in agency}


# -- PPRL -------------------------------------------------------------------------------------
def step_pprl(scale: int) -> dict[str, Any]:
    from cruce.pprl import DEFAULT_THRESHOLD, encode_store, match_encoded, read_encoded, read_map
    from cruce.store import open_store

    db, _ = _imported(scale)
    folder = WORK / f"pprl-{scale}"
    folder.mkdir(parents=True, exist_ok=True)
    secret = b"benchmark secret shared by A and B"
    encode_seconds: dict[str, float] = {}
    with open_store(str(db)) as store:
        sides = _sides(store)
        for side, dataset in AGENCIES.items():
            started = time.perf_counter()
            encode_store(store, secret, folder / f"{side}.json", dataset=dataset, actor="benchmark")
            encode_seconds[side] = time.perf_counter() - started
    truth = _truth(scale, sides)
    records = {side: read_map(folder / f"{side}.ids.csv") for side in AGENCIES}
    back = {**records["a"], **records["b"]}
    a, b = read_encoded(folder / "a.json"), read_encoded(folder / "b.json")

    def scored(pairs: list[tuple[str, str, float]]) -> dict[str, Any]:
        return _score(((back[x], back[y]) for x, y, _s in pairs), truth, sides)

    started = time.perf_counter()
    every = match_encoded(a, b, DEFAULT_THRESHOLD)
    match_seconds = time.perf_counter() - started
    started = time.perf_counter()
    one = match_encoded(a, b, DEFAULT_THRESHOLD, one_to_one=True)
    one_seconds = time.perf_counter() - started
    swept = match_encoded(a, b, min(SWEEP))
    sweep = {f"{t:.2f}": scored([p for p in swept.pairs if p[2] >= t]) for t in SWEEP}
    return {
        **scored(every.pairs),
        "threshold": DEFAULT_THRESHOLD,
        "seconds": round(sum(encode_seconds.values()) + match_seconds, 2),
        "encode_seconds": {k: round(v, 2) for k, v in encode_seconds.items()},
        "match_seconds": round(match_seconds, 2),
        "records_a": len(a.ids),
        "records_b": len(b.ids),
        "comparisons": len(a.ids) * len(b.ids),
        "peak_rss_mb": peak_rss_mb(),
        "by_threshold": sweep,
        "one_to_one": {
            **scored(one.pairs),
            "match_seconds": round(one_seconds, 2),
            "recall_ceiling": _one_to_one_ceiling(truth, sides),
        },
        "encoded_bytes": {side: (folder / f"{side}.json").stat().st_size for side in AGENCIES},
    }


def _one_to_one_ceiling(truth: dict[str, str], sides: dict[str, str]) -> float:
    """The best recall a one-to-one matching can reach: a person with 3 records in A and 2 in B
    has 6 true pairs, of which at most 2 can be matched one to one."""
    counts: dict[str, dict[str, int]] = {}
    for record, person in truth.items():
        side = counts.setdefault(person, {"a": 0, "b": 0})
        side[sides[record]] += 1
    pairs = sum(c["a"] * c["b"] for c in counts.values())
    return round(sum(min(c["a"], c["b"]) for c in counts.values()) / pairs, 4) if pairs else 1.0


# -- plain linkage ------------------------------------------------------------------------------
def step_plain(scale: int) -> dict[str, Any]:
    from cruce.resolve.engine import resolve
    from cruce.resolve.store import ResolutionStore
    from cruce.store import open_store

    db, _ = _imported(scale)
    with open_store(str(db)) as store:
        sides = _sides(store)
        started = time.perf_counter()
        result = resolve(store, "Person", threshold=THRESHOLD, retrain=True)
        seconds = time.perf_counter() - started
        clusters = ResolutionStore(store).clusters("Person")
    truth = _truth(scale, sides)
    return {
        **_score(_cluster_pairs(clusters), truth, sides),
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "records": result.records,
        "threshold": THRESHOLD,
    }


STEPS = {"pprl": step_pprl, "plain": step_plain}


def run(scale: int = DEFAULT_SCALE) -> dict[str, Any]:
    _, import_seconds = _imported(scale)
    ours = run_measured("benchmarks.pprl", "--step", "pprl", "--synth-scale", str(scale))
    baseline = run_measured("benchmarks.pprl", "--step", "plain", "--synth-scale", str(scale))
    return {
        "dataset": f"cruce synth --flows firearms --scale {scale} --seed 1: people of sales (agency A, "
        f"dataset {AGENCIES['a']}) and traces (agency B, {AGENCIES['b']}); truth: pairs across A and B",
        "method": "cruce pprl encode (cruce normalisers + clkhash 0.18.3, schema cruce-person-es 1) and "
        f"cruce pprl match (anonlink 0.15.3, Dice, every pair at or above {ours['threshold']}); "
        "one_to_one: the same with --one-to-one (greedy solver)",
        **ours,
        "import_seconds": round(import_seconds, 2),
        "ratio": round(ours["seconds"] / baseline["seconds"], 2) if baseline["seconds"] else None,
        "f1_vs_plain": round(ours["f1"] / baseline["f1"], 3) if baseline["f1"] else None,
        "baseline": {
            "name": "plain linkage: cruce resolve (Splink Person model, names in clear), clusters at 0.8, "
            "pairs across A and B",
            **baseline,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synth-scale", type=int, default=DEFAULT_SCALE, help="records of the synth scenario")
    parser.add_argument("--step", choices=tuple(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args.synth_scale)))
        return
    path = write_result(TOPIC, run(args.synth_scale))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
