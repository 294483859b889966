"""Briefing reports (issue #11): the time to write the briefing of an investigation case of 500
entities, beside WeasyPrint rendering the same HTML alone.

The case is built on a ``cruce synth`` database: the neighbourhood (three links) of the best connected
person, then the next best connected entities, until 500 records — so its network, map and timeline
have something to draw. An admin's briefing in Spanish is written four times (the graph and the
boundaries already loaded: they are caches of the server, measured by the graph benchmark); each
run is timed in its parts — reading the case through the guard and drawing its figures
(``briefing``), the HTML (``html``), the PDF (``pdf``) — and the baseline is ``weasyprint`` alone
on the HTML of the same run, the two layouts in alternating order. The medians are reported, with
every run and the size of the PDF.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, peak_rss_mb, write_result

TOPIC = "report"
DEFAULT_SCALE = 20_000
ENTITIES = 500
RUNS = 4
PASSWORD = "benchmark password only"


def _database(scale: int) -> Path:
    """A synth scenario (three flows) imported into DuckDB, kept in benchmarks/work for the next run."""
    import json

    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store
    from cruce.synth import generate

    folder = WORK / f"report-{scale}"
    db = folder / "report.duckdb"
    done = folder / "done"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        generate(folder / "scenario", scale=scale, seed=7)
        manifest = json.loads((folder / "scenario" / "manifest.json").read_text(encoding="utf-8"))
        with open_store(str(db)) as store:
            for entry in manifest["files"]:
                import_file(store, folder / "scenario" / entry["path"], entry["mapping"])
        done.write_text("ok\n", encoding="utf-8")
    return db


def _case_entities(store: Any, guard: Any, principal: Any, n: int) -> list[str]:
    from cruce.graph import explorer, service
    from cruce.graph.graph import open_graph, view_for
    from cruce.graph.present import GuardNamer
    from cruce.graph.questions import key_players

    namer = GuardNamer(guard, principal)
    g = view_for(open_graph(store), namer.access.visible)
    ranked = key_players(g, "degree", ("Person",), limit=1)
    start = g.id_of(ranked[0].node)
    near = explorer.neighbourhood(store, g, namer, start, 3, service.filters(), n)
    ids = [node["id"] for node in near["nodes"]]
    for r in key_players(g, "degree", (), limit=5 * n):
        if len(ids) >= n:
            break
        eid = g.id_of(r.node)
        if eid not in ids:
            ids.append(eid)
    return ids[:n]


def _timed(step: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = step(*args)
    return time.perf_counter() - started, out


def run(scale: int = DEFAULT_SCALE, entities: int = ENTITIES, runs: int = RUNS) -> dict[str, Any]:
    from cruce.investigations.access import Desk
    from cruce.reports import render
    from cruce.reports.briefing import case_briefing
    from cruce.schema.loader import default_schema
    from cruce.security import Guard, Security
    from cruce.security.audit import now
    from cruce.store import open_store

    db = _database(scale)
    with open_store(db) as store:
        security = Security(store)
        guard = Guard(store, security, default_schema())
        if security.accounts.find("bench-admin") is None:
            security.accounts.add("bench-admin", PASSWORD, "admin", now=now())
        user = security.accounts.find("bench-admin")
        assert user is not None
        principal = user.principal()
        desk = Desk(guard, principal, address="benchmark")
        cold = time.perf_counter()
        ids = _case_entities(store, guard, principal, entities)
        graph_seconds = time.perf_counter() - cold
        case = desk.create(f"Benchmark case of {len(ids)} entities", "benchmarks/report.py", "amber")
        desk.add_records(case.id, ids)
        case_briefing(desk, case.id, "es")  # warm: the boundaries, the templates, WeasyPrint's fonts
        rows = []
        for run_no in range(runs):
            baseline_first = run_no % 2 == 1  # the two sides alternate: a second layout in a row runs warmer
            t0 = time.perf_counter()
            briefing = case_briefing(desk, case.id, "es")
            t1 = time.perf_counter()
            html = render.html(briefing, for_pdf=True)
            t2 = time.perf_counter()
            if baseline_first:
                alone, baseline = _timed(render.pdf_of_html, html)
            pdf_s, pdf = _timed(render.pdf_of_html, html)
            if not baseline_first:
                alone, baseline = _timed(render.pdf_of_html, html)
            rows.append({
                "briefing_s": round(t1 - t0, 3), "html_s": round(t2 - t1, 3), "pdf_s": round(pdf_s, 3),
                "total_s": round(t2 - t0 + pdf_s, 3), "weasyprint_alone_s": round(alone, 3),
                "baseline_first": baseline_first, "pdf_bytes": len(pdf), "baseline_bytes": len(baseline),
                "html_bytes": len(html.encode("utf-8")),
            })  # fmt: skip
        from io import BytesIO

        from pypdf import PdfReader

        pages = len(PdfReader(BytesIO(pdf)).pages)

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 3)

    return {
        "description": (
            "Briefing of an investigation case (Spanish, PDF) for an admin: read through the guard and figures "
            "drawn (briefing), HTML, WeasyPrint PDF; baseline: WeasyPrint on the same HTML alone. Medians of "
            f"{runs} runs after one warm-up (the two layouts alternate); the graph loaded once before (graph_load_s)."
        ),
        "scale": scale,
        "entities": len(ids),
        "records_shown": len(briefing.entities),
        "links_drawn": len(briefing.network.edges) if briefing.network else 0,
        "timeline_items": len(briefing.timeline),
        "pages": pages,
        "graph_load_s": round(graph_seconds, 3),
        "seconds": median("total_s"),
        "briefing_seconds": median("briefing_s"),
        "html_seconds": median("html_s"),
        "pdf_seconds": median("pdf_s"),
        "baseline": {"what": "WeasyPrint alone on the same HTML", "seconds": median("weasyprint_alone_s")},
        "ratio": round(median("total_s") / median("weasyprint_alone_s"), 2),
        "runs": rows,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE)
    parser.add_argument("--entities", type=int, default=ENTITIES)
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    path = write_result(TOPIC, run(args.scale, args.entities, args.runs))
    print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
