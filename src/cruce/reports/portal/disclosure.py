"""Small-cell suppression for the public portal: a count below k is never printed, nor one that
the printed total and the other cells would give away.

A cell under k is suppressed (primary suppression). When exactly one cell of a table is
suppressed and the table's total is published, the total minus the others would be that cell:
the next smallest cell is suppressed too (secondary suppression), so the suppressed cells are
known only together, as at least k. Victim records go first through ``cruce.people.kanon``
(generalisation, then suppression), as the people flow's release does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One row of a published table: its key, a label, and its count — None when suppressed."""

    key: str
    label: str
    count: int | None
    extra: str = ""  # a second published value (pounds, a share), empty when the cell is suppressed

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Table:
    """A published table: its cells, the total of all records counted (None when under k), and
    how many records the suppressed cells hold together (0, or at least k, or None if hidden)."""

    cells: tuple[Cell, ...]
    total: int | None
    suppressed: int

    @property
    def shown(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if not c.suppressed)


def suppress(rows: Iterable[tuple[str, str, int, str]], k: int, total: int | None = None) -> Table:
    """``rows`` of (key, label, count, extra) as a published table: cells under ``k`` suppressed,
    and one more when a single suppressed cell could be worked out from the total."""
    found = [(key, label, int(n), extra) for key, label, n, extra in rows if int(n) > 0]
    whole = sum(n for _k, _l, n, _e in found) if total is None else int(total)
    hidden = {key for key, _l, n, _e in found if n < k}
    if len(hidden) == 1 and len(found) > 1:
        # the total less the others would give the hidden one: hide the smallest other one too
        others = sorted((n, key) for key, _l, n, _e in found if key not in hidden)
        hidden.add(others[0][1])
    cells = tuple(Cell(key, label, None if key in hidden else n, "" if key in hidden else extra)
                  for key, label, n, extra in found)  # fmt: skip
    held = sum(n for key, _l, n, _e in found if key in hidden)
    return Table(cells, whole if whole >= k else None, held)


def publishable(n: int | float | None, k: int) -> bool:
    """Whether a figure computed over ``n`` records may be published (a median, a share)."""
    return n is not None and n >= k
