"""Start ``cruce serve`` in a process of its own on loopback, wait until it answers, stop it.

For the browser tests and the API load benchmark, which drive a real server from outside;
bounded in time both ways, so that neither can hang.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port nobody listens on at 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: Path | str,
    log: Path,
    *,
    timeout: float = START_TIMEOUT,
    serve_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """``cruce --db DB serve`` on 127.0.0.1 and a free port, output to ``log``; returns (process, url).

    ``serve_args`` go to ``serve`` after the address (``--workers 2``, say); ``env``, when given,
    is added to this process's environment for the server alone."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cruce", "--db", str(db), "serve", "--host", "127.0.0.1", "--port", str(port),
             *serve_args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env} if env is not None else None,
        )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cruce serve exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            up = httpx.get(f"{url}/static/cruce.css", timeout=2).status_code == 200
        except httpx.HTTPError:
            up = False  # not listening yet
        if up:
            return process, url
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(
        f"cruce serve did not answer at {url} within {timeout:.0f} s:\n{log.read_text(errors='replace')}"
    )


def stop_server(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """Terminate, then kill if it does not stop within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
