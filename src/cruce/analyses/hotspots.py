"""Hot spots of violence: events counted in H3 cells, Getis-Ord Gi* over each cell and its
neighbours (``esda``, weights from the H3 grid), for the whole span and period by period, and each
cell's course over the periods (persistent, emerging, diminishing, sporadic).

A cell is hot when its Gi* z-score is above ``Z_HOT`` and the permutation test's pseudo p-value
(one-sided: more than chance) below ``P_HOT``: more events in and around it than chance would put
there. Cells are those that had an event, and their rings of neighbours (so an isolated cell is
compared with empty surroundings, not with nothing). Events need a place with a point (``Location.geo``).
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow as pa

from cruce.analyses.tables import Reads, Tables, read, reads_of, refs_sql, values_sql

RESOLUTION = 6  # H3 cells of about 36 km² (a town and its surroundings)
Z_HOT = 1.96
P_HOT = 0.05
PERMUTATIONS = 199
SEED = 1

_EVENT = values_sql("ViolenceEvent", {"date": "date", "killed": "killed"}, numbers=frozenset({"killed"}))
_POINT = values_sql("Location", {"geo": "geo", "municipality": "municipality", "state": "state"})


def queries(text_ids: bool) -> dict[str, str]:
    places = refs_sql("ViolenceEvent", {"place": "place"}, text_ids)
    key = "CAST(g.entity_id AS VARCHAR)" if text_ids else "g.entity_id"
    return {
        "events": (
            "SELECT CAST(e.entity_id AS VARCHAR) AS event, substr(e.date, 1, 10) AS day, e.killed, g.geo, "
            "g.municipality, g.state "
            f"FROM ({_EVENT}) AS e JOIN ({places}) AS r ON r.entity_id = e.entity_id "
            f"JOIN ({_POINT}) AS g ON {key} = r.place_rec WHERE e.date IS NOT NULL AND g.geo IS NOT NULL"
        )
    }


PG_TYPES = {
    "events": {
        "event": pa.string(),
        "day": pa.string(),
        "killed": pa.float64(),
        "geo": pa.string(),
        "municipality": pa.string(),
        "state": pa.string(),
    }
}


class EventPoints(Tables):
    """``events``: one row per violence event with a point: its day, its dead, its H3 cell."""

    def __init__(self, tables: dict[str, pa.Table], resolution: int = RESOLUTION) -> None:
        import h3

        super().__init__()
        table = tables["events"]
        # events share places (a million events at some 20,000 points): one cell per distinct point
        cell_of: dict[str, str] = {}
        for geo in set(table.column("geo").to_pylist()):
            lat, lon = str(geo).split(",")[:2]
            cell_of[geo] = h3.latlng_to_cell(float(lat), float(lon), resolution)
        cells = [cell_of[g] for g in table.column("geo").to_pylist()]
        self.con.register("events_raw", table.append_column("cell", pa.array(cells, pa.string())))
        self.con.execute("CREATE TABLE events AS SELECT * FROM events_raw")
        self.con.unregister("events_raw")
        self.resolution = resolution

    @classmethod
    def reads(cls) -> Reads:
        return reads_of(tuple(queries(text_ids=False).values()))

    @classmethod
    def load(cls, store: Any, imports: Sequence[int] | None = None) -> Self:
        return cls(read(store, queries(text_ids=store.backend != "duckdb"), PG_TYPES, imports))


def _gi_star(counts: dict[str, float], permutations: int = PERMUTATIONS) -> dict[str, tuple[float, float]]:
    """Cell -> (Gi* z-score, pseudo p-value) over the cells with events and their first ring."""
    import esda
    import h3
    from libpysal.weights import W

    cells = set(counts)
    for cell in list(counts):
        cells.update(h3.grid_ring(cell, 1))
    order = sorted(cells)
    if len(order) < 3:
        return {}
    index = {c: i for i, c in enumerate(order)}
    neighbours = {index[c]: [index[n] for n in h3.grid_ring(c, 1) if n in index] for c in order}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        weights = W(neighbours, silence_warnings=True)
    y = np.array([counts.get(c, 0.0) for c in order])
    if not y.any():
        return {}
    with warnings.catch_warnings():  # islands (a border town and its empty ring) are expected, and
        warnings.simplefilter("ignore", UserWarning)  # esda's notice that its p-value will change:
        warnings.simplefilter("ignore", DeprecationWarning)  # ours is the one-sided (directed) one
        g = esda.G_Local(y, weights, star=True, transform="B", permutations=permutations, seed=SEED, n_jobs=1)
    return {c: (float(g.Zs[index[c]]), float(g.p_sim[index[c]])) for c in counts}


def hot_spots(data: EventPoints, first: str | None = None, last: str | None = None) -> list[dict[str, Any]]:
    """Each cell with events between ``first`` and ``last`` (YYYY-MM-DD), its events, z-score,
    pseudo p-value and whether it is hot."""
    where, params = ["TRUE"], []
    if first:
        where.append("day >= ?")
        params.append(first)
    if last:
        where.append("day <= ?")
        params.append(last)
    rows = data.rows(
        f"SELECT cell, count(*) AS events, sum(killed) AS killed FROM events WHERE {' AND '.join(where)} GROUP BY cell",
        params,
    )
    import h3

    scores = _gi_star({r["cell"]: float(r["events"]) for r in rows})
    out = []
    for row in rows:
        z, p = scores.get(row["cell"], (0.0, 1.0))
        lat, lon = h3.cell_to_latlng(row["cell"])
        out.append(
            {**row, "lat": round(lat, 4), "lon": round(lon, 4), "z": round(z, 3), "p": round(p, 4),
             "hot": z > Z_HOT and p < P_HOT}
        )  # fmt: skip
    return sorted(out, key=lambda r: (-r["z"], r["cell"]))


def municipality_centres(data: EventPoints) -> dict[tuple[str, str], tuple[float, float]]:
    """The mean point of the events recorded in each (state, municipality): where a plaza named
    after its municipality is drawn (the registry gives a plaza's municipality, not a point)."""
    rows = data.rows(
        "SELECT state, municipality, avg(TRY_CAST(split_part(geo, ',', 1) AS DOUBLE)) AS lat, "
        "avg(TRY_CAST(split_part(geo, ',', 2) AS DOUBLE)) AS lon FROM events "
        "WHERE municipality IS NOT NULL AND state IS NOT NULL GROUP BY 1, 2"
    )
    return {(r["state"], r["municipality"]): (round(r["lat"], 4), round(r["lon"], 4)) for r in rows if r["lat"]}


def space_time(data: EventPoints, period: str = "year") -> list[dict[str, Any]]:
    """Each cell's hot spot status period by period (``year`` or ``quarter``) and its course:
    persistent (hot in three periods of four or more), emerging (hot in the last period, not in
    the first half), diminishing (hot in the first half, not in the last), sporadic (hot at times),
    or not hot."""
    size = 4 if period == "year" else 7
    periods = [
        r["p"]
        for r in data.rows(
            f"SELECT DISTINCT {'substr(day, 1, 4)' if size == 4 else _QUARTER} AS p FROM events ORDER BY p"
        )
    ]
    hot: dict[str, list[bool]] = {}
    for i, label in enumerate(periods):
        first, last = _bounds(label)
        for row in hot_spots(data, first, last):
            hot.setdefault(row["cell"], [False] * len(periods))[i] = row["hot"]
    half = len(periods) // 2
    out = []
    for cell, course in sorted(hot.items()):
        share = sum(course) / len(course)
        if share >= 0.75:
            kind = "persistent"
        elif course[-1] and not any(course[:half]):
            kind = "emerging"
        elif any(course[:half]) and not course[-1]:
            kind = "diminishing"
        elif any(course):
            kind = "sporadic"
        else:
            kind = "not hot"
        out.append(
            {"cell": cell, "course": kind, "hot_periods": [p for p, h in zip(periods, course, strict=True) if h]}
        )
    return out


def cells_with_courses(data: EventPoints, period: str = "year") -> list[dict[str, Any]]:
    """Every cell's hot spot figures over the whole span (``hot_spots``) with its course over the
    periods (``space_time``: persistent, emerging, diminishing, sporadic, not hot) and the
    periods it was hot in — what the map draws."""
    courses = {r["cell"]: r for r in space_time(data, period)}
    return [
        {**row, "course": courses.get(row["cell"], {}).get("course", "not hot"),
         "hot_periods": ", ".join(courses.get(row["cell"], {}).get("hot_periods", []))}
        for row in hot_spots(data)
    ]  # fmt: skip


def events_in_cell(data: EventPoints, cell: str) -> list[str]:
    """The ids of the events counted in a cell (the records behind a point of the map)."""
    return [r["event"] for r in data.rows("SELECT event FROM events WHERE cell = ? ORDER BY day, event", [cell])]


_QUARTER = "substr(day, 1, 4) || '-Q' || CAST((CAST(substr(day, 6, 2) AS INTEGER) + 2) // 3 AS VARCHAR)"


def _bounds(label: str) -> tuple[str, str]:
    if "-Q" not in label:
        return f"{label}-01-01", f"{label}-12-31"
    year, quarter = label.split("-Q")
    start = (int(quarter) - 1) * 3 + 1
    ends = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}
    return f"{year}-{start:02d}-01", f"{year}-{ends[int(quarter)]}"


