"""The door to the PPRL environment: clkhash and anonlink run in a Python of their own.

clkhash pins a ``cryptography`` older than cruce's, so the two cannot share an environment
(docs/adr/0006-pprl-in-its-own-environment.md). ``make setup`` creates ``tools/pprl/.venv``;
cruce runs ``tools/pprl/cruce_pprl_worker.py`` with that environment's Python, hands it one JSON
request on standard input (the secret too: never on the command line, where ``ps`` shows it)
and reads one JSON answer on standard output. ``CRUCE_PPRL_DIR`` names another folder holding
the worker and its ``.venv``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from cruce.i18n import _

WORKER = "cruce_pprl_worker.py"


class PprlError(Exception):
    """A PPRL step could not be done; the message says what to do, in the user's language."""


def pprl_dir() -> Path:
    """The folder with the worker and its environment: ``CRUCE_PPRL_DIR``, else ``tools/pprl`` of this checkout."""
    named = os.environ.get("CRUCE_PPRL_DIR")
    if named:
        return Path(named)
    return Path(__file__).resolve().parents[3] / "tools" / "pprl"


def worker_command() -> list[str]:
    """The command that runs the worker, or a PprlError saying how to create its environment."""
    folder = pprl_dir()
    python = folder / ".venv" / "bin" / "python"
    if not python.exists() or not (folder / WORKER).exists():
        raise PprlError(
            _(
                "The PPRL environment is missing ({path}): clkhash and anonlink live in an environment of their "
                "own. Create it with 'make setup' in cruce's source folder, or set CRUCE_PPRL_DIR to a folder "
                "holding {worker} and its .venv."
            ).format(path=python, worker=WORKER)
        )
    # -I: isolated, so that no PYTHONPATH or user site-packages reaches the worker
    return [str(python), "-I", str(folder / WORKER)]


def call(request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to a fresh worker process and return its answer."""
    command = worker_command()
    try:
        done = subprocess.run(command, input=json.dumps(request).encode("utf-8"), capture_output=True, check=False)
    except OSError as exc:
        raise PprlError(_("The PPRL worker could not be started: {error}").format(error=exc)) from None
    try:
        answer: dict[str, Any] = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise PprlError(
            _(
                "The PPRL worker failed (exit status {status}): {error}. Run 'make setup' to rebuild its environment."
            ).format(status=done.returncode, error=tail[0][:300])
        ) from None
    if "error" in answer or done.returncode != 0:
        raise PprlError(_("The PPRL worker failed: {error}").format(error=answer.get("error", done.returncode)))
    return answer
