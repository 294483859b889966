"""Background work at a lower CPU priority than a server's requests.

On Linux a thread has its own priority (``nice``), and the threads it starts inherit it: the job
runner and the entity lookup's catch-up lower theirs, so that the requests of a loaded server go
first and the background work fills the CPU they leave (ADR 0014). ``CRUCE_JOB_NICE`` (10) sets
how much lower; 0 leaves it. Elsewhere it does nothing.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)
DEFAULT_NICE = 10


def background_priority() -> None:
    """Lower the calling thread's CPU priority to ``CRUCE_JOB_NICE``."""
    try:
        nice = int(float(os.environ.get("CRUCE_JOB_NICE", DEFAULT_NICE)))
    except ValueError:
        nice = DEFAULT_NICE
    if nice <= 0 or sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except OSError as exc:  # not allowed here: the work runs at the server's priority
        log.debug("background priority left as it is: %s", exc)
