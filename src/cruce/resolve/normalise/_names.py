"""Personal names as records write them: order, two surnames, particles, nicknames and aliases.

``parse_person_name`` turns "RAMIREZ HERNANDEZ JOSE LUIS alias El Güero", "Ramírez Hernández, José
Luis" or "Pepe Ramírez" into the same shape (given names, surnames, aliases), and
``name_similarity`` scores two such names in [0, 1], forgiving what records get wrong about a
person's name and not what tells two people apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import permutations
from typing import Literal

from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.process import extractOne

from cruce.resolve.normalise._lexicon import (
    DEVOTIONAL,
    ENGLISH_ONLY_SURNAMES,
    GIVEN,
    NICKNAMES,
    PARTICLES,
    SUFFIXES,
    SURNAME,
    TITLES,
)
from cruce.resolve.normalise._text import fold


@dataclass(frozen=True, slots=True)
class PersonName:
    """A parsed personal name; every part folded (lower case, no accents or punctuation)."""

    given: tuple[str, ...] = ()  # given names in order, as written: ("pepe",), ("jose", "l")
    surnames: tuple[str, ...] = ()  # particles joined to their surname: ("de la cruz", "perez")
    aliases: tuple[str, ...] = ()  # nicknames after "alias", "(a)", "a.k.a." or in quotes: ("el guero",)
    given_canonical: tuple[str, ...] = ()  # given names with hypocorisms resolved: ("jose",), ("jose", "l")

    @property
    def first_given(self) -> str:
        """The first given name, nickname resolved ("pepe" -> "jose"); "" when none."""
        return self.given_canonical[0] if self.given_canonical else ""

    @property
    def first_surname(self) -> str:
        return self.surnames[0] if self.surnames else ""

    @property
    def second_surname(self) -> str:
        return self.surnames[1] if len(self.surnames) > 1 else ""

    @property
    def full(self) -> str:
        """Canonical given names then surnames: "jose luis ramirez hernandez"."""
        return " ".join((*self.given_canonical, *self.surnames))

    @property
    def sorted_tokens(self) -> tuple[str, ...]:
        """The words of ``full`` in alphabetical order, for comparing names whatever their order."""
        return tuple(sorted(self.full.split()))


# -- aliases ----------------------------------------------------------------------------------

_MARKER = re.compile(
    r"\(\s*a\s*\)|\ba\s*/\s*k\s*/\s*a\b\.?|\ba\s*\.\s*k\s*\.\s*a\b\.?|\baka\b|\balias\b:?|\bapod(?:o|ad[oa])\b:?"
    r"|(?<!\S)a\.(?=\s+(?:el|la|los|las)\b)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"([^\"]*)\"|“([^”]*)”|«([^»]*)»|(?<!\w)'([^']+)'(?!\w)|\(([^()]*)\)")
_ALIAS_SPLIT = re.compile(r"\s+(?:y/o|o|or)\s+|[;,/]|" + _MARKER.pattern, re.IGNORECASE)


def _split_aliases(text: str) -> tuple[str, list[str]]:
    """The name without its aliases, and the aliases (folded)."""
    aliases: list[str] = []
    marker = _MARKER.search(text)
    if marker:
        text, rest = text[: marker.start()], text[marker.end() :]
        aliases += [fold(part) for part in _ALIAS_SPLIT.split(rest) if part]

    def quoted(match: re.Match[str]) -> str:
        aliases.append(fold(next(g for g in match.groups() if g is not None)))
        return " "

    text = _QUOTED.sub(quoted, text)
    return text, [a for a in dict.fromkeys(aliases) if a]


# -- units: a word, an initial, or particles with their word ------------------------------------

_Kind = Literal["word", "initial", "particle", "devotional"]
_GLUED = (("delos", "de los"), ("delas", "de las"), ("dela", "de la"), ("del", "del"), ("de", "de"))
_JOINERS = frozenset({"de", "del", "de la", "de los", "de las"})


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    kind: _Kind


def _unglue(word: str) -> str:
    """'delacruz' -> 'de la cruz' when the rest is a known surname."""
    if word in SURNAME or word in GIVEN or len(word) < 5:
        return word
    for glued, spaced in _GLUED:
        rest = word[len(glued) :]
        if word.startswith(glued) and len(rest) >= 3 and rest in SURNAME:
            return f"{spaced} {rest}"
    return word


def _units(tokens: list[str]) -> list[_Unit]:
    units: list[_Unit] = []
    particles: list[str] = []
    for token in tokens:
        if token in PARTICLES:
            particles.append(token)
            continue
        if particles:
            joined = " ".join(particles)
            if joined == "mc":
                units.append(_Unit("mc" + token, "word"))
            else:
                kind: _Kind = "devotional" if joined in _JOINERS and token in DEVOTIONAL else "particle"
                units.append(_Unit(f"{joined} {token}", kind))
            particles = []
            continue
        word = _unglue(token)
        if word != token:
            units.append(_Unit(word, "particle"))
        elif len(token) == 1 and token.isalpha():
            units.append(_Unit(token, "initial"))
        else:
            units.append(_Unit(token, "word"))
    if particles and not units:
        units.append(_Unit(" ".join(particles), "word"))
    return units


def _tokens(text: str) -> list[str]:
    tokens = [t for t in fold(text).split() if t not in SUFFIXES]
    while len(tokens) > 2 and tokens[0] in TITLES:
        tokens = tokens[1:]
    return [t for t in tokens if t != "y"]  # "de la Cruz y Pérez": the "y" only joins two surnames


# -- which units are given names and which surnames ---------------------------------------------

_ALL_NAMES = sorted(GIVEN.keys() | SURNAME.keys())


@lru_cache(maxsize=65536)
def _lexicon(word: str) -> tuple[float, float]:
    """How much ``word`` looks like a given name and like a surname, each in [0, 1]."""
    given, surname = GIVEN.get(word, 0.0), SURNAME.get(word, 0.0)
    if given or surname or len(word) < 5:
        return given, surname
    near = extractOne(word, _ALL_NAMES, scorer=Levenshtein.distance, score_cutoff=1)
    if near is None:
        return 0.0, 0.0
    return 0.7 * GIVEN.get(near[0], 0.0), 0.7 * SURNAME.get(near[0], 0.0)


def _given_score(block: list[_Unit]) -> float:
    score = 0.0
    for i, unit in enumerate(block):
        if unit.kind == "initial":
            score += 0.6
        elif unit.kind == "devotional":
            score += 1.5 if i > 0 and block[i - 1].kind == "word" else -1.0
        elif unit.kind == "particle":
            score -= 1.0
        else:
            g, s = _lexicon(unit.text)
            score += g - s
    return score


def _surname_score(block: list[_Unit]) -> float:
    score = 0.0
    for unit in block:
        if unit.kind == "initial":
            score -= 1.0
        elif unit.kind == "particle":
            score += 1.0
        elif unit.kind == "word":
            g, s = _lexicon(unit.text)
            score += s - g
    if len(block) > 1 and block[-1].text in ENGLISH_ONLY_SURNAMES:
        score -= 0.6  # English names seldom carry two surnames: "Kyle Allen Smith"
    return score


_SURNAME_COUNT_PRIOR = {0: -0.5, 1: 0.1, 2: 0.12, 3: -0.4}


def _assign(units: list[_Unit], surnames_first: bool | None) -> tuple[list[_Unit], list[_Unit]]:
    """(given units, surname units): the reading of the name that its words support best."""
    n = len(units)
    if n == 1:
        g, s = _lexicon(units[0].text) if units[0].kind == "word" else (0.0, 1.0 * (units[0].kind == "particle"))
        return ([], units) if s > g else (units, [])
    best: tuple[float, list[_Unit], list[_Unit]] | None = None
    for first in (False, True) if surnames_first is None else (surnames_first,):
        for k in range(0 if surnames_first is None else 1, min(3, n - 1) + 1):
            given, surnames = (units[k:], units[:k]) if first else (units[: n - k], units[n - k :])
            score = _given_score(given) + _surname_score(surnames) + _SURNAME_COUNT_PRIOR[k]
            score -= 0.5 * max(0, len(given) - 3)
            if not first and surnames_first is None:
                score += 0.3  # given names first is the more common order
            if best is None or score > best[0]:
                best = (score, given, surnames)
    assert best is not None
    return best[1], best[2]


def _canonical(unit: str) -> str:
    forms = NICKNAMES.get(unit)
    return forms[0] if forms else unit


@lru_cache(maxsize=65536)
def parse_person_name(text: str, *, surnames_first: bool | None = None) -> PersonName:
    """Read a personal name as a record writes it.

    ``surnames_first`` says the order when the source is known ("RAMIREZ HERNANDEZ JOSE LUIS" in
    a Mexican case file); left ``None``, a comma ("Ramírez Hernández, José Luis") decides, or else
    the words: known given names and surnames, initials, particles.
    """
    text, aliases = _split_aliases(text)
    parts = [p for p in text.split(",") if _tokens(p)]
    if len(parts) >= 2:
        given_units, surname_units = _units(_tokens(" ".join(parts[1:]))), _units(_tokens(parts[0]))
    else:
        tokens = _tokens(parts[0]) if parts else []
        if len(tokens) > 2 and "el" in tokens[1:]:
            at = tokens.index("el", 1)
            if tokens[at - 1] not in PARTICLES:  # "Juan Pérez el Güero": a nickname nobody marked
                aliases.append(" ".join(tokens[at:]))
                tokens = tokens[:at]
        units = _units(tokens)
        given_units, surname_units = _assign(units, surnames_first) if units else ([], [])
    given = tuple(u.text for u in given_units)
    return PersonName(
        given=given,
        surnames=tuple(u.text for u in surname_units),
        aliases=tuple(dict.fromkeys(aliases)),
        given_canonical=tuple(_canonical(g) for g in given),
    )


# -- similarity --------------------------------------------------------------------------------

_SOUNDS = (
    (re.compile(r"ch"), "§"),
    (re.compile(r"h"), ""),
    (re.compile(r"qu"), "k"),
    (re.compile(r"c(?=[ei])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"z"), "s"),
    (re.compile(r"v"), "b"),
    (re.compile(r"ll|y"), "i"),
    (re.compile(r"g(?=[ei])|x(?=[aeiou])"), "j"),
    (re.compile(r"(.)\1"), r"\1"),
)


@lru_cache(maxsize=65536)
def _sounds(word: str) -> str:
    """A rough Spanish sound key: Vázquez and Vásquez, Ybarra and Ibarra, Córdova and Córdoba agree."""
    word = word.replace(" ", "")
    for pattern, repl in _SOUNDS:
        word = pattern.sub(repl, word)
    return word


def _scaled(jaro_winkler: float) -> float:
    """Jaro-Winkler in [0.7, 1] stretched to [0, 1]: unrelated short names score about 0.5-0.7."""
    return max(0.0, (jaro_winkler - 0.7) / 0.3)


@lru_cache(maxsize=262144)
def _word_sim(a: str, b: str, role: Literal["g", "s"]) -> float:
    if a == b:
        return 1.0
    x, y = a.replace(" ", ""), b.replace(" ", "")
    if x == y:
        return 1.0
    if _sounds(x) == _sounds(y):
        return 0.95
    core_a, core_b = a.rsplit(" ", 1)[-1], b.rsplit(" ", 1)[-1]
    if core_a == core_b:
        return 0.9  # "de la Cruz" written "Cruz"
    sim = _scaled(JaroWinkler.normalized_similarity(x, y))
    if sim and (x in GIVEN or x in SURNAME) and (y in GIVEN or y in SURNAME):
        sim *= 0.3  # two different names, both common: not a typo
    return sim


def _forms(given: str) -> tuple[str, ...]:
    return (given, *NICKNAMES.get(given, ()))


@lru_cache(maxsize=262144)
def _given_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if len(a) == 1 or len(b) == 1:
        return 0.8 if any(f[0] == a[0] for f in _forms(b)) or any(f[0] == b[0] for f in _forms(a)) else 0.0
    fa, fb = _forms(a), _forms(b)
    if set(fa) & set(fb):
        return 0.95
    return max(_word_sim(x, y, "g") for x in fa for y in fb)


def _surname_sim(a: str, b: str) -> float:
    return _word_sim(a, b, "s")


def _token_sim(a: str, b: str) -> float:
    return max(_given_sim(a, b), _word_sim(a, b, "s"))


def _align(
    a: tuple[str, ...],
    b: tuple[str, ...],
    sim: Callable[[str, str], float],
    *,
    missing: float,
    order: float,
    first: float,
    conflict: float = 0.0,
) -> float:
    """Best average similarity of the shorter list's items to distinct items of the longer one.

    Penalties: ``missing`` per item of the longer list left over, ``order`` when the matched
    items are not in the same order, ``first`` when the shorter list's first item is not matched
    to the longer's first, ``conflict`` when two items that both lists have disagree.
    """
    if len(a) > len(b):
        a, b = b, a
    a, b = a[:4], b[:4]
    best = 0.0
    for perm in permutations(range(len(b)), len(a)):
        sims = [sim(x, b[j]) for x, j in zip(a, perm, strict=True)]
        total = sum(sims) / len(a)
        if len(a) > 1 and min(sims) < 0.5:
            total -= conflict
        if list(perm) != sorted(perm):
            total -= order
        if perm[0] != 0:
            total -= first
        best = max(best, total)
    return max(0.0, best - missing * (len(b) - len(a)))


def _bag(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Greedy matching of all words whatever their order: a guard against a misread name order."""
    if len(a) > len(b):
        a, b = b, a
    pairs = sorted(((_token_sim(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)), reverse=True)
    used_a: set[int] = set()
    used_b: set[int] = set()
    total = 0.0
    for sim, i, j in pairs:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            total += sim
    return max(0.0, total / len(a) - 0.03 * (len(b) - len(a)))


def _words(name: PersonName) -> tuple[str, ...]:
    return tuple(w for part in (*name.given_canonical, *name.surnames) for w in part.split() if w not in PARTICLES)


def name_similarity(a: PersonName, b: PersonName) -> float:
    """How alike two personal names are, in [0, 1]: 1 for the same name, below about 0.5 for two people.

    Forgiven: accents and case, the order of the names, a missing second surname or middle
    name, swapped surnames, a nickname for its given name (Pepe for José), an initial for its
    name, "Delacruz" for "de la Cruz", one typo. Not forgiven: two different common names.
    """
    if not (a.given or a.surnames) or not (b.given or b.surnames):
        return 0.0
    given = (
        _align(a.given_canonical, b.given_canonical, _given_sim, missing=0.04, order=0.1, first=0.15)
        if a.given and b.given
        else None
    )
    surname = (
        _align(a.surnames, b.surnames, _surname_sim, missing=0.04, order=0.05, first=0.08, conflict=0.15)
        if a.surnames and b.surnames
        else None
    )
    if given is not None and surname is not None:
        score = 0.45 * given + 0.55 * surname
    elif surname is not None:
        score = 0.85 * surname
    elif given is not None:
        score = 0.6 * given
    else:
        score = 0.0
    wa, wb = _words(a), _words(b)
    if wa and wb:
        score = max(score, 0.9 * _bag(wa, wb))
    if set(a.aliases) & set(b.aliases):
        score += 0.15 * (1.0 - score)
    return round(min(1.0, max(0.0, score)), 6)
