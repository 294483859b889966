"""API load: the entity page and search under 50 concurrent users, against ``cruce serve``.

A demo database (a ``cruce synth`` scenario of about 20,000 source records, imported through the
real pipeline, with the demo accounts) is served by ``cruce serve`` on 127.0.0.1 in a process of
its own. This process drives it with an asyncio + httpx load generator: each client is a
signed-in analyst (its own session cookie) that opens an entity page (HTML), runs a search page
(HTML) or calls the search API (bearer token), in turn, with entity ids and names drawn from the
database.

The load model (the measured run, keys without a prefix) is the one load tools use for people
(locust's ``wait_time = between(1, 2)``): each of the 50 clients is a user who, after each
response, pauses for a think time drawn uniformly between 1 and 2 seconds (seeded, one generator
per client); the users start spread over the first 2 seconds. The run lasts 30 seconds. At 50
users this offers about 33 requests a second, whatever the server's speed: the latency is what a
user waits for each page.

Two more runs, reported under their own keys, measure something else:

* ``saturation_*``: the same 50 clients with no think time, in closed loops (each sends its next
  request as soon as the last is answered): the server's throughput when it is never idle, and the
  latency of a queue 50 deep. It is a capacity figure, not what a user sees.
* ``one_client_*``: one client alone, closed loop: the service time with no queue.

Baseline, side by side in the same run: 50 closed-loop clients against a static file of the same
server (``/static/cruce.css``, no database, no template), which measures the server, the client and
the machine rather than cruce's own work. ``saturation_ratio`` is our saturated p95 divided by
the baseline's p95.

Target (issue #4): p95 under 100 ms and zero errors at 50 concurrent users.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import WORK, write_result
from cruce.web.launch import start_server, stop_server

TARGET_P95_MS = 100.0
THINK_SECONDS = (1.0, 2.0)  # a user's pause between requests, uniform (locust: between(1, 2))
ANALYST = ("analyst", "demo-analyst-password")
ENDPOINTS = ("entity", "search", "search_api")  # the mix: each client cycles through these in turn


# -- the database and the server --------------------------------------------------------------
def _cruce(db: Path, *args: str, timeout: float = 1800) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cruce", "--db", str(db), *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cruce {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build_db(folder: Path, scale: int) -> tuple[Path, str, float]:
    """A fresh demo database; returns it, an analyst API token and the seconds the build took."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = folder / "demo.duckdb"
    started = time.perf_counter()
    _cruce(db, "synth", str(folder / "scenario"), "--scale", str(scale), "--import")
    subprocess.run([sys.executable, "-m", "cruce.web.demo_setup", "--db", str(db)], check=True, capture_output=True)
    out = _cruce(db, "users", "token", ANALYST[0], "--scopes", "read", "--name", "api-load")
    match = re.search(r"cruce_[A-Za-z0-9_\-]+", out)
    if not match:
        raise RuntimeError(f"no token in: {out}")
    return db, match.group(0), time.perf_counter() - started


# -- what the clients ask for -----------------------------------------------------------------
@dataclass
class Workload:
    entity_ids: list[str]
    queries: list[str]


def draw_workload(db: Path, seed: int = 1, size: int = 2000) -> Workload:
    """Real ids and names: people and organizations, read from the database before it is served."""
    import duckdb

    rng = random.Random(seed)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT CAST(entity_id AS VARCHAR), value FROM statements "
            "WHERE schema IN ('Person', 'Organization') AND prop = 'name' ORDER BY 1, 2"
        ).fetchall()
    if not rows:
        raise RuntimeError("the database has no people or organizations to ask for")
    ids = sorted({str(r[0]) for r in rows})
    names = sorted({str(r[1]) for r in rows if str(r[1]).strip()})
    queries = []
    for name in rng.sample(names, min(size, len(names))):
        words = name.split()
        # a full name, a surname alone, or two words in lower case, as people type
        pick = rng.random()
        queries.append(name if pick < 0.4 else words[-1] if pick < 0.7 else " ".join(words[:2]).lower())
    return Workload(entity_ids=rng.sample(ids, min(size, len(ids))), queries=queries)


