"""Drugs and violence (issue #8): hot spots of violence on a million events, and seizures per
million crossings over the real CBP and BTS files, each beside the same computation without cruce.

Hot spots (``hotspot``): ``--events`` violence events in ACLED's export layout, written by a
generator here (seeded): places scattered around the 24 localities of ``cruce synth``'s plazas
(``cruce.synth.drugs.LOCALITIES``; most within about 15 km, the rest up to 130 km away), each
place a named location with its own point, and planted clusters — a few hundred places tight
around nine municipal seats, given a share of the events in the years of their dispute. The file
is imported once with the ``acled-events`` mapping into a DuckDB store (setup, not timed).
``ours`` reads the store (``EventPoints.load``: H3 resolution-6 cells), then ``hot_spots`` over
the whole span and ``space_time`` by year (Gi* of each year, each cell's course). ``baseline``
is PySAL alone on the same points read from Parquet: pandas, ``h3.latlng_to_cell`` per point,
counts per cell, ``libpysal.graph.Graph.build_h3`` over the cells and their first ring,
``esda.G_Local`` (Gi*, binary weights, the same permutations and seed), the same rules for hot
and for each course. ``agree``: the same hot cells over the span, the same hot cells each year,
the same course for every cell and the same events per cell.

Seizures per crossings over the real files (``seizures-crossings``): the real CBP files
(nationwide and Air and Marine Operations seizures, FY2019–FY2022) and the real BTS crossings of
the US–Mexico border (1996–2025), imported with their mappings into a store of their own. CBP
publishes its port-of-entry seizures by field office, never by port, so the figure is
``seizures_per_crossings_by_office``: the Office of Field Operations' seizure events of each
southwest field office and fiscal year per million personal vehicles crossing the ports of that
field office (a port's field office is the district of its code). ``ours`` reads the store
(``DrugsData.load``: every seizure and count) and computes it; ``baseline`` is the same figure as
one plain DuckDB query over the raw CSV files. ``agree``: the same office-years with the same
events, crossings, rates and deviations.

Seizures per crossings by port (``seizures-ports``): CBP's files name no port, so event-level
seizures at the ports come from a ``cruce synth`` drugs scenario (``--seizure-scale`` records,
``drug-seizures`` mapping; the real BTS port names), imported beside the real files. ``ours``
reads the store and runs ``seizures_per_crossings`` (personal vehicles); ``baseline`` is the same
figure as one plain DuckDB query over the raw files (the seizures' CSV and the BTS ``.csv.gz``):
the same port-name folding, one count per port, month and measure, the counted months within the
seizures' span, events per million and the robust deviations. ``agree``: the same port-years,
and the same months, events, crossings and rates for each (pounds to a thousandth).

Each side runs ``--repeat`` times, alternately (baseline first), each run in a fresh process;
``seconds`` are the medians (``ratio``: ours ÷ baseline), ``peak_rss_mb`` the largest of the runs,
read from the process's own ``VmHWM`` (``common.peak_rss_mb``). ``rows_per_s``: events (hot
spots), or seizure and count rows read (seizures per crossings), per second. Working files go to ``benchmarks/work/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import WORK, peak_rss_mb, run_measured, write_result

EVENTS = 1_000_000
PLACES = 20_000
SEIZURE_SCALE = 1_000_000
QUICK_EVENTS = 50_000
QUICK_SEIZURE_SCALE = 40_000
REPEAT = 3
SEED = 7
FIRST_DAY, DAYS = "2015-01-01", 3653  # 2015-2024
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CBP_FILES = (
    ("cbp_drug_seizures/nationwide-drugs-fy19-fy22.csv", "cbp-drug-seizures"),
    ("cbp_drug_seizures/amo-drug-seizures-fy19-fy22.csv", "cbp-amo-drug-seizures"),
)
BTS_FILE = ("border_crossing/border_crossing_entry_data_us_mexico.csv.gz", "bts-border-crossings")
# planted clusters: (municipal seat, first year, last year), after the plaza disputes of cruce synth
CLUSTERS = (
    ("Tijuana", 2016, 2016), ("Mexicali", 2017, 2018), ("Agua Prieta", 2020, 2021), ("Ascension", 2019, 2019),
    ("Ciudad Juarez", 2021, 2022), ("Piedras Negras", 2016, 2016), ("Nuevo Laredo", 2022, 2023),
    ("Ciudad Miguel Aleman", 2019, 2020), ("Reynosa", 2019, 2021),
)  # fmt: skip
CLUSTER_PLACES = 300
CLUSTER_SHARE = 0.15  # of the events
NEAR_SHARE, NEAR_SD, FAR_SPAN = 0.6, 0.12, 1.2  # places near a locality (degrees of spread), the rest
ACTORS = ("Unidentified Armed Group (Mexico)", "Cartel de las Dunas", "Cartel del Desierto",
          "La Hermandad del Bravo", "Grupo Halcon", "Police Forces of Mexico (2018-2024)")  # fmt: skip
SUB_EVENTS = (("Armed clash", "Battles"), ("Attack", "Violence against civilians"),
              ("Abduction/forced disappearance", "Violence against civilians"))  # fmt: skip


# -- the events ------------------------------------------------------------------------------------


def _places(rng: Any) -> dict[str, Any]:
    """The named places: locality, admin areas and a point each; clusters' places last."""
    import numpy as np

    from cruce.synth.drugs import LOCALITIES, MX_STATE_NAMES
    from cruce.synth.names import strip_accents
    from cruce.synth.world import PLAZAS

    plazas = {p.plaza_id: p for p in PLAZAS}
    seats = [(pid, name, lat, lon) for pid, found in LOCALITIES.items() for name, lat, lon in found]
    near = int(PLACES * NEAR_SHARE)
    which = rng.integers(0, len(seats), PLACES)
    spread = np.where(
        (np.arange(PLACES) < near)[:, None],
        rng.normal(0, NEAR_SD, (PLACES, 2)),
        rng.uniform(-FAR_SPAN, FAR_SPAN, (PLACES, 2)),
    )
    by_name = {name: i for i, (_pid, name, _lat, _lon) in enumerate(seats)}
    centre = np.repeat([by_name[name] for name, _first, _last in CLUSTERS], CLUSTER_PLACES)
    which = np.concatenate([which, centre])
    spread = np.concatenate([spread, rng.normal(0, 0.02, (len(centre), 2))])
    lat = np.array([seats[i][2] for i in which]) + spread[:, 0]
    lon = np.array([seats[i][3] for i in which]) + spread[:, 1]
    return {
        "location": np.array([f"{seats[i][1]} sitio {k}" for k, i in enumerate(which)], dtype=object),
        "admin1": np.array([strip_accents(MX_STATE_NAMES[plazas[seats[i][0]].mx_state]) for i in which], dtype=object),
        "admin2": np.array([strip_accents(plazas[seats[i][0]].municipality) for i in which], dtype=object),
        "latitude": np.array([f"{v:.4f}" for v in lat], dtype=object),
        "longitude": np.array([f"{v:.4f}" for v in lon], dtype=object),
    }


