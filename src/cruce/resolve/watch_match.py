"""Place and search watches: alerts for the records an import brings (``cruce.resolve.watch``).

A ``place`` watch is a state (an ISO 3166-2 code such as ``MX-SON``, or any spelling
``cruce.schema.places`` resolves: "Sonora", "N.L."), a municipality in a state
(``MX-SON:nogales``, or "Nogales, Sonora") or a municipality's name alone (``nogales``: in any
state). A record matches when one of its state properties holds the state and, for a
municipality, its ``municipality`` folds to the same key (as the maps key municipalities,
``cruce.analyses.geo.municipality_code``).

A ``search`` watch holds a saved search's words (as a case saves them); a record matches when
every required word of the query (``cruce.search.text.query_words``) is a term of one of its
values (``value_terms``), as the search index would find it.

Need-to-know as for the other watches: a record is compared only through the statements its
watcher may read unredacted (``AlertChecker.readable``), so a protected person's name or place
never raises an alert for a user who may not read it. The alert's ``probability`` is 1.0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from cruce.i18n import _
from cruce.resolve.watch import AlertChecker, Watch, WatchError, Watchlists, guard_for
from cruce.schema import places
from cruce.store.base import Entity, Statement, Store

KINDS = ("place", "search")
MUNICIPALITY = "municipality"
_STATE_CODE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_BATCH = 500


# -- targets ----------------------------------------------------------------------------------------
def place_target(text: str) -> str:
    """A place as it is watched: ``MX-SON`` (a state), ``MX-SON:nogales`` (a municipality in a
    state) or ``nogales`` (a municipality's name in any state)."""
    text = " ".join(text.split())
    if ":" in text:
        state_text, municipality = text.split(":", 1)
    elif "," in text:
        municipality, state_text = text.rsplit(",", 1)
    else:
        state_text, municipality = text, ""
    code = places.lookup_state(state_text.strip()) if state_text.strip() else None
    key = places.normalize_key(municipality)
    if code is None:
        if state_text.strip() and (":" in text or "," in text):
            raise WatchError(_("No state {state}: give a state's code or name.").format(state=state_text.strip()))
        key = places.normalize_key(text)
        if not key:
            raise WatchError(_("Give a state, a municipality in a state, or a municipality's name."))
        return key
    return f"{code}:{key}" if key else code


def search_target(text: str) -> str:
    """A saved search's words, as a case keeps them."""
    from cruce.search.text import query_words

    words = " ".join(text.split())[:500]
    if not query_words(words):
        raise WatchError(_("A saved search needs words to find."))
    return words


def _place_parts(target: str) -> tuple[str | None, str]:
    """(state code or None, municipality key or '') of a watched place."""
    if ":" in target:
        state, key = target.split(":", 1)
        return state, key
    if _STATE_CODE.match(target):
        return target, ""
    return None, target


@cache
def _state_properties() -> frozenset[tuple[str, str]]:
    from cruce.schema.loader import default_schema
    from cruce.schema.model import PropertyType

    return frozenset(
        (t.name, p.name)
        for t in default_schema().concrete()
        for p in t.properties.values()
        if p.type == PropertyType.STATE
    )


# -- matching -----------------------------------------------------------------------------------------
def place_matches(target: str, statements: Sequence[Statement]) -> bool:
    state, key = _place_parts(target)
    state_props = _state_properties()
    states = {st.value.upper() for st in statements if (st.schema, st.prop) in state_props}
    if state is not None and state not in states:
        return False
    if not key:
        return True
    return any(st.prop == MUNICIPALITY and places.normalize_key(st.value) == key for st in statements)


def search_matches(target: str, statements: Sequence[Statement]) -> bool:
    from cruce.search.text import query_words, value_terms

    wanted = [w.text for w in query_words(target) if w.required]
    if not wanted:
        return False
    terms: set[str] = set()
    for st in statements:
        terms |= value_terms(st.value)
    return all(w in terms for w in wanted)


def _matches(watch: Watch, statements: Sequence[Statement]) -> bool:
    if watch.kind == "place":
        return place_matches(watch.target, statements)
    return search_matches(watch.target, statements)


# -- raising alerts -------------------------------------------------------------------------------------
def _brought(store: Any, numbers: set[int]) -> list[tuple[str, int]]:
    """(record, import number) of every record the imports numbered ``numbers`` stated something of."""
    which = ", ".join(str(int(n)) for n in sorted(numbers))
    rows = store._fetch(
        "SELECT CAST(entity_id AS VARCHAR), min(import_no) FROM statement "
        f"WHERE import_no IN ({which}) GROUP BY entity_id ORDER BY 1"
    )
    return [(str(r[0]), int(r[1])) for r in rows]


def _preload(store: Store, checker: AlertChecker, records: Sequence[str]) -> None:
    """Read the records' statements in batches rather than one query each."""
    for start in range(0, len(records), _BATCH):
        batch = list(records[start : start + _BATCH])
        for record, statements in store.statements_of(batch).items():
            if statements:
                entity = Entity(id=record, schema=statements[0].schema)
                for st in statements:
                    entity.add(st)
                checker._entities[record] = entity


def alert_after_import(store: Store, import_ids: Sequence[str]) -> int:
    """Alerts for the place and search watches about the records ``import_ids`` brought; how many
    were written (a record raises one alert per watch, ever)."""
    watchlists = Watchlists(store)
    watches = [w for w in watchlists.watches() if w.kind in KINDS]
    if not watches:
        return 0
    guard = guard_for(store)
    import_of = {n: str(i) for i in import_ids if (n := guard.import_number(i)) is not None}
    if not import_of:
        return 0
    brought = _brought(store, set(import_of))
    if not brought:
        return 0
    checker = AlertChecker(store, guard)
    _preload(store, checker, [r for r, _n in brought])
    rows: list[tuple[Watch, str, float, str | None]] = []
    for watch in watches:
        principal = checker.principal(watch.username)
        if principal is None:
            continue
        done = watchlists.alerted(watch.id)
        for record, number in brought:
            if record in done:
                continue
            readable = checker.readable(principal, record)
            if readable and _matches(watch, readable):
                rows.append((watch, record, 1.0, import_of.get(number)))
    if rows:
        watchlists.write_alerts(rows)
    return len(rows)
