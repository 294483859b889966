"""The deployment's secret key across a backup, a restore or a copy.

The key lives outside the database (``cruce.security.keys``): it keys the audit log's hash chain
and encrypts tip contacts, screenings and case notes. Data moved to a store that uses another key
would keep its rows but lose both: the audit log would no longer verify, the encrypted fields no
longer open. So a backup names its key by an id (a one-way derivation, which tells nothing about
the key), and a restore or a copy refuses a target whose key has another id before it writes
anything. A backup holds the key itself only when asked (``--include-key``): it then opens the
encrypted fields it holds, and must be kept as safely as the key.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cruce.i18n import _
from cruce.security.keys import derive, key_file_for
from cruce.store.transfer.manifest import TransferError


def store_url(db: str) -> str:
    """A store's URL as ``cruce.security.keys`` sees it (a plain path is a DuckDB file)."""
    if db.startswith(("postgresql://", "postgres://", "duckdb:")) or db == ":memory:":
        return db
    return "duckdb:" + db


def key_path(url: str) -> Path | None:
    """Where the store's key is, or would be written: ``CRUCE_SECRET_KEY_FILE``, else beside a
    DuckDB file; None for PostgreSQL without that setting."""
    named = os.environ.get("CRUCE_SECRET_KEY_FILE")
    return Path(named) if named else key_file_for(store_url(url))


def key_file_text(url: str) -> bytes | None:
    """The store's key as its key file holds it (base64), without making one; None if none yet."""
    if value := os.environ.get("CRUCE_SECRET_KEY"):
        return value.encode("ascii")
    path = key_path(url)
    if path is None or not path.exists():
        return None
    return path.read_bytes().strip()


def key_id(key_text: bytes | None) -> str | None:
    """A short id of a key (HKDF of it for this purpose only), or None for no key."""
    if key_text is None:
        return None
    try:
        secret = base64.urlsafe_b64decode(key_text)
    except (binascii.Error, ValueError):
        raise TransferError(_("The secret key file is not valid base64.")) from None
    return derive(secret, "key-id").hex()[:16]


def prepare_target_key(target: str, wanted_id: str | None, offered: bytes | None) -> Path | None:
    """Check that the target store may take data made under the key ``wanted_id``; return where
    the key ``offered`` (from the archive or the source) must be written first, if anywhere.
    Raises before anything is written when the target's key is another one, or when the target
    has none and none is offered."""
    if wanted_id is None:
        return None
    present = key_file_text(target)
    if present is not None:
        if key_id(present) != wanted_id:
            raise TransferError(
                _("The data was made under the secret key {wanted}, but {target} uses the key {found}: its "
                  "audit log would not verify and its encrypted tips, screenings and case notes could not be "
                  "read. Use the original key (CRUCE_SECRET_KEY_FILE, or the .key file beside a DuckDB "
                  "database), then try again.").format(wanted=wanted_id, target=target, found=key_id(present))
            )  # fmt: skip
        return None
    path = key_path(target)
    if offered is None or path is None:
        raise TransferError(
            _("The data was made under the secret key {wanted}, and {target} has no key yet. Put the "
              "original key file where cruce looks for it (CRUCE_SECRET_KEY_FILE, or DATABASE.key beside "
              "a DuckDB file), or use a backup made with --include-key.").format(wanted=wanted_id, target=target)
        )  # fmt: skip
    return path


def write_key(path: Path, key_text: bytes) -> None:
    """Write a key file (mode 0600), never over an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_text + b"\n")
