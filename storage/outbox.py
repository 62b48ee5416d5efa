"""The outbox's rows: queued in the caller's transaction, read when due, marked once tried.
The retry policy (how long to wait, when to give up) is the notifier's; the attachments a
message announces (a monthly report, an attestation) are read here, so that the notifier
knows no other table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.models import Attestation, MonthlyReport, OutboxMessage

Attachment = tuple[str, str, bytes]  # file name, MIME type, content


def queue(session: Session, message: OutboxMessage) -> bool:
    """Add `message` unless one with the same `dedupe_key` exists; True if added."""
    exists = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == message.dedupe_key)
    if session.exec(exists).first() is not None:
        return False
    try:
        with session.begin_nested():  # another worker may have queued it meanwhile
            session.add(message)
    except IntegrityError:
        return False
    return True


def due(session: Session, now: datetime, limit: int = 100) -> list[OutboxMessage]:
    """The messages neither sent nor failed for good whose next attempt is due, oldest first."""
    query = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.sent_at).is_(None),
            col(OutboxMessage.failed_at).is_(None),
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(session.exec(query))


def get(session: Session, message_id: int | None) -> OutboxMessage | None:
    return session.get(OutboxMessage, message_id)


def save(session: Session, message: OutboxMessage) -> None:
    """An attempt's outcome, recorded on the message's row."""
    session.add(message)


def attachments(session: Session, message: OutboxMessage) -> list[Attachment]:
    """The monthly report's PDF and CSV, for the message that announces it; the attestation's
    PDF (signed once it is) for the messages that ask for its signature."""
    if message.attestation_id is not None:
        attestation = session.get(Attestation, message.attestation_id)
        document = attestation and (attestation.signed_pdf or attestation.pdf)
        if not document:
            return []
        return [(f"attestation-{message.attestation_id}.pdf", "application/pdf", document)]
    if not message.report_month:
        return []
    report = session.get(MonthlyReport, message.report_month)
    if report is None:
        return []
    stem = f"rapport-{report.month}"
    return [(f"{stem}.pdf", "application/pdf", report.pdf), (f"{stem}.csv", "text/csv", report.csv)]


@dataclass(frozen=True)
class Counts:
    queued: int
    failed: int


def counts(session: Session) -> Counts:
    def count(*conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(OutboxMessage).where(*conditions)
        return int(session.exec(query).one())

    return Counts(
        queued=count(col(OutboxMessage.sent_at).is_(None), col(OutboxMessage.failed_at).is_(None)),
        failed=count(col(OutboxMessage.failed_at).is_not(None)),
    )
