"""API load: the entity page and search under 50 concurrent users, against ``cruce serve``.

A demo database (a ``cruce synth`` scenario of about 20,000 source records, imported through the
real pipeline, with the demo accounts) is served by ``cruce serve`` on 127.0.0.1 in a process of
its own. This process drives it: each client is a signed-in analyst (its own session cookie, on
its own keep-alive connection) that opens an entity page (HTML), runs a search page (HTML) or
calls the search API (bearer token), in turn, with entity ids and names drawn from the database.

The generator is a few lines of asyncio speaking HTTP/1.1 (``Connection``), not httpx: on the
2-core machine the generator shares the CPU with the server, and httpx cost 2.7 ms of CPU a
request against 0.3 ms for the plain client (measured on the static file). Sign-in, which is not
measured, still goes through httpx. Both processes' CPU per request is recorded
(``server_cpu_ms_per_request``, ``generator_cpu_ms_per_request``).

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
from urllib.parse import urlencode

import httpx

from benchmarks.common import WORK, write_result
from cruce.web.launch import start_server, stop_server

TARGET_P95_MS = 100.0
REQUEST_TIMEOUT = 30.0  # seconds; a request not answered by then counts as an error
THINK_SECONDS = (1.0, 2.0)  # a user's pause between requests, uniform (locust: between(1, 2))
ANALYST = ("analyst", "demo-analyst-password")
ENDPOINTS = ("entity", "search", "search_api")  # the mix: each client cycles through these in turn


# -- the database and the server --------------------------------------------------------------
def _cruce(db: Path | str, *args: str, timeout: float = 1800) -> str:
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


_WARM = (
    "import sys\n"
    "from cruce.store import open_store\n"
    "from cruce.schema.loader import default_schema\n"
    "from cruce.search import catch_up\n"
    "from cruce.security.db import AppDB\n"
    "with open_store(sys.argv[1]) as store:\n"
    "    catch_up(AppDB(store), default_schema())\n"
    "    if hasattr(store, 'refresh_lookup'):  # the embedded store's entity lookup (ADR 0008)\n"
    "        store.refresh_lookup()\n"
)


def warm(db: Path | str) -> None:
    """What a server does by itself in its first seconds, done before it is measured: the search
    terms of the imports (``cruce.search``) and the entity lookup (ADR 0008) brought up to date."""
    subprocess.run([sys.executable, "-c", _WARM, str(db)], check=True, capture_output=True)


def copy_db(source: Path, folder: Path) -> tuple[Path, str, float]:
    """A copy of a database ``build_db`` made (to compare two versions of cruce on the same data)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    db = folder / "demo.duckdb"
    started = time.perf_counter()
    shutil.copy(source, db)
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


_NAMES = (
    "SELECT DISTINCT CAST(entity_id AS VARCHAR), value FROM statements "
    "WHERE schema IN ('Person', 'Organization') AND prop = 'name' ORDER BY 1, 2"
)


def draw_workload(db: Path, seed: int = 1, size: int = 2000) -> Workload:
    """Real ids and names: people and organizations, read from the database before it is served."""
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(_NAMES).fetchall()
    return _workload(rows, seed, size)


def draw_workload_from(db: str, seed: int = 1, size: int = 2000) -> Workload:
    """``draw_workload`` from a DuckDB path or a PostgreSQL URL (``?schema=`` honoured)."""
    if not db.startswith(("postgresql:", "postgres:")):
        return draw_workload(Path(db), seed, size)
    import psycopg
    from psycopg import sql

    from cruce.store.postgres_store import split_schema

    conninfo, schema = split_schema(db)
    with psycopg.connect(conninfo) as conn:
        if schema:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        rows = conn.execute(_NAMES).fetchall()
    return _workload(rows, seed, size)


def _workload(rows: list[Any], seed: int, size: int) -> Workload:
    rng = random.Random(seed)
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


# -- the client -------------------------------------------------------------------------------
class HttpError(Exception):
    """The server closed the connection or answered something that is not HTTP/1.1."""


