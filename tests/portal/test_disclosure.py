"""Small-cell suppression: cells under k are never printed, nor a single one the total would give away."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cruce.reports.portal.disclosure import suppress


def _rows(counts: list[int]) -> list[tuple[str, str, int, str]]:
    return [(f"c{i}", f"cell {i}", n, "") for i, n in enumerate(counts)]


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    table = suppress(_rows([40, 12, 3]), k=10)
    assert [c.count for c in table.cells] == [40, None, None]
    assert table.total == 55


def test_two_small_cells_need_no_more() -> None:
    table = suppress(_rows([40, 4, 3]), k=10)
    assert [c.count for c in table.cells] == [40, None, None]


def test_a_small_total_is_not_published() -> None:
    assert suppress(_rows([4, 3]), k=10).total is None


@given(st.lists(st.integers(min_value=0, max_value=60), max_size=12), st.integers(min_value=5, max_value=20))
def test_no_cell_under_k_and_never_one_hidden_alone(counts: list[int], k: int) -> None:
    table = suppress(_rows(counts), k=k)
    shown = [c.count for c in table.cells if c.count is not None]
    assert all(n >= k for n in shown)
    hidden = [c for c in table.cells if c.count is None]
    assert len(hidden) != 1 or len(table.cells) == 1  # one hidden cell alone could be worked out from the total
    assert table.total is None or table.total >= k
