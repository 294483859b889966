"""Load on the team server: 100 users reading and writing while an import runs, on DuckDB and on
PostgreSQL, and every acknowledged write counted afterwards (issue #10).

The same ``cruce synth`` scenario (about 20,000 source records, with the demo accounts) is built
once in a DuckDB file and once in a PostgreSQL schema of its own, and each is served by
``cruce serve`` on 127.0.0.1: DuckDB by one process (the file has one owner), PostgreSQL by
``--workers 2`` (and the job process ``cruce serve`` starts beside them). Before the server
starts, what a server does by itself in its first seconds is done (``api_load.warm``: the search
terms and the entity lookup; and the network explorer's graph built once, as ``cruce graph build``
would). Once it answers, each read is asked a few times from 32 connections, not measured
(``warm_up``): each worker's own caches (dashboard tables, graph, search postings) filled, as on a
server that has served for a minute (from 8, one worker once got none of them, and read its
dashboard tables in the measured minute). What the import changes
meanwhile is measured: the caches it makes stale are read again under the load.

The generator is the API load benchmark's (``benchmarks.api_load``): 100 signed-in analysts, each
on its own keep-alive connection, pausing a uniform 1-2 s after each response (locust's
``between(1, 2)``, seeded), for 60 s. Each takes these in turn, from its own place in the cycle:

* ``entity``: the entity page; ``search``: the search page; ``search_api``: the search API;
* ``graph``: the network explorer's neighbourhood of an entity (``/graph/data/neighbourhood/ID``,
  the JSON the page reads);
* ``firearms`` and ``drugs_violence``: the two flow dashboards (HTML, every figure drawn);
* ``tip_form`` and ``tip``: the public tip form, then a tip sent with its CSRF token (a 303 to the
  thank-you page is the acknowledgement);
* ``watch``: a watch on a name (``POST /api/v1/watches``), stored with its audit entry (201).

The tip form's limits (5 tips per address per 10 minutes, 200 from everyone) would refuse a load
test whose users all come from 127.0.0.1: the benchmark's servers alone run with
``CRUCE_TIP_LIMIT`` and ``CRUCE_TIP_FLOOD_CAP`` raised (``server_env`` in the result).

The import: 5 s into the run, a second scenario's gun-shop sales (``--import-scale`` records of
synth seed 7: about 48% of them are sales) are uploaded to ``POST /api/v1/imports`` as an analyst
would, and run as the server's background job, polled until it ends; its seconds (upload to
finished, and the job's own) and its state are in ``import``; ``during_import_*`` and
``outside_import_*`` split the users' latencies at the upload and the job's end (``around_import``),
and ``work/<backend>/trace.json`` keeps every request's start, kind and latency.

Lost writes: after the load the server is stopped and started again; every watch and every tip it
acknowledged must be read back (the analyst's watches from ``/api/v1/watches``; the tips from
``/api/v1/tips`` with a triage token, each tip found by the mark in its text), and the import it
reported done must be among the imports. ``lost_writes`` counts what is missing. ``errors`` counts
answers that are not a success and requests not answered within 30 s.

Baseline, side by side on each backend: the same clients in closed loops on a static file of the
same server (no database, no template): the server, the client and the machine, not cruce's work.
``ratio`` is our p95 over the baseline's.

Goal (issue #10): p95 under 200 ms, zero errors and zero lost writes under load, on both backends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import api_load
from benchmarks.api_load import ANALYST, Connection, Workload, drive, figures
from benchmarks.common import WORK, write_result
from cruce.web.launch import start_server, stop_server

TOPIC = "load"
TARGET_P95_MS = 200.0
MIX = ("entity", "search", "tip_form", "search_api", "graph", "firearms", "tip", "drugs_violence", "watch")
SCOPES = "read,import,triage"  # the benchmark's token: reads, the import, and reading the tips back
SERVER_ENV = {"CRUCE_TIP_LIMIT": "1000000", "CRUCE_TIP_FLOOD_CAP": "1000000"}
"""The tip limits raised for the benchmark's servers alone: every user comes from 127.0.0.1."""
IMPORT_FILE, IMPORT_MAPPING, IMPORT_SEED = "gunshop-sales.csv", "example-firearm-purchases", 7
IMPORT_AFTER_S = 5.0
TIP_MARK = re.compile(r"\[load ([0-9a-f]+)\]")


