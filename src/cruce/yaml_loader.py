"""The YAML reading of cruce's schema and mappings: libyaml's safe loader when PyYAML was built
with it (several times faster than the pure-Python one, a cost every ``cruce`` process pays),
else the pure-Python safe loader. Both build plain Python values only."""

from __future__ import annotations

from typing import Any

import yaml

SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through the fastest safe loader available."""
    return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 — a SafeLoader (C or Python), never the full one
