"""Where each item of a timeline goes on a drawn time axis: one lane per flow, ticks by year (by month
for a short span), a dot for a day, a bar for what is known only to the month or the year, or lasts.

Pure geometry in the units of an SVG ``viewBox`` ``WIDTH`` wide, so the page draws it server-side
(no script, and nothing inline for the CSP to refuse: colours come from classes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_skeleton

from cruce.timeline.dates import LOCALES
from cruce.timeline.model import FLOW_CHOICES, Item

WIDTH = 1000
LEFT = 140  # the lanes' labels
RIGHT = 16
ROW = 14  # one row of marks in a lane
PAD = 6
FOOT = 24  # the tick labels
MAX_ROWS = 4
MAX_TICKS = 12
YEAR_STEPS = (1, 2, 5, 10, 20, 25, 50, 100)
MONTH_STEPS = (1, 2, 3, 6)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Lane:
    flow: str
    y: float
    height: float


@dataclass(frozen=True)
class Mark:
    n: int  # the item's number in the list below the axis (1-based)
    flow: str
    x: float
    width: float  # 0: a dot (a day); else a bar (a month, a year, a span)
    y: float  # the centre of its row

    @property
    def point(self) -> bool:
        return self.width == 0


@dataclass(frozen=True)
class Axis:
    width: int
    height: float
    plot_bottom: float
    ticks: tuple[Tick, ...]
    lanes: tuple[Lane, ...]
    marks: tuple[Mark, ...]


def _ticks(first: date, last: date) -> list[date]:
    span_years = last.year - first.year + 1
    if span_years > 2:
        step = next((s for s in YEAR_STEPS if span_years / s <= MAX_TICKS), YEAR_STEPS[-1])
        start = first.year - first.year % step
        return [date(y, 1, 1) for y in range(start, last.year + step + 1, step)]
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    step = next((s for s in MONTH_STEPS if months / s <= MAX_TICKS), 12)
    index = first.year * 12 + (first.month - 1) // step * step
    out = []
    while True:
        day = date(index // 12, index % 12 + 1, 1)
        out.append(day)
        if day > last:
            return out
        index += step


def _tick_label(day: date, monthly: bool, lang: str) -> str:
    if not monthly:
        return str(day.year)
    return str(format_skeleton("yMMM", day, locale=LOCALES.get(lang, "en_US")))


def layout(items: tuple[Item, ...] | list[Item], lang: str) -> Axis | None:
    """The axis of the dated ``items`` (numbered from 1 in their order); None when there are none.

    The span is the events' (a birth decades before them would squeeze them into a corner): an
    entity's own dates outside it stay in the list, not on the axis.
    """
    dated = [(n, i) for n, i in enumerate(items, 1) if i.start is not None]
    events = [(n, i) for n, i in dated if i.kind != "milestone"] or dated
    if not dated:
        return None
    first = min(i.start.first for _n, i in events if i.start)
    last = max((i.end or i.start).last for _n, i in events if i.start)
    dated = [(n, i) for n, i in dated if i.start and i.start.first >= first and (i.end or i.start).last <= last]
    ticks = _ticks(first, last)
    monthly = last.year - first.year + 1 <= 2
    lo, hi = ticks[0], ticks[-1]
    days = max((hi - lo).days, 1)

    def x(day: date) -> float:
        return round(LEFT + (day - lo).days / days * (WIDTH - LEFT - RIGHT), 1)

    placed: dict[str, list[tuple[int, float, float]]] = {}  # flow -> (n, x, width) before rows are known
    for n, item in dated:
        assert item.start is not None
        point = item.start.exact and (item.end is None or item.end.last <= item.start.last)
        start = x(item.start.first)
        width = 0.0 if point else max(x((item.end or item.start).last + timedelta(days=1)) - start, 3.0)
        for flow in item.flows:
            placed.setdefault(flow, []).append((n, start, width))
    lanes, marks, top = [], [], 0.0
    for flow in (f for f in FLOW_CHOICES if f in placed):
        rows: list[float] = []  # where each row's last mark ends
        lane_marks = []
        for n, start, width in placed[flow]:
            left, right = (start - 6, start + 6) if width == 0 else (start, start + width)
            row = next((r for r, end in enumerate(rows) if end + 2 < left), None)
            if row is None:
                row = len(rows) if len(rows) < MAX_ROWS else MAX_ROWS - 1
                rows.extend([0.0] * (row + 1 - len(rows)))
            rows[row] = max(rows[row], right)
            lane_marks.append(Mark(n, flow, start, width, top + PAD + row * ROW + ROW / 2))
        height = PAD * 2 + len(rows) * ROW
        lanes.append(Lane(flow, top, height))
        marks.extend(lane_marks)
        top += height
    ticks_out = tuple(Tick(x(t), _tick_label(t, monthly, lang)) for t in ticks)
    return Axis(WIDTH, top + FOOT, top, ticks_out, tuple(lanes), tuple(marks))