def pg_available(url: str) -> str | None:
    """Why PostgreSQL cannot be used at ``url``, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5):
            return None
    except Exception as exc:
        return f"no PostgreSQL at {url}: {exc}"


def _token(db: Path | str) -> str:
    out = api_load._cruce(db, "users", "token", ANALYST[0], "--scopes", SCOPES, "--name", "load")
    return next(word for word in out.split() if word.startswith("cruce_"))


def build_duckdb(scale: int) -> tuple[str, str, float]:
    db, _read_token, took = api_load.build_db(WORK / "load-duckdb", scale)
    return str(db), _token(db), took


def build_postgres(pg_url: str, scale: int) -> tuple[str, str, float]:
    """The scenario in a fresh schema of ``pg_url``; returns the store URL, a token and the seconds."""
    schema = f"bench_load_{uuid.uuid4().hex[:8]}"
    db = f"{pg_url}{'&' if '?' in pg_url else '?'}schema={schema}"
    folder = WORK / "load-pg"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    # a team server names its key file (the key must not live in the database it protects);
    # the servers started later inherit it
    os.environ["CRUCE_SECRET_KEY_FILE"] = str(folder / "secret.key")
    started = time.perf_counter()
    api_load._cruce(db, "synth", str(folder / "scenario"), "--scale", str(scale), "--import")
    subprocess.run([sys.executable, "-m", "cruce.web.demo_setup", "--db", db], check=True, capture_output=True)
    return db, _token(db), time.perf_counter() - started


def drop_postgres(db: str) -> None:
    import psycopg

    from cruce.store.postgres_store import split_schema

    conninfo, schema = split_schema(db)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # our own generated name, never input


_GRAPH = (
    "import json, random, sys\n"
    "from cruce.store import open_store\n"
    "from cruce.graph.graph import open_graph\n"
    "with open_store(sys.argv[1]) as store:\n"
    "    nodes = open_graph(store).graph.snapshot.nodes\n"
    "ids = [i for i, s in zip(nodes['id'].to_pylist(), nodes['schema'].to_pylist()) "
    "if s in ('Person', 'Organization')]\n"
    "print(json.dumps(random.Random(1).sample(sorted(ids), min(2000, len(ids)))))\n"
)


def warm_graph(db: str) -> list[str]:
    """The network explorer's graph built (kept on disk, where the server finds it), and people and
    organizations in it, for the neighbourhood requests."""
    done = subprocess.run([sys.executable, "-c", _GRAPH, db], check=True, capture_output=True, text=True)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def import_source(scale: int) -> Path:
    """A second scenario's gun-shop sales, written once: the file the users' import uploads."""
    folder = WORK / f"load-import-{scale}"
    path = folder / IMPORT_FILE
    if not path.exists():
        shutil.rmtree(folder, ignore_errors=True)
        api_load._cruce(":memory:", "synth", str(folder), "--scale", str(scale), "--seed", str(IMPORT_SEED))
    return path


def serve_args(db: str) -> list[str]:
    """Two workers on PostgreSQL; DuckDB's file has one owner."""
    return ["--workers", "2"] if db.startswith("postgresql") else []


@dataclass
class Writes:
    """What the server acknowledged: watches (201 and an id), tips (303 to the thank-you page, each
    known by the mark in its text), to be found again after a restart."""

    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    watches: list[str] = field(default_factory=list)
    tips: list[str] = field(default_factory=list)
    sent_tips: int = 0


