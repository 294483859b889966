"""Uploaded files: size limit, a safe name in a random folder, and a look at the bytes.

The name a browser sends is reduced to its last component, then to letters, digits, dots,
hyphens and underscores; the file goes into a new random folder under the server's upload
directory, so no name can reach outside it or overwrite another upload. The extension must be
one cruce reads, and the first bytes must look like that format (a spreadsheet is a ZIP, Parquet
starts with PAR1, gzip with 1f 8b, text has no NUL bytes).
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO

from cruce.web.i18n import mark as _

TEXT_EXTENSIONS = (".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl", ".ndjson")
ALLOWED = (*TEXT_EXTENSIONS, ".xlsx", ".parquet", *(e + ".gz" for e in TEXT_EXTENSIONS))
CHUNK = 1024 * 1024


class UploadError(ValueError):
    """An upload refused; ``status`` is the HTTP status to answer with; the message is an English msgid."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def safe_name(filename: str | None) -> str:
    """The last component of ``filename``, with only safe characters, never empty or hidden."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    return base[-120:]


def extension(name: str) -> str:
    lower = name.lower()
    for ext in sorted(ALLOWED, key=len, reverse=True):
        if lower.endswith(ext):
            return ext
    return ""


def sniff_ok(ext: str, head: bytes) -> bool:
    """Whether the first bytes of a file look like its extension says."""
    if ext.endswith(".gz"):
        return head[:2] == b"\x1f\x8b"
    if ext == ".xlsx":
        return head[:4] == b"PK\x03\x04"
    if ext == ".parquet":
        return head[:4] == b"PAR1"
    if b"\x00" in head:
        return False
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if ext == ".json":
        return text[:1] in (b"{", b"[")
    if ext in (".jsonl", ".ndjson"):
        return text[:1] == b"{"
    return True


def save_upload(stream: BinaryIO, filename: str | None, upload_dir: Path, max_bytes: int) -> Path:
    """Copy an upload to a new random folder under ``upload_dir``; raises ``UploadError``."""
    name = safe_name(filename)
    ext = extension(name)
    if not ext:
        raise UploadError(_("This kind of file cannot be imported; use CSV, TSV, XLSX, JSON, JSONL or Parquet."), 415)
    folder = upload_dir / secrets.token_hex(16)
    folder.mkdir(parents=True, exist_ok=False)
    target = folder / name
    size = 0
    head = b""
    try:
        with target.open("wb") as out:
            while chunk := stream.read(CHUNK):
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                size += len(chunk)
                if size > max_bytes:
                    raise UploadError(_("The file is larger than this server accepts ({mb} MB)."), 413)
                out.write(chunk)
        if size == 0:
            raise UploadError(_("The file is empty."))
        if not sniff_ok(ext, head):
            raise UploadError(_("The file's content does not match its extension."), 415)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target
