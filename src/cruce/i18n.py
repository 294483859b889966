"""Messages in the user's language (English or Spanish) from gettext catalogs.

The Spanish catalog is a ``.po`` file read with Babel at first use, so no compiled ``.mo`` file
has to be built or committed. The language comes from ``--lang``, else ``CRUCE_LANG``, else the
locale (``LC_ALL``/``LANG``), else English.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("en", "es")
LOCALE_DIR = Path(__file__).parent / "locale"
_current: list[str] = []


def _from_environment() -> str:
    for var in ("CRUCE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value[:2].lower() in LANGUAGES:
            return value[:2].lower()
    return "en"


def set_language(lang: str | None) -> str:
    """Choose the language of messages for this process; ``None`` means from the environment."""
    chosen = (lang or _from_environment())[:2].lower()
    if chosen not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {lang!r}")
    _current[:] = [chosen]
    return chosen


def current_language() -> str:
    if not _current:
        set_language(None)
    return _current[0]


@cache
def catalog(lang: str) -> dict[str, str]:
    """The translated messages of ``lang`` (empty for English, the source language)."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "cruce.po"
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as fh:
        po = read_po(fh)
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


def gettext(message: str) -> str:
    """Translate ``message`` into the current language; untranslated text stays as written."""
    return catalog(current_language()).get(message, message)


_ = gettext


def mark(message: str) -> str:
    """Mark a message for the catalog without translating it (import it as ``_``): for text kept
    in the database in English (a job's progress) and translated for each reader when shown."""
    return message
