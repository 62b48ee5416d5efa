"""Delivery of the outbox over SMTP (smtplib; STARTTLS and login when configured)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from sqlalchemy import Engine

from notifier import outbox
from storage import outbox as store
from storage.db import transaction
from storage.models import OutboxMessage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_bundle: str | None = None  # a private CA's certificates, for an internal relay
    timeout: float = 30.0


@dataclass
class Delivery:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  # failed for good during this run
    error: str | None = None


def build(
    message: OutboxMessage,
    sender: str,
    now: datetime,
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> EmailMessage:
    email = EmailMessage(policy=SMTP_POLICY.clone(max_line_length=998))
    email["From"] = sender
    email["To"] = message.recipients
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id  # the same on every attempt: a resend shows
    email["Date"] = format_datetime(message.created_at if message.attempts else now)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    if attachments:
        email.make_mixed()
    for name, mime, content in attachments:
        # Base64 in lines of 76 characters (RFC 2045), whatever the text parts allow.
        part = EmailMessage(policy=SMTP_POLICY.clone(max_line_length=76))
        maintype, _, subtype = mime.partition("/")
        part.set_content(content, maintype=maintype, subtype=subtype, filename=name)
        email.attach(part)
    return email


def attachments_of(engine: Engine, message: OutboxMessage) -> list[store.Attachment]:
    """What the message announces, attached (`storage.outbox.attachments`)."""
    with transaction(engine) as session:
        return store.attachments(session, message)


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection to the configured server, STARTTLS and login done (the caller quits it)."""
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.starttls:
        client.starttls(context=ssl.create_default_context(cafile=settings.ca_bundle))
    if settings.username:
        client.login(settings.username, settings.password or "")
    return client


def deliver(
    engine: Engine,
    settings: SmtpSettings,
    now: datetime,
    *,
    connect: Callable[[SmtpSettings], smtplib.SMTP] = connect,
    limit: int = 100,
) -> Delivery:
    """Send what is due; each outcome committed at once, so nothing is sent twice by a rerun
    except a message whose acceptance was not yet recorded (same Message-ID)."""
    result = Delivery()
    with transaction(engine) as session:
        messages = store.due(session, now, limit)
    if not messages:
        return result
    try:
        client = connect(settings)
    except (OSError, smtplib.SMTPException) as exc:
        result.error = f"serveur SMTP injoignable ({type(exc).__name__})"
        for message in messages:
            _attempt_failed(engine, message, now, result.error, result)
        return result
    try:
        for message in messages:
            try:
                email = build(message, settings.sender, now, attachments_of(engine, message))
                client.send_message(email)
            except smtplib.SMTPServerDisconnected as exc:
                result.error = f"connexion SMTP perdue ({type(exc).__name__})"
                _attempt_failed(engine, message, now, result.error, result)
                break
            except (OSError, smtplib.SMTPException) as exc:
                _attempt_failed(engine, message, now, f"refusé ({type(exc).__name__})", result)
                continue
            _sent(engine, message, now)
            result.sent.append(message.id or 0)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
    return result


def _sent(engine: Engine, message: OutboxMessage, now: datetime) -> None:
    with transaction(engine) as session:
        row = store.get(session, message.id)
        if row is not None:
            row.sent_at, row.attempts, row.last_error = now, row.attempts + 1, None
            store.save(session, row)


def _attempt_failed(
    engine: Engine, message: OutboxMessage, now: datetime, error: str, result: Delivery
) -> None:
    with transaction(engine) as session:
        row = store.get(session, message.id)
        if row is None:
            return
        row.attempts += 1
        attempts = row.attempts
        row.last_error = error[:500]
        if row.attempts >= outbox.MAX_ATTEMPTS:
            row.failed_at = now
            result.failed.append(row.id or 0)
        else:
            row.next_attempt_at = now + outbox.next_delay(row.attempts)
            result.deferred.append(row.id or 0)
        store.save(session, row)
    log.warning("email %s not delivered (attempt %d): %s", message.id, attempts, error)
