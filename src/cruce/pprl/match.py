"""``cruce pprl match``: which pseudonyms of two encoded files are the same person.

Only the matched pairs come out, each with its Dice similarity; whoever runs the match learns
nothing about the other records beyond how many there are. By default every pair at or above
the threshold comes out, as files that hold some people several times (one record per visit, per
arrest) need; ``one_to_one=True`` keeps at most one partner per record (anonlink's greedy solver,
most similar pairs first), for files that hold each person once.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from cruce.i18n import _
from cruce.pprl.files import Encoded, read_encoded
from cruce.pprl.worker import PprlError, call

DEFAULT_THRESHOLD = 0.85  # the best F1 of benchmarks/pprl.py (docs/guide/pprl.md)


@dataclass(frozen=True)
class MatchResult:
    a: Encoded
    b: Encoded
    pairs: list[tuple[str, str, float]]  # (pseudonym in a, pseudonym in b, similarity)


def match_encoded(
    a: Encoded, b: Encoded, threshold: float = DEFAULT_THRESHOLD, *, one_to_one: bool = False
) -> MatchResult:
    if not 0.0 < threshold <= 1.0:
        raise PprlError(_("The threshold must be above 0 and at most 1; {value} was given.").format(value=threshold))
    answer = call({"op": "match", "a": a.clks, "b": b.clks, "threshold": threshold, "one_to_one": one_to_one})
    pairs = [(a.ids[int(i)], b.ids[int(j)], float(score)) for i, j, score in answer["pairs"]]
    pairs.sort(key=lambda p: (-p[2], p[0], p[1]))
    return MatchResult(a, b, pairs)


def match_files(a: Path, b: Path, threshold: float = DEFAULT_THRESHOLD, *, one_to_one: bool = False) -> MatchResult:
    """Read two encoded files (same schema) and match them."""
    return match_encoded(read_encoded(a), read_encoded(b), threshold, one_to_one=one_to_one)


def write_pairs(path: Path, result: MatchResult, maps: list[dict[str, str]] | None = None) -> None:
    """Write ``id_a, id_b, score``; with maps (an agency's own), the record ids they know too."""
    maps = maps or []

    def record(pseudonym: str) -> str:
        return next((m[pseudonym] for m in maps if pseudonym in m), "")

    header = ["id_a", "id_b", "score", *(["record_a", "record_b"] if maps else [])]
    try:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for id_a, id_b, score in result.pairs:
                extra = [record(id_a), record(id_b)] if maps else []
                writer.writerow([id_a, id_b, f"{score:.4f}", *extra])
    except OSError as exc:
        raise PprlError(_("Cannot write {file}: {error}").format(file=path, error=exc.strerror or exc)) from None
