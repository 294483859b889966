"""Investigation cases in the application tables: the case, its members, items, notes, tasks, attachments.

This module stores and checks shapes (a known kind, a known member, a title that is not empty); it
does not decide who may read or change what — ``cruce.investigations.access`` does, and every read
of an item's content goes through the guard there. Items hold ids and settings, never names.
Note bodies are encrypted with a key derived from the deployment's secret, as assistance notes are.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken

from cruce.i18n import _
from cruce.security.policy import Marking

if TYPE_CHECKING:
    from cruce.security.db import AppDB

CASE_ROLES = ("lead", "editor", "reader")
"""A member's role in one case: the lead runs it (members, marking), editors add to it, readers read."""
STATUSES = ("open", "closed")
RECORD_KINDS = ("entity", "event", "document")
KINDS = (*RECORD_KINDS, "search", "chart", "view")
"""What a case gathers: records (by id; their kind follows from their type), a saved search, a
saved network chart, a dashboard view."""
TASK_STATES = ("open", "doing", "done")
MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_NOTE = 5000
MAX_LABEL = 200
MAX_DATA = 4 * 1024 * 1024
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._-]*[A-Za-z0-9])")


class CaseError(ValueError):
    """A request about a case that cannot be done; the message (English msgid) says why."""


class NotFound(LookupError):  # noqa: N818 - read as "not found", like HTTP's
    """No such case, item, task or attachment (or one the asker may not know of)."""


@dataclass(frozen=True)
class Investigation:
    id: str
    title: str
    description: str
    marking: Marking
    status: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Member:
    username: str
    role: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Item:
    id: str
    investigation_id: str
    kind: str
    ref: str
    label: str | None
    data: dict[str, Any] | None
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Note:
    id: str
    investigation_id: str
    body: str
    mentions: tuple[str, ...]
    author: str
    created_at: datetime


@dataclass(frozen=True)
class Task:
    id: str
    investigation_id: str
    title: str
    owner: str
    due: date | None
    state: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Attachment:
    id: str
    investigation_id: str
    filename: str
    stored_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


def new_id() -> str:
    return uuid.uuid4().hex


def clean_text(text: str, limit: int) -> str:
    """Trimmed, control characters (but newlines and tabs) removed, at most ``limit`` characters."""
    kept = "".join(c for c in text if c in "\n\t" or (ord(c) >= 32 and ord(c) != 127))
    return kept.strip()[:limit]


def mentions_in(text: str) -> tuple[str, ...]:
    """The user names written as @name in a note, in order, once each (lower case, as accounts keep them)."""
    return tuple(dict.fromkeys(m.lower() for m in MENTION.findall(text)))


_CASE = "id, title, description, marking, status, created_by, created_at, updated_at"
_ITEM = "id, investigation_id, kind, ref, label, data, added_by, added_at"
_TASK = "id, investigation_id, title, owner, due_date, state, created_by, created_at, updated_at"
_ATTACHMENT = "id, investigation_id, filename, stored_name, media_type, size, sha256, uploaded_by, uploaded_at"


