"""From a query word to the terms it matches, each with the rule that matched and a weight.

The vocabulary is held in memory (one copy per store and process, renewed when the index
changes), so expansion costs no query and runs the same for DuckDB and PostgreSQL. Rules, best
first:

- **exact**: the term is the word (accents and case aside);
- **stem**: the same Spanish or English stem (``traficantes`` → ``traficante``, ``guns`` → ``gun``),
  matched in free text only: stemming names would make María and Mario one name;
- **variant**: the same name by the resolution normalisers: a nickname and its name (Pepe and
  José, Ma. and María), a surname glued to its particle (Delacruz and de la Cruz);
- **fuzzy**: one typo (a letter changed, added or dropped, or two swapped) in a word of four letters
  or more, two from nine letters on — but never two different common names (Mario is not a typo
  of María; the resolution lexicon knows both);
- **prefix**: a word with a digit matches the terms it starts (a partial serial number).

A word's weight is the rule's times the word's rarity (inverse document frequency), in
integers so that both backends add scores up exactly alike.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

# the resolution lexicon: what a nickname stands for, and which words are known names
from cruce.resolve.normalise import GIVEN_NAMES as GIVEN
from cruce.resolve.normalise import NICKNAMES, parse_person_name
from cruce.resolve.normalise import SURNAMES as SURNAME
from cruce.search.grams import PairIndex
from cruce.search.text import Word

if TYPE_CHECKING:
    from cruce.security.db import AppDB

Rule = Literal["exact", "stem", "variant", "fuzzy", "prefix"]
RULE_WEIGHT: dict[Rule, int] = {"exact": 100, "stem": 80, "variant": 70, "fuzzy": 50, "prefix": 40}
FUZZY_FAR = 35  # the weight of a match two edits away
# A particle (de, la, del, los, y…) that the query has beside other words counts a fifth of a word:
# "de" and "los" are in a tenth of all names, and two of them outweighed a surname the name lacked
# ("Abel De Los Reyes" above "Abel Nava Delosreyes" for "Abel Nava de los Reyes").
PARTICLE_SHARE = 0.2
MAX_PER_RULE = 25
FUZZY_MIN_LENGTH = (4, 9)  # one edit from four letters, two from nine
PREFIX_MIN_LENGTH = 3

_REVERSE_NICKNAMES: dict[str, set[str]] = defaultdict(set)
for _nick, _names in NICKNAMES.items():
    for _name in _names:
        _REVERSE_NICKNAMES[_name].add(_nick)
_PAIRS_LOCK = threading.Lock()
_KNOWN_NAMES = frozenset(GIVEN) | frozenset(SURNAME)
_GLUED = ("delos", "delas", "dela", "del", "de")


def _glued_surname(term: str) -> str | None:
    """The surname in a term written with its particles glued on ("delacruz" → "cruz"), if any."""
    for glued in _GLUED:
        rest = term[len(glued) :]
        if term.startswith(glued) and len(rest) >= 3 and rest in SURNAME:
            return rest
    return None


@dataclass(frozen=True)
class Match:
    """A term a query word matches, how, and what it adds to an entity's score."""

    term_id: int
    term: str
    rule: Rule
    weight: int
    distance: int = 0

    @property
    def text_only(self) -> bool:
        return self.rule == "stem"


@dataclass(frozen=True)
class Expanded:
    word: Word
    matches: tuple[Match, ...]


