"""Which terms could be a typo of a word: the letter pairs they share, counted with numpy.

Comparing a word with every term of near length (``rapidfuzz``'s OSA distance over some 100,000
terms of each length at a million entities) took 16 ms a word; a query of three words spent more
there than everywhere else. Most of those terms share almost no letter pair with the word. The
index here lists, for each pair of adjacent letters (the word's ends marked, so ``^m`` and
``a$`` count), the terms holding it; a word's candidates are the terms that share enough of its
pairs, and only those are measured with ``rapidfuzz`` as before — so the typos found are the
same, only found sooner.

Enough is the q-gram lemma for adjacent transpositions: one edit (a letter changed, added or
dropped, or two letters swapped) removes at most three of a word's letter pairs, so a term within
``k`` edits shares at least ``pairs - 3k`` of them. Where that bound says nothing (a word too
short for it), the caller compares with every term of near length, as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 32  # longer terms (identifiers, mostly) are not indexed: their words are compared as before
_START, _END = "\x01", "\x02"
_SHIFT = 21  # a code point fits in 21 bits


@dataclass(frozen=True)
class PairIndex:
    terms: Sequence[str]  # as numbered by the index (term i at position i)
    lengths: np.ndarray  # term -> its length (MAX_LENGTH + 1 when not indexed)
    keys: np.ndarray  # the distinct letter pairs, sorted (two code points in one integer)
    starts: np.ndarray  # pair -> first row of its terms in ``holders`` (CSR)
    holders: np.ndarray  # term numbers, grouped by pair

    @classmethod
    def build(cls, terms: Sequence[str]) -> PairIndex:
        n = len(terms)
        lengths = np.fromiter((len(t) if len(t) <= MAX_LENGTH else MAX_LENGTH + 1 for t in terms), np.int32, n)
        marked = [_START + t + _END if len(t) <= MAX_LENGTH else "" for t in terms]
        width = MAX_LENGTH + 2
        codes = np.array(marked, dtype=f"<U{width}").view(np.uint32).reshape(n, width).astype(np.int64)
        pairs = (codes[:, :-1] << _SHIFT) | codes[:, 1:]
        rows, cols = np.nonzero(codes[:, 1:])  # a pair ends on a letter or the end mark, never on padding
        keys, gram = np.unique(pairs[rows, cols], return_inverse=True)
        distinct = np.unique(gram.astype(np.int64) * max(n, 1) + rows)  # (pair, term) once each, by pair
        by_pair, holders = distinct // max(n, 1), (distinct % max(n, 1)).astype(np.int32)
        starts = np.searchsorted(by_pair, np.arange(keys.size + 1), side="left").astype(np.int64)
        return cls(tuple(terms), lengths, keys, starts, holders)  # its own copy: the vocabulary grows

    def candidates(self, word: str, edits: int) -> list[str] | None:
        """Terms within ``edits`` letters of the word's length sharing enough of its letter pairs,
        or None when the bound cannot rule any term out (compare with all of near length)."""
        marked = _START + word + _END
        wanted = np.array(sorted({(ord(a) << _SHIFT) | ord(b) for a, b in itertools.pairwise(marked)}))
        need = wanted.size - 3 * edits
        if need <= 0 or len(word) + edits > MAX_LENGTH:
            return None
        at = np.searchsorted(self.keys, wanted)
        at = at[(at < self.keys.size) & (self.keys[np.minimum(at, self.keys.size - 1)] == wanted)]
        if at.size < need:
            return []
        held = np.concatenate([self.holders[self.starts[g] : self.starts[g + 1]] for g in at])
        shared = np.bincount(held, minlength=len(self.terms))
        near = (self.lengths >= len(word) - edits) & (self.lengths <= len(word) + edits)
        return [self.terms[int(i)] for i in np.flatnonzero((shared >= need) & near)]