def _event_places_and_days(rng: Any, events: int) -> tuple[Any, Any]:
    """Each event's place and day: the background over every place and day (near places five times
    as likely as far ones), then each cluster's share on its places in its years."""
    import numpy as np

    near = int(PLACES * NEAR_SHARE)
    weight = np.where(np.arange(PLACES) < near, 1.0, 0.2)
    planted = int(events * CLUSTER_SHARE)
    background = events - planted
    place = rng.choice(PLACES, background, p=weight / weight.sum())
    day = rng.integers(0, DAYS, background)
    per = planted // len(CLUSTERS)
    for k, (_seat, first, last) in enumerate(CLUSTERS):
        n = per if k < len(CLUSTERS) - 1 else planted - per * k
        place = np.concatenate([place, PLACES + k * CLUSTER_PLACES + rng.integers(0, CLUSTER_PLACES, n)])
        start = (np.datetime64(f"{first}-01-01") - np.datetime64(FIRST_DAY)).astype(int)
        stop = (np.datetime64(f"{last + 1}-01-01") - np.datetime64(FIRST_DAY)).astype(int)
        day = np.concatenate([day, rng.integers(start, stop, n)])
    order = np.argsort(day, kind="stable")
    return place[order], day[order]


def write_events(path: Path, events: int, seed: int = SEED) -> None:
    """``events`` violence events in ACLED's export layout (the columns ``acled-events`` reads)."""
    import duckdb
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    places = _places(rng)
    place, day = _event_places_and_days(rng, events)
    dates = np.datetime_as_string(np.datetime64(FIRST_DAY) + day.astype("timedelta64[D]"), unit="D")
    sub = rng.integers(0, len(SUB_EVENTS), events)
    actor = rng.integers(0, len(ACTORS), events)
    table = pa.table(
        {
            "event_id_cnty": [f"MEXB{n:07d}" for n in range(1, events + 1)],
            "event_date": dates,
            "year": [d[:4] for d in dates.tolist()],
            "disorder_type": ["Political violence"] * events,
            "event_type": np.array([e for _s, e in SUB_EVENTS], dtype=object)[sub],
            "sub_event_type": np.array([s for s, _e in SUB_EVENTS], dtype=object)[sub],
            "actor1": np.array(ACTORS, dtype=object)[actor],
            "actor2": np.where(sub == 1, "Civilians (Mexico)", ""),
            "iso": ["484"] * events,
            "country": ["Mexico"] * events,
            "admin1": places["admin1"][place],
            "admin2": places["admin2"][place],
            "admin3": [""] * events,
            "location": places["location"][place],
            "latitude": places["latitude"][place],
            "longitude": places["longitude"][place],
            "source": ["Benchmark generator"] * events,
            "notes": [""] * events,
            "fatalities": rng.poisson(0.6, events),
        }
    )
    con = duckdb.connect()
    con.register("generated", table)
    tmp = path.with_suffix(".tmp")
    con.execute("COPY generated TO ? (HEADER, DELIMITER ',')", [str(tmp)])
    con.close()
    tmp.rename(path)


