"""`make bench`: run every benchmark, each writing benchmarks/results/<topic>.json."""

from __future__ import annotations

import argparse

from benchmarks import (
    api_load,
    drugs_violence,
    firearms,
    graph,
    indicators,
    ingest,
    load,
    pprl,
    report,
    resolve,
    scale,
    search,
    synth,
)
from benchmarks.common import write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the ingest benchmark's CSV")
    parser.add_argument("--synth-scale", type=int, default=1_000_000, help="records of the synth benchmark")
    parser.add_argument("--api-scale", type=int, default=20_000, help="records of the API load benchmark's database")
    parser.add_argument("--api-seconds", type=float, default=30.0, help="length of the API load")
    parser.add_argument("--resolve-scale", type=int, default=resolve.DEFAULT_SYNTH_SCALE, help="resolve-synth scale")
    parser.add_argument("--pprl-scale", type=int, default=pprl.DEFAULT_SCALE, help="resolve-pprl scale")
    parser.add_argument(
        "--graph-edges", type=int, nargs="+", default=[1_000_000, 10_000_000], help="graph benchmark sizes (edges)"
    )
    parser.add_argument("--graph-scale", type=int, default=graph.COMMUNITIES_SCALE, help="graph-communities scale")
    parser.add_argument(
        "--search-scale", type=int, default=search.DEFAULT_SCALE, help="search benchmark's synth records"
    )
    parser.add_argument(
        "--firearms-scale", type=int, default=firearms.DEFAULT_SCALE, help="firearms benchmark's synth records"
    )
    parser.add_argument(
        "--hotspot-events", type=int, default=drugs_violence.EVENTS, help="violence events of the hot-spot benchmark"
    )
    parser.add_argument(
        "--seizure-scale", type=int, default=drugs_violence.SEIZURE_SCALE, help="synth records for the seizures"
    )
    parser.add_argument(
        "--scale-sizes", type=int, nargs="+", default=list(scale.DEFAULT_SIZES), help="scale benchmark sizes (records)"
    )
    parser.add_argument(
        "--scale-time-cap", type=float, default=scale.DEFAULT_TIME_CAP_S, help="scale: seconds a step may take"
    )
    args = parser.parse_args()
    topics = (
        ("ingest", lambda: ingest.run(args.rows)),
        ("synth", lambda: synth.run(args.synth_scale)),
        ("api-load", lambda: api_load.run(args.api_scale, seconds=args.api_seconds)),
        (load.TOPIC, lambda: load.run(args.api_scale)),  # its own 60 s with 100 users and an import
        *((t, lambda t=t: resolve.run_topic(t, args.resolve_scale)) for t in resolve.TOPICS),
        (pprl.TOPIC, lambda: pprl.run(args.pprl_scale)),
        ("graph-communities", lambda: graph.run_communities(args.graph_scale)),
        ("graph", lambda: graph.run_speed(args.graph_edges)),
        ("search", lambda: search.run(args.search_scale)),
        ("firearms", lambda: firearms.run(args.firearms_scale)),
        ("seizures-crossings", lambda: drugs_violence.run_office()),
        ("seizures-ports", lambda: drugs_violence.run_ports(args.seizure_scale)),
        ("hotspot", lambda: drugs_violence.run_hotspots(args.hotspot_events)),
        (indicators.TOPIC, lambda: indicators.run()),
        (report.TOPIC, lambda: report.run()),
        (scale.TOPIC, lambda: scale.run(args.scale_sizes, time_cap=args.scale_time_cap)),
    )
    for topic, run in topics:
        path = write_result(topic, run())
        print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
