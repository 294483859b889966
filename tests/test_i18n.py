"""Every user-facing message has a Spanish translation, and the CLI speaks the language asked for.

The messages are extracted from the source exactly as ``scripts/extract_messages.py`` does (all
``_()``/``gettext()`` calls of the files ``babel.cfg`` names, plus the reject reasons of
``cruce.ingest.compile.REASONS``), so a message added without a translation fails here.
"""

from __future__ import annotations

import importlib.util
import re
import string
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from cruce import i18n
from cruce.ingest.compile import REASONS

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "extract_messages.py"
PO_FILE = ROOT / "src" / "cruce" / "locale" / "es" / "LC_MESSAGES" / "cruce.po"
FIX = (
    f"run `.venv/bin/python {SCRIPT.relative_to(ROOT)}`, "
    f"then translate the listed messages in {PO_FILE.relative_to(ROOT)}"
)


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extract_messages", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def template() -> Catalog:
    """The messages of the source as they are now."""
    return _load_script().extract_template()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def spanish() -> Catalog:
    with PO_FILE.open("rb") as fh:
        return read_po(fh)


@pytest.fixture
def language(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test switch the language; the process's choice is restored afterwards."""
    monkeypatch.setattr(i18n, "_current", [])


def _translated(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id and m.string]


def _where(message: Message) -> str:
    return ", ".join(f"{file}:{line}" for file, line in message.locations) or "?"


def _placeholders(text: str) -> set[tuple[str | None, str | None, str | None]]:
    """The ``str.format`` fields of ``text`` (name, format spec, conversion)."""
    return {(name, spec, conv) for _lit, name, spec, conv in string.Formatter().parse(text) if name is not None}


def test_extraction_finds_the_messages(template: Catalog) -> None:
    ids = {m.id for m in template if m.id}
    assert len(ids) > 50
    assert "No data yet. Import a file with: cruce import FILE --mapping NAME" in ids
    assert "Error" in ids, "a _() call inside an f-string must be extracted too"
    assert set(REASONS.values()) <= ids


def test_every_message_has_a_spanish_translation(template: Catalog, spanish: Catalog) -> None:
    problems = []
    for msg in template:
        if not msg.id:
            continue
        have = spanish.get(msg.id, msg.context)
        if have is None:
            problems.append(f"missing  {msg.id!r} ({_where(msg)})")
        elif not have.string:
            problems.append(f"empty    {msg.id!r} ({_where(msg)})")
        elif have.fuzzy:
            problems.append(f"fuzzy    {msg.id!r} ({_where(msg)})")
    assert not problems, f"{len(problems)} message(s) lack a Spanish translation; {FIX}:\n" + "\n".join(problems)


def test_every_reject_reason_is_translated() -> None:
    i18n.catalog.cache_clear()
    es = i18n.catalog("es")
    missing = [f"{code}: {text!r}" for code, text in REASONS.items() if not es.get(text)]
    assert not missing, f"reject reasons without a Spanish translation; {FIX}:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders(spanish: Catalog) -> None:
    problems = []
    for msg in _translated(spanish):
        try:
            got = _placeholders(str(msg.string))
        except ValueError as exc:  # a lone { or } breaks str.format
            problems.append(f"{msg.id!r} ({_where(msg)}): the translation is not a valid format string: {exc}")
            continue
        want = _placeholders(str(msg.id))
        if got != want:
            problems.append(
                f"{msg.id!r} ({_where(msg)}): translation has {sorted(got, key=str)}, expected {sorted(want, key=str)}"
            )
    assert not problems, "translations must keep every {placeholder} exactly:\n" + "\n".join(problems)


def test_translations_keep_command_line_options(spanish: Catalog) -> None:
    option = re.compile(r"(?<![\w-])--[a-z][\w-]*")
    problems = [
        f"{msg.id!r}: {sorted(set(option.findall(str(msg.id))) - set(option.findall(str(msg.string))))}"
        for msg in _translated(spanish)
        if set(option.findall(str(msg.id))) - set(option.findall(str(msg.string)))
    ]
    assert not problems, "options such as --force must stay as written in translations:\n" + "\n".join(problems)


def test_catalog_header(spanish: Catalog) -> None:
    assert str(spanish.locale) == "es"
    assert not spanish.fuzzy
    assert spanish.plural_forms.startswith("nplurals=")


@pytest.mark.usefixtures("language")
def test_set_language_switches_messages() -> None:
    message = "No data yet. Import a file with: cruce import FILE --mapping NAME"
    assert i18n.set_language("es") == "es"
    assert i18n.current_language() == "es"
    assert i18n._(message) == "Todavía no hay datos. Importe un archivo con: cruce import ARCHIVO --mapping NOMBRE"
    assert i18n._(REASONS["invalid_number"]) == "no es un número"
    assert i18n._("not a message of cruce") == "not a message of cruce"
    assert i18n.set_language("en") == "en"
    assert i18n._(message) == message
    with pytest.raises(ValueError, match="language must be one of"):
        i18n.set_language("fr")


@pytest.mark.usefixtures("language")
def test_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CRUCE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "es_MX.UTF-8")
    assert i18n.set_language(None) == "es"
    monkeypatch.setenv("CRUCE_LANG", "en")
    assert i18n.set_language(None) == "en"


def _run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int | str | None, str]:
    from cruce.cli import main

    code: int | str | None = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, " ".join((out + err).split())  # the console wraps long lines


@pytest.mark.usefixtures("language")
def test_cli_help_in_spanish(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run_cli(["--lang", "es", "--help"], capsys)
    assert code == 0
    assert "Idioma de los mensajes: en o es." in out
    assert "Mostrar la versión." in out
    assert "Language of messages" not in out


@pytest.mark.usefixtures("language")
def test_cli_status_in_spanish(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = _run_cli(["--lang", "es", "--db", str(tmp_path / "x.duckdb"), "status"], capsys)
    assert code == 0
    assert "Todavía no hay datos. Importe un archivo con: cruce import ARCHIVO --mapping NOMBRE" in out
    assert "Base de datos:" in out


@pytest.mark.usefixtures("language")
def test_cli_status_in_english(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out = _run_cli(["--lang", "en", "--db", str(tmp_path / "x.duckdb"), "status"], capsys)
    assert code == 0
    assert "No data yet. Import a file with: cruce import FILE --mapping NAME" in out
