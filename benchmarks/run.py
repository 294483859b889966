"""`make bench`: run every benchmark, each writing benchmarks/results/<topic>.json."""

from __future__ import annotations

import argparse

from benchmarks import ingest
from benchmarks.common import write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the ingest benchmark's CSV")
    args = parser.parse_args()
    path = write_result("ingest", ingest.run(args.rows))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
