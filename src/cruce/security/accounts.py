"""Local accounts: roles and groups, argon2 passwords, lock-out, TOTP second factor, API tokens.

A ``Principal`` is who is asking: every read of the store by a page, the API, the CLI or an
export goes through ``cruce.security.policy`` with one, so that what a role may see is decided
in one place.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cruce.i18n import _
from cruce.security.db import AppDB

MAX_FAILED_SIGNINS = 5
LOCKOUT = timedelta(minutes=10)
TOKEN_USE_RESOLUTION = timedelta(minutes=1)
"""An API token's last use is recorded to the minute."""
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("cruce: a password nobody has")


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    CASEWORKER = "caseworker"
    VIEWER = "viewer"


class Scope(StrEnum):
    """What an API token may do."""

    READ = "read"
    IMPORT = "import"
    TRIAGE = "triage"
    ADMIN = "admin"


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in user, a token's owner (with its scopes), or the public."""

    user_id: str
    username: str
    role: Role
    groups: frozenset[str]
    language: str = "en"
    scopes: frozenset[Scope] = frozenset(Scope)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


SYSTEM = Principal("system", "system", Role.ADMIN, frozenset(), "en")
"""The operator at the command line of an embedded store (who can read the file anyway)."""


@dataclass(frozen=True)
class User:
    id: str
    username: str
    display_name: str
    role: Role
    groups: frozenset[str]
    language: str
    disabled: bool
    has_totp: bool
    failed_signins: int
    locked_until: datetime | None
    created_at: datetime

    def principal(self, scopes: frozenset[Scope] = frozenset(Scope)) -> Principal:
        return Principal(self.id, self.username, self.role, self.groups, self.language, scopes)


def user_columns(alias: str = "") -> str:
    """The columns ``user_from_row`` reads, of ``app_user`` or of a join naming it ``alias``."""
    a = f"{alias}." if alias else ""
    return (
        f"{a}id, {a}username, {a}display_name, {a}role, {a}groups, {a}language, {a}disabled, "
        f"{a}totp_secret IS NOT NULL, {a}failed_signins, {a}locked_until, {a}created_at"
    )


_USER_COLUMNS = user_columns()


def _groups(text: str) -> frozenset[str]:
    return frozenset(g for g in (part.strip() for part in text.split(",")) if g)


def user_from_row(row: Sequence[object]) -> User:
    """A user from the columns of ``user_columns``."""
    uid, username, display, role, groups, lang, disabled, totp, failed, locked, created = row
    return User(
        str(uid), str(username), str(display), Role(str(role)), _groups(str(groups)), str(lang), bool(disabled),
        bool(totp), int(failed), locked, created,  # type: ignore[call-overload, arg-type]
    )  # fmt: skip


