"""Load on the team server: 50 users reading and writing, on DuckDB and on PostgreSQL, and every
acknowledged write counted afterwards (issue #10).

The same ``cruce synth`` scenario (about 20,000 source records, with the demo accounts) is built
once in a DuckDB file and once in a PostgreSQL schema of its own, and each is served by
``cruce serve`` on 127.0.0.1: DuckDB by one process (the file has one owner), PostgreSQL by
``--workers 2`` where the server has that option. The generator is the API load benchmark's
(``benchmarks.api_load``): signed-in analysts, each on its own keep-alive connection, pausing a
uniform 1-2 s after each response (locust's ``between(1, 2)``), for 30 s. Each takes four requests
in turn: the entity page, the search page, the search API, and a **write**: a watch on a name
(``POST /api/v1/watches``), which the server stores with its audit entry before it answers 201.

Lost writes: after the load the server is stopped and started again, and every watch it
acknowledged must be among the analyst's watches the new server lists. ``lost_writes`` counts
those that are not; ``errors`` counts answers that are not 2xx and requests not answered within
30 s.

Baseline, side by side in the same run on each backend: the same clients in closed loops on a
static file of the same server (no database, no template): the server, the client and the
machine, not cruce's work. ``ratio`` is our p95 over the baseline's.

Goal (issue #10): p95 under 200 ms, zero errors and zero lost writes under load, on both backends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx

from benchmarks import api_load
from benchmarks.api_load import ANALYST, Connection, Workload, drive, figures
from benchmarks.common import WORK, write_result
from cruce.web.launch import start_server, stop_server

TOPIC = "load"
TARGET_P95_MS = 200.0
MIX = ("entity", "search", "search_api", "write")


def pg_available(url: str) -> str | None:
    """Why PostgreSQL cannot be used at ``url``, or None when it answers."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=5):
            return None
    except Exception as exc:
        return f"no PostgreSQL at {url}: {exc}"


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
    out = api_load._cruce(db, "users", "token", ANALYST[0], "--scopes", "read", "--name", "load")
    token = next(word for word in out.split() if word.startswith("cruce_"))
    return db, token, time.perf_counter() - started


def drop_postgres(db: str) -> None:
    import psycopg

    from cruce.store.postgres_store import split_schema

    conninfo, schema = split_schema(db)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')  # our own generated name, never input


