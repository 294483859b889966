"""Background jobs on the pages (/jobs): your imports and resolution runs with their progress,
read from the job table (so any server process answers), and cancel.

A job is shown to the user who started it and to admins (who see everyone's on /jobs); to anyone
else it is a 404. A cancel is recorded in the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response

from cruce.jobs import Job
from cruce.web.context import CSRF_FIELD, Ctx, page

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
JobId = Annotated[str, Path(max_length=64)]


def _job(ctx: Ctx, request: Request, job_id: str) -> Job:
    job: Job | None = request.app.state.jobs.get(ctx.principal, job_id)
    if job is None:
        raise HTTPException(status_code=404)
    return job


@router.get("/jobs", response_class=HTMLResponse)
def jobs(request: Request) -> Response:
    ctx = page(request)
    web_jobs = request.app.state.jobs
    found = web_jobs.everyone() if ctx.principal.is_admin else web_jobs.mine(ctx.principal)
    return ctx.render("jobs.html", jobs=found, everyone=ctx.principal.is_admin)


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: JobId) -> Response:
    ctx = page(request)
    job = _job(ctx, request, job_id)
    if job.kind == "import":
        return ctx.redirect(f"/import/{job.id}")
    return ctx.render("job.html", job=job)


@router.get("/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(request: Request, job_id: JobId) -> Response:
    ctx = page(request)
    return ctx.render("_job_progress.html", job=_job(ctx, request, job_id))


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: JobId, csrf_token: Csrf = "") -> Response:
    ctx = page(request)
    ctx.check_csrf(csrf_token)
    job: Job | None = request.app.state.jobs.cancel(ctx.principal, job_id)
    if job is None:
        raise HTTPException(status_code=404)
    ctx.audit("job_cancel", target=job.id, kind=job.kind)
    return ctx.redirect(f"/import/{job.id}" if job.kind == "import" else f"/jobs/{job.id}")
