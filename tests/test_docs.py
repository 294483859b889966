"""The docs stay honest: every command and option of the CLI is in docs/reference/cli.md."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main
from typer.core import TyperGroup, TyperOption

from cruce.cli import build_app

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands() -> dict[str, typer.main.TyperCommand]:
    group = typer.main.get_command(build_app())
    assert isinstance(group, TyperGroup)
    return dict(group.commands)  # type: ignore[arg-type]


def test_every_command_has_a_section() -> None:
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## cruce (\S+)", text, flags=re.MULTILINE))
    assert documented == set(_commands())


def test_every_option_is_mentioned_in_its_section() -> None:
    text = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## cruce (\S+)\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL))
    for name, command in _commands().items():
        for param in command.params:
            if isinstance(param, TyperOption):
                assert any(opt in sections[name] for opt in param.opts), f"{name}: {param.opts} not documented"


def test_readme_opens_with_the_two_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    head = readme[:2500]
    assert "make demo" in head
    assert "make test" in head


def test_every_builtin_mapping_is_documented() -> None:
    from cruce.ingest.mapping import builtin_mappings

    text = (DOCS / "mappings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## (\S+)", text, flags=re.MULTILINE))
    assert set(builtin_mappings()) <= documented
