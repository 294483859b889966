"""Finding entities by their terms: one query for the page, the total and the facets.

The words are expanded in Python (``cruce.search.expand``); the store only looks the expanded
terms up in ``search_posting``, in SQL both backends run alike, and adds up integer weights, so
DuckDB and PostgreSQL give the same hits in the same order.

An entity is a hit when it matches enough of the query's required words: all of one or two,
all but one of three to five, all but two of six or more (a record that leaves out a second
surname or a middle name is still found). Its score is the sum, over the words it matches, of
the best match's weight, scaled by how much of the matched value those words cover: times
(L + k − c) / 2L, for k of the query's Q required words matched in a value of L words
(``text.value_length``, the longest value holding a match: a record's full name, not the given
name it also holds apart, nor its alias), where c = min(Q − k, L − k) counts the words both sides
hold unmatched — a surname the record contradicts, not one it leaves out. A record named "Carlos
Rodríguez" then ranks above "Carmen Rodríguez Olvera" for the query "Carlos Rodríguez Olvera", as
BM25's length normalisation would have it. Then each word matched where it stands in the query
(``text.value_positions``) adds 1/``IN_ORDER_SHARE``: "Leticia Ybarra" finds "Leticia Ybarra
Ortega" before "Leticia Soto Ybarra". Ties go to the smaller entity id.

The caller (``cruce.security.guard.Guard``) decides what the principal may see and passes it in:
``visible`` datasets, and the ``caseload`` — datasets whose protected values the principal may
see. Outside the caseload, protected values are not searched, nor any value of a protected
person (an entity a protected property points at: a case's victim), so a search cannot reveal
that a victim's name is in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from cruce.search.expand import Expanded, Match

DATE_PROPS = ("date", "start_date", "birth_date")
FACETS = ("type", "dataset", "flow", "place", "year")
_MAX_FACET_VALUES = 50

Fetch = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Explained:
    """Why an entity matched one word: the term of which property, by which rule."""

    word: str
    term: str
    prop: str
    rule: str


@dataclass(frozen=True)
class Hit:
    entity_id: str
    schema: str
    score: int
    matches: tuple[Explained, ...]


@dataclass(frozen=True)
class Filters:
    """What narrows a search besides the words; each facet has its filter."""

    schema: str | None = None
    flow: str | None = None
    place: str | None = None
    year: str | None = None
    date_from: str | None = None
    date_to: str | None = None

    @property
    def dated(self) -> bool:
        """Whether a date range narrows the search (the copy of the index in memory holds no dates)."""
        return bool(self.date_from or self.date_to)


@dataclass(frozen=True)
class Found:
    """One page of hits, best first, with the number of hits in all and the facets of all."""

    total: int
    hits: tuple[Hit, ...]
    protected: bool  # a match was on a protected value or a protected person (within the caseload)
    protected_people: frozenset[str] = frozenset()  # the hits that a protected property points at
    facets: dict[str, dict[str, int]] = field(default_factory=dict)  # facet → value → hits


def needed(required: int) -> int:
    """How many of ``required`` words a hit must match."""
    if required <= 2:
        return required
    return required - 1 if required <= 5 else required - 2


# A word matched where it stands in the query ("Leticia Ybarra" in "Leticia Ybarra Ortega") adds a
# 32nd of the score: enough to rank a name written in the query's order before its namesakes with
# the same words elsewhere ("Leticia Soto Ybarra"), too little to outweigh a better-matched word.
IN_ORDER_SHARE = 32


def nothing_to_find(words: Sequence[Expanded], visible: Sequence[str]) -> bool:
    """No dataset to search, or none of the words' terms (or of the required words') known."""
    required = [e for e in words if e.word.required]
    return not visible or not any(e.matches for e in words) or bool(required and not any(e.matches for e in required))


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" for _ in values)


def _ids(numbers: Sequence[int] | frozenset[int]) -> str:
    return ", ".join(str(int(n)) for n in sorted(numbers)) or "NULL"


def word_places(words: Sequence[Expanded]) -> list[int]:
    """Where each word stands among the query's required words (-1: not required), as
    ``text.value_positions`` counts a value's words."""
    places, at = [], 0
    for e in words:
        places.append(at if e.word.required else -1)
        at += e.word.required
    return places