class Investigations:
    """The investigation tables of one store."""

    def __init__(self, db: AppDB, key: bytes) -> None:
        self.db = db
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    # -- cases ---------------------------------------------------------------------------------
    def create(self, *, title: str, description: str, marking: Marking | str, by: str, now: datetime) -> Investigation:
        """A new open case with its creator as lead."""
        title, description = clean_text(title, MAX_TITLE), clean_text(description, MAX_DESCRIPTION)
        if not title:
            raise CaseError(_("A case needs a title."))
        mark = _marking(marking)
        case_id = new_id()
        with self.db.transaction():
            self.db.execute(
                f"INSERT INTO investigation ({_CASE}) VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                (case_id, title, description, mark.value, by, now, now),
            )
            self.db.execute(
                "INSERT INTO investigation_member (investigation_id, username, role, added_by, added_at) "
                "VALUES (?, ?, 'lead', ?, ?)",
                (case_id, by, by, now),
            )
        return self.get(case_id)

    def get(self, case_id: str) -> Investigation:
        row = self.db.one(f"SELECT {_CASE} FROM investigation WHERE id = ?", (case_id,))
        if row is None:
            raise NotFound(case_id)
        return _case(row)

    def all(self) -> list[Investigation]:
        """Every case, most recently changed first."""
        rows = self.db.fetch(f"SELECT {_CASE} FROM investigation ORDER BY updated_at DESC, id")
        return [_case(r) for r in rows]

    def of_member(self, username: str) -> list[Investigation]:
        """The cases ``username`` is a member of, most recently changed first."""
        rows = self.db.fetch(
            f"SELECT {', '.join('i.' + c.strip() for c in _CASE.split(','))} FROM investigation i "
            "JOIN investigation_member m ON m.investigation_id = i.id WHERE m.username = ? "
            "ORDER BY i.updated_at DESC, i.id",
            (username,),
        )
        return [_case(r) for r in rows]

    def update(
        self,
        case_id: str,
        *,
        now: datetime,
        title: str | None = None,
        description: str | None = None,
        marking: Marking | str | None = None,
        status: str | None = None,
    ) -> Investigation:
        case = self.get(case_id)
        new_title = clean_text(title, MAX_TITLE) if title is not None else case.title
        if not new_title:
            raise CaseError(_("A case needs a title."))
        new_description = clean_text(description, MAX_DESCRIPTION) if description is not None else case.description
        new_marking = _marking(marking) if marking is not None else case.marking
        if status is not None and status not in STATUSES:
            raise CaseError(_("A case is open or closed."))
        self.db.execute(
            "UPDATE investigation SET title = ?, description = ?, marking = ?, status = ?, updated_at = ? WHERE id = ?",
            (new_title, new_description, new_marking.value, status or case.status, now, case_id),
        )
        return self.get(case_id)

    def touch(self, case_id: str, now: datetime) -> None:
        self.db.execute("UPDATE investigation SET updated_at = ? WHERE id = ?", (now, case_id))

    # -- members -------------------------------------------------------------------------------
    def members(self, case_id: str) -> list[Member]:
        rows = self.db.fetch(
            "SELECT username, role, added_by, added_at FROM investigation_member WHERE investigation_id = ? "
            "ORDER BY CASE role WHEN 'lead' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, username",
            (case_id,),
        )
        return [Member(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]

    def role_of(self, case_id: str, username: str) -> str | None:
        row = self.db.one(
            "SELECT role FROM investigation_member WHERE investigation_id = ? AND username = ?", (case_id, username)
        )
        return str(row[0]) if row else None

    def set_member(self, case_id: str, username: str, role: str, *, by: str, now: datetime) -> Member:
        """Add a member, or change their role; a case keeps at least one lead."""
        if role not in CASE_ROLES:
            raise CaseError(_("A member is a lead, an editor or a reader."))
        with self.db.transaction():
            before = self.role_of(case_id, username)
            if before == "lead" and role != "lead":
                self._keep_a_lead(case_id)
            self.db.execute(
                "DELETE FROM investigation_member WHERE investigation_id = ? AND username = ?", (case_id, username)
            )
            self.db.execute(
                "INSERT INTO investigation_member (investigation_id, username, role, added_by, added_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (case_id, username, role, by, now),
            )
            self.touch(case_id, now)
        return next(m for m in self.members(case_id) if m.username == username)

    def remove_member(self, case_id: str, username: str, *, now: datetime) -> None:
        with self.db.transaction():
            role = self.role_of(case_id, username)
            if role is None:
                raise NotFound(username)
            if role == "lead":
                self._keep_a_lead(case_id)
            self.db.execute(
                "DELETE FROM investigation_member WHERE investigation_id = ? AND username = ?", (case_id, username)
            )
            self.touch(case_id, now)

    def _keep_a_lead(self, case_id: str) -> None:
        leads = [m for m in self.members(case_id) if m.role == "lead"]
        if len(leads) <= 1:
            raise CaseError(_("A case keeps at least one lead: make someone else lead first."))

    # -- items ---------------------------------------------------------------------------------
    def add_item(
        self,
        case_id: str,
        kind: str,
        ref: str,
        *,
        by: str,
        now: datetime,
        label: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> tuple[Item, bool]:
        """Add an item; (the item, True) — or the one already there, False (a record is added once)."""
        if kind not in KINDS:
            raise CaseError(_("Unknown kind of item {kind}.").format(kind=kind))
        ref = ref.strip()
        if not ref or len(ref) > 2000:
            raise CaseError(_("An item needs what it refers to."))
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True) if data is not None else None
        if text is not None and len(text.encode("utf-8")) > MAX_DATA:
            raise CaseError(_("The item is too large to keep."))
        with self.db.transaction():
            found = self.db.one(
                f"SELECT {_ITEM} FROM investigation_item WHERE investigation_id = ? AND kind = ? AND ref = ?",
                (case_id, kind, ref),
            )
            if found is not None and (kind in RECORD_KINDS or kind == "search" or kind == "view"):
                return _item(found), False
            item_id = new_id()
            self.db.execute(
                f"INSERT INTO investigation_item ({_ITEM}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, case_id, kind, ref, clean_text(label, MAX_LABEL) if label else None, text, by, now),
            )
            self.touch(case_id, now)
        return self.item(case_id, item_id), True

    def item(self, case_id: str, item_id: str) -> Item:
        row = self.db.one(
            f"SELECT {_ITEM} FROM investigation_item WHERE investigation_id = ? AND id = ?", (case_id, item_id)
        )
        if row is None:
            raise NotFound(item_id)
        return _item(row)

    def items(self, case_id: str, kinds: tuple[str, ...] = KINDS) -> list[Item]:
        """The case's items of ``kinds``, in the order they were added."""
        marks = ",".join("?" for _ in kinds)
        rows = self.db.fetch(
            f"SELECT {_ITEM} FROM investigation_item WHERE investigation_id = ? AND kind IN ({marks}) "
            "ORDER BY added_at, id",
            (case_id, *kinds),
        )
        return [_item(r) for r in rows]

    def remove_item(self, case_id: str, item_id: str, *, now: datetime) -> Item:
        item = self.item(case_id, item_id)
        self.db.execute("DELETE FROM investigation_item WHERE investigation_id = ? AND id = ?", (case_id, item_id))
        self.touch(case_id, now)
        return item

    # -- notes ---------------------------------------------------------------------------------
    def add_note(self, case_id: str, body: str, *, by: str, now: datetime) -> Note:
        text = clean_text(body, MAX_NOTE)
        if not text:
            raise CaseError(_("Write the note first."))
        note_id = new_id()
        sealed = self._fernet.encrypt(text.encode("utf-8")).decode("ascii")
        self.db.execute(
            "INSERT INTO investigation_note (id, investigation_id, body_encrypted, mentions, author, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (note_id, case_id, sealed, ",".join(mentions_in(text)), by, now),
        )
        self.touch(case_id, now)
        return next(n for n in self.notes(case_id) if n.id == note_id)

    def notes(self, case_id: str) -> list[Note]:
        """The case's notes, oldest first."""
        rows = self.db.fetch(
            "SELECT id, investigation_id, body_encrypted, mentions, author, created_at FROM investigation_note "
            "WHERE investigation_id = ? ORDER BY created_at, id",
            (case_id,),
        )
        return [
            Note(str(r[0]), str(r[1]), self._open(r[2]), tuple(m for m in str(r[3]).split(",") if m), str(r[4]), r[5])
            for r in rows
        ]

    def mentioning(self, username: str) -> list[tuple[str, Note]]:
        """(case id, note) of every note that mentions ``username``, newest first."""
        rows = self.db.fetch(
            "SELECT id, investigation_id, body_encrypted, mentions, author, created_at FROM investigation_note "
            "WHERE ',' || mentions || ',' LIKE ? ORDER BY created_at DESC, id",
            (f"%,{username},%",),
        )
        return [
            (str(r[1]), Note(str(r[0]), str(r[1]), self._open(r[2]), tuple(str(r[3]).split(",")), str(r[4]), r[5]))
            for r in rows
        ]

    def _open(self, sealed: object) -> str:
        try:
            return self._fernet.decrypt(str(sealed).encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise CaseError(_("A note of this case cannot be decrypted with this server's key.")) from None

    # -- tasks ---------------------------------------------------------------------------------
    def add_task(self, case_id: str, title: str, owner: str, *, due: date | None, by: str, now: datetime) -> Task:
        text = clean_text(title, MAX_TITLE)
        if not text:
            raise CaseError(_("Say what the task is."))
        task_id = new_id()
        self.db.execute(
            f"INSERT INTO investigation_task ({_TASK}) VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)",
            (task_id, case_id, text, owner, due, by, now, now),
        )
        self.touch(case_id, now)
        return self.task(case_id, task_id)

    def task(self, case_id: str, task_id: str) -> Task:
        row = self.db.one(
            f"SELECT {_TASK} FROM investigation_task WHERE investigation_id = ? AND id = ?", (case_id, task_id)
        )
        if row is None:
            raise NotFound(task_id)
        return _task(row)

    def tasks(self, case_id: str) -> list[Task]:
        """Open tasks first, soonest due first; done ones last."""
        rows = self.db.fetch(f"SELECT {_TASK} FROM investigation_task WHERE investigation_id = ?", (case_id,))
        found = [_task(r) for r in rows]
        return sorted(found, key=lambda t: (t.state == "done", t.due or date.max, t.created_at, t.id))

    def update_task(
        self,
        case_id: str,
        task_id: str,
        *,
        now: datetime,
        state: str | None = None,
        owner: str | None = None,
        due: date | None = None,
        clear_due: bool = False,
    ) -> Task:
        task = self.task(case_id, task_id)
        if state is not None and state not in TASK_STATES:
            raise CaseError(_("A task is open, under way or done."))
        new_due = None if clear_due else (due or task.due)
        self.db.execute(
            "UPDATE investigation_task SET state = ?, owner = ?, due_date = ?, updated_at = ? "
            "WHERE investigation_id = ? AND id = ?",
            (state or task.state, owner or task.owner, new_due, now, case_id, task_id),
        )
        self.touch(case_id, now)
        return self.task(case_id, task_id)

    # -- attachments ---------------------------------------------------------------------------
    def add_attachment(self, attachment: Attachment) -> Attachment:
        a = attachment
        self.db.execute(
            f"INSERT INTO investigation_attachment ({_ATTACHMENT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (a.id, a.investigation_id, a.filename, a.stored_name, a.media_type, a.size, a.sha256, a.uploaded_by,
             a.uploaded_at),
        )  # fmt: skip
        self.touch(a.investigation_id, a.uploaded_at)
        return self.attachment(a.investigation_id, a.id)

    def attachment(self, case_id: str, attachment_id: str) -> Attachment:
        row = self.db.one(
            f"SELECT {_ATTACHMENT} FROM investigation_attachment WHERE investigation_id = ? AND id = ?",
            (case_id, attachment_id),
        )
        if row is None:
            raise NotFound(attachment_id)
        return _attachment(row)

    def attachments(self, case_id: str) -> list[Attachment]:
        rows = self.db.fetch(
            f"SELECT {_ATTACHMENT} FROM investigation_attachment WHERE investigation_id = ? ORDER BY uploaded_at, id",
            (case_id,),
        )
        return [_attachment(r) for r in rows]


def _marking(value: Marking | str) -> Marking:
    try:
        return Marking(value)
    except ValueError:
        raise CaseError(
            _("Unknown marking {marking}; choose clear, green, amber or red.").format(marking=value)
        ) from None


def _case(row: tuple[Any, ...]) -> Investigation:
    cid, title, description, marking, status, by, created, updated = row
    return Investigation(str(cid), str(title), str(description), Marking(str(marking)), str(status), str(by),
                         created, updated)  # fmt: skip


def _item(row: tuple[Any, ...]) -> Item:
    iid, cid, kind, ref, label, data, by, at = row
    return Item(str(iid), str(cid), str(kind), str(ref), label, json.loads(data) if data else None, str(by), at)


def _day(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _task(row: tuple[Any, ...]) -> Task:
    tid, cid, title, owner, due, state, by, created, updated = row
    return Task(str(tid), str(cid), str(title), str(owner), _day(due), str(state), str(by), created, updated)


def _attachment(row: tuple[Any, ...]) -> Attachment:
    aid, cid, filename, stored, media, size, sha, by, at = row
    return Attachment(str(aid), str(cid), str(filename), str(stored), str(media), int(size), str(sha), str(by), at)
