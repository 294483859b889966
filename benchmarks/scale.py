"""Scale: import, flow analysis, graph build and resolution of ``cruce synth`` scenarios of growing
size, on DuckDB, on PostgreSQL and on Spark in local mode, side by side; and each step's time and
memory projected to 100 million and a billion records from the measured sizes.

For each size (``--sizes``, default 1,000,000 and 10,000,000 records of the three flows), the
scenario is generated once, then every step runs in a process of its own, watched from here:

- ``import``: DuckDB and PostgreSQL: ``import_file`` of every file into a store (PostgreSQL: a
  schema of its own, dropped after); Spark: the DuckDB store's tables exported to Parquet, which
  is what Spark reads (``cruce.engines.store_export``);
- ``flows``: ``cruce flows aggregate``, every store-wide figure (``cruce.analyses.aggregate``), on
  DuckDB over the DuckDB store, on DuckDB over the tables read out of PostgreSQL, and on Spark
  over the DuckDB store;
- ``graph``: the graph's build (stage and transform), likewise;
- ``resolve``: ``cruce resolve --type Person --retrain`` (train, score, cluster) on the DuckDB and
  the PostgreSQL store; on Spark, scoring with the model DuckDB trained (Spark trains when DuckDB
  did not finish), on a copy of the DuckDB store.

Flows and graph run before resolution (every record its own entity), so that a resolution stopped
at a size does not change what the other steps measure. A step that runs past ``--time-cap``
seconds or whose process tree (the Spark JVM included) holds more than ``--memory-cap-gb`` is
stopped here and recorded as such (``..._status``), never left to hang or to swap. Peak RSS is
the step's process tree (each process's proportional set size, so that forked workers do not
count their parent's pages twice), sampled twice a second, or the process's own peak (``VmHWM``)
when larger; a PostgreSQL server's own memory is not in it.

The DuckDB work of the flows, the graph and resolution runs within a memory limit of its own
(``CRUCE_ANALYSIS_MEMORY``, ``CRUCE_GRAPH_MEMORY``, ``CRUCE_RESOLVE_MEMORY``: 2, 4 and 4 GB by
default); each such step records the limit it ran with (``…_memory_limit``), set in the
environment to measure a step with more.

Results (``benchmarks/results/scale.json``) are flat keys ``<engine>_<step>_<size>_<figure>``
(size as ``1m``, ``10m``, ``20k``…; figures ``seconds``, ``rows_per_s`` — scenario records per
second —, ``peak_rss_mb``, ``status``), and projections ``<engine>_<step>_100m_seconds_projected``,
``…_1b_seconds_projected`` (and ``…_peak_rss_mb_projected``) with ``<engine>_<step>_scaling_exponent``
(``projection`` says how they are made).

    python -m benchmarks.scale                                  # 1M and 10M: hours; the machine to itself
    python -m benchmarks.scale --sizes 20000,100000 --out benchmarks/work/scale-small.json
    python -m benchmarks.scale --sizes 10000000 --engines duckdb --merge benchmarks/results/scale.json
    python -m benchmarks.scale --sizes 10000000 --engines duckdb --steps import --keep   # then, without
    python -m benchmarks.scale --sizes 10000000 --engines duckdb --steps graph --reuse   # importing again
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, machine, peak_rss_mb, write_result

TOPIC = "scale"
DEFAULT_SIZES = (1_000_000, 10_000_000)
ENGINES = ("duckdb", "postgresql", "spark")
STEPS = ("import", "flows", "graph", "resolve")
DEFAULT_TIME_CAP_S = 3600.0
DEFAULT_MEMORY_CAP_GB = 16.0
DEFAULT_SPARK_MEMORY = "8g"  # Spark's driver heap in local mode (the driver is the executor)
PROJECT_TO = {"100m": 100_000_000, "1b": 1_000_000_000}
MEMORY_SETTING = {"flows": ("CRUCE_ANALYSIS_MEMORY", "2GB"), "graph": ("CRUCE_GRAPH_MEMORY", "4GB"),
                  "resolve": ("CRUCE_RESOLVE_MEMORY", "4GB")}  # fmt: skip
SAMPLE_S = 0.5
# A Spark JVM's proportional set size takes 120-190 ms to read (the kernel walks its 11 GB of
# mappings): read every 0.5 s, the watcher took a quarter of one of the machine's two cores from
# the step it measured. It now waits 20 times as long as its last reading took (5 % of a core).
WATCH_SHARE = 20
PROJECTION = (
    "Per engine and step, from the sizes that finished: t(n) = a + b*n (least squares, a and b at "
    "least 0: a fixed cost such as Spark's start-up, and a cost per record) and the power law "
    "t = c*n^k through the two largest sizes; the projection is the larger of the two at 100M and "
    "1B records (the power law takes over when a step grows faster than linearly, as pair scoring "
    "can). Peak RSS is projected with the power law through the two largest sizes (DuckDB's steps "
    "hold to their memory limits and spill to disk beyond, so a bounded step shows an exponent near "
    "0). Two sizes at least; a projection from sizes below one where the step was stopped is a "
    "lower bound (..._projection_is_lower_bound)."
)


def label(size: int) -> str:
    """1000000 -> 1m, 20000 -> 20k, 1500000 -> 1.5m."""
    for unit, name in ((1_000_000_000, "b"), (1_000_000, "m"), (1_000, "k")):
        if size >= unit:
            return f"{size / unit:g}{name}"
    return str(size)


# -- the data and the stores ----------------------------------------------------------------------
def _scenario(size: int) -> Path:
    return WORK / f"scale-synth-{size}"


def _records(scenario: Path) -> int:
    manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
    return sum(int(f["rows"]) for f in manifest["files"])


def _duckdb(size: int, suffix: str = "") -> Path:
    return WORK / f"scale-{size}{suffix}.duckdb"


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)
    shutil.rmtree(Path(f"{path}.graph"), ignore_errors=True)


def _copy_db(source: Path, target: Path) -> None:
    _remove_db(target)
    shutil.copy(source, target)
    if Path(f"{source}.wal").exists():
        shutil.copy(f"{source}.wal", f"{target}.wal")


def _postgres(url: str | None) -> str | None:
    """The server's URL when it answers, else None."""
    if not url:
        return None
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return url
    except Exception:
        return None


