"""The portal's charts and maps as geometry for inline SVG, worked out when the site is written:
columns in the order given (years), and maps of the US and Mexican states on the shipped
boundaries (``cruce.reports.figures.map_figure``). No script, no image file, no request.

Only published cells are drawn: a suppressed cell has no column, and its state on a map is drawn
as "fewer than k", never with its count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cruce.reports.figures import map_figure
from cruce.reports.portal.disclosure import Table

SHADES = ("#f3f4f6", "#fde0c5", "#facba6", "#f59e72", "#e4613a", "#b8322a")
SUPPRESSED_FILL = "#aeb3bd"
FAR = frozenset({"US-AK", "US-HI", "US-PR", "US-GU", "US-VI", "US-AS", "US-MP"})
"""Left off a map shaded by country: they would shrink the border to a corner."""


@dataclass(frozen=True)
class Column:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    show_label: bool = True
    show_value: bool = True


@dataclass(frozen=True)
class ColumnChart:
    width: float
    height: float
    base: float
    columns: tuple[Column, ...]


def column_chart(table: Table, width: float = 720.0, height: float = 260.0) -> ColumnChart | None:
    """One column per published cell, in the table's order (suppressed cells leave no column)."""
    shown = table.shown
    if not shown:
        return None
    top = max(int(c.count or 0) for c in shown) or 1
    base, pad = height - 40.0, 10.0
    step = min((width - 2 * pad) / len(shown), 90.0)
    every = max(1, math.ceil(44 / step))  # a label needs about 44 units: label every n-th column when crowded
    columns = []
    for i, c in enumerate(shown):
        n = int(c.count or 0)
        tall = (base - 20) * n / top
        columns.append(Column(c.label, n, round(pad + i * step + step * 0.1, 1), round(base - tall, 1),
                              round(step * 0.8, 1), round(tall, 1), i % every == 0, step >= 44))  # fmt: skip
    return ColumnChart(width, height, base, tuple(columns))


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    width: float


@dataclass(frozen=True)
class BarChart:
    width: float
    height: float
    label_width: float
    bars: tuple[Bar, ...]


def bar_chart(table: Table, width: float = 720.0, limit: int = 15) -> BarChart | None:
    """Horizontal bars of the published cells, largest first."""
    shown = sorted(table.shown, key=lambda c: (-int(c.count or 0), c.label))[:limit]
    if not shown:
        return None
    label_width, row = 230.0, 26.0
    top = max(int(c.count or 0) for c in shown) or 1
    bars = tuple(
        Bar(c.label, int(c.count or 0), 6 + i * row, round((width - label_width - 70) * int(c.count or 0) / top, 1))
        for i, c in enumerate(shown)
    )
    return BarChart(width, 12 + row * len(shown), label_width, bars)


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    path: str
    fill: str
    title: str


@dataclass(frozen=True)
class StateMap:
    width: float
    height: float
    regions: tuple[Region, ...]
    top: int


def state_map(
    boundaries: dict[str, Any], table: Table, lang: str, suppressed_title: str, *, by_country: bool = False
) -> StateMap | None:
    """The states shaded by the published cells of ``table`` (keyed by ISO 3166-2 code, or by
    country code with ``by_country``: each state of the country gets the country's cell);
    suppressed cells drawn apart. None without boundaries or cells."""
    counts = {c.key: int(c.count) for c in table.cells if c.count is not None}
    hidden = {c.key for c in table.cells if c.count is None}
    if by_country:
        codes = [
            f["properties"]["code"]
            for f in boundaries.get("features", [])
            if f.get("geometry") and f["properties"]["code"] not in FAR
        ]
        counts = {code: counts[code[:2]] for code in codes if code[:2] in counts}
        hidden = {code for code in codes if code[:2] in hidden}
    figure = map_figure(boundaries, {**counts, **dict.fromkeys(hidden, 1)} if hidden else counts, lang)
    if figure is None:
        return None
    top = max(counts.values(), default=0)
    regions = []
    for r in figure.regions:
        if r.code in hidden:
            regions.append(Region(r.code, r.name, r.path, SUPPRESSED_FILL, f"{r.name}: {suppressed_title}"))
            continue
        n = counts.get(r.code, 0)
        shade = 0 if n <= 0 else _shade(n, top)
        regions.append(Region(r.code, r.name, r.path, SHADES[shade], f"{r.name}: {n:,}" if n else r.name))
    return StateMap(figure.width, figure.height, tuple(regions), top)


def _shade(n: int, top: int) -> int:
    """1..5 in equal steps of the largest published cell."""
    return max(1, min(5, 1 + int(4 * n / top))) if top else 0


def binary_map(boundaries: dict[str, Any], codes: Sequence[str], lang: str, yes: str, no: str) -> StateMap | None:
    """The states of ``codes`` filled (a law in force), the others left light."""
    figure = map_figure(boundaries, dict.fromkeys(codes, 1) or {"-": 1}, lang)
    if figure is None:
        return None
    wanted = set(codes)
    regions = tuple(
        Region(
            r.code,
            r.name,
            r.path,
            "#2166ac" if r.code in wanted else SHADES[0],
            f"{r.name}: {yes if r.code in wanted else no}",
        )
        for r in figure.regions
    )
    return StateMap(figure.width, figure.height, regions, len(wanted))
