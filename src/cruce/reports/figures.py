"""The figures of a briefing as geometry for inline SVG: a network chart, a map of states, bars.

Everything is worked out on the server and drawn by the template as plain SVG (lines, circles,
paths, text), which WeasyPrint renders into the PDF and a browser shows in the HTML: no script,
no browser, no image file. Coordinates are in the units of each figure's ``viewBox``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

NETWORK_WIDTH, NETWORK_HEIGHT = 1000.0, 640.0
MAP_WIDTH, MAP_HEIGHT = 1000.0, 560.0
MAX_DRAWN = 150
"""The most entities one network chart draws (the best connected); the rest are counted below it."""
MAX_LABELS = 60
PALETTE = ("#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#386cb0", "#bf5b17",
           "#666666", "#17becf", "#8c564b")  # fmt: skip


@dataclass(frozen=True)
class Node:
    id: str
    x: float
    y: float
    r: float
    label: str
    colour: str
    show_label: bool


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float


@dataclass(frozen=True)
class NetworkFigure:
    width: float
    height: float
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    legend: tuple[tuple[str, str], ...]  # (colour, type label)
    not_drawn: int


def network_figure(
    nodes: Sequence[dict[str, Any]], edges: Sequence[dict[str, Any]], type_labels: dict[str, str], seed: int = 7
) -> NetworkFigure:
    """Nodes (``id``, ``schema``, ``caption``, ``degree``) and edges (``source``, ``target``, ``count``) laid
    out with Fruchterman–Reingold (igraph, seeded: the same case draws the same chart)."""
    import igraph  # type: ignore[import-untyped]

    linked: dict[str, int] = {}  # links within the figure: the entities that make the picture come first
    for e in edges:
        for end in (str(e["source"]), str(e["target"])):
            linked[end] = linked.get(end, 0) + 1
    chosen = sorted(nodes, key=lambda n: (-linked.get(str(n["id"]), 0), -int(n.get("degree", 0)), str(n["id"])))
    chosen = chosen[:MAX_DRAWN]
    index = {str(n["id"]): i for i, n in enumerate(chosen)}
    pairs = [(index[str(e["source"])], index[str(e["target"])]) for e in edges
             if str(e["source"]) in index and str(e["target"]) in index and e["source"] != e["target"]]  # fmt: skip
    counts = [int(e.get("count", 1)) for e in edges if str(e["source"]) in index and str(e["target"]) in index
              and e["source"] != e["target"]]  # fmt: skip
    if not chosen:
        return NetworkFigure(NETWORK_WIDTH, NETWORK_HEIGHT, (), (), (), 0)
    g = igraph.Graph(n=len(chosen), edges=pairs)
    if len(chosen) == 1:
        coords = [(0.0, 0.0)]
    else:
        import random

        random.seed(seed)
        start = [[math.cos(2 * math.pi * i / len(chosen)), math.sin(2 * math.pi * i / len(chosen))]
                 for i in range(len(chosen))]  # fmt: skip
        coords = [tuple(p) for p in g.layout_fruchterman_reingold(seed=start, niter=500)]
    xs, ys = [c[0] for c in coords], [c[1] for c in coords]
    pad = 60.0
    sx = (NETWORK_WIDTH - 2 * pad) / ((max(xs) - min(xs)) or 1.0)
    sy = (NETWORK_HEIGHT - 2 * pad) / ((max(ys) - min(ys)) or 1.0)
    scale = min(sx, sy)
    cx = (NETWORK_WIDTH - scale * (max(xs) - min(xs))) / 2
    cy = (NETWORK_HEIGHT - scale * (max(ys) - min(ys))) / 2
    placed = [(cx + scale * (x - min(xs)), cy + scale * (y - min(ys))) for x, y in coords]
    colours: dict[str, str] = {}
    for n in chosen:
        colours.setdefault(str(n["schema"]), PALETTE[len(colours) % len(PALETTE)])
    degree = g.degree()
    labelled = set(sorted(range(len(chosen)), key=lambda i: (-degree[i], i))[:MAX_LABELS])
    drawn_nodes = tuple(
        Node(str(n["id"]), round(placed[i][0], 1), round(placed[i][1], 1), round(5 + min(degree[i], 12) * 0.6, 1),
             _short(str(n.get("caption", ""))), colours[str(n["schema"])], i in labelled)
        for i, n in enumerate(chosen)
    )  # fmt: skip
    drawn_edges = tuple(
        Edge(round(placed[a][0], 1), round(placed[a][1], 1), round(placed[b][0], 1), round(placed[b][1], 1),
             round(min(1 + math.log2(c), 5), 2))
        for (a, b), c in zip(pairs, counts, strict=True)
    )  # fmt: skip
    legend = tuple((colour, type_labels.get(schema, schema)) for schema, colour in colours.items())
    return NetworkFigure(NETWORK_WIDTH, NETWORK_HEIGHT, drawn_nodes, drawn_edges, legend, len(nodes) - len(chosen))


def _short(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- a map of states ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    code: str
    name: str
    path: str
    count: int
    shade: int  # 0 (none) .. 5, logarithmic


@dataclass(frozen=True)
class MapFigure:
    width: float
    height: float
    regions: tuple[Region, ...]
    top: int


def map_figure(boundaries: dict[str, Any], counts: dict[str, int], lang: str) -> MapFigure | None:
    """The US and Mexican states (equirectangular, scaled by the latitude of the middle), shaded by
    ``counts`` (ISO 3166-2 code → records); None when there is nothing to place or no boundaries."""
    far = {
        "US-AK",
        "US-HI",
        "US-PR",
        "US-GU",
        "US-VI",
        "US-AS",
        "US-MP",
    }  # drawn only when named: they shrink the border
    features = [
        f for f in boundaries.get("features", [])
        if f.get("geometry") and (f["properties"]["code"] not in far or counts.get(f["properties"]["code"]))
    ]  # fmt: skip
    if not counts or not features:
        return None
    rings = {f["properties"]["code"]: _rings(f["geometry"]) for f in features}
    points = [p for rs in rings.values() for ring in rs for p in ring]
    if not points:
        return None
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    mid = math.cos(math.radians((north + south) / 2))
    scale = min((MAP_WIDTH - 20) / ((east - west) * mid or 1.0), (MAP_HEIGHT - 20) / ((north - south) or 1.0))

    def xy(lon: float, lat: float) -> str:
        return f"{10 + (lon - west) * mid * scale:.1f},{10 + (north - lat) * scale:.1f}"

    top = max(counts.values())
    regions = []
    for f in features:
        code = f["properties"]["code"]
        d = " ".join("M" + " L".join(xy(lon, lat) for lon, lat in ring) + " Z" for ring in rings[code] if ring)
        n = counts.get(code, 0)
        name = f["properties"].get("name_es" if lang == "es" else "name") or f["properties"].get("name", code)
        regions.append(Region(code, str(name), d, n, _shade(n, top)))
    return MapFigure(MAP_WIDTH, MAP_HEIGHT, tuple(regions), top)


def _shade(n: int, top: int) -> int:
    """0 for none, else 1..5 on a logarithmic scale (one state often holds most of a case)."""
    if n <= 0:
        return 0
    return 1 + min(4, int(4 * math.log(n) / math.log(top))) if top > 1 else 5


def _rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The outer rings of a (Multi)Polygon, thinned to at most 200 points each."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    out = []
    for polygon in polygons:
        ring = polygon[0] if polygon else []
        step = max(1, len(ring) // 200)
        out.append([(float(p[0]), float(p[1])) for p in ring[::step]])
    return out


# -- bars ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class BarFigure:
    width: float
    height: float
    label_width: float
    bars: tuple[Bar, ...]


def bar_figure(rows: Sequence[tuple[str, int]], width: float = 1000.0) -> BarFigure | None:
    """Horizontal bars, one per (label, value), largest first."""
    rows = sorted((r for r in rows if r[1] > 0), key=lambda r: (-r[1], r[0]))[:20]
    if not rows:
        return None
    label_width, row = 260.0, 26.0
    top = max(v for _l, v in rows)
    bars = tuple(Bar(label, value, 6 + i * row, (width - label_width - 80) * value / top) for i, (label, value)
                 in enumerate(rows))  # fmt: skip
    return BarFigure(width, 12 + row * len(rows), label_width, bars)
