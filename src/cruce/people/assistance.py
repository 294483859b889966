"""The assistance path of a victim case: from identification to certification, step by step.

A case names no one. Its subject is the record id of the victim's Person entity (whose name,
contacts and address are protected properties, shown only to those the guard allows) and its label
is a code; its caseworker handles it. Its path is a list of dated steps, each of one ``KIND``:

- ``consent``: informed, written and time-limited (an expiry date is required), for some scopes
  (``CONSENT_SCOPES``); a referral that shares the person's data needs a consent for referral that
  is valid on its date. Services never do: assistance is never conditional on consent.
- ``referral`` to another organization; ``service`` (shelter, medical, legal, language…);
- ``le_declaration``: the law-enforcement declaration (Form I-914 Supplement B) asked of an agency;
- ``t_visa``: the T-visa application's stages; ``continued_presence`` (with its expiry);
- ``hhs_certification`` (adults) or ``hhs_eligibility_letter`` (minors): the HHS letter that opens
  benefits — which one follows from the case's ``minor`` flag;
- ``note``.

Steps have a state, the date of that state, and optionally a deadline (``due``) and an expiry;
open steps with a deadline make the reminders of "my cases". Free text (a note, a step's comment)
is encrypted with the deployment's assistance key. Access and audit are the guard's: this module
stores and checks the rules of the path, it does not decide who may read.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken

from cruce.i18n import _

if TYPE_CHECKING:  # the security package stores cases: a runtime import would go round in a circle
    from cruce.security.db import AppDB

STATUSES = ("possible", "actual")  # a possible (presumed) victim, or one identified as a victim
KINDS: dict[str, tuple[str, ...]] = {  # the states each kind of step goes through
    "consent": ("given", "withdrawn"),
    "referral": ("requested", "accepted", "declined", "completed"),
    "service": ("requested", "provided", "ended", "declined"),
    "le_declaration": ("requested", "signed", "refused"),
    "t_visa": ("preparing", "filed", "biometrics", "evidence_requested", "approved", "denied"),
    "continued_presence": ("requested", "granted", "denied", "expired"),
    "hhs_certification": ("requested", "issued", "denied"),
    "hhs_eligibility_letter": ("requested", "issued", "denied"),
    "note": ("written",),
}
OPEN_STATES = frozenset({"requested", "preparing", "filed", "biometrics", "evidence_requested", "accepted"})
CONSENT_SCOPES = ("services", "referral", "law_enforcement", "data_sharing")
SERVICES = ("shelter", "medical", "mental_health", "legal", "language", "food", "transport", "employment", "education")
MAX_NOTE = 5000


class PathError(ValueError):
    """A step that breaks a rule of the path (said in the user's language)."""


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    status: str
    minor: bool
    subject_entity: str | None
    caseworker: str
    created_by: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Step:
    id: str
    case_id: str
    kind: str
    state: str
    on: date
    due: date | None
    expires: date | None
    organization: str | None
    subtype: str | None
    scopes: tuple[str, ...]
    note: str | None
    recorded_by: str
    recorded_at: datetime

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


_CASE = "id, label, status, minor, subject_entity, caseworker, created_by, created_at, closed_at"
_STEP = (
    "id, case_id, kind, state, on_date, due_date, expires_date, organization, subtype, scopes, note_encrypted, "
    "recorded_by, recorded_at"
)


class AssistanceCases:
    """Victim cases and their assistance path, in the application tables."""

    def __init__(self, db: AppDB, key: bytes) -> None:
        self.db = db
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    # -- cases ---------------------------------------------------------------------------------
    def open_case(
        self,
        *,
        label: str,
        caseworker: str,
        by: str,
        now: datetime,
        status: str = "possible",
        minor: bool = False,
        subject_entity: str | None = None,
    ) -> Case:
        """A new case handled by ``caseworker``; its label must say nothing of who the person is."""
        if status not in STATUSES:
            raise PathError(_("Unknown status {status}; choose possible or actual.").format(status=status))
        label = label.strip()[:80]
        if not label:
            raise PathError(_("A case needs a label (a code, never the person's name)."))
        case_id = str(uuid.uuid4())
        self.db.execute(
            f"INSERT INTO assistance_case ({_CASE}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (case_id, label, status, minor, subject_entity, caseworker, by, now),
        )
        return self.case(case_id)

    def case(self, case_id: str) -> Case:
        row = self.db.one(f"SELECT {_CASE} FROM assistance_case WHERE id = ?", (case_id,))
        if row is None:
            raise LookupError(case_id)
        cid, label, status, minor, subject, worker, by, at, closed = row
        return Case(str(cid), str(label), str(status), bool(minor), subject, str(worker), str(by), at, closed)

    def cases(self, caseworker: str | None = None) -> list[Case]:
        """Every case, or one caseworker's, newest first."""
        where, params = ("WHERE caseworker = ?", (caseworker,)) if caseworker else ("", ())
        rows = self.db.fetch(f"SELECT id FROM assistance_case {where} ORDER BY created_at DESC, id", params)
        return [self.case(str(r[0])) for r in rows]

    def set_status(self, case_id: str, status: str) -> Case:
        if status not in STATUSES:
            raise PathError(_("Unknown status {status}; choose possible or actual.").format(status=status))
        self.case(case_id)
        self.db.execute("UPDATE assistance_case SET status = ? WHERE id = ?", (status, case_id))
        return self.case(case_id)

    def reassign(self, case_id: str, caseworker: str) -> Case:
        self.case(case_id)
        self.db.execute("UPDATE assistance_case SET caseworker = ? WHERE id = ?", (caseworker, case_id))
        return self.case(case_id)

    # -- the path ------------------------------------------------------------------------------
    def add_step(
        self,
        case_id: str,
        *,
        kind: str,
        state: str,
        on: date,
        by: str,
        now: datetime,
        due: date | None = None,
        expires: date | None = None,
        organization: str | None = None,
        subtype: str | None = None,
        scopes: tuple[str, ...] = (),
        note: str | None = None,
    ) -> Step:
        """Record a step of the path, after checking the rules of its kind."""
        case = self.case(case_id)
        self._check(case, kind, state, on, expires, subtype, scopes, organization)
        text = (note or "").strip()[:MAX_NOTE]
        encrypted = self._fernet.encrypt(text.encode("utf-8")).decode("ascii") if text else None
        step_id = str(uuid.uuid4())
        self.db.execute(
            f"INSERT INTO assistance_step ({_STEP}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (step_id, case_id, kind, state, on, due, expires, (organization or "").strip()[:200] or None, subtype,
             ",".join(scopes) or None, encrypted, by, now),
        )  # fmt: skip
        return next(s for s in self.path(case_id) if s.id == step_id)

    def path(self, case_id: str) -> list[Step]:
        """The case's steps in the order they happened (then as recorded)."""
        rows = self.db.fetch(
            f"SELECT {_STEP} FROM assistance_step WHERE case_id = ? ORDER BY on_date, recorded_at, id", (case_id,)
        )
        return [self._step(r) for r in rows]

    def valid_consent(self, case_id: str, scope: str, on: date) -> Step | None:
        """The latest consent for ``scope`` given on or before ``on`` that has not expired or been
        withdrawn by then."""
        found: Step | None = None
        for step in self.path(case_id):
            if step.kind != "consent" or step.on > on or scope not in step.scopes:
                continue
            if step.state == "withdrawn":
                found = None
            elif step.expires is None or step.expires >= on:
                found = step
        return found

    def reminders(self, caseworker: str | None, today: date, days: int = 14) -> list[tuple[Case, Step]]:
        """Open steps due within ``days`` (or overdue), and consents and Continued Presence expiring
        in that time, of a caseworker's cases (every case with ``None``), soonest first."""
        horizon = today + timedelta(days=days)
        out = []
        for case in self.cases(caseworker):
            if case.closed_at is not None:
                continue
            latest: dict[tuple[str, str | None, str], Step] = {}
            for step in self.path(case.id):
                latest[step.kind, step.subtype, step.organization or ""] = step
            for step in latest.values():
                due = step.due if step.open else None
                ending = step.expires if step.state in ("given", "granted") else None
                when = min((d for d in (due, ending) if d is not None), default=None)
                if when is not None and when <= horizon:
                    out.append((case, step))
        return sorted(out, key=lambda pair: (_when(pair[1]), pair[0].label))

    # -- rules ---------------------------------------------------------------------------------
    def _check(
        self,
        case: Case,
        kind: str,
        state: str,
        on: date,
        expires: date | None,
        subtype: str | None,
        scopes: tuple[str, ...],
        organization: str | None,
    ) -> None:
        if kind not in KINDS:
            raise PathError(_("Unknown kind of step {kind}.").format(kind=kind))
        if state not in KINDS[kind]:
            raise PathError(_("A {kind} step can be: {states}.").format(kind=kind, states=", ".join(KINDS[kind])))
        if kind == "consent" and state == "given":
            if expires is None or expires <= on:
                raise PathError(_("Consent is time-limited: give the date it expires, after the day it was given."))
            if not scopes or any(s not in CONSENT_SCOPES for s in scopes):
                raise PathError(_("Say what the consent covers: {scopes}.").format(scopes=", ".join(CONSENT_SCOPES)))
        if kind == "service" and subtype not in SERVICES:
            raise PathError(_("Say which service: {services}.").format(services=", ".join(SERVICES)))
        if kind == "referral":
            if not (organization or "").strip():
                raise PathError(_("Say which organization the person is referred to."))
            if state == "requested" and self.valid_consent(case.id, "referral", on) is None:
                raise PathError(
                    _("A referral shares the person's data: record their consent to referral first "
                      "(services never need consent).")
                )  # fmt: skip
        if kind == "hhs_certification" and case.minor:
            raise PathError(_("A minor needs an HHS eligibility letter, not a certification."))
        if kind == "hhs_eligibility_letter" and not case.minor:
            raise PathError(_("An adult needs an HHS certification, not an eligibility letter."))

    def _step(self, row: tuple[object, ...]) -> Step:
        sid, cid, kind, state, on, due, expires, org, subtype, scopes, encrypted, by, at = row
        return Step(
            str(sid), str(cid), str(kind), str(state), _day(on), _day(due) if due else None,
            _day(expires) if expires else None, org, subtype,  # type: ignore[arg-type]
            tuple(x for x in str(scopes or "").split(",") if x), self._decrypt(encrypted), str(by), at,  # type: ignore[arg-type]
        )  # fmt: skip

    def _decrypt(self, value: object) -> str | None:
        if not value:
            return None
        try:
            return self._fernet.decrypt(str(value).encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise PathError(_("A note of this case cannot be decrypted with this server's key.")) from None


def _day(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _when(step: Step) -> date:
    return min((d for d in (step.due if step.open else None, step.expires) if d is not None), default=date.max)
