"""One measured ingest step, run in its own process by benchmarks/ingest.py."""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from benchmarks.common import peak_rss_mb


def raw_duckdb(csv_path: Path, db: Path) -> dict[str, float]:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{csv_path}')")
    rows = con.execute("SELECT count(*) FROM raw").fetchone()
    con.close()
    return {"seconds": time.perf_counter() - start, "rows": float(rows[0] if rows else 0)}


def cruce_import(csv_path: Path, db: str) -> dict[str, float]:
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store

    start = time.perf_counter()
    with open_store(db) as store:
        result = import_file(store, csv_path, "example-firearm-purchases")
        statements = store.statement_count()
    return {
        "seconds": time.perf_counter() - start,
        "rows": float(result.rows_read),
        "rows_rejected": float(result.rows_rejected),
        "statements": float(statements),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["raw", "cruce"])
    parser.add_argument("csv", type=Path)
    parser.add_argument("db")
    args = parser.parse_args()
    figures = raw_duckdb(args.csv, Path(args.db)) if args.mode == "raw" else cruce_import(args.csv, args.db)
    figures["peak_rss_mb"] = peak_rss_mb()
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    figures["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