# -- the load ---------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def add(self, endpoint: str, ms: float, ok: bool, why: str = "") -> None:
        self.latencies.setdefault(endpoint, []).append(ms)
        if not ok:
            self.errors[endpoint] = self.errors.get(endpoint, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{endpoint}: {why}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0], 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def figures(tally: Tally, seconds: float, prefix: str = "") -> dict[str, Any]:
    every = [ms for values in tally.latencies.values() for ms in values]
    out: dict[str, Any] = {
        f"{prefix}requests": len(every),
        f"{prefix}errors": sum(tally.errors.values()),
        f"{prefix}requests_per_s": round(len(every) / seconds, 1) if seconds else 0.0,
        f"{prefix}p50_ms": _pct(every, 50),
        f"{prefix}p95_ms": _pct(every, 95),
        f"{prefix}p99_ms": _pct(every, 99),
        f"{prefix}max_ms": round(max(every), 1) if every else 0.0,
    }
    if len(tally.latencies) > 1:
        for endpoint, values in sorted(tally.latencies.items()):
            out[f"{prefix}{endpoint}_requests"] = len(values)
            out[f"{prefix}{endpoint}_errors"] = tally.errors.get(endpoint, 0)
            for q in (50, 95, 99):
                out[f"{prefix}{endpoint}_p{q}_ms"] = _pct(values, q)
    return out


async def _signed_in_client(url: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30, follow_redirects=False)
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if not csrf:
        raise RuntimeError("no CSRF token on the sign-in page")
    data = {"username": ANALYST[0], "password": ANALYST[1], "csrf_token": csrf.group(1), "next": "/"}
    response = await client.post("/signin", data=data)
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:200]}")
    return client


Request = Callable[[httpx.AsyncClient, int], Awaitable[tuple[str, httpx.Response]]]


def cruce_requests(work: Workload, token: str) -> Request:
    auth = {"Authorization": f"Bearer {token}"}

    async def request(client: httpx.AsyncClient, n: int) -> tuple[str, httpx.Response]:
        endpoint = ENDPOINTS[n % len(ENDPOINTS)]
        if endpoint == "entity":
            return endpoint, await client.get(f"/entity/{work.entity_ids[n % len(work.entity_ids)]}")
        q = work.queries[n % len(work.queries)]
        if endpoint == "search":
            return endpoint, await client.get("/search", params={"q": q})
        return endpoint, await client.get("/api/v1/search", params={"q": q, "limit": 20}, headers=auth)

    return request


async def baseline_request(client: httpx.AsyncClient, n: int) -> tuple[str, httpx.Response]:
    return "static", await client.get("/static/cruce.css")


async def drive(
    url: str,
    request: Request,
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    seed: int = 1,
    think: tuple[float, float] | None = None,
    name_of: Callable[[int], str] = lambda n: ENDPOINTS[n % len(ENDPOINTS)],
) -> tuple[Tally, float]:
    """``clients`` signed-in clients until ``seconds`` pass or ``max_requests`` are sent.

    With ``think`` each client pauses a uniform random time in that range after each response
    (and starts after one such pause, so that the users do not all arrive at once); without it,
    each sends its next request as soon as the last is answered (a closed loop).
    """
    sessions = [await _signed_in_client(url) for _ in range(clients)]
    tally = Tally()
    sent = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def pause(rng: random.Random, low: float, high: float) -> None:
        await asyncio.sleep(min(rng.uniform(low, high), max(0.0, deadline - time.perf_counter())))

    async def client_loop(i: int, client: httpx.AsyncClient) -> None:
        nonlocal sent
        rng = random.Random(seed * 1000 + i)
        n = rng.randrange(1_000_000)  # each client its own place in the lists
        if think:
            await pause(rng, 0.0, think[1])
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            n += 1
            t0 = time.perf_counter()
            try:
                endpoint, response = await request(client, n)
                ok, why = response.status_code == 200, f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                endpoint, ok, why = name_of(n), False, repr(exc)
            tally.add(endpoint, (time.perf_counter() - t0) * 1000, ok, why)
            if think:
                await pause(rng, *think)

    try:
        await asyncio.gather(*(client_loop(i, c) for i, c in enumerate(sessions)))
    finally:
        for c in sessions:
            await c.aclose()
    return tally, time.perf_counter() - started