def _events_imported(events: int) -> tuple[Path, Path]:
    """(Parquet of the points for the baseline, store), kept in benchmarks/work between runs."""
    import duckdb
    import pyarrow.parquet as pq

    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store

    WORK.mkdir(parents=True, exist_ok=True)
    csv_path = WORK / f"violence-events-{events}.csv"
    if not csv_path.exists():
        started = time.perf_counter()
        write_events(csv_path, events)
        print(f"wrote {csv_path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    parquet = csv_path.with_suffix(".parquet")
    if not parquet.exists():
        con = duckdb.connect()
        points = con.execute(
            "SELECT event_id_cnty AS event, event_date AS day, CAST(latitude AS DOUBLE) AS latitude, "
            "CAST(longitude AS DOUBLE) AS longitude, CAST(fatalities AS DOUBLE) AS killed "
            "FROM read_csv(?, header = true, all_varchar = true)",
            [str(csv_path)],
        ).to_arrow_table()
        con.close()
        pq.write_table(points, parquet)
    db = WORK / f"hotspot-{events}.duckdb"
    _import_once(db, lambda store: import_file(store, csv_path, "acled-events"), open_store)
    return parquet, db


def _import_once(db: Path, fill: Callable[[Any], Any], open_store: Callable[[str], Any]) -> None:
    done = db.with_suffix(".done")
    if done.exists():
        return
    for leftover in WORK.glob(db.name + "*"):
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    started = time.perf_counter()
    with open_store(str(db)) as store:
        fill(store)
    print(f"imported {db.name} in {time.perf_counter() - started:.0f} s", flush=True)
    done.write_text("done\n", encoding="utf-8")


# -- hot spots: the two sides ------------------------------------------------------------------------


def hot_ours(db: str, out: str) -> dict[str, Any]:
    """cruce: read the store into H3 cells, hot spots over the whole span, space-time by year."""
    from cruce.analyses.hotspots import EventPoints, hot_spots, space_time
    from cruce.store import open_store

    started = time.perf_counter()
    with open_store(db) as store:
        data = EventPoints.load(store)
    loaded = time.perf_counter()
    spots = hot_spots(data)
    spotted = time.perf_counter()
    courses = space_time(data, "year")
    done = time.perf_counter()
    events = int(data.one("SELECT count(*) AS n FROM events")["n"])
    data.close()
    _write_hot(out, spots, courses)
    return {"seconds": done - started, "load_seconds": loaded - started, "hot_spots_seconds": spotted - loaded,
            "space_time_seconds": done - spotted, "events": events}  # fmt: skip


def hot_plain(parquet: str, out: str) -> dict[str, Any]:
    """PySAL alone: pandas, h3 per point, Graph.build_h3 over the cells and their ring, esda's Gi*."""
    import h3
    import pandas as pd

    from cruce.analyses.hotspots import RESOLUTION

    started = time.perf_counter()
    events = pd.read_parquet(parquet, columns=["day", "latitude", "longitude", "killed"])
    events["cell"] = [
        h3.latlng_to_cell(lat, lon, RESOLUTION)
        for lat, lon in zip(events["latitude"].tolist(), events["longitude"].tolist(), strict=True)
    ]
    events["year"] = events["day"].str[:4]
    loaded = time.perf_counter()
    spots = _plain_spots(events)
    spotted = time.perf_counter()
    years = sorted(events["year"].unique())
    hot_by_year = {year: {s["cell"]: s["hot"] for s in _plain_spots(part)} for year, part in events.groupby("year")}
    courses = _plain_courses(years, hot_by_year)
    done = time.perf_counter()
    _write_hot(out, spots, courses)
    return {"seconds": done - started, "load_seconds": loaded - started, "hot_spots_seconds": spotted - loaded,
            "space_time_seconds": done - spotted, "events": len(events)}  # fmt: skip


def _plain_spots(events: Any) -> list[dict[str, Any]]:
    """Each cell with events: its events, dead, Gi* z-score and pseudo p-value, and whether it is hot."""
    import esda
    import h3
    from libpysal.graph import Graph

    from cruce.analyses.hotspots import P_HOT, PERMUTATIONS, SEED, Z_HOT

    counts = events.groupby("cell").agg(events=("cell", "size"), killed=("killed", "sum"))
    ring = {n for cell in counts.index for n in h3.grid_ring(cell, 1)}
    order = sorted(ring | set(counts.index))
    weights = Graph.build_h3(order, order=1, weight="binary").to_W()
    y = counts["events"].reindex(weights.id_order, fill_value=0).to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = esda.G_Local(y, weights, star=True, transform="B", permutations=PERMUTATIONS, seed=SEED, n_jobs=1)
    at = {cell: i for i, cell in enumerate(weights.id_order)}
    return [
        {"cell": cell, "events": int(n), "killed": float(k), "z": round(float(g.Zs[at[cell]]), 3),
         "p": round(float(g.p_sim[at[cell]]), 4), "hot": bool(g.Zs[at[cell]] > Z_HOT and g.p_sim[at[cell]] < P_HOT)}
        for cell, n, k in zip(counts.index, counts["events"], counts["killed"], strict=True)
    ]  # fmt: skip


def _plain_courses(years: list[str], hot_by_year: dict[str, dict[str, bool]]) -> list[dict[str, Any]]:
    """Each cell's course over the years, by the rules of ``cruce.analyses.hotspots.space_time``."""
    cells = sorted({cell for hot in hot_by_year.values() for cell in hot})
    half = len(years) // 2
    out = []
    for cell in cells:
        course = [hot_by_year[y].get(cell, False) for y in years]
        if sum(course) / len(course) >= 0.75:
            kind = "persistent"
        elif course[-1] and not any(course[:half]):
            kind = "emerging"
        elif any(course[:half]) and not course[-1]:
            kind = "diminishing"
        else:
            kind = "sporadic" if any(course) else "not hot"
        out.append({"cell": cell, "course": kind, "hot_periods": [y for y, h in zip(years, course, strict=True) if h]})
    return out


def _write_hot(out: str, spots: list[dict[str, Any]], courses: list[dict[str, Any]]) -> None:
    found = {"spots": {s["cell"]: [s["events"], s["z"], s["p"], s["hot"]] for s in spots},
             "courses": {c["cell"]: [c["course"], c["hot_periods"]] for c in courses}}  # fmt: skip
    Path(out).write_text(json.dumps(found), encoding="utf-8")


def hot_agreement(ours: Path, plain: Path) -> dict[str, Any]:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (ours, plain))
    hot_a = {c for c, s in a["spots"].items() if s[3]}
    hot_b = {c for c, s in b["spots"].items() if s[3]}
    shared = a["spots"].keys() & b["spots"].keys()
    z_diff = max((abs(a["spots"][c][1] - b["spots"][c][1]) for c in shared), default=0.0)
    p_diff = max((abs(a["spots"][c][2] - b["spots"][c][2]) for c in shared), default=0.0)
    return {
        "cells": len(a["spots"]),
        "hot_cells": len(hot_a),
        "baseline_cells": len(b["spots"]),
        "baseline_hot_cells": len(hot_b),
        "same_hot_cells": hot_a == hot_b,
        "same_events_per_cell": {c: s[0] for c, s in a["spots"].items()} == {c: s[0] for c, s in b["spots"].items()},
        "max_z_difference": round(z_diff, 3),
        "max_p_difference": round(p_diff, 4),
        "same_courses": a["courses"] == b["courses"],
        "courses": dict(sorted(Counter(course for course, _hot in a["courses"].values()).items())),
    }


