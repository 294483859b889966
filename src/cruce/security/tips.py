"""The anonymous tip queue: what the public sends through /tip, and the analysts' triage of it.

A tip holds what the person chose to tell (what, where, when, who) in plain text, and, only if
they gave one, a way to reach them, encrypted with Fernet under the deployment's tip key (kept
outside the database). No address or other trace of the sender is stored. Reading the contact
back is a disclosure: the caller audits it (``Guard.tip_contact``).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken

from cruce.i18n import _
from cruce.security.accounts import AccountError
from cruce.security.db import AppDB

STATUSES = ("new", "triaged")
MAX_FIELD = 5000


@dataclass(frozen=True)
class Tip:
    id: str
    received_at: datetime
    language: str
    what: str
    where: str | None
    when: str | None
    who: str | None
    has_contact: bool
    status: str
    linked_entities: tuple[str, ...]
    triaged_by: str | None
    triaged_at: datetime | None


_COLUMNS = (
    "id, received_at, language, what_text, where_text, when_text, who_text, contact_encrypted IS NOT NULL, "
    "status, linked_entities, triaged_by, triaged_at"
)


def _tip(row: tuple[object, ...]) -> Tip:
    tid, at, lang, what, where, when, who, contact, status, linked, by, triaged = row
    return Tip(
        str(tid), at, str(lang), str(what), where, when, who, bool(contact), str(status),  # type: ignore[arg-type]
        tuple(x for x in str(linked).split(",") if x), by, triaged,  # type: ignore[arg-type]
    )  # fmt: skip


def _clip(text: str | None) -> str | None:
    text = (text or "").strip()
    return text[:MAX_FIELD] if text else None


class Tips:
    """Tip submissions in the application tables."""

    def __init__(self, db: AppDB, key: bytes) -> None:
        self.db = db
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def submit(
        self,
        *,
        what: str,
        where: str | None = None,
        when: str | None = None,
        who: str | None = None,
        contact: str | None = None,
        language: str = "en",
        now: datetime,
    ) -> str:
        """Store a tip with status 'new'; returns its id. The contact is encrypted before it is written."""
        text = _clip(what)
        if not text:
            raise AccountError(_("Please tell us what happened."))
        secret = _clip(contact)
        encrypted = self._fernet.encrypt(secret.encode("utf-8")).decode("ascii") if secret else None
        tip_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO tip_submission (id, received_at, language, what_text, where_text, when_text, who_text, "
            "contact_encrypted, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'new')",
            (tip_id, now, language if language in ("en", "es") else "en", text, _clip(where), _clip(when),
             _clip(who), encrypted),
        )  # fmt: skip
        return tip_id

    def get(self, tip_id: str) -> Tip | None:
        row = self.db.one(f"SELECT {_COLUMNS} FROM tip_submission WHERE id = ?", (tip_id,))
        return _tip(row) if row else None

    def queue(self, status: str | None = None, *, limit: int = 100, offset: int = 0) -> list[Tip]:
        """Newest first; only one status when given."""
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.db.fetch(
            f"SELECT {_COLUMNS} FROM tip_submission {where} ORDER BY received_at DESC, id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_tip(r) for r in rows]

    def count(self, status: str | None = None) -> int:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        row = self.db.one(f"SELECT count(*) FROM tip_submission {where}", params)
        return int(row[0]) if row else 0

    def link(self, tip_id: str, entity_ids: list[str]) -> Tip:
        tip = self._require(tip_id)
        linked = sorted({*tip.linked_entities, *entity_ids})
        self.db.execute("UPDATE tip_submission SET linked_entities = ? WHERE id = ?", (",".join(linked), tip_id))
        return self._require(tip_id)

    def unlink(self, tip_id: str, entity_id: str) -> Tip:
        tip = self._require(tip_id)
        linked = [e for e in tip.linked_entities if e != entity_id]
        self.db.execute("UPDATE tip_submission SET linked_entities = ? WHERE id = ?", (",".join(linked), tip_id))
        return self._require(tip_id)

    def set_status(self, tip_id: str, status: str, *, by: str, now: datetime) -> Tip:
        if status not in STATUSES:
            raise AccountError(_("Unknown status {status}; choose new or triaged.").format(status=status))
        self._require(tip_id)
        self.db.execute(
            "UPDATE tip_submission SET status = ?, triaged_by = ?, triaged_at = ? WHERE id = ?",
            (status, by if status == "triaged" else None, now if status == "triaged" else None, tip_id),
        )
        return self._require(tip_id)

    def contact(self, tip_id: str) -> str | None:
        """The decrypted contact (the caller must have checked the role and must audit it)."""
        row = self.db.one("SELECT contact_encrypted FROM tip_submission WHERE id = ?", (tip_id,))
        if not row or not row[0]:
            return None
        try:
            return self._fernet.decrypt(str(row[0]).encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise AccountError(_("The contact of this tip cannot be decrypted with this server's key.")) from None

    def _require(self, tip_id: str) -> Tip:
        tip = self.get(tip_id)
        if tip is None:
            raise AccountError(_("No tip has the id {id}.").format(id=tip_id))
        return tip
