"""Regenerate cruce's message template and merge new messages into the Spanish catalog.

Every user-facing message in ``src/cruce`` is written in English and marked ``_("...")`` (see
``cruce.i18n``). This script, run from anywhere with the project's environment::

    .venv/bin/python scripts/extract_messages.py           # rewrite cruce.pot, merge into cruce.po
    .venv/bin/python scripts/extract_messages.py --check   # write nothing; exit 1 if out of date

1. extracts every ``_()``/``gettext()`` message of the files that ``babel.cfg`` names, and of
   the web pages' Jinja2 templates (``src/cruce/web/templates/**.html``, with Jinja2's own Babel
   extractor: ``{{ _("...") }}`` and ``{% trans %}``), plus the reject reasons of
   ``cruce.ingest.compile.REASONS`` (translated at display with ``_(REASONS[code])``, so no
   extractor can see them), into ``src/cruce/locale/cruce.pot`` (made anew each time, not kept in
   git: the catalog below is what translators keep);
2. merges that template into ``src/cruce/locale/es/LC_MESSAGES/cruce.po`` with Babel's
   ``Catalog.update``: existing translations are kept, new messages get an empty ``msgstr``
   (or, when a similar old message exists, its translation flagged ``#, fuzzy``), and messages no
   longer in the source are kept at the end as obsolete ``#~`` entries;
3. lists the messages that still need a translator.

Then edit ``cruce.po``: write each empty ``msgstr``, check each ``#, fuzzy`` one and delete the
``fuzzy`` flag, keep every ``{placeholder}`` and ``--option`` exactly as in the ``msgid``. The
catalog is read at runtime, so nothing has to be compiled; ``tests/test_i18n.py`` fails until
every message has a Spanish translation.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

BABEL_CFG = ROOT / "babel.cfg"
LOCALE_DIR = ROOT / "src" / "cruce" / "locale"
POT_FILE = LOCALE_DIR / "cruce.pot"
PO_FILES = {"es": LOCALE_DIR / "es" / "LC_MESSAGES" / "cruce.po"}
KEYWORDS: dict[str, None] = {"_": None, "gettext": None, "tr": None}  # tr(message, lang): a briefing's
COMPILE_PY = "src/cruce/ingest/compile.py"
TEMPLATES = ROOT / "src" / "cruce" / "web" / "templates"
REPORT_TEMPLATES = ROOT / "src" / "cruce" / "reports" / "templates"  # the briefings, in the report's language
WIDTH = 100
LANGUAGE_NAMES = {"es": "Spanish"}
_HEADER = """\
# {language} translations for PROJECT.
# Copyright (C) YEAR ORGANIZATION
# This file is distributed under the same license as the PROJECT project.
#"""


def _new_catalog(locale: str | None = None) -> Catalog:
    from cruce import __version__

    return Catalog(
        locale=locale,
        domain="cruce",
        project="cruce",
        version=__version__,
        copyright_holder="the cruce contributors",
        last_translator="cruce contributors",
        language_team="Spanish" if locale == "es" else "LANGUAGE <LL@li.org>",
        fuzzy=False,
        **({"header_comment": _HEADER.format(language=LANGUAGE_NAMES[locale])} if locale else {}),
    )