@dataclass
class Vocabulary:
    """Every term of the index, with what expansion needs to find terms near a word."""

    terms: list[str] = field(default_factory=list)  # term_id - 1 → term
    ids: dict[str, int] = field(default_factory=dict)
    df: list[int] = field(default_factory=list)
    entities: int = 0
    stems: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_length: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    ordered: list[str] = field(default_factory=list)  # sorted, for prefixes
    glued: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # "cruz" → ["delacruz"]
    _pairs: PairIndex | None = None  # letter pairs → terms, made on the first fuzzy lookup after a change

    def add(self, rows: list[tuple[int, str]]) -> None:
        """Append terms numbered after the last one held (the index numbers terms densely)."""
        if not rows:
            return
        spanish, english = Stemmer.Stemmer("spanish"), Stemmer.Stemmer("english")
        texts = [t for _n, t in rows]
        for (number, term), es, en in zip(rows, spanish.stemWords(texts), english.stemWords(texts), strict=True):
            if number != len(self.terms) + 1:
                raise ValueError(f"term {number} out of order")
            self.terms.append(term)
            self.ids[term] = number
            self.df.append(0)
            self.stems["es:" + es].append(number)
            if en != es:
                self.stems["en:" + en].append(number)
            self.by_length[len(term)].append(term)
            core = _glued_surname(term)
            if core:
                self.glued[core].append(term)
        self.ordered = sorted(self.ordered + texts) if self.ordered else sorted(texts)
        if self._pairs is not None:  # made again here, by the request that adds the terms: made at
            self._pairs = PairIndex.build(self.terms)  # the next lookup, every search waited for it

    # -- rules ----------------------------------------------------------------------------------
    def _stems(self, word: str) -> set[int]:
        es = Stemmer.Stemmer("spanish").stemWord(word)
        en = Stemmer.Stemmer("english").stemWord(word)
        return {*self.stems.get("es:" + es, ()), *self.stems.get("en:" + en, ()), *self.stems.get("es:" + en, ())}

    def _variants(self, word: str) -> set[str]:
        forms = {word, *NICKNAMES.get(word, ())}
        for form in list(forms):
            forms |= _REVERSE_NICKNAMES.get(form, set())
        if len(word) > 4 and word.startswith("de"):  # "delacruz": the surname after its particles
            for surname in parse_person_name(word).surnames:
                if " " in surname:
                    forms.add(surname.rsplit(" ", 1)[-1])
        forms.update(self.glued.get(word, ()))
        forms.discard(word)
        return {f for f in forms if f in self.ids}

    def _fuzzy(self, word: str) -> list[tuple[str, int]]:
        near, far = FUZZY_MIN_LENGTH
        if len(word) < near:
            return []
        most = 2 if len(word) >= far else 1
        with _PAIRS_LOCK:
            if self._pairs is None:
                self._pairs = PairIndex.build(self.terms)
            pairs = self._pairs
        shortlist = pairs.candidates(word, most)
        if shortlist is None:  # the word is too short for letter pairs to rule terms out
            groups = [self.by_length.get(n) or [] for n in range(len(word) - most, len(word) + most + 1)]
        else:
            groups = [shortlist]
        found: list[tuple[str, int]] = []
        for choices in groups:
            for term, distance, _i in process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=most, limit=None
            ):
                if distance and not (word in _KNOWN_NAMES and term in _KNOWN_NAMES):
                    found.append((term, int(distance)))
        return found

    def _prefixed(self, word: str) -> list[str]:
        if len(word) < PREFIX_MIN_LENGTH or not any(ch.isdigit() for ch in word):
            return []
        at = bisect.bisect_right(self.ordered, word)
        found: list[str] = []
        while at < len(self.ordered) and self.ordered[at].startswith(word) and len(found) < 10 * MAX_PER_RULE:
            found.append(self.ordered[at])
            at += 1
        return found

    # -- a word -----------------------------------------------------------------------------------
    def _df(self, term: str) -> int:
        return self.df[self.ids[term] - 1]

    def _rarity(self, df: int) -> float:
        total = max(self.entities, df, 1)
        return math.log(1 + (total - df + 0.5) / (df + 0.5))

    def _best(self, terms: list[str]) -> list[str]:
        """At most ``MAX_PER_RULE`` of ``terms``: the most frequent first (the likelier meant)."""
        return sorted(terms, key=lambda t: (-self._df(t), t))[:MAX_PER_RULE]

    def expand(self, word: Word) -> Expanded:
        """The terms ``word`` matches, each once under its best rule — and once more as a stem.

        A stem matches free text only, so a term that shares the word's stem may also match
        names under another rule (``franciscoo`` is a stem of ``francisco`` and a typo of it).
        """
        text = word.text
        found: dict[str, tuple[Rule, int]] = {}
        if text in self.ids:
            found[text] = ("exact", 0)
        for term in self._best(sorted(self._variants(text))):
            found.setdefault(term, ("variant", 0))
        fuzzy = sorted(self._fuzzy(text), key=lambda pair: (pair[1], -self._df(pair[0]), pair[0]))
        for term, distance in fuzzy[:MAX_PER_RULE]:
            found.setdefault(term, ("fuzzy", distance))
        for term in self._best(self._prefixed(text)):
            found.setdefault(term, ("prefix", 0))
        stems = [t for t in self._best([self.terms[n - 1] for n in self._stems(text)]) if t != text]
        if not found and not stems:
            return Expanded(word, ())
        rarity = self._rarity(self._word_df(text, found, stems))
        pairs = [*found.items(), *((t, ("stem", 0)) for t in stems)]
        matches = []
        for term, (rule, distance) in pairs:
            base = FUZZY_FAR if rule == "fuzzy" and distance > 1 else RULE_WEIGHT[rule]
            share = 1.0 if word.required else PARTICLE_SHARE
            weight = max(1, round(base * rarity * 10 * share))
            matches.append(Match(self.ids[term], term, rule, weight, distance))
        return Expanded(word, tuple(sorted(matches, key=lambda m: (-m.weight, m.term, m.rule))))

    def _word_df(self, text: str, found: dict[str, tuple[Rule, int]], stems: list[str]) -> int:
        """How common the word is: its own term's count, else that of its commonest near term."""
        if text in self.ids:
            return self._df(text)
        near = [t for t, (rule, _d) in found.items() if rule != "prefix"] + stems
        return max((self._df(t) for t in near), default=0)


