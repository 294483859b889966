"""The files of a linkage: the shared secret, the encoded file one agency sends, the map it keeps.

- The **secret** is shared by the two agencies only (never with whoever runs the match, if a
  third party does); at least 16 bytes; ``cruce pprl secret`` writes a random one.
- The **encoded file** (JSON) holds, per person, a random pseudonym and the Bloom filter: no
  name, date, record id or dataset name. Records are in pseudonym order, not the store's.
- The **map** (CSV, pseudonym -> record id) stays with the agency that encoded: it is how that
  agency finds its own records among the matched pairs.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cruce.i18n import _
from cruce.pprl.fields import SCHEMA_NAME, SCHEMA_VERSION, linkage_schema, schema_fingerprint
from cruce.pprl.worker import PprlError

FORMAT = "cruce-pprl-clks"
FORMAT_VERSION = 1
MIN_SECRET_BYTES = 16


def read_secret(path: Path) -> bytes:
    """The shared secret: the file's bytes, a final line break aside; refused when shorter than 16 bytes."""
    try:
        secret = path.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise PprlError(
            _("Cannot read the secret file {file}: {error}").format(file=path, error=exc.strerror or exc)
        ) from None
    if len(secret) < MIN_SECRET_BYTES:
        raise PprlError(
            _(
                "The secret in {file} is {n} bytes long; use at least {min}. Make one with: cruce pprl secret FILE"
            ).format(file=path, n=len(secret), min=MIN_SECRET_BYTES)
        )
    return secret


def write_secret(path: Path) -> None:
    """A new random secret (32 bytes, base64), readable by its owner only; an existing file is kept."""
    import base64

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PprlError(_("{file} already exists; it was left as it is.").format(file=path)) from None
    except OSError as exc:
        raise PprlError(_("Cannot write {file}: {error}").format(file=path, error=exc.strerror or exc)) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.urlsafe_b64encode(secrets.token_bytes(32)) + b"\n")


@dataclass(frozen=True)
class Encoded:
    """An encoded file as read: pseudonyms and their Bloom filters (base64), in file order."""

    path: Path
    ids: list[str]
    clks: list[str]


def pseudonyms(n: int) -> list[str]:
    """``n`` distinct random pseudonyms, sorted (their order says nothing about the records')."""
    found: set[str] = set()
    while len(found) < n:
        found.add(secrets.token_hex(8))
    return sorted(found)


def write_encoded(path: Path, ids: list[str], clks: list[str]) -> None:
    """Write the file to share: the format, the schema it was made with, and (pseudonym, Bloom filter)s."""
    order = sorted(range(len(ids)), key=ids.__getitem__)
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema": {"name": SCHEMA_NAME, "version": SCHEMA_VERSION, "sha256": schema_fingerprint()},
        "bits": linkage_schema()["clkConfig"]["l"],
        "records": len(ids),
        "clks": [{"id": ids[i], "clk": clks[i]} for i in order],
    }
    _write_text(path, json.dumps(document, separators=(",", ":")) + "\n")


def read_encoded(path: Path) -> Encoded:
    """Read an encoded file, refusing one of another format or made with another schema."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PprlError(_("Cannot read {file}: {error}").format(file=path, error=exc.strerror or exc)) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PprlError(_("{file} is not an encoded file of cruce pprl encode (not JSON).").format(file=path)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise PprlError(_("{file} is not an encoded file of cruce pprl encode.").format(file=path))
    schema = document.get("schema") or {}
    if schema.get("sha256") != schema_fingerprint():
        raise PprlError(
            _(
                "{file} was encoded with linkage schema {name} {version}, not this cruce's {ours} {our_version}: "
                "both agencies must encode with the same schema."
            ).format(
                file=path,
                name=schema.get("name"),
                version=schema.get("version"),
                ours=SCHEMA_NAME,
                our_version=SCHEMA_VERSION,
            )
        )
    try:
        rows = document["clks"]
        ids = [str(r["id"]) for r in rows]
        clks = [str(r["clk"]) for r in rows]
    except (KeyError, TypeError):
        raise PprlError(_("{file} is damaged: a record has no id or no encoding.").format(file=path)) from None
    if len(set(ids)) != len(ids):
        raise PprlError(_("{file} is damaged: an id appears twice.").format(file=path))
    return Encoded(path, ids, clks)


def default_map_path(out: Path) -> Path:
    """``people.json`` -> ``people.ids.csv``, beside it."""
    return out.with_name(out.stem + ".ids.csv")


def write_map(path: Path, ids: list[str], records: list[str]) -> None:
    """The private map: pseudonym -> the record's id in this agency's cruce."""
    lines = [("pseudonym", "record_id"), *sorted(zip(ids, records, strict=True))]
    with _open_private(path) as fh:
        csv.writer(fh, lineterminator="\n").writerows(lines)


def read_map(path: Path) -> dict[str, str]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"pseudonym", "record_id"} <= set(reader.fieldnames):
                raise PprlError(
                    _("{file} is not a map of cruce pprl encode (columns pseudonym, record_id).").format(file=path)
                )
            return {row["pseudonym"]: row["record_id"] for row in reader}
    except OSError as exc:
        raise PprlError(_("Cannot read {file}: {error}").format(file=path, error=exc.strerror or exc)) from None


def _open_private(path: Path) -> Any:
    """Open ``path`` for writing, readable by its owner only (it is replaced if it exists)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise PprlError(_("Cannot write {file}: {error}").format(file=path, error=exc.strerror or exc)) from None
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PprlError(_("Cannot write {file}: {error}").format(file=path, error=exc.strerror or exc)) from None