def _reason_messages() -> Iterable[tuple[str, int]]:
    """The reject reasons (``REASONS`` values) with the line each is written on."""
    from cruce.ingest.compile import REASONS

    lines: dict[str, int] = {}
    tree = ast.parse((ROOT / COMPILE_PY).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            lines.setdefault(node.value, node.lineno)
    for text in REASONS.values():
        yield text, lines.get(text, 0)


def _fstring_messages(path: Path) -> Iterable[tuple[int, str]]:
    """``_("...")`` calls inside f-strings, which Babel cannot see before Python 3.12."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for fstring in ast.walk(tree):
        if not isinstance(fstring, ast.JoinedStr):
            continue
        for node in ast.walk(fstring):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield node.lineno, node.args[0].value


def _template_messages() -> Iterable[tuple[str, int, str, list[str], str | None]]:
    """Messages of the Jinja2 templates, in file order."""
    for path in [*sorted(TEMPLATES.rglob("*.html")), *sorted(REPORT_TEMPLATES.rglob("*.html"))]:
        rel = path.relative_to(ROOT).as_posix()
        with path.open("rb") as fh:
            for lineno, message, comments, context in extract(
                "jinja2",
                fh,
                keywords=KEYWORDS,
                comment_tags=("TRANSLATORS:",),
                options={"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"},
                strip_comment_tags=True,
            ):
                if not isinstance(message, str):
                    raise SystemExit(f"{rel}:{lineno}: only single messages are supported, not {message!r}")
                yield rel, lineno, message, comments, context


def extract_template() -> Catalog:
    """Every message of the source, as a template catalog (no translations)."""
    with BABEL_CFG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(BABEL_CFG))  # type: ignore[no-untyped-call]
    python_files: list[str] = []

    def seen(filename: str, method: str, options: object) -> None:
        if method == "python":
            python_files.append(Path(filename).as_posix())

    found: list[tuple[str, int, str, list[str], str | None]] = []
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT,
        method_map,
        options_map,
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
        strip_comment_tags=True,
        callback=seen,
    ):
        if not isinstance(message, str):  # plural forms are not used (yet)
            raise SystemExit(f"{filename}:{lineno}: only single messages are supported, not {message!r}")
        found.append((Path(filename).as_posix(), lineno, message, comments, context))
    known = {(f, m) for f, _n, m, _c, _x in found}
    for filename in python_files:
        for lineno, message in _fstring_messages(ROOT / filename):
            if (filename, message) not in known:
                found.append((filename, lineno, message, [], None))
    found.extend(_template_messages())
    order = {f: i for i, f in enumerate(python_files)}
    found.sort(key=lambda item: (order.get(item[0], len(order)), item[1]))

    template = _new_catalog()
    for filename, lineno, message, comments, context in found:
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for text, lineno in _reason_messages():
        template.add(
            text,
            None,
            [(COMPILE_PY, lineno)],
            auto_comments=["A reason why a row was rejected (REASONS in cruce.ingest.compile)."],
        )
    return template


def _signature(catalog: Catalog) -> list[tuple[object, ...]]:
    return [(m.id, m.context, tuple(sorted(m.locations)), tuple(m.auto_comments)) for m in catalog if m.id]


def _read(path: Path) -> Catalog | None:
    if not path.exists():
        return None
    with path.open("rb") as fh:
        return read_po(fh)


def _render(catalog: Catalog) -> bytes:
    buf = io.BytesIO()
    write_po(buf, catalog, width=WIDTH, include_previous=True)
    return buf.getvalue()


def needs_translation(catalog: Catalog, template: Catalog) -> list[Message]:
    """The template's messages that ``catalog`` lacks, leaves empty or marks fuzzy."""
    todo = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, msg.context)
        if have is None or not have.string or have.fuzzy:
            todo.append(msg)
    return todo


def merge(template: Catalog, lang: str, path: Path) -> Catalog:
    """``path``'s catalog brought up to date with ``template``, keeping its translations."""
    catalog = _read(path)
    if catalog is None:
        catalog = _new_catalog(lang)
        catalog.revision_date = datetime.now(UTC)
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    return catalog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when files are out of date")
    args = parser.parse_args(argv)

    template = extract_template()
    old_pot = _read(POT_FILE)
    if old_pot is not None and _signature(old_pot) == _signature(template):
        template.creation_date = old_pot.creation_date  # unchanged: no date-only churn
    else:
        template.creation_date = datetime.now(UTC)
    outputs = {POT_FILE: _render(template)}
    missing: dict[str, list[Message]] = {}
    for lang, path in PO_FILES.items():
        catalog = merge(template, lang, path)
        outputs[path] = _render(catalog)
        missing[lang] = needs_translation(catalog, template)

    stale = [p for p, data in outputs.items() if not p.exists() or p.read_bytes() != data]
    print(f"{len(template)} messages in {POT_FILE.relative_to(ROOT)}")
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}")
    else:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(outputs[path])
            print(f"wrote {path.relative_to(ROOT)}")
    for lang, todo in missing.items():
        if todo:
            print(f"{lang}: {len(todo)} message(s) need a translation in {PO_FILES[lang].relative_to(ROOT)}:")
            for msg in todo:
                where = ", ".join(f"{f}:{n}" for f, n in msg.locations)
                print(f"  {msg.id!r}  ({where})")
    return 1 if args.check and (stale or any(missing.values())) else 0


if __name__ == "__main__":
    sys.exit(main())
