"""Watch digests: a user's alerts raised since their previous digest, daily or weekly, in their language.

A digest lists every alert of the user's watches (entities, names, places, searches, the
firearms watches) written after the previous digest of the same period was made — or, before
the first one, within the period (the last day or week). Each record is read through ``Guard``
for the user, as on the alerts page: a record they may no longer see is left out, a protected
person's name is redacted for a role that cannot see it. Making a digest (``make``) records it,
so the next one starts where it ended; looking at what the next digest holds (``collect``, the
page and the API) records nothing.

The e-mail form is one self-contained HTML file (its style inline, no image, no link, nothing to
fetch). Mail is sent only when it is configured (``CRUCE_SMTP_HOST`` and the rest, see
``SmtpSettings``); otherwise the command line writes the files to a folder.
"""

from __future__ import annotations

import os
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from cruce.i18n import catalog
from cruce.resolve.watch import Alert, Watchlists
from cruce.security.db import AppDB
from cruce.store.base import Entity, Store

if TYPE_CHECKING:
    from cruce.security import Principal
    from cruce.security.guard import Guard

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MAX_ALERTS = 5000
LOCALES = {"en": "en_US", "es": "es_MX"}


def _(message: str) -> str:
    """Marks a message for the catalog; it is translated in the digest's own language."""
    return message


KIND_LABELS = {
    "entity": _("entity"),
    "name": _("name"),
    "place": _("place"),
    "search": _("search"),
    "flagged": _("flagged purchasers"),
    "purchases": _("purchases of"),
}
PERIOD_LABELS = {"daily": _("Daily digest"), "weekly": _("Weekly digest")}


@dataclass(frozen=True)
class DigestItem:
    alert: Alert
    entity: Entity
    caption: str


@dataclass
class Digest:
    username: str
    lang: str
    period: str
    since: datetime
    until: datetime
    items: list[DigestItem] = field(default_factory=list)


class Digests:
    """The watch_digest table: when each user's digests of each period were made."""

    def __init__(self, store: Store) -> None:
        self.db = AppDB(store)

    def last(self, username: str, period: str) -> datetime | None:
        row = self.db.one("SELECT max(made_at) FROM watch_digest WHERE username = ? AND period = ?", (username, period))
        return row[0] if row and row[0] is not None else None

    def record(self, digest: Digest) -> None:
        self.db.execute(
            "INSERT INTO watch_digest (id, username, period, made_at, alerts) VALUES (?, ?, ?, ?, ?)",
            (uuid.uuid4().hex, digest.username, digest.period, digest.until, len(digest.items)),
        )


def check_period(period: str) -> str:
    if period not in PERIODS:
        from cruce.i18n import _ as tr
        from cruce.resolve.watch import WatchError

        raise WatchError(tr("The period is daily or weekly."))
    return period


def collect(store: Store, guard: Guard, principal: Principal, period: str, *, until: datetime | None = None) -> Digest:
    """What the principal's next digest of ``period`` holds (nothing is recorded)."""
    from cruce.security import caption

    check_period(period)
    until = until or datetime.now()
    since = Digests(store).last(principal.username, period) or until - PERIODS[period]
    digest = Digest(principal.username, principal.language or "en", period, since, until)
    for alert in Watchlists(store).alerts(principal.username, limit=MAX_ALERTS):
        if not since < alert.created_at <= until:
            continue
        entity = guard.entity(principal, alert.entity_id)
        if entity is not None:
            digest.items.append(DigestItem(alert, entity, caption(entity)))
    digest.items.sort(key=lambda i: (i.alert.created_at, i.alert.id))
    return digest


def make(store: Store, guard: Guard, principal: Principal, period: str) -> Digest:
    """The principal's digest of ``period``, recorded: the next one starts where it ends."""
    digest = collect(store, guard, principal, period)
    Digests(store).record(digest)
    return digest


# -- the e-mail -------------------------------------------------------------------------------------------
@cache
def _env() -> Environment:
    return Environment(
        loader=PackageLoader("cruce.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _when(value: datetime, lang: str) -> str:
    from babel.dates import format_datetime

    return str(format_datetime(value, "medium", locale=LOCALES.get(lang, "en_US")))


def type_label(schema_name: str, lang: str) -> str:
    from cruce.schema.loader import default_schema
    from cruce.schema.model import type_label as label

    try:
        return label(default_schema(), schema_name, lang)
    except Exception:  # a type the schema no longer has: its name
        return schema_name


def email_html(digest: Digest) -> str:
    """The digest as one self-contained HTML document in its reader's language."""
    messages = catalog(digest.lang)

    def tr(message: str) -> str:
        return messages.get(message, message)

    return (
        _env()
        .get_template("digest.html")
        .render(
            _=tr,
            lang=digest.lang,
            digest=digest,
            title=tr(PERIOD_LABELS[digest.period]),
            since=_when(digest.since, digest.lang),
            until=_when(digest.until, digest.lang),
            kind_label=lambda kind: tr(KIND_LABELS.get(kind) or kind),
            type_label=lambda name: type_label(name, digest.lang),
            when=lambda value: _when(value, digest.lang),
        )
    )


def subject(digest: Digest) -> str:
    messages = catalog(digest.lang)
    title = messages.get(PERIOD_LABELS[digest.period], PERIOD_LABELS[digest.period])
    matches = _("{count} new matches")
    return f"cruce: {title} ({messages.get(matches, matches).format(count=len(digest.items))})"


# -- sending ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SmtpSettings:
    """Mail settings from the environment: ``CRUCE_SMTP_HOST`` (none: mail is not configured),
    ``CRUCE_SMTP_PORT`` (587), ``CRUCE_SMTP_USER`` and ``CRUCE_SMTP_PASSWORD`` (optional),
    ``CRUCE_SMTP_FROM`` (the sender), ``CRUCE_SMTP_STARTTLS`` (``1``, the default, or ``0``)."""

    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool

    @classmethod
    def from_environment(cls, env: Any = None) -> SmtpSettings | None:
        env = os.environ if env is None else env
        host = env.get("CRUCE_SMTP_HOST", "").strip()
        if not host:
            return None
        return cls(
            host=host,
            port=int(env.get("CRUCE_SMTP_PORT", "587") or 587),
            user=env.get("CRUCE_SMTP_USER") or None,
            password=env.get("CRUCE_SMTP_PASSWORD") or None,
            sender=env.get("CRUCE_SMTP_FROM", "") or f"cruce@{host}",
            starttls=env.get("CRUCE_SMTP_STARTTLS", "1") != "0",
        )


def send(settings: SmtpSettings, to: str, digest: Digest, html: str, *, timeout: float = 30.0) -> None:
    """Send the digest's HTML to ``to`` (an address; never logged with the digest's content)."""
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = settings.sender
    message["To"] = to
    message.set_content(subject(digest))
    message.add_alternative(html, subtype="html")
    with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.user:
            smtp.login(settings.user, settings.password or "")
        smtp.send_message(message)
