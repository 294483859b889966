"""Synth: ``cruce.synth.scenario.generate`` writing a 1,000,000-record scenario of the three flows.

Beside it, in the same run, the toy generator it replaces (``cruce.demo.write_purchases_csv``
writing as many sales rows, with no traces, rings or truth) as the baseline. Each runs in a
process of its own, so its peak RSS is its own.

Target (issue #3): 1,000,000 records in under 60 s on the 2-core benchmark machine, with memory
bounded (rows are streamed; peak RSS must not grow with the scale).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, peak_rss_mb, run_measured, write_result

TARGET_SECONDS = 60.0


def _size_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 1)


def step(mode: str, out: Path, scale: int, seed: int) -> dict[str, Any]:
    """One measured run, in this process."""
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    if mode == "synth":
        from cruce.synth.scenario import generate

        summary = generate(out, scale=scale, seed=seed)
        figures: dict[str, Any] = {"records": summary.records, "files": summary.files}
    else:
        from cruce.demo import write_purchases_csv

        write_purchases_csv(out / "demo-purchases.csv", scale)
        figures = {"records": scale}
    figures["seconds"] = time.perf_counter() - started
    figures["output_mb"] = _size_mb(out)
    figures["peak_rss_mb"] = peak_rss_mb()
    shutil.rmtree(out)
    return figures


def run(scale: int, seed: int = 1) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    ours = run_measured("benchmarks.synth", "--step", "synth", "--scale", str(scale), "--seed", str(seed))
    base = run_measured("benchmarks.synth", "--step", "demo", "--scale", str(scale))
    return {
        "scale": scale,
        "seed": seed,
        "records": ours["records"],
        "files": ours["files"],
        "output_mb": ours["output_mb"],
        "seconds": round(ours["seconds"], 2),
        "records_per_s": round(ours["records"] / ours["seconds"]),
        "peak_rss_mb": ours["peak_rss_mb"],
        "target_seconds": TARGET_SECONDS,
        "ratio": round(ours["seconds"] / base["seconds"], 2),
        "meets_target": ours["seconds"] < TARGET_SECONDS,
        "baseline": {
            "name": "cruce.demo.write_purchases_csv, as many sales rows (one flow, no traces, rings or truth)",
            "seconds": round(base["seconds"], 2),
            "records_per_s": round(base["records"] / base["seconds"]),
            "output_mb": base["output_mb"],
            "peak_rss_mb": base["peak_rss_mb"],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step", choices=["synth", "demo"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        out = WORK / f"{args.step}-{args.scale}"
        print(json.dumps(step(args.step, out, args.scale, args.seed)))
        return
    path = write_result("synth", run(args.scale, args.seed))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
