"""Watchlists (being written)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cruce.store.base import Store


def alert_for(store: Store, results: Sequence[Any]) -> dict[str, int]:
    return {}