SERVER_SETTINGS = ("shared_buffers", "work_mem", "maintenance_work_mem", "max_wal_size", "checkpoint_timeout",
                   "wal_compression")  # fmt: skip


def _server_settings(url: str) -> dict[str, str]:
    """The PostgreSQL settings docs/deploy.md names for imports, as the server runs them: the
    import's figures depend on them (the defaults' 128 MB of buffers and 1 GB of WAL make a 10M
    import write each index page again after every checkpoint)."""
    import psycopg

    from cruce.store.postgres_store import split_schema

    with psycopg.connect(split_schema(url)[0], connect_timeout=3) as conn:
        rows = conn.execute("SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                            [list(SERVER_SETTINGS)]).fetchall()  # fmt: skip
    return {str(name): str(value) for name, value in rows}


def _drop_schema(url: str) -> None:
    import psycopg

    from cruce.store.postgres_store import split_schema

    conninfo, schema = split_schema(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# -- one step, in its own process -------------------------------------------------------------------
def step(name: str, engine: str, store: str, scenario: Path, folder: Path) -> dict[str, Any]:
    """Run ``name`` on ``engine`` over the store at ``store`` (a DuckDB path or a PostgreSQL URL);
    the clock starts once the modules are imported (a Spark session's start is counted)."""
    from cruce.analyses.aggregate import compute
    from cruce.engines.store_export import export_store
    from cruce.graph.build import build
    from cruce.ingest.pipeline import import_file
    from cruce.resolve.engine import resolve
    from cruce.resolve.store import ResolutionStore
    from cruce.store import open_store

    records = _records(scenario)
    on = "spark" if engine == "spark" else "duckdb"
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with open_store(store) as opened:
        if name == "import" and engine != "spark":
            manifest = json.loads((scenario / "manifest.json").read_text(encoding="utf-8"))
            for entry in manifest["files"]:
                import_file(opened, scenario / entry["path"], entry["mapping"])
            figures["statements"] = opened.statement_count()
        elif name == "import":
            paths = export_store(opened, folder)
            figures["parquet_mb"] = round(sum(p.stat().st_size for p in paths.values()) / 1e6, 1)
        elif name == "flows":
            run = compute(opened, on)
            figures["load_seconds"] = round(sum(run.load_seconds.values()), 2)
            figures["figures"] = len(run.computed)
        elif name == "graph":
            snapshot = build(opened, folder, engine=on)
            figures |= {"nodes": snapshot.nodes.num_rows, "edges": snapshot.edges.num_rows}
        else:
            trained_before = ResolutionStore(opened).latest_model("Person") is not None
            result = resolve(opened, "Person", retrain=engine != "spark" or not trained_before, engine=on)
            figures |= {"person_records": result.records, "pairs": result.pairs, "clusters": result.clusters,
                        "trained": result.trained, "purged_rules": len(result.purged),
                        "purged_records": sum(p.records for p in result.purged),
                        "purged_pairs": sum(p.pairs for p in result.purged)}  # fmt: skip
        seconds = time.perf_counter() - started
        if name == "resolve":
            figures |= _accuracy(opened, scenario)
    return {
        **figures,
        "seconds": round(seconds, 2),
        "rows_per_s": round(records / seconds),
        "own_peak_rss_mb": peak_rss_mb(),
    }


def _accuracy(store: Any, scenario: Path) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of the people of the firearms flow (the scenario's truth),
    measured after the step's clock stopped (it reads every cluster: minutes at 10M)."""
    from cruce.resolve.evaluate import pairwise, synth_truth
    from cruce.resolve.store import ResolutionStore

    score = pairwise(ResolutionStore(store).clusters("Person"), synth_truth(scenario))
    return {"precision": round(score.precision, 4), "recall": round(score.recall, 4), "f1": round(score.f1, 4),
            "truth_records": score.records}  # fmt: skip


# -- watching a step -------------------------------------------------------------------------------
def _tree_rss(pid: int) -> int:
    """The memory of a process tree: each process's proportional set size (its shared pages
    split among their sharers), so that forked workers (resolution's name normalisers) do not
    count their parent's memory again; the resident size where that is not readable."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += getattr(proc.memory_full_info(), "pss", 0) or proc.memory_info().rss
        except psutil.AccessDenied:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def run_capped(args: list[str], time_cap: float, memory_cap_mb: float, env: dict[str, str]) -> dict[str, Any]:
    """``python -m benchmarks.scale --step …`` in a session of its own, watched: stopped (its whole
    process group, a Spark JVM included) past ``time_cap`` seconds or ``memory_cap_mb``."""
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=WORK) as out, tempfile.TemporaryFile(dir=WORK) as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.scale", "--step", *args],
            stdout=out, stderr=err, env=env, start_new_session=True,
        )  # fmt: skip
        started, peak, stopped = time.monotonic(), 0, ""
        while proc.poll() is None:
            sampling = time.monotonic()
            rss = _tree_rss(proc.pid)
            sampled_in = time.monotonic() - sampling
            peak = max(peak, rss)
            elapsed = time.monotonic() - started
            if elapsed > time_cap:
                stopped = f"stopped: time cap {time_cap:.0f} s"
            elif rss > memory_cap_mb * 2**20:
                stopped = f"stopped: memory cap {memory_cap_mb / 1024:.0f} GB"
            if stopped:
                os.killpg(proc.pid, signal.SIGKILL)  # the step and every process it started
                proc.wait(timeout=60)
                break
            time.sleep(max(SAMPLE_S, sampled_in * WATCH_SHARE))
        elapsed = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    sampled = round(peak / 2**20, 1)
    if stopped:
        return {"status": stopped, "stopped_after_s": round(elapsed, 1), "peak_rss_mb": sampled}
    if proc.returncode != 0:
        return {"status": f"failed: {_error_of(stderr)}", "seconds": round(elapsed, 1), "peak_rss_mb": sampled}
    figures = dict(json.loads(stdout.strip().splitlines()[-1]))
    figures["peak_rss_mb"] = max(sampled, float(figures.pop("own_peak_rss_mb")))
    return {"status": "ok", **figures}


def _error_of(stderr: str) -> str:
    """The error a failed step ended with: the traceback's last ``…Error: …`` line (DuckDB's
    messages end with a line of advice after it), else its last line; this machine's paths made
    relative to the repository."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]*(Error|Exception)\b.*:", line)]
    last = (errors or lines or ["?"])[-1]
    return last.replace(str(WORK.parent.parent) + os.sep, "")[:300]  # paths relative to the repository