def run(
    scale: int = 20_000,
    clients: int = 50,
    seconds: float = 30.0,
    max_requests: int = 100_000,
    baseline_seconds: float = 10.0,
    think: tuple[float, float] = THINK_SECONDS,
) -> dict[str, Any]:
    folder = WORK / "api-load"
    db, token, build_s = build_db(folder, scale)
    work = draw_workload(db)
    process, url = start_server(db, folder / "serve.log")
    load = [os.getloadavg()[0]]
    try:
        # one client alone first: the service time of each endpoint with no queue in front of it
        single, single_s = asyncio.run(
            drive(url, cruce_requests(work, token), clients=1, seconds=min(10.0, seconds), max_requests=300)
        )
        # the users: think time between requests
        users, users_s = asyncio.run(
            drive(
                url, cruce_requests(work, token), clients=clients, seconds=seconds, max_requests=max_requests,
                think=think, seed=2,
            )
        )  # fmt: skip
        load.append(os.getloadavg()[0])
        # saturation: the same clients with no think time
        saturated, saturated_s = asyncio.run(
            drive(url, cruce_requests(work, token), clients=clients, seconds=seconds, max_requests=max_requests)
        )
        base, base_took = asyncio.run(
            drive(
                url, baseline_request, clients=clients, seconds=baseline_seconds, max_requests=max_requests,
                name_of=lambda n: "static",
            )
        )  # fmt: skip
        load.append(os.getloadavg()[0])
    finally:
        stop_server(process)
    ours = figures(users, users_s)
    saturation = figures(saturated, saturated_s, prefix="saturation_")
    baseline = figures(base, base_took)
    return {
        "clients": clients,
        "think_seconds": list(think),
        "seconds": round(users_s, 1),
        **ours,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": ours["p95_ms"] < TARGET_P95_MS and ours["errors"] == 0,
        "saturation_seconds": round(saturated_s, 1),
        **saturation,
        "saturation_ratio": (
            round(saturation["saturation_p95_ms"] / baseline["p95_ms"], 1) if baseline["p95_ms"] else None
        ),
        **figures(single, single_s, prefix="one_client_"),
        "error_samples": users.error_samples + saturated.error_samples,
        "scale": scale,
        "entities_drawn": len(work.entity_ids),
        "queries_drawn": len(work.queries),
        "build_seconds": round(build_s, 1),
        "load_average_1m": [round(x, 2) for x in load],
        "mix": "entity page (HTML), search page (HTML), search API (JSON, 20 hits), in turn; signed-in analyst",
        "model": (
            f"{clients} users, each pausing uniform {think[0]:g}-{think[1]:g} s (seeded) after each response, "
            f"starts spread over {think[1]:g} s, {seconds:g} s; saturation_*: the same clients with no pause"
        ),
        "baseline": {
            "what": "GET /static/cruce.css on the same server",
            "seconds": round(base_took, 1),
            **baseline,
            "error_samples": base.error_samples,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=20_000, help="synthetic source records in the database")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured load")
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument(
        "--think", type=float, nargs=2, default=THINK_SECONDS, metavar=("LOW", "HIGH"),
        help="a user's pause between requests, seconds (uniform)",
    )  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print the figures, do not write the results file")
    args = parser.parse_args()
    result = run(args.scale, args.clients, args.seconds, args.max_requests, think=(args.think[0], args.think[1]))
    if args.no_write:
        print(json.dumps(result, indent=2))
    else:
        print(write_result("api-load", result).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
