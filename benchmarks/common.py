"""What every benchmark shares: running a measured step in its own process, and writing results."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
WORK = Path(__file__).parent / "work"


def machine() -> dict[str, Any]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


class StepTimeoutError(RuntimeError):
    """A measured step ran past its time allowance and was stopped."""


class StepFailedError(SystemExit):
    """A measured step ended in an error: what it wrote last (``stderr``) and how long it ran
    (``seconds``), for a benchmark that records a baseline's failure rather than stops."""

    def __init__(self, message: str, stderr: str, seconds: float) -> None:
        super().__init__(message)
        self.stderr = stderr
        self.seconds = seconds


def run_measured(module: str, *args: str, timeout: float | None = None) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; it prints one JSON line of figures.

    A separate process per step makes each step's peak RSS its own, not the maximum of all.
    ``timeout`` (seconds) stops a step that runs longer (``StepTimeoutError``); a step that fails
    raises ``StepFailedError``.
    """
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise StepTimeoutError(f"{module} {' '.join(args)} stopped after {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise StepFailedError(
            f"{module} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}",
            done.stderr[-4000:],
            time.perf_counter() - started,
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def peak_rss_mb() -> float:
    """This process's own peak RSS: ``VmHWM`` where Linux gives it. ``ru_maxrss`` is not that: a
    child started by ``subprocess`` keeps its parent's peak as its floor (a parent that imported a
    million rows made every step it ran look as large)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return round(kib / 1024, 1)
    except (OSError, StopIteration):
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_result(topic: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{topic}.json"
    record = {
        "topic": topic,
        **figures,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
