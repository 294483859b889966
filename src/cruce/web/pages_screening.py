"""Screening interviews (/screenings): the caseworker's list, a new interview, the interview one
domain per screen, and its result with the answers that drove it.

Only caseworkers and admins screen; a caseworker opens only their own interviews. Every reading of
an interview (its page, its answers, its result) is audited; the audit names the interview, never
what was said. The page saves each answer at once through its own JSON route (the REST API takes
bearer tokens only), the session's CSRF token in the ``X-CSRF-Token`` header; ``screening.js``
keeps unsent answers in the browser until the server acknowledges them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import Field

from cruce.people.interviews import (
    LANGUAGES,
    MAX_NOTE,
    MAX_SUBJECT,
    AnswerIn,
    Interview,
    Interviews,
    StoredAnswer,
    may_open,
    may_screen,
)
from cruce.people.screening import ANSWERS, InstrumentError, effective_cutoffs, instrument, score
from cruce.security import AccountError
from cruce.security.audit import now
from cruce.web.api import Strict
from cruce.web.context import CSRF_FIELD, Ctx, SignInRequired, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
InterviewId = Annotated[str, Path(max_length=64)]
CSRF_HEADER = "x-csrf-token"
MAX_BATCH = 200


class AnswerBody(Strict):
    question: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")
    answer: Literal["yes", "no", "unsure", "declined"] | None = None
    note: str | None = Field(default=None, max_length=MAX_NOTE)
    seq: int = Field(ge=0, le=2**62)
    answered_at: str | None = Field(default=None, max_length=40)


class AnswersBody(Strict):
    answers: list[AnswerBody] = Field(min_length=1, max_length=MAX_BATCH)


class LanguageBody(Strict):
    language: Literal["en", "es"]


# -- who may do what -------------------------------------------------------------------------------
def _screener(request: Request, *, json: bool = False) -> Ctx:
    """The page context of a caseworker or admin (403 for anyone else, audited)."""
    try:
        ctx = page(request)
    except SignInRequired:
        if json:
            raise HTTPException(status_code=401, detail="Sign in first.") from None
        raise
    if not may_screen(ctx.principal):
        ctx.audit("screening_denied", target=request.url.path, outcome="denied")
        raise HTTPException(status_code=403, detail=ctx._(_("Only caseworkers and admins conduct screenings.")))
    return ctx


def _interviews(ctx: Ctx) -> Interviews:
    return Interviews(ctx.security.db)


def _opened(ctx: Ctx, interview_id: str, what: str) -> Interview:
    """The interview, if this principal may open it; the reading (or the refusal) is audited."""
    interview = _interviews(ctx).get(interview_id)
    if interview is None:
        raise HTTPException(status_code=404)
    if not may_open(ctx.principal, interview):
        ctx.audit("screening_read", target=interview_id, outcome="denied", view=what)
        raise HTTPException(status_code=403, detail=ctx._(_("This interview belongs to another caseworker.")))
    ctx.audit("screening_read", target=interview_id, view=what)
    return interview


def _posted(ctx: Ctx, request: Request) -> None:
    ctx.check_csrf(request.headers.get(CSRF_HEADER))


# -- the list and a new interview ------------------------------------------------------------------
@router.get("/screenings", response_class=HTMLResponse)
def screenings(request: Request) -> Response:
    """The caseworker's own interviews (an admin's list holds everyone's)."""
    ctx = _screener(request)
    mine = None if ctx.principal.is_admin else ctx.principal.username
    interviews = _interviews(ctx)
    found = interviews.recent(mine)
    subjects = {i.id: interviews.subject(i.id) for i in found}
    ctx.audit("screening_list", count=len(found))  # the list shows each interview's subject reference
    return ctx.render("screenings.html", interviews=found, subjects=subjects, total=len(instrument().questions))


@router.get("/screenings/new", response_class=HTMLResponse)
def new_form(request: Request) -> Response:
    ctx = _screener(request)
    return ctx.render("screening_new.html", max_subject=MAX_SUBJECT)


@router.post("/screenings/new")
def new_interview(
    request: Request,
    csrf_token: Csrf = "",
    language: Annotated[str, Form(max_length=5)] = "en",
    subject: Annotated[str, Form(max_length=MAX_SUBJECT)] = "",
) -> Response:
    ctx = _screener(request)
    ctx.check_csrf(csrf_token)
    interview_id = _interviews(ctx).create(
        caseworker=ctx.principal.username, language=language if language in LANGUAGES else ctx.lang,
        subject=subject, now=now(),
    )  # fmt: skip
    ctx.audit("screening_create", target=interview_id)
    return ctx.redirect(f"/screenings/{interview_id}")


# -- the interview ---------------------------------------------------------------------------------
def _answers_out(stored: dict[str, StoredAnswer]) -> dict[str, dict[str, object]]:
    return {q: {"answer": a.answer, "note": a.note, "seq": a.seq} for q, a in stored.items()}


