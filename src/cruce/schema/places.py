"""Countries, and the states of Mexico and the United States, resolved to ISO codes.

Sources write places in English, in Spanish, as codes and with or without accents ("Nuevo León",
"NUEVO LEON", "N.L.", "19"). Every spelling is reduced to a lookup key by :func:`normalize_key`
and matched against key tables built here. The importer joins the same tables in DuckDB with
:data:`KEY_SQL`, so the Python and SQL normalisations must agree character for character; the
tests check that through DuckDB.

A key that would name two different places is dropped rather than guessed: an unresolved value
is visible, a wrongly resolved one is not.
"""

from __future__ import annotations

import csv
import gettext
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

DATA_DIR = Path(__file__).parent / "data"
LANGUAGES = ("en", "es")
STATE_COUNTRIES = ("MX", "US")
KEY_SQL = "trim(regexp_replace(lower(strip_accents({})), '[^a-z0-9]+', ' ', 'g'))"
"""DuckDB twin of :func:`normalize_key`; ``{}`` stands for the SQL expression to normalise."""

_NON_KEY = re.compile(r"[^a-z0-9]+")

# Priority of a country key's source, lowest first. A key claimed by two countries at the same
# priority is dropped; a higher-priority source overrides a lower one (e.g. the hand alias
# "Korea" → KR beats "Korea" cut from both "Korea, Republic of" and "Korea, Democratic ...").
_HAND, _ISO, _DERIVED = 0, 1, 2


# Display names where pycountry offers only a formal or inverted "Name, qualifier" form.
_DISPLAY: dict[str, tuple[str, str]] = {
    "CD": ("Democratic Republic of the Congo", "República Democrática del Congo"),
    "PS": ("Palestine", "Palestina"),
    "KM": ("Comoros", "Comoras"),
    "RU": ("Russia", "Rusia"),
}

# "Korea, Republic of" → "Republic of Korea": only tails that read as a prefix are turned round.
_INVERTIBLE_TAIL = re.compile(r"(?:\bof(?: the)?|\bde(?:l| la| las| los)?|\bIslas)$", re.IGNORECASE)


def normalize_key(text: str) -> str:
    """The lookup key of ``text``: no accents, lower case, runs of anything but a–z/0–9 → one space.

    Accents go by Unicode NFD and dropping every mark (categories Mn, Mc, Me), which is what
    DuckDB's ``strip_accents`` does, so "ñ" → "n". Letters without a decomposition (ß, ø, æ, ł,
    đ, þ) are not transliterated by either side: they become a space, e.g. "Straße" → "stra e".
    """
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.category(ch).startswith("M"))
    return _NON_KEY.sub(" ", bare.lower()).strip(" ")


def normalize_sql(expression: str) -> str:
    """The DuckDB expression giving :func:`normalize_key` of the SQL ``expression``."""
    return KEY_SQL.format(expression)


def _unique(pairs: Iterable[tuple[str, str, int]]) -> tuple[dict[str, str], set[str]]:
    """Keys → code, keeping for each key its highest-priority source; ties between codes drop it."""
    claims: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, code, tier in pairs:
        if key:
            claims[key][tier].add(code)
    found: dict[str, str] = {}
    dropped: set[str] = set()
    for key, tiers in claims.items():
        codes = tiers[min(tiers)]
        if len(codes) == 1:
            found[key] = next(iter(codes))
        else:
            dropped.add(key)
    return found, dropped


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _aliases(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split(";") if a.strip())


# --- countries -------------------------------------------------------------------------------


@cache
def _spanish_countries() -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["es"])


def _country(code: str) -> Any:
    country = pycountry.countries.get(alpha_2=code.upper())
    if country is None:
        raise KeyError(f"unknown ISO 3166-1 alpha-2 country code: {code!r}")
    return country


def _derived(name: str) -> list[str]:
    """Shorter forms of a pycountry name: before its comma, turned round, without parentheses."""
    forms = []
    unbracketed = re.sub(r"\s*\([^)]*\)", "", name).strip()
    if unbracketed != name:
        forms.append(unbracketed)
    head, sep, tail = unbracketed.partition(", ")
    if sep:
        forms.append(head)
        if _INVERTIBLE_TAIL.search(tail):
            forms.append(f"{tail} {head}")
    return forms


@cache
def _country_aliases() -> dict[str, tuple[str, ...]]:
    """Hand-kept spellings (data/country_aliases.csv) common in border, migration and trafficking
    records that pycountry lacks, or yields only ambiguously ("Korea"), by alpha-2 code."""
    return {r["alpha2"]: _aliases(r["aliases"]) for r in _read_csv("country_aliases.csv")}


def _country_candidates() -> list[tuple[str, str, int]]:
    """Every (text, alpha-2 code, priority) the country keys are built from."""
    spanish = _spanish_countries()
    out: list[tuple[str, str, int]] = []
    for country in pycountry.countries:
        code = str(country.alpha_2)
        out += [(code, code, _ISO), (str(country.alpha_3), code, _ISO)]
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if not name:
                continue
            for text in (str(name), spanish.gettext(str(name))):
                out.append((text, code, _ISO))
                out += [(form, code, _DERIVED) for form in _derived(text)]
    for code, aliases in _country_aliases().items():
        out += [(alias, code, _HAND) for alias in aliases]
    return out


@cache
def _country_index() -> tuple[dict[str, str], frozenset[str]]:
    found, dropped = _unique((normalize_key(text), code, tier) for text, code, tier in _country_candidates())
    return found, frozenset(dropped)


