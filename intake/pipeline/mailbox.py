"""One pass over the notification mailbox: each email's fact and the cursor committed together,
and an email that cannot be read reported and stepped over, never a block."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy

from sqlmodel import Session

from intake.convention.notices import Notices
from intake.pipeline.ingest import Ingestor
from intake.sources import mailbox
from intake.sources.mailbox import MailboxSettings
from storage import communes as communes_store
from storage.db import transaction


@dataclass
class MailboxReport:
    notified: list[str] = field(default_factory=list)
    unreadable: int = 0
    error: str | None = None


@dataclass
class MailboxPass:
    """Read the extranet's new notification emails; each one's fact and the mailbox's cursor
    are committed together, so an email is processed once across restarts."""

    ingestor: Ingestor
    settings: MailboxSettings
    notices: Notices | None = None

    def run(self) -> MailboxReport:
        report = MailboxReport()
        engine = self.ingestor.engine
        with transaction(engine) as session:
            position = communes_store.mailbox_position(session, self.settings.key)
            validity, last = (position.uidvalidity, position.last_uid) if position else (None, 0)
        try:
            fetched = mailbox.fetch_new(self.settings, validity, last)
        except mailbox.MailboxError as exc:
            report.error = str(exc)
            return report
        for uid, raw in fetched.messages:
            now = self.ingestor.clock.now()
            with transaction(engine) as session:
                self._one(session, fetched.uidvalidity, uid, raw, now, report)
                communes_store.advance_mailbox(session, self.settings.key, fetched.uidvalidity, uid)
        return report

    def _one(
        self,
        session: Session,
        validity: int,
        uid: int,
        raw: bytes,
        now: datetime,
        report: MailboxReport,
    ) -> None:
        try:
            message = message_from_bytes(raw, policy=email_policy.default)
            if mailbox.sender_of(message) != self.settings.sender.casefold():
                return  # FROM matched a substring only: not the extranet's email
            notification = mailbox.parse(raw, self.ingestor.timezone)
        except Exception as exc:
            # Whatever one email makes the parser raise (an unknown charset, a broken MIME
            # tree), it is that email's problem: it is reported, the cursor moves past it and
            # the emails behind it are read.
            reason = (
                str(exc)
                if isinstance(exc, mailbox.NotificationUnreadable)
                else f"illisible : {type(exc).__name__}"
            )
            report.unreadable += 1
            if self.notices is not None:
                ident = mailbox.message_id(raw)
                self.notices.technical(
                    session,
                    now,
                    f"courriel-illisible:{validity}:{uid}",
                    "Courriel de l'extranet illisible",
                    f"Le courriel n° {uid} du dossier {self.settings.folder}"
                    + (f" (Message-ID {ident})" if ident else "")
                    + f" vient de l'extranet mais ne suit pas le format attendu ({reason}). "
                    "Il n'a pas été interprété.",
                    "le lire dans la boîte aux lettres et récupérer la demande sur l'extranet.",
                )
            return
        if self.ingestor.writer.record_notification(session, notification, now):
            report.notified.append(notification.numero)
