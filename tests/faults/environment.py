"""What the fault tests need of the machine (root to mount a tmpfs, a private PostgreSQL cluster):
without it they skip with the reason, except in CI (CRUCE_REQUIRE_FAULTS=1), where they fail."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CRUCE_REQUIRE_FAULTS") == "1":
        pytest.fail(f"CRUCE_REQUIRE_FAULTS=1 but {reason}", pytrace=False)
    pytest.skip(reason)