# -- seizures per crossings: the two sides ----------------------------------------------------------


def _seizures_imported(scale: int) -> tuple[Path, Path]:
    """(the synth scenario's seizures CSV, store with the real CBP and BTS files and those seizures)."""
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store
    from cruce.synth import generate

    scenario = WORK / f"drugs-synth-{scale}"
    seizures = scenario / "drug-seizures.csv"
    if not (scenario / "done").exists():
        shutil.rmtree(scenario, ignore_errors=True)
        generate(scenario, scale=scale, seed=1, flows=["drugs"])
        (scenario / "done").write_text("done\n", encoding="utf-8")

    db = WORK / f"seizures-crossings-{scale}.duckdb"

    def fill(store: Any) -> None:
        for path, mapping in (*CBP_FILES, BTS_FILE):
            assert import_file(store, SHARED / path, mapping).rows_rejected == 0, path
        db.with_suffix(".real.json").write_text(json.dumps(_real_files_alone(store)), encoding="utf-8")
        import_file(store, seizures, "drug-seizures")

    _import_once(db, fill, open_store)
    return seizures, db


def _plain_query(sql: str, params: dict[str, str], out: str) -> dict[str, Any]:
    """One DuckDB query over the raw files, its rows written to ``out``; the time it took."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect()
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    done = time.perf_counter()
    con.close()
    Path(out).write_text(json.dumps(rows), encoding="utf-8")
    return {"seconds": done - started, "rows": len(rows)}


def _real_imported() -> Path:
    """A store with the real CBP and BTS files alone."""
    from cruce.ingest.pipeline import import_file
    from cruce.store import open_store

    db = WORK / "seizures-crossings-real.duckdb"

    def fill(store: Any) -> None:
        for path, mapping in (*CBP_FILES, BTS_FILE):
            assert import_file(store, SHARED / path, mapping).rows_rejected == 0, path

    _import_once(db, fill, open_store)
    return db


def _ours(db: str, out: str, figure: str) -> dict[str, Any]:
    """cruce: read the store's seizures and counts (``DrugsData``), then compute ``figure`` of
    ``cruce.analyses.drugs``; the time of each, the rows written to ``out``."""
    from cruce.analyses import drugs
    from cruce.store import open_store

    started = time.perf_counter()
    with open_store(db) as store:
        data = drugs.DrugsData.load(store)
    loaded = time.perf_counter()
    rows = getattr(drugs, figure)(data)
    done = time.perf_counter()
    counts = data.one("SELECT count(*) AS n, count(port_name) AS ported FROM seizures")
    crossings = data.one("SELECT count(*) AS n FROM crossings")["n"]
    data.close()
    Path(out).write_text(json.dumps(rows), encoding="utf-8")
    return {"seconds": done - started, "load_seconds": loaded - started, "rows": len(rows),
            "seizure_rows": int(counts["n"]), "seizure_rows_with_port": int(counts["ported"]),
            "crossing_rows": int(crossings)}  # fmt: skip


def office_ours(db: str, out: str) -> dict[str, Any]:
    """cruce: port seizures per million crossings per field office, from the store."""
    return _ours(db, out, "seizures_per_crossings_by_office")


PLAIN_OFFICE = """
WITH counted AS (  -- one count per port, month and measure: the larger of two given
    SELECT "Port Code" AS port_code, strptime("Date", '%b %Y') AS day, max(CAST("Value" AS BIGINT)) AS crossings
    FROM read_csv($crossings, delim = ',', header = true, all_varchar = true)
    WHERE "Measure" = 'Personal Vehicles' GROUP BY ALL
), crossed AS (
    SELECT CASE substr(port_code, 1, 2) WHEN '23' THEN 'LAREDO FIELD OFFICE' WHEN '24' THEN 'EL PASO FIELD OFFICE'
           WHEN '25' THEN 'SAN DIEGO FIELD OFFICE' WHEN '26' THEN 'TUCSON FIELD OFFICE' END AS office,
           year(day) + CASE WHEN month(day) >= 10 THEN 1 ELSE 0 END AS fiscal_year,
           count(DISTINCT day) AS months, sum(crossings) AS crossings
    FROM counted GROUP BY 1, 2
), seized AS (
    SELECT "Area of Responsibility" AS office, CAST("FY" AS INTEGER) AS fiscal_year,
           sum(CAST("Count of Event" AS BIGINT)) AS events, sum(CAST("Sum Qty (lbs)" AS DOUBLE)) AS pounds
    FROM read_csv($seizures, header = true, all_varchar = true)
    WHERE "Component" = 'Office of Field Operations'
      AND "Area of Responsibility" IN ('LAREDO FIELD OFFICE', 'EL PASO FIELD OFFICE', 'SAN DIEGO FIELD OFFICE',
                                       'TUCSON FIELD OFFICE')
    GROUP BY 1, 2
), rates AS (
    SELECT s.office, s.fiscal_year, c.months, s.events, round(s.pounds, 3) AS pounds, c.crossings,
           round(s.events * 1000000 / c.crossings, 3) AS events_per_million
    FROM seized s JOIN crossed c USING (office, fiscal_year) WHERE c.crossings > 0
), centre AS (SELECT median(events_per_million) AS median FROM rates),
spread AS (
    SELECT COALESCE(nullif(median(abs(events_per_million - centre.median)) * 1.4826, 0), 1e-9) AS mad
    FROM rates, centre
)
SELECT rates.*, round((events_per_million - centre.median) / spread.mad, 2) AS deviations,
       (events_per_million - centre.median) / spread.mad > 3.5 AS outlier
