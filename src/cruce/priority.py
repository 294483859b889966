"""Background work at a lower CPU priority than a server's requests.

The job process of a team server (``cruce jobs work``, started by ``cruce serve --workers N``)
lowers its own priority (``nice``) as it starts, so that the web workers' requests go first and
the jobs fill the CPU they leave (ADR 0014). ``CRUCE_JOB_NICE`` (10) sets how much lower; 0
leaves it. Elsewhere it does nothing.

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
