"""Search: latency at a million entities, and recall of people by the names other records give them.

A ``cruce synth`` scenario (all three flows; ``--scale`` 360,000 records make about a million
entities) is imported into DuckDB and kept under ``benchmarks/work``; the term index is built
by ``cruce.search.reindex`` (timed). Then 200 name variants are drawn from the synth truth
(``cruce.resolve.evaluate.synth_truth``: record entity → true person): a person with records
whose names differ (accents dropped, typos, nicknames, swapped or missing surnames, aliases, as
the generator writes them); one record's name, as written, is the query; the question is
whether another record of the same person *written differently* is among the first ten
``Person`` hits (recall@10). ``recall_at_10`` asks about people whose names no other person
shares; ``recall_at_10_all`` about everyone, namesakes included (``draw_queries`` says why).

The baseline is SQLite FTS5 (``unicode61 remove_diacritics 2``, stdlib) over the same names
(every name value of every ``Person`` entity), ranked by bm25, asked the same queries: all words
(FTS5's implicit AND, ``recall_at_10``) and any word (``recall_at_10_any``).

Latency is ``Guard.search`` end to end, as the API calls it (expansion, the postings query, the
facets, reading and redacting the ten hits), p50/p95/p99 over the 200 queries after one warm-up
pass, with the entity lookup up to date (ADR 0008), as a server has it once it has run a while.

    python -m benchmarks.search                      # about 1M entities (import ~15 min on 2 cores)
    python -m benchmarks.search --scale 20000        # a quick run while developing
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import WORK, peak_rss_mb, write_result

DEFAULT_SCALE = 360_000
QUERIES = 200
TOP = 10


def _imported(scale: int, seed: int = 1) -> tuple[Path, Path, float]:
    """(scenario, database, import seconds), kept in benchmarks/work between runs."""
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store
    from cruce.synth import generate

    scenario = WORK / f"search-synth-{scale}"
    if not (scenario / "manifest.json").exists():
        shutil.rmtree(scenario, ignore_errors=True)
        generate(scenario, scale=scale, seed=seed)
    db = WORK / f"search-{scale}.duckdb"
    done = db.with_suffix(".done")
    if done.exists():
        return scenario, db, float(done.read_text(encoding="utf-8"))
    for leftover in (db, Path(f"{db}.wal")):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    with open_store(str(db)) as store:
        for entry in manifest["files"]:
            import_file(store, scenario / entry["path"], entry["mapping"])
    seconds = time.perf_counter() - started
    done.write_text(f"{seconds}\n", encoding="utf-8")
    return scenario, db, seconds


def _names(store: Any) -> dict[str, list[str]]:
    """Every name value of every Person entity (name and alias), by entity id."""
    rows = store._fetch(
        "SELECT CAST(s.entity_id AS VARCHAR), s.value FROM statement s JOIN property p ON p.prop_id = s.prop_id "
        "WHERE p.schema = 'Person' AND p.prop IN ('name', 'alias') AND s.import_no IN (SELECT no FROM import_run)"
    )
    found: dict[str, list[str]] = {}
    for entity, value in rows:
        found.setdefault(str(entity), []).append(str(value))
    return found


def draw_queries(
    scenario: Path, names: dict[str, list[str]], n: int, seed: int, distinct_only: bool = True
) -> list[tuple[str, set[str]]]:
    """(query, the person's other records written differently) for ``n`` people drawn at random.

    With ``distinct_only``, among people no other person shares a name with (each of their
    records' names, folded, belongs to them alone): the generator draws names from finite pools,
    so at a million entities dozens of people may be called exactly "José García López", and no
    search can tell which of them a name means — that measures the data, not the search. Without
    it, among all people (``recall_at_10_all`` in the results).
    """
    from cruce.resolve.evaluate import synth_truth
    from cruce.resolve.normalise import fold

    people: dict[str, list[str]] = {}
    for record, person in synth_truth(scenario).items():
        if record in names:
            people.setdefault(person, []).append(record)
    owners: dict[str, set[str]] = {}
    for person, records in people.items():
        for r in records:
            owners.setdefault(fold(names[r][0]), set()).add(person)
    candidates = []
    for person in sorted(people):
        records = sorted(set(people[person]))
        if len({fold(names[r][0]) for r in records}) < 2:
            continue
        if distinct_only and any(len(owners[fold(names[r][0])]) > 1 for r in records):
            continue
        candidates.append(records)
    rng = random.Random(seed)
    queries = []
    for records in rng.sample(candidates, min(n, len(candidates))):
        asked = rng.choice(records)
        query = names[asked][0]
        others = {r for r in records if fold(names[r][0]) != fold(query)}
        if not others:
            asked = next(r for r in records if any(fold(names[o][0]) != fold(names[r][0]) for o in records))
            query = names[asked][0]
            others = {r for r in records if fold(names[r][0]) != fold(query)}
        queries.append((query, others))
    return queries


def _percentiles(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {f"p{p}_ms": round(float(np.percentile(ms, p)), 2) for p in (50, 95, 99)}


def run_cruce(db: Path, queries: list[tuple[str, set[str]]], reindex_first: bool = True) -> dict[str, Any]:
    from cruce.schema.loader import default_schema
    from cruce.search import memory as search_memory
    from cruce.search import reindex, state
    from cruce.security import SYSTEM, Guard, Security
    from cruce.store import open_store

    os.environ.setdefault("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"benchmark-search-key-32-bytes!!!").decode())
    with open_store(str(db)) as store:
        guard = Guard(store, Security(store), default_schema())
        started = time.perf_counter()
        built = reindex(guard.db, guard.schema) if reindex_first else None
        reindex_seconds = time.perf_counter() - started
        if hasattr(store, "refresh_lookup"):  # what a server has done in its first seconds (ADR 0008)
            store.refresh_lookup()
        started = time.perf_counter()
        now = state(guard.db)  # the postings loaded in memory (ADR 0009), as a server does in the background
        in_memory = search_memory.held(guard.db, now.generation, now.entities, wait=True)
        load_seconds = time.perf_counter() - started
        for query, _others in queries:  # warm-up: the vocabulary read, the caches
            guard.search(SYSTEM, query, schema="Person", limit=TOP)
        seconds, hits = [], 0
        for query, others in queries:
            started = time.perf_counter()
            found = guard.search(SYSTEM, query, schema="Person", limit=TOP)
            seconds.append(time.perf_counter() - started)
            hits += bool(others & {h.entity_id for h in found.hits})
        entities = int(store._fetch("SELECT count(DISTINCT entity_id) FROM statement")[0][0])  # type: ignore[attr-defined]
    return {
        "entities": entities,
        "reindex_seconds": round(reindex_seconds, 1),
        "in_memory": in_memory is not None,
        "memory_load_seconds": round(load_seconds, 1),
        "memory_mb": round(in_memory.nbytes / 2**20, 1) if in_memory is not None else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "terms": built.new_terms if built else None,
        "postings": built.postings if built else None,
        "facet_rows": built.facets if built else None,
        **_percentiles(seconds),
        "recall_at_10": round(hits / len(queries), 4),
    }


def run_fts(names: dict[str, list[str]], queries: list[tuple[str, set[str]]]) -> dict[str, Any]:
    """SQLite FTS5 over the same names, asked all words (AND) and any word (OR), ranked by bm25."""
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE VIRTUAL TABLE names USING fts5(entity_id UNINDEXED, name, tokenize='unicode61 remove_diacritics 2')"
    )
    started = time.perf_counter()
    con.executemany("INSERT INTO names VALUES (?, ?)", ((e, v) for e, values in names.items() for v in values))
    build = time.perf_counter() - started
    figures: dict[str, Any] = {"engine": f"SQLite {sqlite3.sqlite_version} FTS5", "build_seconds": round(build, 2)}
    for label, joiner in (("", " "), ("_any", " OR ")):
        seconds, hits = [], 0
        for query, others in queries:
            words = [w for w in "".join(c if c.isalnum() else " " for c in query).split() if w]
            match = joiner.join('"' + w.replace('"', "") + '"' for w in words)
            started = time.perf_counter()
            rows = con.execute(
                "SELECT entity_id FROM names WHERE names MATCH ? GROUP BY entity_id ORDER BY min(rank) LIMIT ?",
                (match, TOP),
            ).fetchall()
            seconds.append(time.perf_counter() - started)
            hits += bool(others & {r[0] for r in rows})
        figures[f"recall_at_10{label}"] = round(hits / len(queries), 4)
        figures.update({f"{k[:-3]}{label}_ms": v for k, v in _percentiles(seconds).items()})
    return figures


def run(scale: int = DEFAULT_SCALE, n: int = QUERIES, seed: int = 7) -> dict[str, Any]:
    from cruce.store import open_store

    scenario, db, import_seconds = _imported(scale)
    with open_store(str(db)) as store:
        names = _names(store)
    queries = draw_queries(scenario, names, n, seed)
    everyone = draw_queries(scenario, names, n, seed, distinct_only=False)
    ours = run_cruce(db, queries)
    ours["recall_at_10_all"] = run_cruce(db, everyone, reindex_first=False)["recall_at_10"]
    baseline = run_fts(names, queries)
    baseline_all = run_fts(names, everyone)
    baseline["recall_at_10_all"] = baseline_all["recall_at_10"]
    baseline["recall_at_10_any_all"] = baseline_all["recall_at_10_any"]
    return {
        "scenario": f"cruce synth --scale {scale} --seed 1 (three flows), imported into DuckDB, not resolved",
        "definition": (
            f"{len(queries)} people drawn (seed {seed}) among those whose records name them differently and whose "
            "names no other person of the truth shares (recall_at_10); recall_at_10_all: among all such people, "
            "whatever others share their names (the generator's name pools make exact namesakes common at this "
            "size, which no search can tell apart). The query is one record's name as written; a hit is another "
            f"record of the same person whose name is written differently, among the first {TOP} Person results. "
            f"Latency: Guard.search end to end (type Person, {TOP} hits), after one warm-up pass."
        ),
        "queries": len(queries),
        "import_seconds": round(import_seconds, 1),
        **ours,
        "baseline": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "examples": [q for q, _o in queries[:10]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="synth records (360,000: about 1M entities)")
    parser.add_argument("--queries", type=int, default=QUERIES)
    args = parser.parse_args()
    print(write_result("search", run(args.scale, args.queries)).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