FROM rates, centre, spread ORDER BY office, fiscal_year
"""


def office_plain(seizures: str, crossings: str, out: str) -> dict[str, Any]:
    """The same figure as one plain DuckDB query over the raw CBP and BTS files."""
    return _plain_query(PLAIN_OFFICE, {"seizures": seizures, "crossings": crossings}, out)


def office_agreement(ours: Path, plain: Path) -> dict[str, Any]:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (ours, plain))
    mine = {(r["office"], r["fiscal_year"]): r for r in a}
    theirs = {(r["office"], r["fiscal_year"]): r for r in b}
    exact = ("months", "events", "crossings", "events_per_million", "deviations", "outlier")
    differ = [f"{k[0]} {k[1]} {f}" for k in mine.keys() & theirs.keys() for f in exact if mine[k][f] != theirs[k][f]]
    differ += [f"{k[0]} {k[1]} pounds" for k in mine.keys() & theirs.keys()
               if abs(mine[k]["pounds"] - theirs[k]["pounds"]) > 0.001]  # fmt: skip
    return {
        "office_years": len(mine),
        "baseline_office_years": len(theirs),
        "same_office_years": mine.keys() == theirs.keys(),
        "differences": sorted(differ)[:20],
        "events": sum(r["events"] for r in a),
    }


def _real_files_alone(store: Any) -> dict[str, int]:
    """The figure over the real CBP and BTS files alone: CBP's rows name no port, so it is empty."""
    from cruce.analyses.drugs import DrugsData, seizures_per_crossings

    data = DrugsData.load(store)
    counts = data.one("SELECT count(*) AS n, count(port_name) AS ported FROM seizures")
    rows = len(seizures_per_crossings(data))
    data.close()
    return {"real_seizure_rows": int(counts["n"]), "real_seizure_rows_with_port": int(counts["ported"]),
            "real_files_rows": rows}  # fmt: skip


