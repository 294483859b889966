"""Admin pages: users (add, disable, enable, reset the password, role and groups), dataset markings,
the audit log with its verification. Every change is audited."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from cruce.security import AccountError, Marking, Role
from cruce.security.audit import now
from cruce.web.context import CSRF_FIELD, Ctx, page
from cruce.web.i18n import mark as _

router = APIRouter(include_in_schema=False)
Csrf = Annotated[str, Form(alias=CSRF_FIELD)]
Text = Annotated[str, Form(max_length=200)]
ACTIONS = ("disable", "enable", "reset", "role", "groups")


def _admin(request: Request) -> Ctx:
    ctx = page(request)
    if not ctx.principal.is_admin:
        raise HTTPException(status_code=403, detail=ctx._(_("Only admins can see this page.")))
    return ctx


def _groups(text: str) -> set[str]:
    return {g.strip() for g in text.split(",") if g.strip()}


def _users_page(ctx: Ctx, status_code: int = 200, **values: object) -> Response:
    return ctx.render(
        "admin_users.html", status_code=status_code, users=ctx.security.accounts.all(), roles=[r.value for r in Role],
        **values,
    )  # fmt: skip


@router.get("/admin", response_class=HTMLResponse)
def admin_users(request: Request) -> Response:
    return _users_page(_admin(request))


@router.post("/admin/users")
def add_user(
    request: Request,
    csrf_token: Csrf = "",
    username: Text = "",
    display_name: Text = "",
    role: Text = "viewer",
    groups: Text = "",
) -> Response:
    ctx = _admin(request)
    ctx.check_csrf(csrf_token)
    password = secrets.token_urlsafe(12)
    try:
        user = ctx.security.accounts.add(
            username, password, role, display_name=display_name, groups=_groups(groups), language=ctx.lang, now=now()
        )
    except AccountError as exc:
        ctx.audit("user_add", target=username[:100], outcome="refused")
        return _users_page(ctx, 422, error=ctx._(str(exc)))
    ctx.audit("user_add", target=user.username, role=user.role.value, groups=sorted(user.groups))
    message = ctx._(_("User {name} added. Their first password, shown only now: {password}")).format(
        name=user.username, password=password
    )
    return _users_page(ctx, message=message, new_password=password)


@router.post("/admin/users/{username}/{action}")
def change_user(
    request: Request,
    username: str,
    action: str,
    csrf_token: Csrf = "",
    role: Text = "",
    groups: Text = "",
) -> Response:
    ctx = _admin(request)
    ctx.check_csrf(csrf_token)
    if action not in ACTIONS:
        raise HTTPException(status_code=404)
    accounts = ctx.security.accounts
    message = ""
    try:
        if action in ("disable", "enable"):
            if action == "disable" and username == ctx.principal.username:
                raise AccountError(ctx._(_("You cannot disable your own account.")))
            accounts.set_disabled(username, action == "disable")
            message = ctx._(_("Saved."))
            ctx.audit(f"user_{action}", target=username)
        elif action == "reset":
            password = secrets.token_urlsafe(12)
            accounts.set_password(username, password, now=now())
            message = ctx._(_("New password for {name}, shown only now: {password}")).format(
                name=username, password=password
            )
            ctx.audit("user_reset", target=username)
        elif action == "role":
            if username == ctx.principal.username:
                raise AccountError(ctx._(_("You cannot change your own role.")))
            accounts.set_role(username, role)
            message = ctx._(_("Saved."))
            ctx.audit("user_role", target=username, role=role)
        else:
            accounts.set_groups(username, _groups(groups))
            message = ctx._(_("Saved."))
            ctx.audit("user_groups", target=username, groups=sorted(_groups(groups)))
    except AccountError as exc:
        ctx.audit(f"user_{action}", target=username[:100], outcome="refused")
        return _users_page(ctx, 422, error=ctx._(str(exc)))
    return _users_page(ctx, message=message)


@router.get("/admin/datasets", response_class=HTMLResponse)
def datasets(request: Request) -> Response:
    ctx = _admin(request)
    return ctx.render(
        "admin_datasets.html", datasets=ctx.guard.datasets(ctx.principal), policies=ctx.guard.policies(),
        markings=[m.value for m in Marking],
    )  # fmt: skip


@router.post("/admin/datasets/{dataset}")
def mark_dataset(
    request: Request, dataset: str, csrf_token: Csrf = "", marking: Text = "green", groups: Text = ""
) -> Response:
    ctx = _admin(request)
    ctx.check_csrf(csrf_token)
    if dataset not in {d.name for d in ctx.guard.datasets(ctx.principal)}:
        raise HTTPException(status_code=404)
    try:
        policy = ctx.security.policies.set(dataset, marking, _groups(groups), now=now())
    except AccountError as exc:
        raise HTTPException(status_code=422, detail=ctx._(str(exc))) from None
    ctx.audit("dataset_mark", target=dataset, marking=policy.marking.value, groups=sorted(policy.groups))
    return ctx.redirect("/admin/datasets")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit(
    request: Request,
    actor: Annotated[str, Query(max_length=200)] = "",
    action: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    verify: bool = False,
) -> Response:
    ctx = _admin(request)
    log = ctx.security.audit
    result = log.verify() if verify else None
    if verify:
        ctx.audit("audit_verify", outcome="ok" if result and result.ok else "broken")
    limit = 100
    return ctx.render(
        "admin_audit.html", entries=log.entries(limit=limit, offset=offset, actor=actor or None, action=action or None),
        total=log.count(), verification=result, actor=actor, action=action, offset=offset, limit=limit,
    )  # fmt: skip
