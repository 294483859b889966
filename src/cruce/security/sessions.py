"""Server-side sessions: an unguessable cookie token, stored as a digest, with its CSRF token.

A new session is made at every sign-in (the old one, if any, is dropped: no session
fixation); a session idle for 30 minutes is locked (the user signs in again) — to the minute, as
``last_seen`` is written at most once a minute; signing out or changing the password ends it.
The CSRF token is per session and checked on every form post.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cruce.security.accounts import Accounts, Principal, token_digest, user_columns, user_from_row
from cruce.security.db import AppDB

IDLE_LOCK = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)
"""A session's last_seen is written at most this often: a write per request would serialise every
request on the store's write lock, and the idle lock stays right to the minute."""


@dataclass(frozen=True)
class Session:
    token: str  # the cookie value; only its digest is stored
    user_id: str
    csrf_token: str
    second_factor_done: bool


@dataclass(frozen=True)
class ActiveSession:
    principal: Principal
    csrf_token: str
    second_factor_done: bool
    token_digest: str


class Sessions:
    def __init__(self, db: AppDB, accounts: Accounts) -> None:
        self.db = db
        self.accounts = accounts

    def start(self, user_id: str, *, now: datetime, second_factor_done: bool, replaces: str | None = None) -> Session:
        """A fresh session for a user who just proved who they are; ``replaces`` is dropped."""
        if replaces:
            self.end(replaces)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        self.db.execute(
            "INSERT INTO app_session (token_hash, user_id, csrf_token, created_at, last_seen, second_factor_done) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (token_digest(token), user_id, csrf, now, now, second_factor_done),
        )
        return Session(token, user_id, csrf, second_factor_done)

    def resume(self, token: str, *, now: datetime) -> ActiveSession | None:
        """The session behind a cookie, or None when unknown, idle too long, too old, or its user disabled."""
        digest = token_digest(token)
        # this runs for every page: two lookups by primary key cost DuckDB less than one join
        row = self.db.one(
            "SELECT csrf_token, created_at, last_seen, second_factor_done, user_id FROM app_session "
            "WHERE token_hash = ?",
            (digest,),
        )
        if row is None:
            return None
        csrf, created, last_seen, second, user_id = row
        found = self.db.one(f"SELECT {user_columns()} FROM app_user WHERE id = ?", (user_id,))
        user = user_from_row(found) if found is not None else None
        if user is None or user.disabled or now - last_seen > IDLE_LOCK or now - created > MAX_AGE:
            self.db.execute("DELETE FROM app_session WHERE token_hash = ?", (digest,))
            return None
        if now - last_seen >= TOUCH_EVERY:
            self.db.execute("UPDATE app_session SET last_seen = ? WHERE token_hash = ?", (now, digest))
        return ActiveSession(user.principal(), str(csrf), bool(second), digest)

    def complete_second_factor(self, token: str) -> None:
        self.db.execute("UPDATE app_session SET second_factor_done = TRUE WHERE token_hash = ?", (token_digest(token),))

    def end(self, token: str) -> None:
        self.db.execute("DELETE FROM app_session WHERE token_hash = ?", (token_digest(token),))

    @staticmethod
    def csrf_ok(session: ActiveSession, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(session.csrf_token, submitted or "")