def join_ours(db: str, out: str) -> dict[str, Any]:
    """cruce: seizures per million personal vehicles per port and year, from the store."""
    return _ours(db, out, "seizures_per_crossings")


PLAIN_JOIN = """
WITH seized AS (
    SELECT lower(strip_accents(trim(port))) AS port,
           strftime(COALESCE(try_strptime(date, '%Y-%m-%d'), try_strptime(date, '%d/%m/%Y')), '%Y-%m') AS month,
           count(*) AS events,
           sum(CASE WHEN lower(unit) IN ('lb', 'lbs', 'pound', 'pounds', 'libra', 'libras')
                    THEN CAST(quantity AS DOUBLE)
                    WHEN lower(unit) IN ('kg', 'kgs', 'kilo', 'kilos', 'kilogram', 'kilograms')
                    THEN CAST(quantity AS DOUBLE) / 0.45359237 END) AS pounds
    FROM read_csv($seizures, header = true, all_varchar = true)
    WHERE trim(port) <> '' GROUP BY 1, 2
), counted AS (  -- one count per port, month and measure: the larger of two given
    SELECT "Port Code" AS port_code, "Port Name" AS port_name, "State" AS state,
           strftime(strptime("Date", '%b %Y'), '%Y-%m') AS month, max(CAST("Value" AS BIGINT)) AS crossings
    FROM read_csv($crossings, delim = ',', header = true, all_varchar = true)
    WHERE "Measure" = 'Personal Vehicles' GROUP BY ALL
), crossed AS (
    SELECT lower(strip_accents(port_name)) AS port, month, min(port_name) AS port_name,
           min(port_code) AS port_code, min(state) AS state, sum(crossings) AS crossings
    FROM counted GROUP BY 1, 2
), rates AS (
    SELECT min(c.port_code) AS port_code, min(c.port_name) AS port_name, min(c.state) AS state,
           CAST(substr(c.month, 1, 4) AS INTEGER) AS year, count(*) AS months,
           COALESCE(sum(s.events), 0) AS events, round(COALESCE(sum(s.pounds), 0), 3) AS pounds,
           sum(c.crossings) AS crossings,
           round(COALESCE(sum(s.events), 0) * 1000000 / sum(c.crossings), 3) AS events_per_million
    FROM crossed c LEFT JOIN seized s ON s.port = c.port AND s.month = c.month
    WHERE c.month BETWEEN (SELECT min(month) FROM seized) AND (SELECT max(month) FROM seized)
      AND c.port IN (SELECT port FROM seized)
    GROUP BY c.port, year HAVING sum(c.crossings) > 0
), centre AS (SELECT median(events_per_million) AS median FROM rates),
spread AS (
    SELECT COALESCE(nullif(median(abs(events_per_million - centre.median)) * 1.4826, 0), 1e-9) AS mad
    FROM rates, centre
)
SELECT rates.*, round((events_per_million - centre.median) / spread.mad, 2) AS deviations,
       (events_per_million - centre.median) / spread.mad > 3.5 AS outlier
FROM rates, centre, spread ORDER BY port_code, year
"""


