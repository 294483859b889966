"""`make bench`: run every benchmark, each writing benchmarks/results/<topic>.json."""

from __future__ import annotations

import argparse

from benchmarks import ingest, synth
from benchmarks.common import write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the ingest benchmark's CSV")
    parser.add_argument("--synth-scale", type=int, default=1_000_000, help="records of the synth benchmark")
    args = parser.parse_args()
    for topic, run in (("ingest", lambda: ingest.run(args.rows)), ("synth", lambda: synth.run(args.synth_scale))):
        path = write_result(topic, run())
        print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
