"""Attachments of a case: kept on disk with a random name, their type found by their bytes, never run.

A file is accepted only when its content is one of a few inert document types (PDF, PNG, JPEG,
GIF, WebP, plain text or CSV, an Office Open XML document) *and* the extension of the name it came
with says the same: a program renamed ``.pdf`` or a web page renamed ``.txt`` is refused. Text that
a browser would take for markup (HTML, SVG, XML, scripts) is refused too. The file is written under
``<upload dir>/investigations/`` as 32 random hex digits without an extension, so no name given can
reach outside that folder, overwrite a file, or be executed by anything that trusts extensions;
it is served back as a download only (``Content-Disposition: attachment``, ``nosniff``, a sandbox).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cruce.i18n import _
from cruce.investigations.store import Attachment, new_id

CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
HEAD = 8192
FOLDER = "investigations"
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    # kind: (media type served, extensions a name of that kind may have)
    "pdf": ("application/pdf", (".pdf",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "gif": ("image/gif", (".gif",)),
    "webp": ("image/webp", (".webp",)),
    "text": ("text/plain; charset=utf-8", (".txt", ".text", ".md", ".log")),
    "csv": ("text/csv; charset=utf-8", (".csv", ".tsv")),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",)),
}
_OOXML_PART = {"docx": "word/", "xlsx": "xl/", "pptx": "ppt/"}
_MARKUP = re.compile(
    rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|meta|link|style|\?xml|img|a\s)", re.IGNORECASE
)
_PROGRAMS = (b"MZ", b"\x7fELF", b"#!", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"%!PS")


class AttachmentError(ValueError):
    """An attachment refused; ``status`` is the HTTP status to answer with (English msgid as message)."""

    def __init__(self, message: str, status: int = 415) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Stored:
    path: Path
    kind: str
    size: int
    sha256: str


def display_name(filename: str | None) -> str:
    """The name to show and to download as: its last component, printable, at most 120 characters."""
    base = re.split(r"[\\/]", filename or "")[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(c for c in base if unicodedata.category(c)[0] not in "CZ" or c == " ").strip(" .")
    return base[-120:] or "attachment"


def _extension(name: str) -> str:
    return Path(name.lower()).suffix


def sniff(head: bytes, path: Path | None = None) -> str | None:
    """The kind of a file from its first bytes (and, for a ZIP, its parts), or None if not an accepted one."""
    if any(head.startswith(p) for p in _PROGRAMS):
        return None
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(path) if path is not None else None
    return _text(head)


def _text(head: bytes) -> str | None:
    """UTF-8 text without NUL bytes or markup a browser would render."""
    if b"\x00" in head or _MARKUP.search(head):
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut by the end of the head
            return None
    return "text"


def _ooxml(path: Path) -> str | None:
    """Which Office Open XML document a ZIP is (by its parts), or None (any other ZIP, macros included)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return None
    if "[Content_Types].xml" not in names or any(n.lower().endswith("vbaproject.bin") for n in names):
        return None
    for kind, part in _OOXML_PART.items():
        if any(n.startswith(part) for n in names):
            return kind
    return None


def store_file(stream: BinaryIO, filename: str | None, upload_dir: Path, max_bytes: int) -> Stored:
    """Copy an upload under ``upload_dir/investigations`` with a random name; raises ``AttachmentError``."""
    name = display_name(filename)
    folder = upload_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / secrets.token_hex(16)
    digest = hashlib.sha256()
    size, head = 0, b""
    try:
        with target.open("xb") as out:
            while chunk := stream.read(CHUNK):
                if len(head) < HEAD:
                    head += chunk[: HEAD - len(head)]
                size += len(chunk)
                if size > max_bytes:
                    raise AttachmentError(_("The file is larger than this server accepts ({mb} MB)."), 413)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise AttachmentError(_("The file is empty."), 422)
        kind = sniff(head, target)
        if kind is None:
            raise AttachmentError(
                _("This kind of file cannot be attached: PDF, images, text, CSV or Office documents.")
            )
        if kind == "text" and _extension(name) in TYPES["csv"][1]:
            kind = "csv"
        if _extension(name) not in TYPES[kind][1]:
            raise AttachmentError(_("The file's content does not match its extension."))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return Stored(target, kind, size, digest.hexdigest())


def attachment_record(case_id: str, stored: Stored, filename: str | None, *, by: str, now: datetime) -> Attachment:
    return Attachment(
        new_id(), case_id, display_name(filename), stored.path.name, TYPES[stored.kind][0], stored.size,
        stored.sha256, by, now,
    )  # fmt: skip


def path_of(upload_dir: Path, attachment: Attachment) -> Path:
    """Where the file is: only a name of 32 hex digits is ever joined to the folder."""
    if not re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name):
        raise FileNotFoundError(attachment.id)
    return upload_dir / FOLDER / attachment.stored_name


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987)."""
    from urllib.parse import quote

    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9._ -]+", "_", ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