def token_digest(token: str) -> str:
    """Session and API tokens are stored as SHA-256 digests, never in the clear."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_("A password needs at least {n} characters.").format(n=MIN_PASSWORD_LENGTH))


class Accounts:
    """Users and API tokens in the application tables."""

    def __init__(self, db: AppDB) -> None:
        self.db = db

    # -- users --------------------------------------------------------------------------------
    def add(
        self,
        username: str,
        password: str,
        role: Role | str,
        *,
        display_name: str = "",
        groups: frozenset[str] | set[str] = frozenset(),
        language: str = "en",
        now: datetime,
    ) -> User:
        username = username.strip().lower()
        if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
            raise AccountError(_("A user name has letters, digits, dots, hyphens and underscores only."))
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(
                _("Unknown role {role}; choose admin, analyst, caseworker or viewer.").format(role=role)
            ) from None
        check_password_strength(password)
        if self.find(username):
            raise AccountError(_("The user {name} already exists.").format(name=username))
        uid = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO app_user (id, username, display_name, role, groups, password_hash, language, created_at, "
            "password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (uid, username, display_name or username, role.value, ",".join(sorted(groups)), _hasher.hash(password),
             language if language in ("en", "es") else "en", now, now),
        )  # fmt: skip
        user = self.get(uid)
        assert user is not None
        return user

    def get(self, user_id: str) -> User | None:
        row = self.db.one(f"SELECT {_USER_COLUMNS} FROM app_user WHERE id = ?", (user_id,))
        return user_from_row(row) if row else None

    def find(self, username: str) -> User | None:
        row = self.db.one(f"SELECT {_USER_COLUMNS} FROM app_user WHERE username = ?", (username.strip().lower(),))
        return user_from_row(row) if row else None

    def all(self) -> list[User]:
        return [user_from_row(row) for row in self.db.fetch(f"SELECT {_USER_COLUMNS} FROM app_user ORDER BY username")]

    def set_disabled(self, username: str, disabled: bool) -> User:
        user = self._require(username)
        self.db.execute("UPDATE app_user SET disabled = ? WHERE id = ?", (disabled, user.id))
        if disabled:
            self.db.execute("DELETE FROM app_session WHERE user_id = ?", (user.id,))
        return self._require(username)

    def set_password(self, username: str, password: str, *, now: datetime) -> User:
        check_password_strength(password)
        user = self._require(username)
        self.db.execute(
            "UPDATE app_user SET password_hash = ?, password_changed_at = ?, failed_signins = 0, locked_until = NULL "
            "WHERE id = ?",
            (_hasher.hash(password), now, user.id),
        )
        self.db.execute("DELETE FROM app_session WHERE user_id = ?", (user.id,))
        return self._require(username)

    def set_role(self, username: str, role: Role | str) -> User:
        """Change a user's role (an admin's decision; never reachable from the user's own forms)."""
        try:
            role = Role(role)
        except ValueError:
            raise AccountError(
                _("Unknown role {role}; choose admin, analyst, caseworker or viewer.").format(role=role)
            ) from None
        user = self._require(username)
        self.db.execute("UPDATE app_user SET role = ? WHERE id = ?", (role.value, user.id))
        self.db.execute("DELETE FROM app_session WHERE user_id = ?", (user.id,))
        return self._require(username)

    def set_groups(self, username: str, groups: Iterable[str]) -> User:
        user = self._require(username)
        text = ",".join(sorted({g.strip() for g in groups if g.strip()}))
        self.db.execute("UPDATE app_user SET groups = ? WHERE id = ?", (text, user.id))
        return self._require(username)

    def set_language(self, user_id: str, language: str) -> None:
        if language in ("en", "es"):
            self.db.execute("UPDATE app_user SET language = ? WHERE id = ?", (language, user_id))

    def _require(self, username: str) -> User:
        user = self.find(username)
        if user is None:
            raise AccountError(_("No user is called {name}.").format(name=username))
        return user

    # -- signing in ---------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, *, now: datetime) -> tuple[User | None, str]:
        """Check a password; returns (user, "ok") or (None, reason) with reason "bad", "locked", "disabled".

        The hash is always computed (a made-up one for unknown names) so that the time taken
        does not tell which user names exist.
        """
        row = self.db.one(
            "SELECT id, password_hash, disabled, failed_signins, locked_until FROM app_user WHERE username = ?",
            (username.strip().lower(),),
        )
        stored = str(row[1]) if row else _DUMMY_HASH
        good: bool
        try:
            good = _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            good = False
        if row is None:
            return None, "bad"
        uid, _hash, disabled, failed, locked_until = row
        if locked_until is not None and locked_until > now:
            return None, "locked"
        if disabled:
            return None, "disabled"
        if not good:
            failed = int(failed) + 1
            lock = now + LOCKOUT if failed >= MAX_FAILED_SIGNINS else None
            self.db.execute(
                "UPDATE app_user SET failed_signins = ?, locked_until = ? WHERE id = ?",
                (0 if lock else failed, lock, uid),
            )
            return None, "locked" if lock else "bad"
        self.db.execute("UPDATE app_user SET failed_signins = 0, locked_until = NULL WHERE id = ?", (uid,))
        if _hasher.check_needs_rehash(stored):
            self.db.execute("UPDATE app_user SET password_hash = ? WHERE id = ?", (_hasher.hash(password), uid))
        return self.get(str(uid)), "ok"

    # -- second factor ------------------------------------------------------------------------
    def enrol_totp(self, username: str) -> str:
        """Give the user a new TOTP secret; returns the otpauth:// URI to show as a QR code or text."""
        user = self._require(username)
        secret = pyotp.random_base32()
        self.db.execute("UPDATE app_user SET totp_secret = ? WHERE id = ?", (secret, user.id))
        return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="cruce")

    def check_totp(self, user_id: str, code: str, *, now: datetime) -> bool:
        row = self.db.one("SELECT totp_secret FROM app_user WHERE id = ?", (user_id,))
        if not row or not row[0]:
            return True
        return bool(pyotp.TOTP(str(row[0])).verify(code.strip(), for_time=now, valid_window=1))

    # -- API tokens ---------------------------------------------------------------------------
    def create_token(self, username: str, name: str, scopes: Iterable[Scope | str], *, now: datetime) -> str:
        """A new token for scripts, shown once; only its digest is kept."""
        user = self._require(username)
        try:
            chosen = {Scope(s) for s in scopes}
        except ValueError:
            raise AccountError(_("Unknown scope; choose among read, import, triage and admin.")) from None
        if Scope.ADMIN in chosen and user.role is not Role.ADMIN:
            raise AccountError(_("Only an admin can hold a token with the admin scope."))
        token = "cruce_" + secrets.token_urlsafe(32)
        self.db.execute(
            "INSERT INTO api_token (id, token_hash, user_id, name, scopes, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), token_digest(token), user.id, name, ",".join(sorted(s.value for s in chosen)), now),
        )
        return token

    def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        row = self.db.one("SELECT id FROM api_token WHERE id = ? AND revoked_at IS NULL", (token_id,))
        if row:
            self.db.execute("UPDATE api_token SET revoked_at = ? WHERE id = ?", (now, token_id))
        return row is not None

    def tokens(self, user_id: str) -> list[tuple[str, str, str, datetime, datetime | None, datetime | None]]:
        """(id, name, scopes, created, last used, revoked) of a user's tokens."""
        return [
            (str(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5])
            for r in self.db.fetch(
                "SELECT id, name, scopes, created_at, last_used, revoked_at FROM api_token WHERE user_id = ? "
                "ORDER BY created_at",
                (user_id,),
            )
        ]

    def principal_for_token(self, token: str, *, now: datetime) -> Principal | None:
        """The owner of a live token, with its scopes, read with the token in one query."""
        row = self.db.one(
            f"SELECT t.id, t.scopes, t.last_used, {user_columns('u')} FROM api_token t "
            "JOIN app_user u ON u.id = t.user_id WHERE t.token_hash = ? AND t.revoked_at IS NULL AND NOT u.disabled",
            (token_digest(token),),
        )
        if not row:
            return None
        token_id, scopes, last_used = row[:3]
        user = user_from_row(row[3:])
        if last_used is None or now - last_used >= TOKEN_USE_RESOLUTION:
            # a write per request would serialise every API call on the store's write lock
            self.db.execute("UPDATE api_token SET last_used = ? WHERE id = ?", (now, token_id))
        return user.principal(frozenset(Scope(s) for s in str(scopes).split(",") if s))
