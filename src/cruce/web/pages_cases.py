"""The caseworker's pages of the assistance path: "my cases" with what is due (/cases), a new case
(/cases/new) and a case's path from identification to certification (/cases/{id}).

Only the assigned caseworker and admins see a case (``guard.case_for``: every reading and refusal
audited); analysts and viewers get 403. A case names no one: its subject is linked by record id,
and the record's page shows the name only to whom the guard allows. Every change is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from cruce.people.assistance import CONSENT_SCOPES, KINDS, SERVICES, STATUSES, Case, PathError, Step
from cruce.security import Role
from cruce.security.audit import now
from cruce.security.guard import case_for, cases_for
from cruce.web.context import CSRF_FIELD, Ctx, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
Short = Annotated[str, Form(max_length=200)]
Day = Annotated[str, Form(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")]
REMINDER_DAYS = 14
STEP_LABELS = {
    "consent": _("Consent"),
    "referral": _("Referral"),
    "service": _("Service"),
    "le_declaration": _("Law-enforcement declaration (I-914 Supplement B)"),
    "t_visa": _("T visa"),
    "continued_presence": _("Continued Presence"),
    "hhs_certification": _("HHS certification"),
    "hhs_eligibility_letter": _("HHS eligibility letter"),
    "note": _("Note"),
}
SCOPE_LABELS = {
    "services": _("services"),
    "referral": _("referral to other organizations"),
    "law_enforcement": _("contact with law enforcement"),
    "data_sharing": _("sharing data for statistics"),
}


def _labels(ctx: Ctx) -> dict[str, Any]:
    return {
        "step_labels": {k: ctx._(v) for k, v in STEP_LABELS.items()},
        "scope_labels": {k: ctx._(v) for k, v in SCOPE_LABELS.items()},
    }


def _caseworker(request: Request) -> Ctx:
    ctx = page(request)
    if ctx.principal.role not in (Role.ADMIN, Role.CASEWORKER):
        raise HTTPException(status_code=403, detail=ctx._(_("Only caseworkers and admins handle victim cases.")))
    return ctx


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


@router.get("/cases", response_class=HTMLResponse)
def my_cases(request: Request) -> Response:
    """The caseworker's cases (every case for an admin) and what falls due in the next two weeks."""
    ctx = _caseworker(request)
    cases = cases_for(ctx.guard, ctx.principal)
    mine = None if ctx.principal.role == Role.ADMIN else ctx.principal.username
    due = ctx.security.assistance.reminders(mine, date.today(), REMINDER_DAYS)
    ctx.audit("list_cases", target=str(len(cases)))
    return ctx.render("cases.html", cases=cases, due=due, today=date.today(), days=REMINDER_DAYS, **_labels(ctx))


@router.get("/cases/new", response_class=HTMLResponse)
def new_case_form(request: Request) -> Response:
    ctx = _caseworker(request)
    return ctx.render("case_new.html", statuses=STATUSES, values={})


@router.post("/cases")
def create_case(
    request: Request,
    csrf_token: Csrf = "",
    label: Annotated[str, Form(max_length=80)] = "",
    status: Annotated[str, Form(max_length=20)] = "possible",
    minor: Annotated[str, Form(max_length=5)] = "",
    subject_entity: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    ctx = _caseworker(request)
    ctx.check_csrf(csrf_token)
    subject = subject_entity.strip().rsplit("/", 1)[-1] or None  # an id or a pasted /entity/ID address
    values = {"label": label, "status": status, "minor": minor, "subject_entity": subject_entity}
    if subject and ctx.guard.entity(ctx.principal, subject) is None:
        error = ctx._(_("No record you may see has that id."))
        return ctx.render("case_new.html", status_code=422, statuses=STATUSES, values=values, error=error)
    try:
        case = ctx.security.assistance.open_case(
            label=label, caseworker=ctx.principal.username, by=ctx.principal.username, now=now(),
            status=status, minor=minor == "yes", subject_entity=subject,
        )  # fmt: skip
    except PathError as exc:
        return ctx.render("case_new.html", status_code=422, statuses=STATUSES, values=values, error=ctx._(str(exc)))
    ctx.audit("open_case", target=case.id)
    return ctx.redirect(f"/cases/{case.id}")


def _handled(ctx: Ctx, case_id: str) -> tuple[Case, list[Step]]:
    """The case and its path if this user may handle it (audited); 404 or 403 otherwise."""
    try:
        return case_for(ctx.guard, ctx.principal, case_id, address=ctx.address)
    except LookupError:
        raise HTTPException(status_code=404) from None
    except PermissionError:
        raise HTTPException(status_code=403, detail=ctx._(_("Only the case's caseworker and admins see it."))) from None


def _case_page(ctx: Ctx, case_id: str, status_code: int = 200, **values: object) -> Response:
    case, path = _handled(ctx, case_id)
    today = date.today()
    return ctx.render(
        "case.html", status_code=status_code, case=case, path=path, kinds=KINDS, services=SERVICES,
        scopes=CONSENT_SCOPES, statuses=STATUSES, today=today.isoformat(),
        consent={s: ctx.security.assistance.valid_consent(case.id, s, today) for s in CONSENT_SCOPES},
        **_labels(ctx), **values,
    )  # fmt: skip


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: Annotated[str, Path(max_length=40)]) -> Response:
    ctx = _caseworker(request)
    return _case_page(ctx, case_id)


@router.post("/cases/{case_id}/steps")
def add_step(
    request: Request,
    case_id: Annotated[str, Path(max_length=40)],
    csrf_token: Csrf = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    state: Annotated[str, Form(max_length=40)] = "",
    on: Day = "",
    due: Day = "",
    expires: Day = "",
    organization: Short = "",
    subtype: Annotated[str, Form(max_length=40)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=len(CONSENT_SCOPES))] = None,
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Record a step of the path; a step that breaks a rule is refused with the rule, in the reader's language."""
    ctx = _caseworker(request)
    ctx.check_csrf(csrf_token)
    _handled(ctx, case_id)
    try:
        ctx.security.assistance.add_step(
            case_id, kind=kind, state=state, on=_day(on) or date.today(), by=ctx.principal.username, now=now(),
            due=_day(due), expires=_day(expires), organization=organization or None, subtype=subtype or None,
            scopes=tuple(scopes or ()), note=note or None,
        )  # fmt: skip
    except PathError as exc:
        return _case_page(ctx, case_id, 422, error=ctx._(str(exc)))
    ctx.audit("case_step", target=case_id, kind=kind, state=state)
    return ctx.redirect(f"/cases/{case_id}")


@router.post("/cases/{case_id}/status")
def set_status(
    request: Request,
    case_id: Annotated[str, Path(max_length=40)],
    csrf_token: Csrf = "",
    status: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    ctx = _caseworker(request)
    ctx.check_csrf(csrf_token)
    _handled(ctx, case_id)
    try:
        ctx.security.assistance.set_status(case_id, status)
    except PathError as exc:
        return _case_page(ctx, case_id, 422, error=ctx._(str(exc)))
    ctx.audit("case_status", target=case_id, status=status)
    return ctx.redirect(f"/cases/{case_id}")
