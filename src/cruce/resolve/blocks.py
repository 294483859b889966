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

DEFAULT_MAX_BLOCK = 2000
_EQUALITY = re.compile(r"^l\.(\S+) = r\.(\S+)$")
_SIMPLE = re.compile(r"^[a-z_][a-z0-9_]*(\[\d+\])?$")


def max_block() -> int:
    """``CRUCE_RESOLVE_MAX_BLOCK``: the most records a key may hold and still be compared on."""
    return int(os.environ.get("CRUCE_RESOLVE_MAX_BLOCK", DEFAULT_MAX_BLOCK))


@dataclass(frozen=True)
class PurgedRule:
    """What one rule does not compare: ``keys`` shared by more than the limit, holding ``records``,
    which would have made ``pairs`` pairs."""

    rule: str
    keys: int
    records: int
    pairs: int


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


def _key(rule: str) -> list[str] | None:
    """The key of a rule that joins records on equal values of the same fields
    (``l.a = r.a AND l.b = r.b``); None for any other rule (those are not purged)."""
    key: list[str] = []
    for part in rule.split(" AND "):
        match = _EQUALITY.match(part.strip())
        if match is None or match.group(1) != match.group(2) or not _SIMPLE.match(match.group(1)):
            return None
        key.append(match.group(1))
    return key


def _oversized(con: duckdb.DuckDBPyConnection, table: str, key: list[str], limit: int) -> tuple[int, int, int]:
    """(keys, records, pairs) of the keys held by more than ``limit`` records."""
    present = " AND ".join(f"{k} IS NOT NULL" for k in key)
    row = con.execute(
        f"SELECT count(*), coalesce(sum(n), 0), coalesce(sum(n * (n - 1) // 2), 0) FROM "
        f"(SELECT count(*) AS n FROM {table} WHERE {present} GROUP BY {', '.join(key)} HAVING count(*) > {limit:d})"
    ).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)


def purge_big_blocks(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rules: Iterable[str],
    labels: dict[str, str] | None = None,
    limit: int | None = None,
) -> BlockPurge:
    """Flag, in ``table``, the records of each rule's oversized keys (a boolean column per rule
    that has any), and say how each rule is narrowed to pass them by."""
    limit = max_block() if limit is None else limit
    labels = labels or {}
    narrowed: dict[str, str] = {}
    purged: list[PurgedRule] = []
    flags: dict[str, list[str]] = {}
    for i, rule in enumerate(dict.fromkeys(rules)):
        key = _key(rule)
        if key is None:
            continue
        found, records, pairs = _oversized(con, table, key, limit)
        if not found:
            continue
        column = f"cruce_big_{i}"
        flags[column] = key
        narrowed[rule] = f"({rule}) AND NOT l.{column}"  # both sides share the key, and so the flag
        purged.append(PurgedRule(labels.get(rule, rule), found, records, pairs))
    if flags:
        windows = ", ".join(
            f"count(*) OVER (PARTITION BY {', '.join(key)}) > {limit:d} AS {column}" for column, key in flags.items()
        )
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT *, {windows} FROM {table}")
    return BlockPurge(narrowed, purged)
