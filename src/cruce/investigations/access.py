"""Who may do what with an investigation case, and everything a case shows, read through the guard.

A case is seen by its members and by admins; anyone else is told it does not exist (and the
attempt is audited). What a member sees of it depends on the case's handling marking and on their
roles, as for datasets (``cruce.security.policy``):

* ``clear`` and ``green``: every member sees the case's items, notes and attachments;
* ``amber``: members whose system role is analyst, caseworker or admin (a viewer sees the case's
  title, marking, members and tasks, not its material);
* ``red``: moreover only the case's leads and editors (its working team), not its readers.

Leads and editors change a case (items, notes, tasks, attachments) unless their system role is
viewer; leads (and admins) also manage members and the marking. Every record a case holds is read
for the reader through ``Guard``: an entity the reader may not see is counted, never named, and
protected values (victims' and tipsters' identities) come redacted unless their role allows them.
Every reading and change is written to the audit log with ids only (never names or note text),
and a case's activity history is read back from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from cruce.i18n import _
from cruce.investigations.attachments import (
    AttachmentError,
    Stored,
    attachment_record,
    path_of,
    store_file,
)
from cruce.investigations.store import (
    KINDS,
    RECORD_KINDS,
    Attachment,
    CaseError,
    Investigation,
    Investigations,
    Item,
    Member,
    Note,
    NotFound,
    Task,
)
from cruce.schema.model import type_label
from cruce.security import Guard, Principal, Role
from cruce.security.audit import AuditEntry, now
from cruce.security.guard import Access, caption
from cruce.security.policy import Marking
from cruce.store.base import Entity

AUDIT_PREFIX = "investigation"
MAX_RECORDS = 5_000
"""The most records one case holds (a report of 500 entities is benchmarked)."""
DASHBOARDS = ("/firearms", "/drugs-violence", "/people/statistics", "/organizations", "/graph", "/search",
              "/timeline")  # fmt: skip
"""Pages a dashboard view may point at (a path on this site, with its query)."""


def record_kind(guard: Guard, schema: str) -> str:
    """entity, event or document: what kind of record a type is, as a case lists it."""
    if schema in ("Document", "Tip"):
        return "document"
    stype = guard.schema.types.get(schema)
    return "event" if stype is not None and stype.kind == "event" else "entity"


def may_see_material(principal: Principal, case: Investigation, role: str | None) -> bool:
    """Whether the principal may see the case's items, notes and attachments (see the module's rules)."""
    if principal.role is Role.ADMIN:
        return True
    if role is None:
        return False
    if case.marking in (Marking.CLEAR, Marking.GREEN):
        return True
    if principal.role is Role.VIEWER:
        return False
    return case.marking is Marking.AMBER or role in ("lead", "editor")


def may_edit(principal: Principal, role: str | None) -> bool:
    if principal.role is Role.ADMIN:
        return True
    return role in ("lead", "editor") and principal.role is not Role.VIEWER


def may_manage(principal: Principal, role: str | None) -> bool:
    return principal.role is Role.ADMIN or (role == "lead" and principal.role is not Role.VIEWER)


@dataclass(frozen=True)
class Opened:
    """A case as one reader may see it: the case, their role, what they may do."""

    case: Investigation
    role: str | None  # None: an admin who is not a member
    members: tuple[Member, ...]
    material: bool  # may see items, notes, attachments
    edit: bool
    manage: bool


@dataclass(frozen=True)
class RecordShown:
    """A record of a case as the reader may see it (None: withheld, not named)."""

    item: Item
    entity: Entity | None
    type_label: str

    @property
    def caption(self) -> str:
        return caption(self.entity) if self.entity is not None else ""


@dataclass(frozen=True)
class Material:
    """What a case gathers, as one reader may see it."""

    records: tuple[RecordShown, ...]
    withheld: int  # records the reader may not see
    searches: tuple[Item, ...]
    charts: tuple[Item, ...]
    views: tuple[Item, ...]
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def entities(self) -> dict[str, Entity]:
        return {r.item.ref: r.entity for r in self.records if r.entity is not None}


class Desk:
    """One principal's work on investigation cases: every check, read and audit entry in one place."""

    def __init__(
        self, guard: Guard, principal: Principal, *, address: str | None = None, access: Access | None = None
    ) -> None:
        self.guard = guard
        self.principal = principal
        self.address = address
        self.cases: Investigations = guard.security.investigations
        self.access = access or guard.access(principal)
        """What the principal may see of the records (the command line narrows the operator's)."""

    # -- audit ---------------------------------------------------------------------------------
    def audit(self, action: str, case_id: str, *, outcome: str = "ok", **detail: Any) -> None:
        self.guard.security.audit.record(
            self.principal.username, f"{AUDIT_PREFIX}_{action}", target=case_id, outcome=outcome,
            detail=detail or None, address=self.address,
        )  # fmt: skip

    def activity(self, opened: Opened, limit: int = 200) -> list[AuditEntry]:
        """The case's history from the audit log, newest first (for who may see its material)."""
        if not opened.material:
            return []
        return self.guard.security.audit.entries(limit=limit, target=opened.case.id, action_prefix=AUDIT_PREFIX)

    # -- cases ---------------------------------------------------------------------------------
    def visible_cases(self) -> list[tuple[Investigation, str | None]]:
        """The cases the principal may open, with their role in each (admins: every case)."""
        mine = {c.id: c for c in self.cases.of_member(self.principal.username)}
        cases = self.cases.all() if self.principal.role is Role.ADMIN else list(mine.values())
        return [(c, self.cases.role_of(c.id, self.principal.username)) for c in cases]

    def create(self, title: str, description: str, marking: str) -> Investigation:
        if self.principal.role is Role.VIEWER:
            raise PermissionError("create")
        case = self.cases.create(
            title=title, description=description, marking=marking, by=self.principal.username, now=now()
        )
        self.audit("create", case.id, marking=case.marking.value)
        return case

    def open(self, case_id: str, *, audit: bool = True) -> Opened:
        """The case if the principal may open it; ``NotFound`` otherwise (the refusal is audited)."""
        case_id = _plain_id(case_id)
        try:
            case = self.cases.get(case_id)
        except NotFound:
            raise NotFound(case_id) from None
        role = self.cases.role_of(case.id, self.principal.username)
        if role is None and self.principal.role is not Role.ADMIN:
            self.audit("view", case.id, outcome="denied")
            raise NotFound(case_id)
        opened = Opened(
            case, role, tuple(self.cases.members(case.id)), may_see_material(self.principal, case, role),
            may_edit(self.principal, role), may_manage(self.principal, role),
        )  # fmt: skip
        if audit:
            self.audit("view", case.id, material=opened.material)
        return opened

    def _editable(self, case_id: str) -> Opened:
        opened = self.open(case_id, audit=False)
        if not (opened.edit and opened.material):
            self.audit("change", opened.case.id, outcome="denied")
            raise PermissionError(case_id)
        return opened

    def _managed(self, case_id: str) -> Opened:
        opened = self.open(case_id, audit=False)
        if not opened.manage:
            self.audit("manage", opened.case.id, outcome="denied")
            raise PermissionError(case_id)
        return opened

    def update(self, case_id: str, **changes: Any) -> Investigation:
        opened = self._managed(case_id)
        case = self.cases.update(opened.case.id, now=now(), **changes)
        self.audit("update", case.id, changed=sorted(k for k, v in changes.items() if v is not None),
                   marking=case.marking.value, status=case.status)  # fmt: skip
        return case

    def set_member(self, case_id: str, username: str, role: str) -> Member:
        opened = self._managed(case_id)
        user = self.guard.security.accounts.find(username)
        if user is None or user.disabled:
            raise NotFound(username)
        member = self.cases.set_member(opened.case.id, user.username, role, by=self.principal.username, now=now())
        self.audit("member", opened.case.id, member=user.username, role=role)
        return member

    def remove_member(self, case_id: str, username: str) -> None:
        opened = self._managed(case_id)
        self.cases.remove_member(opened.case.id, username.strip().lower(), now=now())
        self.audit("member_remove", opened.case.id, member=username.strip().lower())

    # -- material ------------------------------------------------------------------------------
    def material(self, opened: Opened, lang: str = "en") -> Material:
        """The case's items as the reader may see them: records through the guard, the rest as kept."""
        if not opened.material:
            return Material((), 0, (), (), ())
        items = self.cases.items(opened.case.id)
        records = [i for i in items if i.kind in RECORD_KINDS]
        shown = self.guard.entities_by_id(
            self.principal, [i.ref for i in records], access=self.access, address=self.address
        )
        out, withheld, by_kind = [], 0, dict.fromkeys(KINDS, 0)
        for item in records:
            entity = shown.get(item.ref)
            if entity is None:
                withheld += 1
                continue
            by_kind[item.kind] += 1
            out.append(RecordShown(item, entity, type_label(self.guard.schema, entity.schema, lang)))
        rest = {k: tuple(i for i in items if i.kind == k) for k in ("search", "chart", "view")}
        for k, found in rest.items():
            by_kind[k] = len(found)
        return Material(tuple(out), withheld, rest["search"], rest["chart"], rest["view"], by_kind)

    def add_records(self, case_id: str, entity_ids: Iterable[str]) -> tuple[list[Item], int]:
        """Add records (those the principal may see); returns the items added and how many were there already.
        ``NotFound`` names the first id the principal may not see (nothing is added then)."""
        opened = self._editable(case_id)
        ids = list(dict.fromkeys(_plain_uuid(i) for i in entity_ids))
        shown = self.guard.entities_by_id(self.principal, ids, access=self.access, address=self.address)
        missing = [i for i in ids if i not in shown]
        if missing:
            raise NotFound(missing[0])
        held = len(self.cases.items(opened.case.id, RECORD_KINDS))
        if held + len(ids) > MAX_RECORDS:
            raise CaseError(_("A case holds at most {n} records.").format(n=MAX_RECORDS))
        added, already = [], 0
        for eid in ids:
            item, new = self.cases.add_item(
                opened.case.id, record_kind(self.guard, shown[eid].schema), eid, by=self.principal.username, now=now()
            )
            if new:
                added.append(item)
            else:
                already += 1
        if added:
            self.audit(
                "add", opened.case.id, kind="records", items=[i.id for i in added], records=[i.ref for i in added]
            )
        return added, already

    def add_search(self, case_id: str, query: str, filters: dict[str, str], label: str | None = None) -> Item:
        opened = self._editable(case_id)
        words = " ".join(query.split())[:500]
        if not words:
            raise CaseError(_("A saved search needs words to find."))
        kept = {k: str(v)[:200] for k, v in sorted(filters.items()) if v and k in SEARCH_FILTERS}
        from urllib.parse import urlencode

        ref = "/search?" + urlencode({"q": words, **kept})
        item, _new = self.cases.add_item(
            opened.case.id, "search", ref, by=self.principal.username, now=now(), label=label or words,
            data={"q": words, **kept},
        )  # fmt: skip
        self.audit("add", opened.case.id, kind="search", items=[item.id])
        return item

    def add_view(self, case_id: str, path: str, label: str) -> Item:
        opened = self._editable(case_id)
        path = path.strip()
        if not _dashboard_path(path):
            raise CaseError(
                _("A dashboard view is the address of one of cruce's pages, such as /firearms?state=MX-SON.")
            )
        item, _new = self.cases.add_item(
            opened.case.id, "view", path, by=self.principal.username, now=now(), label=label or path
        )
        self.audit("add", opened.case.id, kind="view", items=[item.id])
        return item

    def add_chart(self, case_id: str, name: str, chart: dict[str, Any]) -> Item:
        """A network chart kept with the case (ids, positions and filters, as the explorer saves it)."""
        opened = self._editable(case_id)
        nodes = chart.get("nodes") or []
        item, _new = self.cases.add_item(
            opened.case.id, "chart", uuid.uuid4().hex, by=self.principal.username, now=now(),
            label=name or _("Network chart"), data=chart,
        )  # fmt: skip
        self.audit("add", opened.case.id, kind="chart", items=[item.id], nodes=len(nodes))
        return item

    def add_saved_chart(self, case_id: str, chart_id: str) -> Item:
        """One of the principal's saved charts (``cruce.graph.charts``), copied into the case."""
        from cruce.graph.charts import Charts

        found = Charts(self.guard.store).get(self.principal.username, chart_id)
        if found is None:
            raise NotFound(chart_id)
        return self.add_chart(case_id, found.name, found.chart)

    def remove_item(self, case_id: str, item_id: str) -> None:
        opened = self._editable(case_id)
        item = self.cases.remove_item(opened.case.id, item_id, now=now())
        self.audit("remove", opened.case.id, kind=item.kind, items=[item.id])

    def record_ids(self, opened: Opened) -> list[str]:
        """The ids of the case's records the reader may see (for its timeline, network and report)."""
        return list(self.material(opened).entities)

    # -- notes and tasks -----------------------------------------------------------------------
    def notes(self, opened: Opened) -> list[Note]:
        return self.cases.notes(opened.case.id) if opened.material else []

    def add_note(self, case_id: str, body: str) -> Note:
        opened = self._editable(case_id)
        note = self.cases.add_note(opened.case.id, body, by=self.principal.username, now=now())
        members = {m.username for m in opened.members}
        self.audit("note", opened.case.id, note=note.id, mentions=[m for m in note.mentions if m in members])
        return note

    def tasks(self, opened: Opened) -> list[Task]:
        return self.cases.tasks(opened.case.id)

    def add_task(self, case_id: str, title: str, owner: str, due: date | None) -> Task:
        opened = self._editable(case_id)
        owner = (owner or self.principal.username).strip().lower()
        if owner not in {m.username for m in opened.members}:
            raise NotFound(owner)
        task = self.cases.add_task(opened.case.id, title, owner, due=due, by=self.principal.username, now=now())
        self.audit("task", opened.case.id, task=task.id, owner=owner, due=str(due) if due else None)
        return task

    def update_task(self, case_id: str, task_id: str, *, state: str | None = None, owner: str | None = None,
                    due: date | None = None) -> Task:  # fmt: skip
        opened = self.open(case_id, audit=False)
        task = self.cases.task(opened.case.id, task_id)
        if not (opened.edit or (task.owner == self.principal.username and opened.material)):
            self.audit("change", opened.case.id, outcome="denied")
            raise PermissionError(task_id)
        if owner is not None and owner not in {m.username for m in opened.members}:
            raise NotFound(owner)
        changed = self.cases.update_task(opened.case.id, task.id, now=now(), state=state, owner=owner, due=due)
        self.audit("task", opened.case.id, task=task.id, state=changed.state, owner=changed.owner)
        return changed

    # -- attachments ---------------------------------------------------------------------------
    def attachments(self, opened: Opened) -> list[Attachment]:
        return self.cases.attachments(opened.case.id) if opened.material else []

    def attach(
        self, case_id: str, stream: BinaryIO, filename: str | None, upload_dir: Path, max_bytes: int
    ) -> Attachment:
        opened = self._editable(case_id)
        try:
            stored: Stored = store_file(stream, filename, upload_dir, max_bytes)
        except AttachmentError:
            self.audit("attach", opened.case.id, outcome="refused")
            raise
        try:
            record = attachment_record(opened.case.id, stored, filename, by=self.principal.username, now=now())
            saved = self.cases.add_attachment(record)
        except BaseException:
            stored.path.unlink(missing_ok=True)
            raise
        self.audit("attach", opened.case.id, attachment=saved.id, size=saved.size, type=saved.media_type)
        return saved

    def attachment_file(self, case_id: str, attachment_id: str, upload_dir: Path) -> tuple[Attachment, Path]:
        """An attachment and where its bytes are, for who may see the case's material (audited)."""
        opened = self.open(case_id, audit=False)
        if not opened.material:
            self.audit("download", opened.case.id, outcome="denied")
            raise NotFound(attachment_id)
        attachment = self.cases.attachment(opened.case.id, attachment_id)
        path = path_of(upload_dir, attachment)
        if not path.is_file():
            raise NotFound(attachment_id)
        self.audit("download", opened.case.id, attachment=attachment.id)
        return attachment, path

    # -- mentions ------------------------------------------------------------------------------
    def mentions(self) -> list[tuple[Investigation, Note]]:
        """Notes mentioning the principal, in cases whose material they may see."""
        out = []
        for case_id, note in self.cases.mentioning(self.principal.username):
            try:
                opened = self.open(case_id, audit=False)
            except NotFound:
                continue
            if opened.material:
                out.append((opened.case, note))
        return out


SEARCH_FILTERS = ("type", "dataset", "flow", "place", "year", "date_from", "date_to")


def _dashboard_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 1000:
        return False
    bare = path.split("?", 1)[0].split("#", 1)[0]
    return any(bare == d or bare.startswith(d + "/") for d in DASHBOARDS)


def _plain_id(text: str) -> str:
    """A case id is 32 hex digits; anything else is a case that does not exist."""
    text = text.strip().lower()
    if len(text) != 32 or any(c not in "0123456789abcdef" for c in text):
        raise NotFound(text[:40])
    return text


def _plain_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text.strip().rsplit("/", 1)[-1]))
    except ValueError:
        raise NotFound(text[:60]) from None


__all__ = [
    "CaseError",
    "Desk",
    "Material",
    "NotFound",
    "Opened",
    "RecordShown",
    "may_edit",
    "may_manage",
    "may_see_material",
]
