"""Saved network charts: what an analyst arranged on the network explorer, kept per user.

A chart holds entity ids, their positions, which are pinned or hidden, and the explorer's
filters — never names: a chart is opened by reading every entity again through the guard, as
its owner may see them that day, so a marking changed since the save hides what it must. A
chart belongs to the user who saved it and only they list or open it. Cases (issue #11) will
attach charts to a case; until then a chart stands alone.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cruce.i18n import _
from cruce.security.db import AppDB
from cruce.store.base import Store, StoreError

MAX_CHART_BYTES = 4 * 1024 * 1024
"""The largest chart stored (about 20,000 nodes with positions)."""
MAX_NAME = 200
_COLUMNS = "id, username, name, nodes, created_at"


class ChartError(StoreError):
    """A chart that cannot be saved; the message says why."""


@dataclass(frozen=True)
class ChartSummary:
    id: str
    username: str
    name: str
    nodes: int
    created_at: datetime


@dataclass(frozen=True)
class Chart(ChartSummary):
    chart: dict[str, Any]


def _summary(row: tuple[Any, ...]) -> ChartSummary:
    return ChartSummary(str(row[0]), str(row[1]), str(row[2]), int(row[3]), row[4])


class Charts:
    """The graph_chart table of one store."""

    def __init__(self, store: Store) -> None:
        self.db = AppDB(store)

    def save(self, username: str, name: str, chart: dict[str, Any]) -> ChartSummary:
        name = " ".join(name.split())
        if not name:
            raise ChartError(_("Give the chart a name."))
        if len(name) > MAX_NAME:
            raise ChartError(_("A chart's name has at most {n} characters.").format(n=MAX_NAME))
        text = json.dumps(chart, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode("utf-8")) > MAX_CHART_BYTES:
            raise ChartError(_("The chart is too large to save; hide or remove some entities first."))
        saved = ChartSummary(uuid.uuid4().hex, username, name, len(chart.get("nodes") or ()), datetime.now())
        self.db.execute(
            f"INSERT INTO graph_chart ({_COLUMNS}, chart) VALUES (?, ?, ?, ?, ?, ?)",
            (saved.id, username, name, saved.nodes, saved.created_at, text),
        )
        return saved

    def list(self, username: str, limit: int = 200) -> list[ChartSummary]:
        """The user's charts, newest first."""
        rows = self.db.fetch(
            f"SELECT {_COLUMNS} FROM graph_chart WHERE username = ? ORDER BY created_at DESC, id LIMIT ?",
            (username, limit),
        )
        return [_summary(r) for r in rows]

    def get(self, username: str, chart_id: str) -> Chart | None:
        """The chart, if ``username`` saved it (None for another user's: they are not told it exists)."""
        row = self.db.one(
            f"SELECT {_COLUMNS}, chart FROM graph_chart WHERE id = ? AND username = ?", (chart_id, username)
        )
        if row is None:
            return None
        summary = _summary(row)
        return Chart(**summary.__dict__, chart=json.loads(row[5]))
