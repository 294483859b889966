"""Firearm serial numbers as clerks copy them: case, separators, look-alike characters, partial reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOOKALIKES = str.maketrans("OQDILSBZG", "000115826")
_OBLITERATED = re.compile(
    r"\b(?:obliterated|obliterado|limad[oa]|borrad[oa]|raspad[oa]|erased|defaced|ground\s+off|removed|"
    r"filed(?:\s+off)?|destruido|alterad[oa]|altered)\b",
    re.IGNORECASE,
)
_PARTIAL_WORDS = re.compile(r"\b(?:partial|parcial|incomplet|illegible|ilegible)\w*", re.IGNORECASE)
_NONE = re.compile(
    r"^\s*(?:none|n/?a|unknown|desconocido|sin\s+(?:n[uú]mero|serie)|no\s+serial|s/n|sn|no|yes|s[ií])\s*$",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(?:s/n|sn|serial(?:\s+(?:no|number|num))?|ser\.?\s*no|no\.?|n[uú]m\.?|#)\s*[:.#]?\s+", re.I)
_KEEP = re.compile(r"[^A-Z0-9*?]")


@dataclass(frozen=True, slots=True)
class SerialNumber:
    value: str  # upper case, separators removed; '?' stands for one unreadable character, '*' for several
    lookalike_key: str  # value with O->0, Q/D->0, I/L->1, S->5, B->8, Z->2, G->6
    partial: bool  # some characters unreadable or missing
    obliterated: bool  # the record says the serial was filed off or defaced


def normalise_serial(text: str) -> SerialNumber:
    """``"sn: ab-12 o4"`` -> value ``"AB12O4"``, lookalike key ``"A812040"``... see docs/reference/normalisers.md."""
    obliterated = bool(_OBLITERATED.search(text))
    partial_word = bool(_PARTIAL_WORDS.search(text))
    if _NONE.match(text):
        text = ""
    text = _OBLITERATED.sub(" ", _PARTIAL_WORDS.sub(" ", text))
    text = _LABEL.sub("", text).upper().replace("_", "?")
    value = _KEEP.sub("", text)
    value = re.sub(r"\*+", "*", value)
    partial = partial_word or obliterated or "*" in value or "?" in value or len(value) < 4
    return SerialNumber(value, value.translate(_LOOKALIKES), partial, obliterated)


def _wildcard(pattern: str, other: str) -> bool:
    regex = "".join("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, other) is not None


def serials_match(a: SerialNumber, b: SerialNumber) -> float:
    """How likely two serials are the same gun's, in [0, 1].

    1.0 the same characters; 0.9 the same once look-alike characters are folded (O/0, I/1...);
    0.85 one is the other with its last character dropped; for a partial read, 0.5-0.85 when its
    readable characters agree with the other as a wildcard pattern, a prefix or a suffix (more
    for more characters); 0.0 otherwise, and when either has no characters at all.
    """
    if not a.value or not b.value:
        return 0.0
    if a.value == b.value:
        return 1.0 if not (a.partial or b.partial) or len(a.value.strip("*?")) >= 4 else 0.7
    ka, kb = a.lookalike_key, b.lookalike_key
    if ka == kb:
        return 0.9
    short, long_ = (ka, kb) if len(ka.strip("*")) <= len(kb.strip("*")) else (kb, ka)
    if "*" not in ka + kb and "?" not in ka + kb and len(short) == len(long_) - 1 >= 4 and long_.startswith(short):
        return 0.85
    if any(ch in "*?" for ch in ka + kb):
        pattern, other = (ka, kb) if any(ch in "*?" for ch in ka) else (kb, ka)
        known = len(pattern.replace("*", "").replace("?", ""))
        if known < 3 or "*" in other or "?" in other or not _wildcard(pattern, other):
            return 0.0
        return round(0.5 + 0.35 * min(known / len(other), 1.0), 6)
    if len(short) >= 3 and (a.partial or b.partial) and (long_.startswith(short) or long_.endswith(short)):
        return round(0.5 + 0.35 * len(short) / len(long_), 6)
    if len(short) >= 4 and (long_.startswith(short) or long_.endswith(short)):
        return round(0.4 + 0.3 * len(short) / len(long_), 6)  # shorter, though not said to be partial
    return 0.0