def _expansion_rows(words: Sequence[Expanded]) -> str:
    rows = [
        f"({i}, {m.term_id}, {m.weight}, {1 if m.text_only else 0}, {1 if e.word.required else 0}, {place})"
        for i, (e, place) in enumerate(zip(words, word_places(words), strict=True))
        for m in e.matches
    ]
    return f"(SELECT * FROM (VALUES {', '.join(rows)}) AS v(word, term_id, weight, text_only, required, place))"


def find(
    fetch: Fetch,
    words: Sequence[Expanded],
    *,
    visible: Sequence[str],
    caseload: Sequence[str],
    text_props: frozenset[int],
    filters: Filters = Filters(),
    limit: int = 50,
    offset: int = 0,
) -> Found:
    """Hits for the expanded words in visible datasets, best first, with facets counted over all hits."""
    if nothing_to_find(words, visible):
        return Found(0, (), False)
    required = sum(1 for e in words if e.word.required)
    params: list[Any] = []
    imports_of = "SELECT no FROM import_run WHERE dataset IN ({})"
    terms = sorted({m.term_id for e in words for m in e.matches})
    # the terms again as a list: DuckDB then skips the row groups of postings (sorted by term) without them
    where = [f"p.term_id IN ({_ids(terms)})", f"p.import_no IN ({imports_of.format(_marks(visible))})"]
    params += visible
    where.append(f"(q.text_only = 0 OR p.prop_id IN ({_ids(text_props)}))")
    in_caseload = f"p.import_no IN ({imports_of.format(_marks(caseload))})" if caseload else "FALSE"
    where.append(f"({in_caseload} OR (NOT p.protected AND pp.target IS NULL))")
    params += caseload
    if filters.schema:
        where.append("pr.schema = ?")
        params.append(filters.schema)
    for kind in ("flow", "place", "year"):
        value = getattr(filters, kind)
        if value:
            where.append(
                "p.entity_id IN (SELECT f.entity_id FROM search_facet f WHERE f.kind = ? AND f.value = ? "
                f"AND f.import_no IN ({imports_of.format(_marks(visible))}))"
            )
            params += [kind, value, *visible]
    if filters.date_from or filters.date_to:
        # a date of the entity, in a visible dataset, within the range
        dates = [f"d.prop_id IN (SELECT prop_id FROM property WHERE prop IN ({_marks(DATE_PROPS)}))"]
        dates.append(f"d.import_no IN ({imports_of.format(_marks(visible))})")
        date_params: list[Any] = [*DATE_PROPS, *visible]
        if filters.date_from:
            dates.append("d.value >= ?")
            date_params.append(filters.date_from)
        if filters.date_to:
            dates.append("d.value <= ?")
            date_params.append(filters.date_to)
        where.append(f"p.entity_id IN (SELECT d.entity_id FROM statement d WHERE {' AND '.join(dates)})")
        params += date_params
    # the best match of each word, packed in one integer: weight, then term, then property
    best = "max(CAST(q.weight AS BIGINT) * 1000000000000 + CAST(p.term_id AS BIGINT) * 10000 + p.prop_id)"
    matched = (
        f"SELECT p.entity_id, q.word, max(q.required) AS required, max(q.weight) AS weight, {best} AS best, "
        "min(pr.schema) AS stype, min(p.import_no) AS import_no, "
        "max(CASE WHEN p.protected OR pp.target IS NOT NULL THEN 1 ELSE 0 END) AS touched, "
        "max(CASE WHEN pp.target IS NOT NULL THEN 1 ELSE 0 END) AS person, max(p.terms) AS terms, "
        "max(CASE WHEN p.position = q.place THEN 1 ELSE 0 END) AS in_place "
        f"FROM search_posting p JOIN {_expansion_rows(words)} q ON q.term_id = p.term_id "
        "JOIN property pr ON pr.prop_id = p.prop_id "
        "LEFT JOIN (SELECT DISTINCT target FROM entity_ref WHERE protected) pp ON pp.target = p.entity_id "
        f"WHERE {' AND '.join(where)} GROUP BY p.entity_id, q.word"
    )
    # the matched weights, times (length + matched) / (2 × length): all of a value's words matched keep
    # their whole weight, half of them three quarters (integers, and an exact division on both backends)
    length = "GREATEST(max(terms), sum(required), 1)"
    conflict = f"LEAST({required} - sum(required), {length} - sum(required))"
    scaled = f"sum(weight) * ({length} + sum(required) - {conflict})"
    covered = f"(({scaled} - mod({scaled}, 2 * {length})) / (2 * {length}))"
    # then each word matched where it stands in the query adds 1/IN_ORDER_SHARE
    ordered = f"{covered} * ({IN_ORDER_SHARE} + sum(in_place))"
    score = f"({ordered} - mod({ordered}, {IN_ORDER_SHARE})) / {IN_ORDER_SHARE}"
    hits = (
        f"SELECT entity_id, CAST({score} AS BIGINT) AS score, "
        "min(stype) AS stype, min(import_no) AS import_no, "
        "max(touched) AS touched, max(person) AS person, "
        "string_agg(CAST(word AS VARCHAR) || ':' || CAST(best AS VARCHAR), ' ') AS why "
        f"FROM m GROUP BY entity_id HAVING sum(required) >= {needed(required)}"
    )
    sql = (
        f"WITH m AS ({matched}), h AS MATERIALIZED ({hits}) "
        "SELECT * FROM (SELECT 'hit' AS kind, CAST(entity_id AS VARCHAR) AS k, score AS n, stype, touched, person, why "
        "FROM h ORDER BY score DESC, CAST(entity_id AS VARCHAR) LIMIT ? OFFSET ?) AS page "
        "UNION ALL SELECT 'total', '', count(*), '', max(touched), 0, '' FROM h "
        "UNION ALL SELECT 'type', stype, count(*), '', 0, 0, '' FROM h GROUP BY stype "
        "UNION ALL SELECT 'dataset', i.dataset, count(*), '', 0, 0, '' FROM h JOIN import_run i ON i.no = h.import_no "
        "GROUP BY i.dataset "
        "UNION ALL SELECT f.kind, f.value, count(DISTINCT f.entity_id), '', 0, 0, '' FROM h "
        "JOIN search_facet f ON f.entity_id = h.entity_id "
        f"WHERE f.import_no IN ({imports_of.format(_marks(visible))}) GROUP BY f.kind, f.value"
    )
    rows = fetch(sql, (*params, limit, offset, *visible))
    return _found(rows, words)


