"""Screening interviews in the application tables: one row per interview, one per answer.

What the person said is protected. The subject reference and each answer with its note are
encrypted with Fernet under a key derived from the deployment's secret (``cruce.security.keys``,
purpose "screenings"), the way tip contacts are; the database alone does not reveal them. The
callers (the pages) decide who may read (``may_open``) and audit every reading; nothing here logs.

Answers arrive from a tablet that may lose its connection and send the same answer again, or
an older one late: each carries the client's sequence number, and ``save_answers`` keeps, per
question, the answer with the highest one (the same one twice is one row).
"""

from __future__ import annotations

import base64
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken

from cruce.i18n import _
from cruce.people.screening import ANSWERS, instrument
from cruce.security.accounts import AccountError, Principal, Role
from cruce.security.db import AppDB
from cruce.security.keys import derive, load_secret

STATUSES = ("draft", "complete")
LANGUAGES = ("en", "es")
MAX_NOTE = 2000
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Interview:
    id: str
    caseworker: str
    instrument_version: str
    language: str
    status: str
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    answers_saved: int


@dataclass(frozen=True)
class AnswerIn:
    """One answer as the page sends it; ``answer`` None keeps a note without an answer yet."""

    question: str
    answer: str | None
    note: str | None
    seq: int
    answered_at: datetime


@dataclass(frozen=True)
class StoredAnswer:
    question: str
    answer: str | None
    note: str | None
    seq: int
    answered_at: datetime


def may_screen(principal: Principal) -> bool:
    """Screening is the caseworkers' work; admins oversee it."""
    return principal.role in (Role.CASEWORKER, Role.ADMIN)


def may_open(principal: Principal, interview: Interview) -> bool:
    """Only the caseworker who holds the interview, and admins, read it."""
    return principal.role is Role.ADMIN or (
        principal.role is Role.CASEWORKER and interview.caseworker == principal.username
    )


@functools.cache
def screening_key(store_url: str) -> bytes:
    """The deployment's key for screenings (one derivation per process and store)."""
    return derive(load_secret(store_url), "screenings")


_COLUMNS = (
    "i.id, i.caseworker, i.instrument_version, i.language, i.status, i.started_at, i.updated_at, i.completed_at, "
    "(SELECT count(*) FROM screening_answer a WHERE a.interview_id = i.id)"
)


def _interview(row: tuple[object, ...]) -> Interview:
    iid, who, version, lang, status, started, updated, completed, saved = row
    return Interview(
        str(iid), str(who), str(version), str(lang), str(status), started, updated, completed,  # type: ignore[arg-type]
        int(saved),  # type: ignore[call-overload]
    )  # fmt: skip


class Interviews:
    """The screening tables of one store."""

    def __init__(self, db: AppDB, key: bytes | None = None) -> None:
        self.db = db
        self._fernet = Fernet(base64.urlsafe_b64encode(key or screening_key(db.store.url)))

    # -- interviews ----------------------------------------------------------------------------
    def create(self, *, caseworker: str, language: str, subject: str | None, now: datetime) -> str:
        """A new draft interview; the subject reference (optional) is encrypted before it is written."""
        reference = (subject or "").strip()[:MAX_SUBJECT]
        interview_id = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO screening_interview (id, caseworker, instrument_version, language, subject_encrypted, "
            "status, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'draft', ?, ?)",
            (interview_id, caseworker, instrument().version, language if language in LANGUAGES else "en",
             self._seal(reference) if reference else None, now, now),
        )  # fmt: skip
        return interview_id

    def get(self, interview_id: str) -> Interview | None:
        row = self.db.one(f"SELECT {_COLUMNS} FROM screening_interview i WHERE i.id = ?", (interview_id,))
        return _interview(row) if row else None

    def recent(self, caseworker: str | None = None, *, limit: int = 200) -> list[Interview]:
        """Newest first; only one caseworker's when given."""
        where, params = ("WHERE i.caseworker = ?", [caseworker]) if caseworker is not None else ("", [])
        rows = self.db.fetch(
            f"SELECT {_COLUMNS} FROM screening_interview i {where} ORDER BY i.updated_at DESC, i.id LIMIT ?",
            (*params, limit),
        )
        return [_interview(r) for r in rows]

    def subject(self, interview_id: str) -> str | None:
        """The decrypted subject reference (the caller checks ``may_open`` and audits)."""
        row = self.db.one("SELECT subject_encrypted FROM screening_interview WHERE id = ?", (interview_id,))
        return self._open(str(row[0])) if row and row[0] else None

    def set_language(self, interview_id: str, language: str, *, now: datetime) -> None:
        if language not in LANGUAGES:
            raise AccountError(_("Choose English or Spanish."))
        self.db.execute(
            "UPDATE screening_interview SET language = ?, updated_at = ? WHERE id = ?", (language, now, interview_id)
        )

    def complete(self, interview_id: str, *, now: datetime) -> None:
        self.db.execute(
            "UPDATE screening_interview SET status = 'complete', completed_at = ?, updated_at = ? WHERE id = ?",
            (now, now, interview_id),
        )

    # -- answers -------------------------------------------------------------------------------
    def save_answers(self, interview_id: str, entries: Sequence[AnswerIn], *, now: datetime) -> list[StoredAnswer]:
        """Keep each answer unless a later one (by sequence) is stored; return what is stored for each."""
        for entry in entries:
            _check(entry)
        with self.db.transaction():
            for entry in entries:
                sealed = self._seal(json.dumps({"a": entry.answer, "n": _note(entry.note)}))
                values = (sealed, entry.answered_at, entry.seq, now, interview_id, entry.question)
                # Two statements that are right under concurrency on both backends: insert if absent,
                # then replace only an older answer (a repeat or an older one changes nothing).
                self.db.execute(
                    "INSERT INTO screening_answer (answer_encrypted, answered_at, client_seq, received_at, "
                    "interview_id, question_id) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (interview_id, question_id) DO NOTHING",
                    values,
                )
                self.db.execute(
                    "UPDATE screening_answer SET answer_encrypted = ?, answered_at = ?, client_seq = ?, "
                    "received_at = ? WHERE interview_id = ? AND question_id = ? AND client_seq < ?",
                    (*values, entry.seq),
                )
            self.db.execute("UPDATE screening_interview SET updated_at = ? WHERE id = ?", (now, interview_id))
        stored = self.answers(interview_id)
        return [stored[e.question] for e in entries]

    def answers(self, interview_id: str) -> dict[str, StoredAnswer]:
        """Every stored answer, decrypted (the caller checks ``may_open`` and audits)."""
        rows = self.db.fetch(
            "SELECT question_id, answer_encrypted, client_seq, answered_at FROM screening_answer "
            "WHERE interview_id = ? ORDER BY question_id",
            (interview_id,),
        )
        out = {}
        for question, sealed, seq, at in rows:
            body = json.loads(self._open(str(sealed)))
            out[str(question)] = StoredAnswer(str(question), body.get("a"), body.get("n"), int(seq), at)
        return out

    # -- encryption ----------------------------------------------------------------------------
    def _seal(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def _open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise AccountError(_("This screening cannot be decrypted with this server's key.")) from None


def _check(entry: AnswerIn) -> None:
    if instrument().question(entry.question) is None:
        raise AccountError(_("The instrument has no question {id}.").format(id=entry.question))
    if entry.answer is not None and entry.answer not in ANSWERS:
        raise AccountError(_("An answer is yes, no, unsure or declined."))


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    return text[:MAX_NOTE] if text else None
