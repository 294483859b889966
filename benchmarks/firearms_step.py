"""One measured firearms step, run in its own process by benchmarks/firearms.py."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb

PLAIN_SQL = Path(__file__).with_name("firearms_plain.sql")


def ours(db: str) -> dict[str, float]:
    """cruce's whole firearms analysis: read the store, every figure, every indicator, the leads."""
    from cruce.analyses.firearms import figures
    from cruce.analyses.firearms.data import Filters, FirearmsData
    from cruce.analyses.firearms.indicators import dealer_indicators, firearm_indicators
    from cruce.analyses.firearms.score import DEFAULT_THRESHOLD, score_purchasers
    from cruce.store import open_store

    started = time.perf_counter()
    with open_store(db) as store:
        data = FirearmsData.load(store)
    loaded = time.perf_counter() - started
    everything = Filters()
    figures.summary(data, everything)
    figures.source_states(data, everything)
    figures.source_dealers(data, everything)
    figures.time_to_crime(data, everything, by="type")
    figures.completion(data, everything)
    figures.types_over_time(data, everything, "type")
    figures.types_over_time(data, everything, "caliber")
    figures.corridors(data, everything)
    leads = score_purchasers(data, threshold=DEFAULT_THRESHOLD, limit=1000)  # the leads page and export
    score_purchasers(data, limit=50)
    dealer_indicators(data)
    firearm_indicators(data)
    seconds = time.perf_counter() - started
    traces = data.one("SELECT count(*) AS n FROM traces")["n"]
    purchases = data.one("SELECT count(*) AS n FROM purchases")["n"]
    data.close()
    return {"seconds": seconds, "load_seconds": loaded, "traces": float(traces), "purchases": float(purchases),
            "purchasers_flagged": float(len(leads))}  # fmt: skip


def plain(db: str) -> dict[str, float]:
    """The same figures and indicators as plain DuckDB SQL in the store's own connection."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(db)
    for statement in PLAIN_SQL.read_text(encoding="utf-8").split(";\n"):
        sql = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if sql:
            con.execute(sql).fetchall()
    con.close()
    return {"seconds": time.perf_counter() - started}


def page(db: str, requests: int = 100) -> dict[str, float]:
    """The firearms page, signed in, in-process: the first request (computing everything), then
    ``requests`` more (served from the kept analysis, as a server does once it has computed)."""
    import base64
    import os
    import re
    import statistics

    from fastapi.testclient import TestClient

    from cruce.security.audit import now
    from cruce.web.app import create_app

    os.environ.setdefault("CRUCE_SECRET_KEY", base64.urlsafe_b64encode(b"benchmark-firearms-key-32bytes!!").decode())
    app = create_app(db)
    accounts = app.state.services.view().security.accounts
    if accounts.find("bench") is None:
        accounts.add("bench", "a-long-benchmark-password", "analyst", groups=set(), now=now())
    client = TestClient(app)
    form = client.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    client.post("/signin", data={"username": "bench", "password": "a-long-benchmark-password", "next": "/",
                                 "csrf_token": csrf.group(1) if csrf else ""})  # fmt: skip
    started = time.perf_counter()
    assert client.get("/firearms").status_code == 200
    first = time.perf_counter() - started
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        assert client.get("/firearms").status_code == 200
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    app.state.services.close()
    return {"first_seconds": first, "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * len(times)) - 1],
            "p99_ms": times[int(0.99 * len(times)) - 1], "seconds": first}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ours", "plain", "page"])
    parser.add_argument("db")
    args = parser.parse_args()
    figures = {"ours": ours, "plain": plain, "page": page}[args.mode](args.db)
    figures["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