def mixed_requests(work: Workload, graph_ids: list[str], token: str, writes: Writes) -> api_load.Request:
    auth = {"Authorization": f"Bearer {token}"}
    reads = api_load.cruce_requests(work, token)
    csrf: dict[int, str] = {}  # each connection's token, from the tip form

    async def tip_form(client: Connection) -> int:
        status, body = await client.get("/tip")
        found = re.search(rb'name="csrf_token" value="([^"]+)"', body)
        if found:
            csrf[id(client)] = found.group(1).decode()
        return status

    async def request(client: Connection, n: int) -> tuple[str, int]:
        kind = MIX[n % len(MIX)]
        if kind in ("entity", "search", "search_api"):
            # the API load's request of this kind, the ids and queries moving on with each cycle
            _, status = await reads(client, n // len(MIX) * 3 + ("entity", "search", "search_api").index(kind))
        elif kind == "graph":
            status, _ = await client.get(f"/graph/data/neighbourhood/{graph_ids[n % len(graph_ids)]}")
        elif kind == "firearms":
            status, _ = await client.get("/firearms")
        elif kind == "drugs_violence":
            status, _ = await client.get("/drugs-violence")
        elif kind == "tip_form":
            status = await tip_form(client)
        elif kind == "tip":
            if id(client) not in csrf:  # a user who starts at the tip opens the form first
                await tip_form(client)
            mark = f"[load {writes.run}{writes.sent_tips:06x}]"
            writes.sent_tips += 1
            text = f"{mark} A man at the bus station offers jobs across the border and keeps their papers."
            status, _ = await client.post_form("/tip", {"csrf_token": csrf.get(id(client), ""), "what": text})
            if status == 303:
                writes.tips.append(mark)
        else:
            name = work.queries[n % len(work.queries)]
            status, body = await client.post_json("/api/v1/watches", {"kind": "name", "target": name}, auth)
            if status == 201:
                writes.watches.append(str(json.loads(body)["id"]))
        return kind, status

    return request


WARM_KINDS = ("entity", "search", "search_api", "graph", "firearms", "drugs_violence", "tip_form")
WARM_CLIENTS, WARM_ROUNDS = 32, 2  # connections enough that each worker serves some


def warm_up(url: str, request: api_load.Request, pid: int) -> tuple[int, float]:
    """Each read a few times from 32 connections at once, not measured: the server's own caches
    filled (each worker's dashboard tables, graph and search postings), as on a server that has
    served for a minute. Nothing is written. Returns the requests and the seconds taken."""

    async def read(client: Connection, n: int) -> tuple[str, int]:
        kind = WARM_KINDS[n % len(WARM_KINDS)]
        return await request(client, n // len(WARM_KINDS) * len(MIX) + MIX.index(kind))

    tally, took = asyncio.run(
        drive(
            url, read, clients=WARM_CLIENTS, seconds=300, max_requests=WARM_CLIENTS * WARM_ROUNDS * len(WARM_KINDS),
            name_of=lambda n: WARM_KINDS[n % len(WARM_KINDS)], server_pid=pid,
        )
    )  # fmt: skip
    return tally.requests, took


def accepted(kind: str, status: int) -> bool:
    return status == 303 if kind == "tip" else 200 <= status < 300


@dataclass
class ImportRun:
    """The import uploaded during the load, as the server reported it."""

    figures: dict[str, Any] = field(default_factory=dict)
    run_started: float = 0.0  # perf_counter() when the users' run started


async def run_import(url: str, token: str, path: Path, start: asyncio.Event, deadline_s: float, out: ImportRun) -> None:
    """Upload ``path`` ``IMPORT_AFTER_S`` into the run; poll its job until it ends (or ``deadline_s``)."""
    await start.wait()
    out.run_started = time.perf_counter()
    await asyncio.sleep(IMPORT_AFTER_S)
    auth = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    out.figures["started_at_s"] = round(t0 - out.run_started, 1)
    async with httpx.AsyncClient(base_url=url, timeout=120, headers=auth) as client:
        with path.open("rb") as f:
            answer = await client.post(
                "/api/v1/imports", files={"file": (path.name, f, "text/csv")},
                data={"mapping": IMPORT_MAPPING, "dataset": "load-import"},
            )  # fmt: skip
        upload_s = time.perf_counter() - t0
        if answer.status_code != 202:
            out.figures = {"state": f"HTTP {answer.status_code}", "detail": answer.text[:300]}
            return
        job = answer.json()
        while job["state"] in ("queued", "running") and time.perf_counter() - t0 < deadline_s:
            await asyncio.sleep(1.0)
            job = (await client.get(f"/api/v1/jobs/{job['id']}")).json()
    took = time.perf_counter() - t0
    own = None
    if job.get("finished_at") and job.get("created_at"):
        own = (_utc(job["finished_at"]) - _utc(job["created_at"])).total_seconds()
    out.figures = {
        "started_at_s": out.figures["started_at_s"],
        "file": path.name, "bytes": path.stat().st_size, "mapping": IMPORT_MAPPING, "state": job["state"],
        "rows_stored": job.get("rows_stored"), "rows_rejected": job.get("rows_rejected"),
        "import_id": job.get("import_id"), "upload_seconds": round(upload_s, 1),
        "seconds": round(took, 1), "done_at_s": round(time.perf_counter() - out.run_started, 1),
        "job_seconds": round(own, 1) if own is not None else None,
        "error": job.get("error"),
    }  # fmt: skip


def _utc(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def load_with_import(
    url: str, request: api_load.Request, token: str, source: Path, *, clients: int, seconds: float, pid: int
) -> tuple[api_load.Tally, float, ImportRun]:
    start = asyncio.Event()
    imported = ImportRun()
    importing = asyncio.create_task(run_import(url, token, source, start, seconds + 300, imported))
    users, took = await drive(
        url, request, clients=clients, seconds=seconds, max_requests=1_000_000, think=api_load.THINK_SECONDS,
        seed=2, name_of=lambda n: MIX[n % len(MIX)], server_pid=pid, accept=accepted, on_start=start.set,
    )  # fmt: skip
    await importing  # the import may outlast the users: its own seconds say so
    return users, took, imported


def around_import(trace: list[tuple[float, str, float]], imported: dict[str, Any]) -> dict[str, Any]:
    """The latencies of the requests sent while the import ran (upload to job done) and of the
    others: what the import costs the users, apart from what they wait for without it."""
    start, end = imported.get("started_at_s"), imported.get("done_at_s")
    if start is None or end is None:
        return {}
    out: dict[str, Any] = {}
    for name, keep in (
        ("during_import", lambda at: start <= at <= end),
        ("outside_import", lambda at: not start <= at <= end),
    ):
        values = [ms for at, _kind, ms in trace if keep(at)]
        out[f"{name}_requests"] = len(values)
        for q in (50, 95, 99):
            out[f"{name}_p{q}_ms"] = api_load._pct(values, q)
    return out


def read_back(url: str, token: str, writes: Writes, import_id: str | None) -> dict[str, Any]:
    """Every acknowledged write looked for on the restarted server."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, timeout=120, headers=auth) as client:
        answer = client.get("/api/v1/watches")
        answer.raise_for_status()
        watches = {str(w["id"]) for w in answer.json()}
        marks: set[str] = set()
        offset = 0
        while True:
            page = client.get("/api/v1/tips", params={"limit": 1000, "offset": offset})
            page.raise_for_status()
            rows = page.json()
            marks |= {f"[load {m}]" for t in rows for m in TIP_MARK.findall(t["what"])}
            if len(rows) < 1000:
                break
            offset += 1000
        imports = {i["id"] for i in client.get("/api/v1/imports", params={"limit": 1000}).json()}
    found_watches = len(set(writes.watches) & watches)
    found_tips = len(set(writes.tips) & marks)
    import_lost = int(import_id is not None and import_id not in imports)
    return {
        "watches_acknowledged": len(writes.watches),
        "watches_found_after_restart": found_watches,
        "tips_acknowledged": len(writes.tips),
        "tips_found_after_restart": found_tips,
        "import_found_after_restart": import_id is not None and not import_lost,
        "lost_writes": (len(writes.watches) - found_watches) + (len(writes.tips) - found_tips) + import_lost,
    }


def run_backend(
    db: str, token: str, source: Path, *, clients: int, seconds: float, baseline_seconds: float
) -> dict[str, Any]:
    """The measured load with its import, the baseline, then a restart and the count of lost writes."""
    folder = WORK / ("load-pg" if db.startswith("postgresql") else "load-duckdb")
    folder.mkdir(parents=True, exist_ok=True)
    work = api_load.draw_workload_from(db)
    api_load.warm(db)
    graph_ids = warm_graph(db)
    args = serve_args(db)
    writes = Writes()
    load = [os.getloadavg()[0]]
    process, url = start_server(db, folder / "serve.log", serve_args=args, env=SERVER_ENV)
    try:
        warmed, warm_s = warm_up(url, mixed_requests(work, graph_ids, token, Writes()), process.pid)
        load.append(os.getloadavg()[0])
        users, took, imported = asyncio.run(
            load_with_import(
                url, mixed_requests(work, graph_ids, token, writes), token, source, clients=clients, seconds=seconds,
                pid=process.pid,
            )
        )  # fmt: skip
        load.append(os.getloadavg()[0])
        # every request's start (s into the run), kind and latency, to see when the slow ones came
        (folder / "trace.json").write_text(json.dumps(users.trace), encoding="utf-8")
        base, base_took = asyncio.run(
            drive(
                url, api_load.baseline_request, clients=clients, seconds=baseline_seconds, max_requests=100_000,
                name_of=lambda n: "static", server_pid=process.pid,
            )
        )  # fmt: skip
    finally:
        stop_server(process)
    process, url = start_server(db, folder / "serve-again.log", serve_args=args, env=SERVER_ENV)
    try:
        after = read_back(url, token, writes, imported.figures.get("import_id"))
    finally:
        stop_server(process)
    ours, baseline = figures(users, took), figures(base, base_took)
    done = imported.figures.get("state") == "done"
    return {
        "server_workers": int(args[1]) if args else 1,
        "warm_up_requests": warmed,
        "warm_up_seconds": round(warm_s, 1),
        "seconds": round(took, 1),
        **ours,
        **around_import(users.trace, imported.figures),
        **after,
        "import": imported.figures,
        "ratio": round(ours["p95_ms"] / baseline["p95_ms"], 2) if baseline["p95_ms"] else None,
        "meets_target": ours["p95_ms"] < TARGET_P95_MS and ours["errors"] == 0 and not after["lost_writes"] and done,
        "load_average_1m": [round(x, 2) for x in load],
        "error_samples": users.error_samples,
        "baseline": {"what": "GET /static/cruce.css on the same server, closed loops", **baseline},
    }


def run(
    scale: int = 20_000,
    clients: int = 100,
    seconds: float = 60.0,
    baseline_seconds: float = 10.0,
    pg_url: str | None = None,
    import_scale: int = 50_000,
    backends: tuple[str, ...] = ("duckdb", "postgresql"),
) -> dict[str, Any]:
    """Both backends in one run, the same scenario, the same load and the same import."""
    result: dict[str, Any] = {"clients": clients, "think_time_s": list(api_load.THINK_SECONDS), "scale": scale}
    source = import_source(import_scale)
    measure = {"clients": clients, "seconds": seconds, "baseline_seconds": baseline_seconds}
    if "duckdb" in backends:
        db, token, build_s = build_duckdb(scale)
        result["duckdb"] = {"build_seconds": round(build_s, 1), **run_backend(db, token, source, **measure)}
    pg_url = pg_url or os.environ.get("CRUCE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
    why_not = pg_available(pg_url) if "postgresql" in backends else "not asked for (--backends)"
    if why_not:
        result["postgresql_skipped"] = why_not
    else:
        pg_db, pg_token, pg_build_s = build_postgres(pg_url, scale)
        try:
            result["postgresql"] = {
                "build_seconds": round(pg_build_s, 1),
                **run_backend(pg_db, pg_token, source, **measure),
            }
        finally:
            drop_postgres(pg_db)
    measured = [result[b] for b in ("duckdb", "postgresql") if b in result]
    result.update(
        target_p95_ms=TARGET_P95_MS,
        errors=sum(b["errors"] for b in measured),
        lost_writes=sum(b["lost_writes"] for b in measured),
        meets_target=all(b["meets_target"] for b in measured),
        server_env=SERVER_ENV,
        server_env_why="the tip form's limits raised for the benchmark's servers alone: every user is 127.0.0.1",
        import_scale=import_scale,
        mix={
            "entity": "GET /entity/{id}: the entity page (HTML)",
            "search": "GET /search?q=: the search page (HTML)",
            "search_api": "GET /api/v1/search?q=&limit=20 (JSON, bearer token)",
            "graph": "GET /graph/data/neighbourhood/{id}: the network explorer's neighbourhood (JSON, session)",
            "firearms": "GET /firearms: the firearms dashboard (HTML, every figure)",
            "drugs_violence": "GET /drugs-violence: the drugs and violence dashboard (HTML, every figure)",
            "tip_form": "GET /tip: the public tip form (HTML, its CSRF token)",
            "tip": "POST /tip: a tip (form, CSRF token); 303 to /tip/thanks is the acknowledgement",
            "watch": "POST /api/v1/watches {kind: name, target}: a watch stored with its audit entry (201)",
            "order": f"each client takes the {len(MIX)} in turn ({', '.join(MIX)}) from its own place",
            "import": (
                f"{IMPORT_AFTER_S:g} s into the run, POST /api/v1/imports of {IMPORT_FILE} "
                f"(synth --scale {import_scale} --seed {IMPORT_SEED}, mapping {IMPORT_MAPPING}): a background job"
            ),
        },
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic source records in each database")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the measured load")
    parser.add_argument(
        "--import-scale", type=int, default=50_000, help="synth scale of the scenario whose sales are imported"
    )
    parser.add_argument("--backends", default="duckdb,postgresql", help="comma-separated: duckdb, postgresql")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL server (default: CRUCE_TEST_PG_URL)")
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not write the results file")
    args = parser.parse_args()
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    result = run(
        args.scale, args.clients, args.seconds, pg_url=args.pg_url, import_scale=args.import_scale, backends=backends
    )
    if args.no_write:
        print(json.dumps(result, indent=2))
    else:
        print(write_result(TOPIC, result).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