def join_plain(seizures: str, crossings: str, out: str) -> dict[str, Any]:
    """The same figure as one plain DuckDB query over the raw CSV files."""
    return _plain_query(PLAIN_JOIN, {"seizures": seizures, "crossings": crossings}, out)


def join_agreement(ours: Path, plain: Path) -> dict[str, Any]:
    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (ours, plain))
    mine = {(r["port_code"], r["year"]): r for r in a}
    theirs = {(r["port_code"], r["year"]): r for r in b}
    exact = ("port_name", "months", "events", "crossings", "events_per_million", "deviations", "outlier")
    differ = [
        f"{key[0]} {key[1]} {field}"
        for key in mine.keys() & theirs.keys()
        for field in exact
        if mine[key][field] != theirs[key][field]
    ]
    differ += [f"{k[0]} {k[1]} pounds" for k in mine.keys() & theirs.keys()
               if abs(mine[k]["pounds"] - theirs[k]["pounds"]) > 0.001]  # fmt: skip
    return {
        "port_years": len(mine),
        "baseline_port_years": len(theirs),
        "same_port_years": mine.keys() == theirs.keys(),
        "differences": sorted(differ)[:20],
        "outliers": sum(1 for r in a if r.get("outlier")),
        "events": sum(r["events"] for r in a),
    }


# -- the runs ----------------------------------------------------------------------------------------


def _alternate(ours: tuple[str, ...], plain: tuple[str, ...], repeat: int) -> tuple[list[dict[str, Any]], ...]:
    """Both sides ``repeat`` times, baseline first, each run a fresh process."""
    mine, theirs = [], []
    for _ in range(repeat):
        theirs.append(run_measured("benchmarks.drugs_violence", "--step", *plain))
        mine.append(run_measured("benchmarks.drugs_violence", "--step", *ours))
    return mine, theirs


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]


def _timing(mine: list[dict[str, Any]], theirs: list[dict[str, Any]], parts: tuple[str, ...]) -> dict[str, Any]:
    mid, base = _median(mine), _median(theirs)
    return {
        "seconds": round(mid["seconds"], 2),
        **{k: round(mid[k], 2) for k in parts},
        "run_seconds": [round(r["seconds"], 2) for r in mine],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in mine),
        "ratio": round(mid["seconds"] / base["seconds"], 2),
        "baseline": {
            "seconds": round(base["seconds"], 2),
            **{k: round(base[k], 2) for k in parts if k in base},
            "run_seconds": [round(r["seconds"], 2) for r in theirs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in theirs),
        },
    }


def run_hotspots(events: int = EVENTS, repeat: int = REPEAT) -> dict[str, Any]:
    parquet, db = _events_imported(events)
    load = [round(os.getloadavg()[0], 2)]
    ours_out, plain_out = WORK / "hotspot-ours.json", WORK / "hotspot-plain.json"
    mine, theirs = _alternate(("hot-ours", str(db), str(ours_out)), ("hot-plain", str(parquet), str(plain_out)), repeat)
    timing = _timing(mine, theirs, ("load_seconds", "hot_spots_seconds", "space_time_seconds"))
    agreement = hot_agreement(ours_out, plain_out)
    from cruce.analyses.hotspots import PERMUTATIONS, RESOLUTION

    return {
        "definition": __doc__.split("\n\n")[1].strip() if __doc__ else "",
        "events": int(_median(mine)["events"]),
        "places": PLACES + CLUSTER_PLACES * len(CLUSTERS),
        "resolution": RESOLUTION,
        "permutations": PERMUTATIONS,
        "rows_per_s": round(events / timing["seconds"]),
        **{k: v for k, v in timing.items() if k != "baseline"},
        "agree": agreement["same_hot_cells"] and agreement["same_courses"] and agreement["same_events_per_cell"],
        "load_average_1m": [*load, round(os.getloadavg()[0], 2)],  # at the start and the end: the machine is shared
        "agreement": agreement,
        "baseline": {"name": "PySAL alone: pandas over Parquet, h3 per point, libpysal Graph.build_h3, esda.G_Local",
                     "rows_per_s": round(events / timing["baseline"]["seconds"]), **timing["baseline"]},
    }  # fmt: skip


