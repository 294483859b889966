"""The deployment's secret key, kept outside the database, and the keys derived from it.

One 32-byte secret gives, through HKDF, the audit log's HMAC key and the key that encrypts tip
contact details. It comes from ``CRUCE_SECRET_KEY`` (base64), or the file named by
``CRUCE_SECRET_KEY_FILE``, or a file beside the DuckDB database (``<db>.key``, created on first
use with mode 0600). A team server on PostgreSQL must name its key file: the key must not live
in the database it protects.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cruce.i18n import _
from cruce.store.base import StoreError


def key_file_for(store_url: str) -> Path | None:
    """Where the key lives by default for this store, or None when it must be configured."""
    if store_url.startswith("duckdb:"):
        return Path(store_url.removeprefix("duckdb:") + ".key")
    return None


def load_secret(store_url: str) -> bytes:
    """The secret for this deployment; creates it beside a DuckDB file the first time."""
    if value := os.environ.get("CRUCE_SECRET_KEY"):
        return base64.urlsafe_b64decode(value)
    named = os.environ.get("CRUCE_SECRET_KEY_FILE")
    path = Path(named) if named else key_file_for(store_url)
    if path is None:
        if store_url == ":memory:":
            return secrets.token_bytes(32)
        raise StoreError(
            _("Set CRUCE_SECRET_KEY_FILE to the file holding this server's secret key (see docs/security.md).")
        )
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)))
    return base64.urlsafe_b64decode(path.read_bytes().strip())


def derive(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one purpose ("audit", "tips"), independent of the others."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"cruce:{purpose}".encode()).derive(secret)
