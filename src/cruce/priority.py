"""Background work at a lower CPU priority than a server's requests.

The job process of a team server (``cruce jobs work``, started by ``cruce serve --workers N``)
lowers its own priority (``nice``) as it starts, so that the web workers' requests go first and
the jobs fill the CPU they leave (ADR 0014). ``CRUCE_JOB_NICE`` (10) sets how much lower; 0
leaves it. So does a helper process that does a job's pure Python work (cutting an import's
values into search terms). Elsewhere it does nothing.

A serving process hands its interpreter lock from thread to thread more often than Python does
by itself (``favour_requests``): a request thread coming back from the database waits for the
lock while a thread with work to do holds it, up to the switch interval each time, and a page
asks the database dozens of times. ``CRUCE_SWITCH_INTERVAL_MS`` (1; Python's own is 5): with one
DuckDB process serving 100 users while an import job ran, the p95 wait over the minute went from
190 ms to 134 ms (median of three to five runs; load test, 2026-11-30).

A thread inside a serving process is never lowered: its threads share one interpreter lock, and a
lowered thread descheduled while holding it stops every request thread with it. On one DuckDB
process the job and lookup threads were once lowered so: the import job took 56 s instead of 25,
and the users' median wait went from 80 ms to 650 ms while it ran (load test, 2026-11-30).
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)
DEFAULT_NICE = 10
DEFAULT_SWITCH_MS = 1.0


def lower_process_priority() -> None:
    """Lower this whole process's CPU priority to ``CRUCE_JOB_NICE`` (a process that serves no
    requests: the job process)."""
    try:
        nice = int(float(os.environ.get("CRUCE_JOB_NICE", DEFAULT_NICE)))
    except ValueError:
        nice = DEFAULT_NICE
    if nice <= 0 or sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError as exc:  # not allowed here: the work runs at the server's priority
        log.debug("background priority left as it is: %s", exc)


def favour_requests() -> None:
    """Set this serving process's switch interval to ``CRUCE_SWITCH_INTERVAL_MS`` (0 or a value
    that is not a number leaves Python's)."""
    try:
        interval_ms = float(os.environ.get("CRUCE_SWITCH_INTERVAL_MS", DEFAULT_SWITCH_MS))
    except ValueError:
        return
    if interval_ms > 0:
        sys.setswitchinterval(interval_ms / 1000)
