"""Words: what the term index stores of a value, and what a query asks for.

Both sides fold text the way resolution does (``cruce.resolve.normalise.fold``: lower case, no
accents, apostrophes dropped, any other character that is not a letter or a digit a space), so
a search and a linkage model agree on what "the same word" is. A piece of a value written
without spaces but with punctuation inside (``AK-47``, ``5-74-123-01-5K-12345``, ``Muñoz_Ruiz``)
is also stored joined (``ak47``), and a query piece like it that holds a digit asks for the
joined form, so identifiers are found however their punctuation was typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cruce.resolve.normalise import fold

MAX_WORDS = 8
MAX_TERM_LENGTH = 40
STOP_WORDS = frozenset(
    {"de", "del", "la", "las", "los", "el", "y", "e", "da", "das", "do", "dos", "van", "von", "der", "den", "du"}
    | {"le", "di", "the", "of", "and", "a", "an"}
)
"""Particles and articles: a query needs them only when it has nothing else (they rank little)."""


def value_terms(value: str) -> set[str]:
    """The terms of a value: its folded words, and each punctuated piece joined."""
    return set(value_positions(value))


def value_positions(value: str) -> dict[str, int]:
    """Each term of a value (``value_terms``) with where it first stands among the value's words
    besides particles (a particle: -1; a joined piece: where its first word stands), so that a
    query's words can be matched in the order they are written ("Leticia Ybarra" is "Leticia
    Ybarra Ortega" rather than "Leticia Soto Ybarra")."""
    found: dict[str, int] = {}
    at = 0
    for piece in value.split():
        words = fold(piece).split()
        first = -1
        for w in words:
            here = -1 if w in STOP_WORDS else at
            at += here >= 0
            first = here if first < 0 else first
            if len(w) <= MAX_TERM_LENGTH:
                found.setdefault(w, here)
        if len(words) > 1:
            joined = "".join(words)
            if len(joined) <= MAX_TERM_LENGTH:
                found.setdefault(joined, first)
    return found


@dataclass(frozen=True)
class Word:
    """One word of a query, folded; ``required`` unless it is a particle (and others are not)."""

    text: str
    required: bool = True


# where a name's alias begins: 'Andrés Álvarez a. "El Charro"', 'Juan Pérez alias El Gato'
_ALIAS_MARK = re.compile(r"""\s(?:a\.|alias|aka|a\.k\.a\.)\s|["“”(]""", re.IGNORECASE)


def value_length(value: str, free_text: bool = False) -> int:
    """How many words a value has besides particles (1 at least, 1,000 at most): what a match of
    all of a query's words covers of it (``cruce.search.query``). Outside free text, an alias is
    not counted: "Andrés Álvarez a. El Charro" is all matched by "Andrés Álvarez"."""
    mark = None if free_text else _ALIAS_MARK.search(value)
    if mark is not None and mark.start() > 0:
        value = value[: mark.start()]
    return max(1, min(1000, len({w for w in fold(value).split() if w not in STOP_WORDS})))


def query_words(query: str) -> list[Word]:
    """The words of a query, in order, at most ``MAX_WORDS``, repeated words once."""
    texts: list[str] = []
    for piece in query.split():
        words = fold(piece).split()
        if len(words) > 1 and any(ch.isdigit() for ch in piece):
            texts.append("".join(words)[:MAX_TERM_LENGTH])
        else:
            texts.extend(w[:MAX_TERM_LENGTH] for w in words)
    texts = list(dict.fromkeys(texts))[:MAX_WORDS]
    only_stop = all(t in STOP_WORDS for t in texts)
    return [Word(t, required=only_stop or t not in STOP_WORDS) for t in texts]