def serve_args(db: str) -> list[str]:
    """Several workers on PostgreSQL when this cruce can; DuckDB's file has one owner."""
    if not db.startswith("postgresql"):
        return []
    help_text = subprocess.run(
        [sys.executable, "-m", "cruce", "serve", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    return ["--workers", "2"] if "--workers" in help_text else []


class Writes:
    """The watches the server acknowledged (201 and an id), to be found again after a restart."""

    def __init__(self) -> None:
        self.acknowledged: list[str] = []


def mixed_requests(work: Workload, token: str, writes: Writes) -> api_load.Request:
    auth = {"Authorization": f"Bearer {token}"}
    reads = api_load.cruce_requests(work, token)

    async def request(client: Connection, n: int) -> tuple[str, int]:
        kind = MIX[n % len(MIX)]
        if kind != "write":
            _, status = await reads(client, n * 3 // 4)
            return kind, status
        name = work.queries[n % len(work.queries)]
        status, body = await client.post_json("/api/v1/watches", {"kind": "name", "target": name}, auth)
        if status == 201:
            writes.acknowledged.append(str(json.loads(body)["id"]))
        return kind, status

    return request


def stored_watches(url: str, token: str) -> set[str]:
    answer = httpx.get(f"{url}/api/v1/watches", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer.raise_for_status()
    return {str(w["id"]) for w in answer.json()}


def run_backend(db: str, token: str, *, clients: int, seconds: float, baseline_seconds: float) -> dict[str, Any]:
    """The measured load, the baseline, then a restart and the count of lost writes."""
    folder = WORK / ("load-pg" if db.startswith("postgresql") else "load-duckdb")
    folder.mkdir(parents=True, exist_ok=True)
    work = api_load.draw_workload_from(db)
    args = serve_args(db)
    writes = Writes()
    process, url = start_server(db, folder / "serve.log", serve_args=args)
    try:
        before = stored_watches(url, token)
        users, took = asyncio.run(
            drive(
                url, mixed_requests(work, token, writes), clients=clients, seconds=seconds, max_requests=100_000,
                think=api_load.THINK_SECONDS, seed=2, name_of=lambda n: MIX[n % len(MIX)], server_pid=process.pid,
            )
        )  # fmt: skip
        base, base_took = asyncio.run(
            drive(
                url, api_load.baseline_request, clients=clients, seconds=baseline_seconds, max_requests=100_000,
                name_of=lambda n: "static", server_pid=process.pid,
            )
        )  # fmt: skip
    finally:
        stop_server(process)
    process, url = start_server(db, folder / "serve-again.log", serve_args=args)
    try:
        after = stored_watches(url, token)
    finally:
        stop_server(process)
    ours, baseline = figures(users, took), figures(base, base_took)
    lost = [w for w in writes.acknowledged if w not in after]
    return {
        "server_workers": int(args[1]) if args else 1,
        "seconds": round(took, 1),
        **ours,
        "writes_acknowledged": len(writes.acknowledged),
        "writes_found_after_restart": len(set(writes.acknowledged) & after),
        "lost_writes": len(lost),
        "watches_before": len(before),
        "ratio": round(ours["p95_ms"] / baseline["p95_ms"], 2) if baseline["p95_ms"] else None,
        "meets_target": ours["p95_ms"] < TARGET_P95_MS and ours["errors"] == 0 and not lost,
        "error_samples": users.error_samples,
        "baseline": {"what": "GET /static/cruce.css on the same server, closed loops", **baseline},
    }


def run(
    scale: int = 20_000,
    clients: int = 50,
    seconds: float = 30.0,
    baseline_seconds: float = 10.0,
    pg_url: str | None = None,
) -> dict[str, Any]:
    """Both backends in one run, the same scenario and the same load."""
    result: dict[str, Any] = {"clients": clients, "think_time_s": list(api_load.THINK_SECONDS), "scale": scale}
    db, token, build_s = api_load.build_db(WORK / "load-duckdb", scale)
    api_load.warm(db)
    result["duckdb"] = {"build_seconds": round(build_s, 1), **run_backend(
        str(db), token, clients=clients, seconds=seconds, baseline_seconds=baseline_seconds)}  # fmt: skip
    pg_url = pg_url or os.environ.get("CRUCE_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
    why_not = pg_available(pg_url)
    if why_not:
        result["postgresql_skipped"] = why_not
    else:
        pg_db, pg_token, pg_build_s = build_postgres(pg_url, scale)
        try:
            api_load.warm(pg_db)
            result["postgresql"] = {"build_seconds": round(pg_build_s, 1), **run_backend(
                pg_db, pg_token, clients=clients, seconds=seconds, baseline_seconds=baseline_seconds)}  # fmt: skip
        finally:
            drop_postgres(pg_db)
    backends = [result[b] for b in ("duckdb", "postgresql") if b in result]
    result.update(
        target_p95_ms=TARGET_P95_MS,
        errors=sum(b["errors"] for b in backends),
        lost_writes=sum(b["lost_writes"] for b in backends),
        meets_target=all(b["meets_target"] for b in backends),
        mix={
            "entity": "GET /entity/{id}: the entity page (HTML)",
            "search": "GET /search?q=: the search page (HTML)",
            "search_api": "GET /api/v1/search?q=&limit=20 (JSON, bearer token)",
            "write": "POST /api/v1/watches {kind: name, target}: a watch stored with its audit entry (201)",
            "order": "each client takes the four in turn from its own place in the lists: a quarter writes",
        },
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic source records in each database")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured load")
    parser.add_argument("--pg-url", default=None, help="PostgreSQL server (default: CRUCE_TEST_PG_URL)")
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not write the results file")
    args = parser.parse_args()
    result = run(args.scale, args.clients, args.seconds, pg_url=args.pg_url)
    if args.no_write:
        print(json.dumps(result, indent=2))
    else:
        print(write_result(TOPIC, result).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