def _found(rows: list[tuple[Any, ...]], words: Sequence[Expanded]) -> Found:
    by_term = {(i, m.term_id, m.weight): m for i, e in enumerate(words) for m in e.matches}
    hits: list[tuple[str, str, int, str]] = []
    people: set[str] = set()
    facets: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    total, touched = 0, False
    for kind, key, n, stype, hit_touched, person, why in rows:
        if kind == "hit":
            hits.append((str(key), str(stype), int(n), str(why or "")))
            if person:
                people.add(str(key))
        elif kind == "total":
            total, touched = int(n), bool(hit_touched)
        elif kind in facets and key is not None:
            facets[kind][str(key)] = int(n)
    ordered = sorted(hits, key=lambda h: (-h[2], h[0]))
    found = tuple(Hit(eid, stype, score, _explained(why, words, by_term)) for eid, stype, score, why in ordered)
    trimmed = {
        k: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[:_MAX_FACET_VALUES]) for k, v in facets.items()
    }
    return Found(total, found, touched, frozenset(people), trimmed)


def _explained(
    why: str, words: Sequence[Expanded], by_term: dict[tuple[int, int, int], Match]
) -> tuple[Explained, ...]:
    """The packed best match of each word (``word:weight·term·prop``) read back, in query order.

    The property is given by number here; ``Guard.search`` names it and finds the value it shows.
    """
    found = []
    for part in sorted(why.split(), key=lambda p: int(p.split(":")[0])):
        word_no, packed = (int(x) for x in part.split(":"))
        weight, term_id, prop_id = packed // 10**12, (packed // 10000) % 10**8, packed % 10000
        match = by_term.get((word_no, term_id, weight))
        if match is not None:
            found.append(Explained(words[word_no].word.text, match.term, str(prop_id), match.rule))
    return tuple(found)
