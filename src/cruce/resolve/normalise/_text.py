"""Folding text for comparison: lower case, no accents, no punctuation, single spaces."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´")
_ASCII_JUNK = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"})


def _strip_marks(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """``"  MARÍA  de la Peña-O'Brien "`` -> ``"maria de la pena obrien"``.

    Lower case (Unicode case folding, so ß -> ss), accents and other marks removed (ñ -> n,
    ü -> u), apostrophes dropped inside words (O'Brien -> obrien), every other character that is
    not a letter or a digit turned into a space, and runs of spaces collapsed. Idempotent.
    """
    text = text.translate(_APOSTROPHES)
    if text.isascii():
        return " ".join(_ASCII_JUNK.sub(" ", text.lower()).split())
    text = _strip_marks(text.casefold()).casefold().translate(_LETTERS)
    text = _strip_marks(text).casefold()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())
