"""Block purging: the keys of a blocking rule shared by too many records are not compared on it.

A blocking rule proposes every pair of records sharing its key. A key held by thousands of
records — a common name in a national dataset, a placeholder date of birth, a shelter's
postcode — makes millions of pairs that say little (the key is too common to suggest one
person), and at ten million records more pairs than one machine can score: the 10M benchmark's
candidate pairs filled 65 GB of disk. So before scoring, each rule's keys held by more than
``max_block`` records are found and the rule is narrowed to pass those records by (*block
purging*, a standard step of entity-resolution pipelines). The other rules still compare them on
their other keys (a common name and a date of birth, a phone number, an identifier).

The narrowing depends on the records only, never on the model: it is worked out again for each
run from the full prepared table, so a full run and an incremental one purge the same blocks,
and the stored model keeps its rules as they were trained. Each purged block is reported
(``PurgedRule``): how many keys, records and pairs were passed by, and by which rule.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb

DEFAULT_MAX_BLOCK = 100
_EQUALITY = re.compile(r"^l\.(\S+) = r\.(\S+)$")
_SIMPLE = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])?$")


def max_block() -> int:
    """``CRUCE_RESOLVE_MAX_BLOCK``: the most records a key may hold and still be compared on."""
    return int(os.environ.get("CRUCE_RESOLVE_MAX_BLOCK", DEFAULT_MAX_BLOCK))


@dataclass(frozen=True)
class PurgedRule:
    """What one rule does not compare: ``keys`` shared by more than ``limit`` records, holding
    ``records``, which would have made ``pairs`` pairs."""

    rule: str
    keys: int
    records: int
    pairs: int
    limit: int


@dataclass(frozen=True)
class BlockPurge:
    """The narrowed SQL of each rule that has oversized keys, and what each passes by."""

    narrowed: dict[str, str] = field(default_factory=dict)
    purged: list[PurgedRule] = field(default_factory=list)

    def settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Splink settings whose rules skip the purged keys; the rules keep their order (the
        pairs' ``match_key`` names the same rule) and their labels."""
        if not self.narrowed:
            return settings
        out = copy.deepcopy(settings)
        rules = out.get("blocking_rules_to_generate_predictions", [])
        for rule in rules:
            rule["blocking_rule"] = self.narrowed.get(rule["blocking_rule"], rule["blocking_rule"])
        labels = dict(out.get("cruce_rule_labels", {}))
        for original, narrowed in self.narrowed.items():
            if original in labels:
                labels[narrowed] = labels[original]
        if labels:
            out["cruce_rule_labels"] = labels
        return out


def _sides(rule: str) -> tuple[list[str], list[str]] | None:
    """The key each side of a rule made of equalities only joins on (``l.a = r.a AND l.b = r.c``:
    ``[a, b]`` and ``[a, c]``); None for any other rule (those are not purged)."""
    left: list[str] = []
    right: list[str] = []
    for part in rule.split(" AND "):
        match = _EQUALITY.match(part.strip())
        if match is None or not all(_SIMPLE.match(side) for side in match.groups()):
            return None
        left.append(match.group(1))
        right.append(match.group(2))
    return left, right


def _present(key: list[str]) -> str:
    return " AND ".join(f"{k} IS NOT NULL" for k in key)


def _passed_by(
    con: duckdb.DuckDBPyConnection, table: str, sides: tuple[list[str], list[str]], limit: int
) -> tuple[int, int]:
    """(keys, pairs) a rule passes by when narrowed: its keys held by more than ``limit`` records
    (on either side, for a rule across fields), and the pairs it would have compared there (half
    the ordered ones when the sides differ: Splink compares each pair once)."""
    left, right = sides
    if left == right:
        sql = (
            f"SELECT count(*), coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM {table} "
            f"WHERE {_present(left)} GROUP BY {', '.join(left)} HAVING count(*) > {limit:d})"
        )
    else:
        names = [f"k{i}" for i in range(len(left))]
        lhs = ", ".join(f"{k} AS {n}" for k, n in zip(left, names, strict=True))
        rhs = ", ".join(f"{k} AS {n}" for k, n in zip(right, names, strict=True))
        sql = (
            f"WITH l AS (SELECT {lhs}, count(*) AS n_l FROM {table} WHERE {_present(left)} GROUP BY ALL), "
            f"r AS (SELECT {rhs}, count(*) AS n_r FROM {table} WHERE {_present(right)} GROUP BY ALL) "
            f"SELECT count(*), coalesce(sum(n_l * n_r // 2), 0) FROM l JOIN r USING ({', '.join(names)}) "
            f"WHERE n_l > {limit:d} OR n_r > {limit:d}"
        )
    row = con.execute(sql).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def purge_big_blocks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rules: Iterable[str],
    labels: dict[str, str] | None = None,
    limit: int | None = None,
) -> BlockPurge:
    """Flag, in ``table``, the records of each rule's oversized keys (a boolean column per rule
    and side), and say how each rule is narrowed to pass them by."""
    limit = max_block() if limit is None else limit
    labels = labels or {}
    narrowed: dict[str, str] = {}
    found: dict[str, tuple[int, int, list[str]]] = {}
    flags: dict[str, list[str]] = {}
    for i, rule in enumerate(dict.fromkeys(rules)):
        sides = _sides(rule)
        if sides is None:
            continue
        keys, pairs = _passed_by(con, table, sides, limit)
        if not keys:
            continue
        # a key of the same fields on both sides: one flag, which both ends of a pair share
        per_side = {"l": sides[0]} if sides[0] == sides[1] else {"l": sides[0], "r": sides[1]}
        columns = {side: f"cruce_big_{i}_{side}" for side in per_side}
        flags |= {columns[side]: key for side, key in per_side.items()}
        narrowed[rule] = f"({rule}) AND " + " AND ".join(f"NOT {side}.{column}" for side, column in columns.items())
        found[rule] = (keys, pairs, list(columns.values()))
    if flags:
        _add_flags(con, table, flags, limit)
    purged = [
        PurgedRule(labels.get(rule, rule), keys, _flagged(con, table, columns), pairs, limit)
        for rule, (keys, pairs, columns) in found.items()
    ]
    return BlockPurge(narrowed, purged)


def _add_flags(con: duckdb.DuckDBPyConnection, table: str, flags: dict[str, list[str]], limit: int) -> None:
    """One boolean column per flag: the record's key is present and held by more than ``limit``."""
    windows = ", ".join(
        f"coalesce({_present(key)} AND count(*) OVER (PARTITION BY {', '.join(key)}) > {limit:d}, false) AS {column}"
        for column, key in flags.items()
    )
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT *, {windows} FROM {table}")


def _flagged(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> int:
    row = con.execute(f"SELECT count(*) FROM {table} WHERE {' OR '.join(columns)}").fetchone()
    return int(row[0]) if row else 0