@router.get("/screenings/{interview_id}", response_class=HTMLResponse)
def interview_page(request: Request, interview_id: InterviewId) -> Response:
    ctx = _screener(request)
    interview = _opened(ctx, interview_id, "interview")
    interviews = _interviews(ctx)
    stored = interviews.answers(interview_id)
    config = {
        "id": interview_id,
        "csrf": ctx.csrf,
        "language": interview.language,
        "answers": _answers_out(stored),
        "labels": {
            "saved": ctx._(_("Saved")),
            "waiting": ctx._(_("Waiting to save")),
            "failed": ctx._(_("Not saved: the server refused this answer")),
            "offline": ctx._(_("No connection: the answers are kept on this device and sent when it is back.")),
            "signin": ctx._(_("Your session has ended: sign in again in another tab; the answers wait here.")),
            "pending": ctx._(_("Some answers are still waiting to save. Stay on this page until they are saved.")),
            "progress": ctx._(_("{answered} of {total} questions answered")),
        },
    }
    return ctx.render(
        "screening.html", interview=interview, tool=instrument(), stored=stored, config=config,
        subject=interviews.subject(interview_id),
    )  # fmt: skip


@router.get("/screenings/{interview_id}/answers")
def answers(request: Request, interview_id: InterviewId) -> Response:
    """The stored answers as JSON (what the page merges with the answers it has not sent yet)."""
    ctx = _screener(request, json=True)
    interview = _opened(ctx, interview_id, "answers")
    stored = _interviews(ctx).answers(interview_id)
    return JSONResponse(
        {"id": interview_id, "status": interview.status, "language": interview.language,
         "answers": _answers_out(stored)}
    )  # fmt: skip


def _when(text: str | None, received: datetime) -> datetime:
    """The client's time of the answer, as naive UTC; the server's when missing, unreadable or ahead."""
    try:
        when = datetime.fromisoformat(text) if text else received
    except ValueError:
        return received
    when = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    return min(when, received)


@router.post("/screenings/{interview_id}/answers")
def save_answers(request: Request, interview_id: InterviewId, body: AnswersBody) -> Response:
    """Save answers (idempotent: the same one twice is one answer; a later sequence number wins)
    and acknowledge what is stored for each question."""
    ctx = _screener(request, json=True)
    _posted(ctx, request)
    interview = _interviews(ctx).get(interview_id)
    if interview is None:
        raise HTTPException(status_code=404)
    if not may_open(ctx.principal, interview):
        ctx.audit("screening_answer", target=interview_id, outcome="denied")
        raise HTTPException(status_code=403, detail=ctx._(_("This interview belongs to another caseworker.")))
    received = now()
    entries = [AnswerIn(a.question, a.answer, a.note, a.seq, _when(a.answered_at, received)) for a in body.answers]
    try:
        stored = _interviews(ctx).save_answers(interview_id, entries, now=received)
    except AccountError as exc:
        return JSONResponse({"detail": ctx._(str(exc))}, status_code=422)
    ctx.audit("screening_answer", target=interview_id, questions=len(entries))
    return JSONResponse({"saved": [{"question": s.question, "seq": s.seq} for s in stored]})


@router.post("/screenings/{interview_id}/language")
def set_language(request: Request, interview_id: InterviewId, body: LanguageBody) -> Response:
    """The language the questions are read in (the answers stay as they are)."""
    ctx = _screener(request, json=True)
    _posted(ctx, request)
    _opened(ctx, interview_id, "language")
    _interviews(ctx).set_language(interview_id, body.language, now=now())
    return JSONResponse({"language": body.language})


@router.post("/screenings/{interview_id}/complete")
def complete(request: Request, interview_id: InterviewId, csrf_token: Csrf = "") -> Response:
    ctx = _screener(request)
    ctx.check_csrf(csrf_token)
    _opened(ctx, interview_id, "complete")
    _interviews(ctx).complete(interview_id, now=now())
    ctx.audit("screening_complete", target=interview_id)
    return ctx.redirect(f"/screenings/{interview_id}/result")


# -- the result ------------------------------------------------------------------------------------
@router.get("/screenings/{interview_id}/result", response_class=HTMLResponse)
def result(request: Request, interview_id: InterviewId) -> Response:
    ctx = _screener(request)
    interview = _opened(ctx, interview_id, "result")
    stored = _interviews(ctx).answers(interview_id)
    try:
        cutoffs = effective_cutoffs(ctx.services.settings.screening_cutoffs)
    except InstrumentError as exc:  # the deployment's setting is wrong: say which, to whoever may see it
        raise HTTPException(status_code=500, detail=str(exc)) from None
    outcome = score({q: a.answer for q, a in stored.items()}, cutoffs)
    enums = ctx.guard.schema.enums
    return ctx.render(
        "screening_result.html", interview=interview, tool=instrument(), outcome=outcome, stored=stored,
        answer_labels={c.code: c.get(ctx.lang) for c in instrument().answers}, enums=enums,
        unanswered=[q for q in instrument().questions if (stored.get(q.id) and stored[q.id].answer) not in ANSWERS],
    )  # fmt: skip
