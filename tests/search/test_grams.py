"""Typos found through letter pairs are exactly the typos a comparison with every term finds."""

from __future__ import annotations

import random

from rapidfuzz import process
from rapidfuzz.distance import OSA

from cruce.resolve.normalise import GIVEN_NAMES as GIVEN
from cruce.resolve.normalise import SURNAMES as SURNAME
from cruce.search.grams import MAX_LENGTH, PairIndex


def _typo(rng: random.Random, word: str) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    at = rng.randrange(len(word))
    kind = rng.choice(("change", "add", "drop", "swap"))
    if kind == "change":
        return word[:at] + rng.choice(letters) + word[at + 1 :]
    if kind == "add":
        return word[:at] + rng.choice(letters) + word[at:]
    if kind == "drop" and len(word) > 1:
        return word[:at] + word[at + 1 :]
    at = min(at, len(word) - 2)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]


def _within(word: str, choices: list[str], edits: int) -> set[str]:
    return {t for t, _d, _i in process.extract(word, choices, scorer=OSA.distance, score_cutoff=edits, limit=None)}


def test_letter_pairs_miss_no_typo_of_any_kind() -> None:
    rng = random.Random(3)
    names = sorted({n.lower() for n in [*GIVEN, *SURNAME] if n.isalpha()})
    terms = [*names, "x" * (MAX_LENGTH + 5), "ab", "aaaaaa", "abababab"]
    index = PairIndex.build(terms)
    asked = 0
    for name in rng.sample(names, 300):
        word = _typo(rng, _typo(rng, name)) if len(name) >= 9 else _typo(rng, name)
        edits = 2 if len(word) >= 9 else 1
        everything = {
            t for t, _d, _i in process.extract(word, terms, scorer=OSA.distance, score_cutoff=edits, limit=None)
        }
        shortlist = index.candidates(word, edits)
        if shortlist is None:
            continue
        asked += 1
        found = {
            t for t, _d, _i in process.extract(word, shortlist, scorer=OSA.distance, score_cutoff=edits, limit=None)
        }
        assert found == everything, word
        assert len(shortlist) < len(terms) / 4, word  # and it does rule most terms out
    assert asked > 200