def evaluate_hot_spots(data: EventPoints, scenario: Path) -> dict[str, Any]:
    """Against a ``cruce synth`` scenario's plaza disputes: for each dispute, the hot cells of its
    window; a plaza is found when one of its cells (those of the events the truth links to it) is
    hot then. Cell precision: hot cells that belong to a plaza disputed in that window; cell
    recall: the disputed plaza's cells that are hot."""
    import h3

    links = {r["event_id_cnty"]: r["plaza_id"] for r in _csv(scenario / "truth" / "violence_links.csv")}
    cells: dict[str, set[str]] = {}
    for row in _csv(scenario / "violence-events.csv"):
        plaza = links.get(row["event_id_cnty"])
        if plaza:
            cell = h3.latlng_to_cell(float(row["latitude"]), float(row["longitude"]), data.resolution)
            cells.setdefault(plaza, set()).add(cell)
    disputes = _csv(scenario / "truth" / "plaza_disputes.csv")
    found = hot_total = hot_right = mine_total = mine_hot = 0
    for dispute in disputes:
        hot = {r["cell"] for r in hot_spots(data, dispute["start"], dispute["end"]) if r["hot"]}
        live = set().union(
            *(
                cells.get(o["plaza_id"], set())
                for o in disputes
                if o["start"] <= dispute["end"] and o["end"] >= dispute["start"]
            )
        )
        mine = cells.get(dispute["plaza_id"], set())
        found += bool(hot & mine)
        hot_total, hot_right = hot_total + len(hot), hot_right + len(hot & live)
        mine_total, mine_hot = mine_total + len(mine), mine_hot + len(mine & hot)
    return {
        "disputes": len(disputes),
        "plazas_found": found,
        "recall": round(found / len(disputes), 4) if disputes else None,
        "precision": round(hot_right / hot_total, 4) if hot_total else None,
        "cell_recall": round(mine_hot / mine_total, 4) if mine_total else None,
        "hot_cells": hot_total,
        "resolution": data.resolution,
    }


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
