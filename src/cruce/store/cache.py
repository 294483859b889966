"""Where what is derived from a store and kept outside it goes (the graph's snapshot, the search
postings a job process shares): a folder per database URL, under a setting's folder or the user's
cache. Named by a hash of the URL, so that a server's stores never share one."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def derived_dir(url: str, what: str, setting: str) -> Path:
    """``$setting/<hash of url>``, else ``~/.cache/cruce/<what>/<hash of url>``."""
    base = Path(os.environ.get(setting) or Path.home() / ".cache" / "cruce" / what)
    return base / hashlib.sha256(url.encode()).hexdigest()[:16]