class Connection:
    """One client's keep-alive HTTP/1.1 connection to the server: GET, status and body, nothing else."""

    def __init__(self, url: str, cookie: str) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.cookie = cookie
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body) of ``GET target``; reconnects when the server closed the connection."""
        return await self.send("GET", target, headers)

    async def post_json(self, target: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body) of ``POST target`` with a JSON body."""
        body = json.dumps(payload).encode()
        fields = {**(headers or {}), "Content-Type": "application/json", "Content-Length": str(len(body))}
        return await self.send("POST", target, fields, body)

    async def post_form(
        self, target: str, payload: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """(status, body) of ``POST target`` with a form body (``application/x-www-form-urlencoded``)."""
        body = urlencode(payload).encode()
        fields = {
            **(headers or {}), "Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(body))
        }  # fmt: skip
        return await self.send("POST", target, fields, body)

    async def send(
        self, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Cookie: {self.cookie}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status, fields = _head(head)
            if fields.get("transfer-encoding", "").lower() == "chunked":
                answer = await _chunked(reader)
            else:
                answer = await reader.readexactly(int(fields.get("content-length", "0")))
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            await self.close()
            raise HttpError(repr(exc)) from exc
        if fields.get("connection", "").lower() == "close":
            await self.close()
        return status, answer

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


def _head(head: bytes) -> tuple[int, dict[str, str]]:
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, status, *_ = status_line.split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {status_line!r}")
    fields = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            fields[name.strip().lower()] = value.strip()
    return int(status), fields


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return body
        body += await reader.readexactly(size + 2)
        body = body[:-2]


# -- the load ---------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    trace: list[tuple[float, str, float]] = field(default_factory=list)  # (sent at, s from start; endpoint; ms)
    server_cpu_s: float = 0.0  # CPU time of the server process (all its threads) during the run
    generator_cpu_s: float = 0.0  # CPU time of this process (the clients) during the run

    def add(self, endpoint: str, ms: float, ok: bool, why: str = "") -> None:
        self.latencies.setdefault(endpoint, []).append(ms)
        if not ok:
            self.errors[endpoint] = self.errors.get(endpoint, 0) + 1
            if len(self.error_samples) < 5:
                self.error_samples.append(f"{endpoint}: {why}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def _pct(values: list[float], q: int) -> float:
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
        f"{prefix}server_cpu_ms_per_request": round(tally.server_cpu_s * 1000 / len(every), 1) if every else 0.0,
        f"{prefix}generator_cpu_ms_per_request": round(tally.generator_cpu_s * 1000 / len(every), 1) if every else 0.0,
    }
    if len(tally.latencies) > 1:
        for endpoint, values in sorted(tally.latencies.items()):
            out[f"{prefix}{endpoint}_requests"] = len(values)
            out[f"{prefix}{endpoint}_errors"] = tally.errors.get(endpoint, 0)
            for q in (50, 95, 99):
                out[f"{prefix}{endpoint}_p{q}_ms"] = _pct(values, q)
    return out


async def _signed_in_client(url: str) -> Connection:
    """Sign in as the analyst through the pages (httpx, not measured); the session on a connection of its own."""
    async with httpx.AsyncClient(base_url=url, timeout=30, follow_redirects=False) as client:
        form = await client.get("/signin")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        if not csrf:
            raise RuntimeError("no CSRF token on the sign-in page")
        data = {"username": ANALYST[0], "password": ANALYST[1], "csrf_token": csrf.group(1), "next": "/"}
        response = await client.post("/signin", data=data)
        if response.status_code != 303:
            raise RuntimeError(f"sign-in failed: {response.status_code} {response.text[:200]}")
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return Connection(url, cookie)


Request = Callable[[Connection, int], Awaitable[tuple[str, int]]]


def cruce_requests(work: Workload, token: str) -> Request:
    auth = {"Authorization": f"Bearer {token}"}

    async def request(client: Connection, n: int) -> tuple[str, int]:
        endpoint = ENDPOINTS[n % len(ENDPOINTS)]
        if endpoint == "entity":
            status, _ = await client.get(f"/entity/{work.entity_ids[n % len(work.entity_ids)]}")
            return endpoint, status
        q = work.queries[n % len(work.queries)]
        if endpoint == "search":
            status, _ = await client.get("/search?" + urlencode({"q": q}))
        else:
            status, _ = await client.get("/api/v1/search?" + urlencode({"q": q, "limit": 20}), auth)
        return endpoint, status

    return request


async def baseline_request(client: Connection, n: int) -> tuple[str, int]:
    status, _ = await client.get("/static/cruce.css")
    return "static", status


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
    server_pid: int | None = None,
    accept: Callable[[str, int], bool] = lambda endpoint, status: 200 <= status < 300,
    on_start: Callable[[], None] | None = None,
) -> tuple[Tally, float]:
    """``clients`` signed-in clients until ``seconds`` pass or ``max_requests`` are sent.

    With ``think`` each client pauses a uniform random time in that range after each response
    (and starts after one such pause, so that the users do not all arrive at once); without it,
    each sends its next request as soon as the last is answered (a closed loop). The CPU time of
    both processes is taken after the sign-ins, around the requests only. ``accept`` says which
    answers succeed (2xx unless told: a form's 303 to its thank-you page is a success); ``on_start``
    is called once the clients are signed in, as the measured run starts.
    """
    sessions = [await _signed_in_client(url) for _ in range(clients)]
    tally = Tally()
    sent = 0
    server_cpu, generator_cpu = _process_cpu(server_pid), time.process_time()
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    deadline = started + seconds

    async def pause(rng: random.Random, low: float, high: float) -> None:
        await asyncio.sleep(min(rng.uniform(low, high), max(0.0, deadline - time.perf_counter())))

    async def client_loop(i: int, client: Connection) -> None:
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
                endpoint, status = await asyncio.wait_for(request(client, n), REQUEST_TIMEOUT)
                ok, why = accept(endpoint, status), f"HTTP {status}"
            except (HttpError, OSError, TimeoutError) as exc:
                await client.close()
                endpoint, ok, why = name_of(n), False, repr(exc)
            tally.add(endpoint, (time.perf_counter() - t0) * 1000, ok, why)
            tally.trace.append((round(t0 - started, 3), endpoint, round((time.perf_counter() - t0) * 1000, 1)))
            if think:
                await pause(rng, *think)

    try:
        await asyncio.gather(*(client_loop(i, c) for i, c in enumerate(sessions)))
    finally:
        for c in sessions:
            await c.close()
    took = time.perf_counter() - started
    tally.server_cpu_s = _process_cpu(server_pid) - server_cpu
    tally.generator_cpu_s = time.process_time() - generator_cpu
    return tally, took


def _process_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process, all its threads and its child processes (the
    workers of ``cruce serve --workers N``), on Linux; 0 where unknown."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_process_cpu(int(child)) for child in children)


def run(
    scale: int = 20_000,
    clients: int = 50,
    seconds: float = 30.0,
    max_requests: int = 100_000,
    baseline_seconds: float = 10.0,
    think: tuple[float, float] = THINK_SECONDS,
    from_db: Path | None = None,
) -> dict[str, Any]:
    folder = WORK / "api-load"
    if from_db is None:
        db, token, build_s = build_db(folder, scale)
    else:
        db, token, build_s = copy_db(from_db, folder)
    work = draw_workload(db)
    warm(db)
    process, url = start_server(db, folder / "serve.log")
    pid = process.pid
    load = [os.getloadavg()[0]]
    try:
        # one client alone first: the service time of each endpoint with no queue in front of it
        single, single_s = asyncio.run(
            drive(
                url, cruce_requests(work, token), clients=1, seconds=min(10.0, seconds), max_requests=300,
                server_pid=pid,
            )
        )  # fmt: skip
        # the users: think time between requests
        users, users_s = asyncio.run(
            drive(
                url, cruce_requests(work, token), clients=clients, seconds=seconds, max_requests=max_requests,
                think=think, seed=2, server_pid=pid,
            )
        )  # fmt: skip
        load.append(os.getloadavg()[0])
        # saturation: the same clients with no think time
        saturated, saturated_s = asyncio.run(
            drive(
                url, cruce_requests(work, token), clients=clients, seconds=seconds, max_requests=max_requests,
                server_pid=pid,
            )
        )  # fmt: skip
        base, base_took = asyncio.run(
            drive(
                url, baseline_request, clients=clients, seconds=baseline_seconds, max_requests=max_requests,
                name_of=lambda n: "static", server_pid=pid,
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
        "think_time_s": list(think),
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
        "mix": {
            "entity": "GET /entity/{id}: the entity page (HTML), an id drawn from the people and organizations",
            "search": "GET /search?q=: the search page (HTML, 50 hits a page), a name, surname or two words",
            "search_api": "GET /api/v1/search?q=&limit=20: the search API (JSON, bearer token), the same queries",
            "order": "each client takes the three in turn (a third each), from its own place in the lists",
        },
        "model": (
            f"{clients} concurrent clients, each a signed-in analyst with its own session and keep-alive "
            f"connection, pausing a uniform {think[0]:g}-{think[1]:g} s (seeded) after each response, starts "
            f"spread over {think[1]:g} s, {seconds:g} s; saturation_*: the same clients with no pause"
        ),
        "generator": "asyncio HTTP/1.1 client in a second process (benchmarks.api_load.Connection), not httpx",
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
    parser.add_argument(
        "--from-db", type=Path, default=None, metavar="PATH",
        help="serve a copy of this database (one an earlier run built) instead of building one",
    )  # fmt: skip
    args = parser.parse_args()
    result = run(
        args.scale, args.clients, args.seconds, args.max_requests, think=(args.think[0], args.think[1]),
        from_db=args.from_db,
    )  # fmt: skip
    if args.no_write:
        print(json.dumps(result, indent=2))
    else:
        print(write_result("api-load", result).read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
