"""Finding entities in the search index: every word of the query inside one folded value.

The caller (``cruce.security.guard.Guard``) decides what the principal may see and passes it in:
``visible`` datasets, and the ``caseload`` — datasets whose protected values the principal may
see. Outside the caseload, protected values are not searched, nor any value of a protected
person (an entity a protected property points at: a case's victim), so a search cannot reveal
that a victim's name is in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cruce.search.index import fold

MAX_WORDS = 8
DATE_PROPS = ("date", "start_date", "birth_date")

Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Found:
    """One page of matching entities: (entity id, type, property, folded value) each, and the total."""

    total: int
    rows: tuple[tuple[str, str, str, str], ...]
    protected: bool  # a match was on a protected value or a protected person (within the caseload)
    protected_people: frozenset[str] = frozenset()  # the hits that a protected property points at


def words_of(query: str) -> list[str]:
    return [w for w in fold(query).split() if w][:MAX_WORDS]


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def find(
    fetch: Fetch,
    words: Sequence[str],
    *,
    visible: Sequence[str],
    caseload: Sequence[str],
    schema: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Found:
    """Entities with a value containing every word (already folded), in visible datasets.

    Hits are ordered by their smallest matching value, folded; each names the smallest type and
    property among its matching values, and that value folded (``Guard.search`` shows it as written).
    """
    if not words or not visible:
        return Found(0, (), False)
    params: list[Any] = []
    imports_of = "SELECT no FROM import_run WHERE dataset IN ({})"
    where = [f"v.import_no IN ({imports_of.format(_marks(visible))})"]
    params += visible
    for word in words:
        # strpos, not LIKE '%…%' ESCAPE: DuckDB cannot turn a LIKE with a bound pattern into a
        # substring search, and its pattern matcher costs as much again as reading the column
        where.append("strpos(v.folded, ?) > 0")
        params.append(word)
    if schema:
        where.append("p.schema = ?")
        params.append(schema)
    # protected values, and every value of a protected person, only within the caseload
    in_caseload = f"v.import_no IN ({imports_of.format(_marks(caseload))})" if caseload else "FALSE"
    where.append(f"({in_caseload} OR (NOT v.protected AND pp.target IS NULL))")
    params += caseload
    if date_from or date_to:
        # a date of the entity, in a visible dataset, within the range
        dates = [f"d.prop_id IN (SELECT prop_id FROM property WHERE prop IN ({_marks(DATE_PROPS)}))"]
        dates.append(f"d.import_no IN ({imports_of.format(_marks(visible))})")
        date_params: list[Any] = [*DATE_PROPS, *visible]
        if date_from:
            dates.append("d.value >= ?")
            date_params.append(date_from)
        if date_to:
            dates.append("d.value <= ?")
            date_params.append(date_to)
        where.append(f"v.entity_id IN (SELECT d.entity_id FROM statement d WHERE {' AND '.join(dates)})")
        params += date_params
    base = (
        "FROM search_value v JOIN property p ON p.prop_id = v.prop_id "
        "LEFT JOIN (SELECT DISTINCT target FROM entity_ref WHERE protected) pp "
        f"ON pp.target = v.entity_id WHERE {' AND '.join(where)}"
    )
    touched = "max(CASE WHEN v.protected OR pp.target IS NOT NULL THEN 1 ELSE 0 END)"
    # one pass: the page and, beside each row, the number of entities found in all
    found = fetch(
        "SELECT eid, stype, prop, value, count(*) OVER (), max(touched) OVER (), person FROM ("
        "SELECT CAST(v.entity_id AS VARCHAR) AS eid, min(p.schema) AS stype, min(p.prop) AS prop, "
        f"min(v.folded) AS value, {touched} AS touched, "
        f"max(CASE WHEN pp.target IS NOT NULL THEN 1 ELSE 0 END) AS person {base} GROUP BY v.entity_id) AS hits "
        "ORDER BY value, eid LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    if found:
        total, hit_protected = int(found[0][4]), bool(found[0][5])
    else:  # past the last page: count alone
        row = fetch(f"SELECT count(DISTINCT v.entity_id), {touched} {base}", params)
        total = int(row[0][0]) if row else 0
        hit_protected = bool(row[0][1]) if row and row[0][1] is not None else False
    rows = tuple((str(eid), str(stype), str(prop), str(value)) for eid, stype, prop, value, *_ in found)
    return Found(total, rows, hit_protected, frozenset(str(r[0]) for r in found if r[6]))
