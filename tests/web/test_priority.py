"""A serving process hands the interpreter lock between its threads every millisecond."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from cruce.priority import favour_requests


@pytest.fixture
def python_default() -> Iterator[float]:
    before = sys.getswitchinterval()
    yield before
    sys.setswitchinterval(before)


def test_the_switch_interval_is_the_setting(python_default: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRUCE_SWITCH_INTERVAL_MS", raising=False)
    favour_requests()
    assert sys.getswitchinterval() == pytest.approx(0.001)
    monkeypatch.setenv("CRUCE_SWITCH_INTERVAL_MS", "2.5")
    favour_requests()
    assert sys.getswitchinterval() == pytest.approx(0.0025)
    for left in ("0", "soon"):  # 0 or not a number: Python's interval stays
        sys.setswitchinterval(python_default)
        monkeypatch.setenv("CRUCE_SWITCH_INTERVAL_MS", left)
        favour_requests()
        assert sys.getswitchinterval() == pytest.approx(python_default)


def test_a_worker_process_of_a_team_server_favours_its_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """``cruce serve --workers N`` makes each worker's application with ``worker_app``."""
    monkeypatch.setenv("CRUCE_SWITCH_INTERVAL_MS", "3")
    code = (
        "import sys\n"
        "import cruce.web.app as app\n"
        "app.create_app = lambda *a, **k: type('App', (), {'state': type('S', (), {})()})()\n"
        "app.worker_app()\n"
        "print(sys.getswitchinterval())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert float(done.stdout.strip()) == pytest.approx(0.003)
