"""Who, which phone and where a free text names: the mentions that link a tip, a note or an ad to
the records already in cruce.

- **Phones**: found by ``phonenumbers``' matcher (Mexican and US numbers, any layout), each
  normalised to E.164 as cruce stores phones (``resolve.normalise``), so a tip's "656 123 4567"
  finds the record that has "+526561234567".
- **Places**: the Mexican and US states (their names in both languages and their aliases, from
  cruce's state list) and the border cities of ``border_places.yaml``, matched accent- and
  case-blind on word boundaries.
- **People**: two to six capitalised words in a row (particles such as "de", "del", "la" allowed
  inside), not a place and not a capitalised common word ("El", "Hay", "The"…); and a nickname
  after "alias", "apodo", "le dicen", "named", "called", "goes by".

These are candidates, not identifications. ``cruce.web.pages_tips`` asks the guard's search for
the records each mention may be (the search matches name variants and typos, and only records the
reader may see), and the analyst links a tip to a record by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import phonenumbers

from cruce.resolve.normalise import normalise_phone
from cruce.schema import places
from cruce.yaml_loader import safe_load

KINDS = ("person", "phone", "place")
_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "da", "van", "von", "san"})
_WORD = r"[A-ZÁÉÍÓÚÑÜ][a-záéíóúñü'’]+"
_NAME = re.compile(rf"\b{_WORD}(?:\s+(?:(?:de|del|la|las|los|y)\s+){{0,2}}{_WORD}){{1,5}}\b")
_NICKNAME = re.compile(
    r"\b(?:alias|apodo|apodado|le dicen|le apodan|named|called|goes by|a\.?k\.?a\.?)\s+"
    r"[\"“']?((?:(?:El|La|Los|Las|The)\s+)?[A-ZÁÉÍÓÚÑ][\wáéíóúñü'’-]+)",
    re.IGNORECASE,
)
_PLACES_FILE = Path(__file__).with_name("border_places.yaml")
_COUNTRIES = frozenset({"mexico", "estados unidos", "united states"})


@dataclass(frozen=True)
class Mention:
    """One thing a text names: its kind, the words as written and where (``start``/``end`` in the
    text), and ``value``, what it is searched by (E.164 for a phone, the place's name or code)."""

    kind: str
    text: str
    start: int
    end: int
    value: str


def mentions(text: str) -> list[Mention]:
    """Phones, places and people a text names, in the order they appear (overlaps dropped: a
    phone or a place is not also a person)."""
    found = [*_phones(text), *_places(text)]
    for candidate in sorted(_people(text), key=lambda m: m.start - m.end):  # the longest first
        person = _before_others(text, candidate, found)
        if person is not None and not any(person.start < m.end and m.start < person.end for m in found):
            found.append(person)
    unique: dict[tuple[str, str], Mention] = {}
    for mention in sorted(found, key=lambda m: (m.start, m.kind)):
        unique.setdefault((mention.kind, mention.value.casefold()), mention)
    return list(unique.values())


def _before_others(text: str, person: Mention, found: list[Mention]) -> Mention | None:
    """The person's name up to the first place or phone inside it ("Juan Pérez de Nuevo Laredo"
    → "Juan Pérez"), if two words of it are left."""
    inside = [m.start for m in found if person.start < m.start < person.end]
    if not inside:
        return person
    words = text[person.start : min(inside)].split()
    while words and words[-1].casefold() in _PARTICLES:
        words.pop()
    if len([w for w in words if w.casefold() not in _PARTICLES]) < 2:
        return None
    name = " ".join(words)
    return Mention("person", name, person.start, person.start + len(name), name)


_DIGITS = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{6,}\d(?!\w)")


def _phones(text: str) -> Iterator[Mention]:
    """phonenumbers' matcher (Mexican, then US reading), then runs of digits it passed over that
    cruce's normaliser still reads (the old Mexican forms "+52 1 …", "044 …")."""
    seen: list[tuple[int, int]] = []
    candidates = [
        (m.start, m.end, m.raw_string, r) for r in ("MX", "US") for m in phonenumbers.PhoneNumberMatcher(text, r)
    ]
    candidates += [(m.start(), m.end(), m.group(0), "MX") for m in _DIGITS.finditer(text)]
    for start, end, raw, region in candidates:
        number = normalise_phone(raw, region)
        if number and not any(start < e and s < end for s, e in seen):
            seen.append((start, end))
            yield Mention("phone", raw, start, end, number)


@cache
def _places_file() -> dict[str, list[str]]:
    return dict(safe_load(_PLACES_FILE.read_text(encoding="utf-8")))


@cache
def _place_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, what the place is called) for the states and the border cities, longest first."""
    names: dict[str, str] = {}
    for state in places.states():
        for name in (state.name_en, state.name_es, *state.aliases):
            key = places.normalize_key(name)
            # "BC", "Ags." would match too much; "México" the state would also be every "Mexico"
            if len(name) > 3 and not name.isupper() and key not in _COUNTRIES:
                names.setdefault(key, state.name_es)
    for city in _places_file()["cities"]:
        names.setdefault(places.normalize_key(city), city)
    ordered = sorted(names.items(), key=lambda pair: -len(pair[0]))
    return tuple((re.compile(rf"(?<!\w){re.escape(key)}(?!\w)"), shown) for key, shown in ordered)


def _places(text: str) -> Iterator[Mention]:
    folded = _fold_keeping_length(text)
    taken: list[tuple[int, int]] = []
    for pattern, shown in _place_patterns():
        for match in pattern.finditer(folded):
            if _inside_a_name(text, match.start()):
                continue
            if not any(match.start() < e and s < match.end() for s, e in taken):
                taken.append((match.start(), match.end()))
                yield Mention("place", text[match.start() : match.end()], match.start(), match.end(), shown)


def _inside_a_name(text: str, start: int) -> bool:
    """A lower-case place after "de" is part of a name: "María de los Ángeles" is not Los Angeles."""
    return text[start].islower() and text[:start].rstrip().casefold().endswith((" de", " del"))


def _fold_keeping_length(text: str) -> str:
    """Lower case without accents, one character for one (so spans point into the original)."""
    out = []
    for char in text:
        key = places.normalize_key(char)
        out.append(key if len(key) == 1 else char.lower())
    return "".join(out)


@cache
def _common_words() -> frozenset[str]:
    return frozenset(str(w).casefold() for w in _places_file()["not_names"])


def _people(text: str) -> Iterator[Mention]:
    common = _common_words()
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0].casefold() in common:  # "Hay Juan Pérez" → "Juan Pérez"
            words = words[1:]
        core = [w for w in words if w.casefold() not in _PARTICLES]
        if len(core) >= 2 and not any(w.casefold() in common for w in core):
            name = " ".join(words)
            start = match.start() + match.group(0).index(words[0])
            yield Mention("person", name, start, start + len(name), name)
    for match in _NICKNAME.finditer(text):
        nickname = match.group(1)
        if nickname.casefold() not in common:
            yield Mention("person", nickname, match.start(1), match.end(1), nickname)