def run_office(repeat: int = REPEAT) -> dict[str, Any]:
    db = _real_imported()
    load = [round(os.getloadavg()[0], 2)]
    seizures, crossings = SHARED / CBP_FILES[0][0], SHARED / BTS_FILE[0]
    ours_out, plain_out = WORK / "seizures-office-ours.json", WORK / "seizures-office-plain.json"
    mine, theirs = _alternate(
        ("office-ours", str(db), str(ours_out)), ("office-plain", str(seizures), str(crossings), str(plain_out)), repeat
    )
    timing = _timing(mine, theirs, ("load_seconds",))
    agreement = office_agreement(ours_out, plain_out)
    mid = _median(mine)
    rows = mid["seizure_rows"] + mid["crossing_rows"]
    return {
        "definition": __doc__.split("\n\n")[2].strip() if __doc__ else "",
        "seizure_rows": mid["seizure_rows"],
        "crossing_rows": mid["crossing_rows"],
        "office_years": mid["rows"],
        "rows_per_s": round(rows / timing["seconds"]),
        **{k: v for k, v in timing.items() if k != "baseline"},
        "agree": agreement["same_office_years"] and not agreement["differences"],
        "load_average_1m": [*load, round(os.getloadavg()[0], 2)],  # at the start and the end: the machine is shared
        "agreement": agreement,
        "baseline": {"name": "one plain DuckDB query over the raw CBP nationwide CSV and the BTS .csv.gz",
                     "rows_per_s": round(rows / timing["baseline"]["seconds"]), **timing["baseline"]},
    }  # fmt: skip


def run_ports(scale: int = SEIZURE_SCALE, repeat: int = REPEAT) -> dict[str, Any]:
    seizures, db = _seizures_imported(scale)
    load = [round(os.getloadavg()[0], 2)]
    crossings = SHARED / BTS_FILE[0]
    ours_out, plain_out = WORK / "seizures-crossings-ours.json", WORK / "seizures-crossings-plain.json"
    mine, theirs = _alternate(
        ("join-ours", str(db), str(ours_out)), ("join-plain", str(seizures), str(crossings), str(plain_out)), repeat
    )
    timing = _timing(mine, theirs, ("load_seconds",))
    agreement = join_agreement(ours_out, plain_out)
    mid = _median(mine)
    rows = mid["seizure_rows"] + mid["crossing_rows"]
    return {
        "definition": __doc__.split("\n\n")[3].strip() if __doc__ else "",
        "seizure_scale": scale,
        "seizure_rows": mid["seizure_rows"],
        "seizure_rows_with_port": mid["seizure_rows_with_port"],
        **json.loads(db.with_suffix(".real.json").read_text(encoding="utf-8")),
        "crossing_rows": mid["crossing_rows"],
        "port_years": mid["rows"],
        "rows_per_s": round(rows / timing["seconds"]),
        **{k: v for k, v in timing.items() if k != "baseline"},
        "agree": agreement["same_port_years"] and not agreement["differences"],
        "load_average_1m": [*load, round(os.getloadavg()[0], 2)],  # at the start and the end: the machine is shared
        "agreement": agreement,
        "baseline": {"name": "one plain DuckDB query over the raw seizures CSV and the BTS .csv.gz",
                     "rows_per_s": round(rows / timing["baseline"]["seconds"]), **timing["baseline"]},
    }  # fmt: skip


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "hot-ours": hot_ours,
    "hot-plain": hot_plain,
    "join-ours": join_ours,
    "join-plain": join_plain,
    "office-ours": office_ours,
    "office-plain": office_plain,
}


def run(events: int = EVENTS, seizure_scale: int = SEIZURE_SCALE, repeat: int = REPEAT) -> dict[str, dict[str, Any]]:
    """The three topics: {"seizures-crossings": …, "seizures-ports": …, "hotspot": …}."""
    return {
        "seizures-crossings": run_office(repeat),
        "seizures-ports": run_ports(seizure_scale, repeat),
        "hotspot": run_hotspots(events, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=EVENTS, help="violence events of the hot-spot benchmark")
    parser.add_argument("--seizure-scale", type=int, default=SEIZURE_SCALE, help="synth records for the seizures")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs of each side (medians reported)")
    quick = f"{QUICK_EVENTS:,} events, synth scale {QUICK_SEIZURE_SCALE:,}"
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        figures = STEPS[args.step[0]](*args.step[1:])
        figures["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(figures))
        return
    if args.quick:
        args.events, args.seizure_scale = QUICK_EVENTS, QUICK_SEIZURE_SCALE
    for topic, figures in run(args.events, args.seizure_scale, args.repeat).items():
        path = write_result(topic, figures)
        print(path.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
