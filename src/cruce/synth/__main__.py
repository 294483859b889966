"""``python -m cruce.synth OUT_DIR --scale N --seed S``: write a scenario and print what was written."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from cruce.synth.calibration import Calibration, published_figures
from cruce.synth.scenario import FLOWS, generate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m cruce.synth", description=__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", type=int, default=10_000, help="source records to write (default 10000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--calibration", type=Path, help="calibrate on the fact tables in this folder (atf_mexico_traces)"
    )
    parser.add_argument("--flows", default=",".join(FLOWS), help="comma-separated: firearms, drugs, people")
    args = parser.parse_args(argv)
    calibration = Calibration.from_figures(*published_figures(args.calibration)) if args.calibration else None
    started = time.perf_counter()
    flows = [f for f in args.flows.split(",") if f]
    summary = generate(args.out_dir, scale=args.scale, seed=args.seed, calibration=calibration, flows=flows)
    figures = {
        "out_dir": str(summary.out_dir),
        "records": summary.records,
        "files": summary.files,
        "counts": summary.counts,
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