def country_keys() -> list[tuple[str, str]]:
    """(key, ISO 3166-1 alpha-2 code) pairs, each key once, sorted: the importer's country table."""
    return sorted(_country_index()[0].items())


def dropped_country_keys() -> frozenset[str]:
    """Keys left out because equally good sources give them to two countries."""
    return _country_index()[1]


def lookup_country(text: str) -> str | None:
    """The alpha-2 code ``text`` names (a name in English or Spanish, or a code), else ``None``."""
    return _country_index()[0].get(normalize_key(text))


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")


def country_name(code: str, lang: str = "en") -> str:
    """The everyday name of a country ("South Korea", not "Korea, Republic of") in ``lang``."""
    _check_lang(lang)
    country = _country(code)
    if str(country.alpha_2) in _DISPLAY:
        return _DISPLAY[str(country.alpha_2)][LANGUAGES.index(lang)]
    names = [getattr(country, "common_name", None), country.name, getattr(country, "official_name", None)]
    if lang == "es":
        names = [_spanish_countries().gettext(str(n)) if n else None for n in names]
    plain = [str(n) for n in names if n and "," not in str(n)]
    return plain[0] if plain else str(names[1])


# --- states ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """A first-level subdivision: a Mexican federal entity, a US state, DC or Puerto Rico."""

    iso: str
    country: str
    name_en: str
    name_es: str
    inegi: str | None = None
    fips: str | None = None
    usps: str | None = None
    aliases: tuple[str, ...] = ()


@cache
def _all_states() -> tuple[State, ...]:
    mexico = [
        State(r["iso"], "MX", r["name_en"], r["name_es"], inegi=r["inegi"], aliases=_aliases(r["aliases"]))
        for r in _read_csv("mx_states.csv")
    ]
    usa = [
        State(
            r["iso"],
            "US",
            r["name_en"],
            r["name_es"],
            fips=r["fips"],
            usps=r["usps"],
            aliases=_aliases(r["aliases"]),
        )
        for r in _read_csv("us_states.csv")
    ]
    return tuple(mexico + usa)


def states(country: str | None = None) -> list[State]:
    """The states of ``country`` ("MX" or "US"; any other code has none here), or all of them."""
    wanted = country.upper() if country else None
    return [s for s in _all_states() if wanted in (None, s.country)]


def _state(code: str) -> State:
    for state in _all_states():
        if state.iso == code.upper():
            return state
    raise KeyError(f"unknown state code: {code!r}")


def state_name(code: str, lang: str = "en") -> str:
    """The name of the state with ISO 3166-2 ``code`` in ``lang``."""
    _check_lang(lang)
    state = _state(code)
    return state.name_es if lang == "es" else state.name_en


def _state_texts(state: State) -> list[str]:
    """Names, aliases and ISO codes: spellings that may identify a state without its country."""
    return [state.name_en, state.name_es, *state.aliases, state.iso, state.iso.partition("-")[2]]


def _state_codes(state: State) -> list[str]:
    """Numeric and postal codes: they identify a state only once the country is known."""
    codes = [c for c in (state.inegi, state.fips, state.usps) if c]
    return codes + [c.lstrip("0") for c in codes if c.startswith("0")]


@cache
def _state_index() -> tuple[dict[tuple[str | None, str], str], frozenset[tuple[str | None, str]]]:
    table: dict[tuple[str | None, str], str] = {}
    dropped: set[tuple[str | None, str]] = set()
    for country in STATE_COUNTRIES:
        found, lost = _unique(
            (normalize_key(text), s.iso, 0) for s in states(country) for text in _state_texts(s) + _state_codes(s)
        )
        table.update(((country, key), code) for key, code in found.items())
        dropped.update((country, key) for key in lost)
    # Without a country only names and ISO codes count, and not those that also name Mexico or
    # the United States themselves ("México", "MEX"): a bare "México" may well mean the country.
    countries = _country_index()[0]
    found, lost = _unique((normalize_key(text), s.iso, 0) for s in _all_states() for text in _state_texts(s))
    for key, code in found.items():
        if key.isdigit() or countries.get(key) in STATE_COUNTRIES:
            dropped.add((None, key))
        else:
            table[None, key] = code
    dropped.update((None, key) for key in lost)
    return table, frozenset(dropped)


def state_keys() -> list[tuple[str | None, str, str]]:
    """(country or ``None``, key, ISO 3166-2 code) rows: the importer's state table.

    Rows with a country hold every spelling of its states, INEGI/FIPS codes with and without
    the leading zero and USPS codes included. Rows with ``None`` hold only spellings that name
    one state across both countries ("sonora", "us tx"), never bare numbers.
    """
    rows = [(country, key, code) for (country, key), code in _state_index()[0].items()]
    return sorted(rows, key=lambda r: (r[0] or "", r[1]))


def dropped_state_keys() -> frozenset[tuple[str | None, str]]:
    """(country or ``None``, key) pairs left out as ambiguous, such as (None, "mich")."""
    return _state_index()[1]


def lookup_state(text: str, country: str | None = None) -> str | None:
    """The ISO 3166-2 code ``text`` names, within ``country`` (alpha-2) when given, else ``None``.

    With a country, a state of the other country is not returned: "Texas" in "MX" is ``None``.
    """
    return _state_index()[0].get((country.upper() if country else None, normalize_key(text)))