# -- one vocabulary per store, renewed when the index changes -------------------------------------
_CACHE: dict[str, tuple[tuple[int, ...], Vocabulary]] = {}
_CACHE_LOCK = threading.Lock()


def held_vocabulary(url: str, first_run: int) -> Vocabulary | None:
    """The vocabulary this process holds for a store, of whatever generation, when it numbers the
    terms as the index of ``first_run`` does (no reindex since). Read without the lock: a request
    does not wait for another making the vocabulary again."""
    held = _CACHE.get(url)
    return held[1] if held is not None and held[0][4] == first_run else None


def vocabulary(db: AppDB, key: tuple[int, ...]) -> Vocabulary:
    """The store's vocabulary as the index holds it now: new terms appended, all again after a reindex.

    ``key`` is the index's generation (``cruce.search.terms.IndexState.generation``): imports
    indexed, the newest, entities, terms, and the first catch-up since the last reindex. While one
    request adds an import's terms, the others search with the vocabulary as it was.
    """
    if not _CACHE_LOCK.acquire(blocking=False):
        held = _CACHE.get(db.store.url)
        if held is not None and held[0][4] == key[4]:  # another request is adding new terms (numbered
            return held[1]  # as these are): search with the terms known
        _CACHE_LOCK.acquire()
    try:
        held = _CACHE.get(db.store.url)
        if held is not None and held[0] == key:
            return held[1]
        same_numbers = held is not None and held[0][4] == key[4] and key[3] >= len(held[1].terms)
        vocab = held[1] if held is not None and same_numbers else Vocabulary()
        rows = db.fetch("SELECT term_id, term FROM search_term WHERE term_id > ? ORDER BY term_id", (len(vocab.terms),))
        vocab.add([(int(r[0]), str(r[1])) for r in rows])
        for number, count in db.fetch("SELECT term_id, df FROM search_term"):
            vocab.df[int(number) - 1] = int(count)
        vocab.entities = key[2]
        _CACHE[db.store.url] = (key, vocab)
        return vocab
    finally:
        _CACHE_LOCK.release()
