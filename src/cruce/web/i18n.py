"""The language of one request, its translator, and dates and numbers written the way its readers write them.

``cruce.i18n`` chooses one language per process (the CLI's); a web server answers people in
both languages at once, so each request gets its own translator over the same gettext
catalog. The language is, in order: the signed-in user's choice, the ``cruce_lang`` cookie
(set by the switch on every page), the ``Accept-Language`` header, English.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from cruce.i18n import LANGUAGES, catalog

LANG_COOKIE = "cruce_lang"
LOCALES = {"en": "en_US", "es": "es_MX"}
Translator = Callable[[str], str]


def translator(lang: str) -> Translator:
    messages = catalog(lang)

    def gettext(message: str) -> str:
        return messages.get(message, message)

    return gettext


def from_accept_language(header: str | None) -> str | None:
    """The first of cruce's languages in an Accept-Language header, by quality."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()[:2]
        quality = 1.0
        for param in pieces[1:]:
            name, _sep, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag in LANGUAGES and quality > 0:
            choices.append((-quality, i, tag))
    return min(choices)[2] if choices else None


def choose(user_language: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (user_language, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    return from_accept_language(accept) or "en"


def fmt_number(value: float | int | None, lang: str, significant: int | None = None) -> str:
    """A number as the reader's locale writes it; with ``significant``, to that many significant
    digits (a PageRank of 0.0000123 is not 0)."""
    if value is None:
        return ""
    return _formatted(value, lang, significant)


@functools.lru_cache(maxsize=8192)
def _formatted(value: float | int, lang: str, significant: int | None) -> str:
    """Babel's formatting, kept: a search page writes twenty counts, a few microseconds each."""
    pattern = "@" * significant if significant else None
    return str(format_decimal(value, format=pattern, locale=LOCALES.get(lang, "en_US")))


def fmt_datetime(value: datetime | None, lang: str) -> str:
    if value is None:
        return ""
    return str(format_datetime(value, "medium", locale=LOCALES.get(lang, "en_US")))


def fmt_date(value: date | str | None, lang: str) -> str:
    """A date (or an ISO date text, as statements hold them) in the reader's form; other text as is."""
    if value is None or value == "":
        return ""
    day: date
    if isinstance(value, str):
        if len(value) < 10:
            return value
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    elif isinstance(value, datetime):
        day = value.date()
    else:
        day = value
    return str(format_date(day, "medium", locale=LOCALES.get(lang, "en_US")))


def mark(message: str) -> str:
    """Mark a message for the catalog without translating it yet (import it as ``_``); the
    route translates it for the request's language with ``ctx._(message)``."""
    return message