# -- projections ------------------------------------------------------------------------------------
def _linear_fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of y = a + b*x by least squares, neither below 0."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = max(sum((x - mx) * (y - my) for x, y in points) / sxx, 0.0) if sxx else 0.0
    a = my - b * mx
    if a < 0:  # no negative fixed cost: a line through the origin
        a, b = 0.0, sum(x * y for x, y in points) / sum(x * x for x, _ in points)
    return a, b


def power_law(points: list[tuple[int, float]], to: int) -> tuple[float, float]:
    """(y at ``to``, k) of y = c*x^k through the two largest points."""
    (x1, y1), (x2, y2) = sorted((float(x), float(y)) for x, y in points)[-2:]
    k = math.log(y2 / y1) / math.log(x2 / x1) if y1 > 0 and y2 > 0 and x2 > x1 else 1.0
    return y2 * (to / x2) ** k, k


def project(points: list[tuple[int, float]], to: int) -> tuple[float, float]:
    """(seconds at ``to``: the larger of the fixed-plus-linear fit and the power law, the power
    law's exponent)."""
    a, b = _linear_fit(sorted((float(x), float(y)) for x, y in points))
    power, k = power_law(points, to)
    return max(a + b * to, power), k


def projections(figures: dict[str, Any], sizes: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for engine in ENGINES:
        for name in STEPS:
            key = f"{engine}_{name}"
            done = [s for s in sizes if figures.get(f"{key}_{label(s)}_status") == "ok"]
            if len(done) < 2:
                continue
            times = [(s, float(figures[f"{key}_{label(s)}_seconds"])) for s in done]
            memory = [(s, float(figures[f"{key}_{label(s)}_peak_rss_mb"])) for s in done]
            for name_to, to in PROJECT_TO.items():
                seconds, k = project(times, to)
                out[f"{key}_{name_to}_seconds_projected"] = round(seconds)
                out[f"{key}_{name_to}_peak_rss_mb_projected"] = round(power_law(memory, to)[0])
            out[f"{key}_scaling_exponent"] = round(k, 3)
            out[f"{key}_memory_scaling_exponent"] = round(power_law(memory, 1)[1], 3)
            out[f"{key}_projection_from"] = ", ".join(label(s) for s in done)
            stopped = [s for s in sizes if str(figures.get(f"{key}_{label(s)}_status", "")).startswith("stopped")]
            out[f"{key}_projection_is_lower_bound"] = any(s > max(done) for s in stopped)
    return out


# -- the run ----------------------------------------------------------------------------------------
def _flat(engine: str, name: str, size: int, result: dict[str, Any]) -> dict[str, Any]:
    return {f"{engine}_{name}_{label(size)}_{k}": v for k, v in result.items()}


def run(
    sizes: list[int],
    pg_url: str | None = None,
    time_cap: float = DEFAULT_TIME_CAP_S,
    memory_cap_gb: float = DEFAULT_MEMORY_CAP_GB,
    spark_memory: str = DEFAULT_SPARK_MEMORY,
    keep: bool = False,
    engines: tuple[str, ...] = ENGINES,
    steps: tuple[str, ...] = STEPS,
    reuse: bool = False,
) -> dict[str, Any]:
    """The steps of the engines asked for at every size (every one by default); see the module's
    docstring. Each engine's import always runs (the other steps read what it stored); Spark reads
    DuckDB's store, so asking for Spark runs DuckDB's import too. With ``reuse``, a DuckDB store
    an earlier run kept (``keep``) is used as it is: its import is not run again, nor recorded."""
    steps = ("import", *[s for s in STEPS if s in steps and s != "import"])
    WORK.mkdir(parents=True, exist_ok=True)
    pg = _postgres(pg_url or os.environ.get("CRUCE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test"))
    scratch = WORK / "scale-scratch"
    # both tiers of the JIT: these are long runs (cruce's default keeps the first, for short ones)
    env = {**os.environ, "CRUCE_SPARK_DIR": str(scratch), "CRUCE_SPARK_DRIVER_MEMORY": spark_memory,
           "CRUCE_SPARK_JIT": "full"}  # fmt: skip
    figures: dict[str, Any] = {
        "sizes": sizes,
        "time_cap_s": time_cap,
        "memory_cap_mb": round(memory_cap_gb * 1024),
        "spark_master": "local[2]",
        "spark_driver_memory": spark_memory,
        "spark_jit": "full (CRUCE_SPARK_JIT=full)",
        "rows": "records of the synth scenario (all files, all flows); rows_per_s is records / seconds",
    }
    if pg is None and "postgresql" in engines:
        figures["postgresql_skipped"] = "no PostgreSQL server answered (--pg-url or CRUCE_TEST_PG_URL)"
    elif pg is not None and "postgresql" in engines:
        figures["postgresql_server"] = _server_settings(pg)
    for size in sizes:
        scenario = _scenario(size)
        if not (scenario / "manifest.json").exists():
            from cruce.synth import generate

            shutil.rmtree(scenario, ignore_errors=True)
            started = time.perf_counter()
            generate(scenario, scale=size, seed=1)
            figures[f"synth_{label(size)}_seconds"] = round(time.perf_counter() - started, 1)
        figures[f"records_{label(size)}"] = _records(scenario)
        db = _duckdb(size)
        stores: dict[str, str] = {e: str(db) for e in ("duckdb", "spark") if e in engines}
        if "spark" in engines:
            stores["duckdb"] = str(db)
        if pg and "postgresql" in engines:
            sep = "&" if "?" in pg else "?"
            stores["postgresql"] = f"{pg}{sep}schema=cruce_scale_{uuid.uuid4().hex[:8]}"
        reused = reuse and db.exists()
        if not reused:
            _remove_db(db)
        finished: dict[str, bool] = {"duckdb": True} if reused else {}
        try:
            for name in steps:
                for engine in ENGINES:
                    if engine not in stores or (engine not in engines and name != "import"):
                        continue
                    if reused and engine == "duckdb" and name == "import":
                        print(f"{label(size)} duckdb import: the kept store {db.name}", file=sys.stderr, flush=True)
                        continue
                    if name != "import" and not finished.get(engine):
                        result: dict[str, Any] = {"status": "skipped: its import did not finish"}
                    else:
                        store = stores[engine]
                        if name == "resolve" and engine == "spark":  # a copy with DuckDB's model
                            _copy_db(db, _duckdb(size, "-spark"))
                            store = str(_duckdb(size, "-spark"))
                        folder = scratch / f"{engine}-{name}"
                        shutil.rmtree(scratch, ignore_errors=True)
                        scratch.mkdir(parents=True)
                        args = [name, "--engine", engine, "--store", store, "--scenario", str(scenario),
                                "--folder", str(folder)]  # fmt: skip
                        result = run_capped(args, time_cap, memory_cap_gb * 1024, env)
                        if engine != "spark" and name in MEMORY_SETTING:  # DuckDB's limit for the step
                            setting, default = MEMORY_SETTING[name]
                            result["memory_limit"] = env.get(setting, default)
                        result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
                        result["load_average_1m"] = round(os.getloadavg()[0], 2)
                        shutil.rmtree(scratch, ignore_errors=True)
                    if name == "import":
                        finished[engine] = result["status"] == "ok"
                    figures |= _flat(engine, name, size, result)
                    print(f"{label(size)} {engine} {name}: {result}", file=sys.stderr, flush=True)
            figures[f"load_average_1m_{label(size)}"] = round(os.getloadavg()[0], 2)
        finally:
            if "postgresql" in stores:
                _drop_schema(stores["postgresql"])
            if not (keep or reuse):
                _remove_db(_duckdb(size, "-spark"))
                _remove_db(db)
    figures |= projections(figures, sizes)
    figures["projection"] = PROJECTION
    figures["load_average_1m"] = round(os.getloadavg()[0], 2)
    return figures


PER_SIZE = re.compile(r"^((duckdb|postgresql|spark)_(import|flows|graph|resolve)|records|synth|load_average_1m)_")


def merged(figures: dict[str, Any], earlier: list[Path]) -> dict[str, Any]:
    """This run's figures with the per-size figures of earlier results that this run did not
    measure (other sizes, or other engines and steps at the same size), and the projections made
    again over every size: a 10M run made on other days, a few engines at a time, joins the 1M run
    it extends. Each step keeps the date and load average it was measured under."""
    combined = dict(figures)
    sizes = set(figures["sizes"])
    for path in earlier:
        before = json.loads(path.read_text(encoding="utf-8"))
        for size in before.get("sizes", []):
            tag = f"_{label(size)}"
            for key, value in before.items():
                if PER_SIZE.match(key) and (tag + "_" in key or key.endswith(tag)) and key not in combined:
                    combined[key] = value
            date_key = f"date_{label(size)}"
            if size not in sizes:
                combined[date_key] = before.get(date_key, before.get("date"))
            sizes.add(size)
    combined = {k: v for k, v in combined.items() if "_projected" not in k and "_scaling_exponent" not in k
                and "_projection_" not in k}  # fmt: skip
    combined["sizes"] = sorted(sizes)
    return combined | projections(combined, combined["sizes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in DEFAULT_SIZES), help="synth records, comma-separated"
    )
    parser.add_argument(
        "--pg-url", help="PostgreSQL server (default CRUCE_TEST_PG_URL); a schema of its own, dropped after"
    )
    parser.add_argument("--time-cap", type=float, default=DEFAULT_TIME_CAP_S, help="seconds a step may take")
    parser.add_argument("--memory-cap-gb", type=float, default=DEFAULT_MEMORY_CAP_GB, help="memory a step may hold")
    parser.add_argument("--spark-memory", default=DEFAULT_SPARK_MEMORY, help="Spark driver heap (local mode)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated, of " + ", ".join(ENGINES))
    parser.add_argument(
        "--steps", default=",".join(STEPS), help="comma-separated, of " + ", ".join(STEPS) + " (import always runs)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the DuckDB stores in benchmarks/work/")
    parser.add_argument(
        "--reuse", action="store_true", help="use the DuckDB stores an earlier --keep left, not importing again"
    )
    parser.add_argument("--out", type=Path, help="write here instead of benchmarks/results/scale.json")
    parser.add_argument(
        "--merge", type=Path, nargs="*", default=[],
        help="earlier results whose other sizes join this run's (projections made over all)",
    )  # fmt: skip
    parser.add_argument("--step", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args, _rest = parser.parse_known_args()
    if args.step:
        inner = argparse.ArgumentParser()
        inner.add_argument("name", choices=STEPS)
        for option in ("--engine", "--store", "--scenario", "--folder"):
            inner.add_argument(option, required=True)
        s = inner.parse_args(args.step)
        print(json.dumps(step(s.name, s.engine, s.store, Path(s.scenario), Path(s.folder))))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    steps = tuple(s.strip() for s in args.steps.split(",") if s.strip())
    unknown = sorted(set(engines) - set(ENGINES)) + sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown engine or step: {', '.join(unknown)}")
    figures = run(
        sizes, args.pg_url, args.time_cap, args.memory_cap_gb, args.spark_memory, args.keep, engines, steps, args.reuse
    )
    today = datetime.now(UTC).isoformat(timespec="seconds")
    figures |= {f"date_{label(size)}": today for size in sizes}
    if args.merge:
        figures = merged(figures, args.merge)
    if args.out:  # a trial run (small sizes), kept out of benchmarks/results/
        record = {"topic": TOPIC, **figures, "date": datetime.now(UTC).isoformat(timespec="seconds"),
                  "machine": machine()}  # fmt: skip
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(args.out.read_text(encoding="utf-8"))
        return
    path = write_result(TOPIC, figures)
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
