"""Writing to a family from its demande: a letter of the lieu's, previewed, edited, then sent
to the family's own address and to no one else.

The message is personal by nature, so it never waits in the outbox (whose rows are in clear
and outlive the demande): it is handed to the SMTP server while the agent waits, and an
accepted message leaves behind only, in the vault under the demande's own key, when, which
letter and by whom (destroyed with the demande); the audit trail says who wrote to which
demande's family with which letter, never the text nor the address.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from pydantic import BaseModel, ConfigDict, TypeAdapter
from sqlalchemy import Engine

from intake.config import Config, Problem
from intake.context import Context
from intake.convention import deadlines
from intake.desk.access import NotHeld, authorize_for_demande, open_demande, refuse_past_retention
from intake.family import letters
from intake.family.letters import Letter, LetterError, Letters
from intake.feed.model import RECORD, Demande
from notifier.smtp import SmtpSettings, connect
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, Status
from storage.vault import Vault

ACTION = "courriel-famille"
MAX_SUBJECT = 200
MAX_TEXT = 20_000


class SentEmail(BaseModel):
    """One email sent to the family, as the follow-up keeps it (never its text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sent_at: datetime
    letter: str  # the letter's id
    title: str  # its name when it was sent
    sent_by: str


SENT = TypeAdapter(list[SentEmail])


@dataclass(frozen=True)
class Draft:
    numero: str
    to: str | None  # None: the demande gives no address, nothing can be sent
    choices: list[Letter]
    letter: Letter | None  # the chosen one, rendered below
    subject: str = ""
    text: str = ""


def lieu_letters(config: Config) -> Letters:
    """The shipped letters with the lieu's own folder over them (`[family_emails] templates`)."""
    section = config.raw.family_emails
    return letters.load(config.resolve_path(section.templates) if section.templates else None)


def letter_problems(config: Config) -> list[Problem]:
    """What `intake check-config` says of the lieu's letters."""
    try:
        lieu_letters(config)
    except LetterError as refused:
        return [Problem("family_emails.templates", str(refused))]
    return []


@dataclass
class FamilyEmails:
    config: Config
    engine: Engine
    vault: Vault
    smtp: SmtpSettings | None
    connect: Callable[[SmtpSettings], smtplib.SMTP] = connect

    def letters(self) -> Letters:
        """Read at each use: the lieu edits its letters without restarting the console."""
        return lieu_letters(self.config)

    def draft(self, ctx: Context, numero: str, letter_id: str | None) -> Draft:
        """The letters to choose from and, once one is chosen, its text for this family. The
        demande is read for it (audited like any reading)."""
        agent, now = ctx.actor, ctx.now
        available = self.letters()
        opened = open_demande(self.engine, self.vault, self.config, numero, agent, now)
        if opened.demande is None:
            raise LetterError(f"{numero} : une demande en quarantaine ne donne pas d’adresse")
        demande = opened.demande
        choices = sorted(available.by_id.values(), key=lambda item: item.title.casefold())
        given = letters.family_address(demande)
        to = letters.usable_address(given) if given else None
        if letter_id is None:
            return Draft(opened.row.numero, to, choices, None)
        letter = available.get(letter_id)
        subject, text = available.render(letter, self._values(demande, agent, now))
        return Draft(opened.row.numero, to, choices, letter, subject, text)

    def send(self, ctx: Context, numero: str, letter_id: str, subject: str, text: str) -> SentEmail:
        """Send the (edited) text to the family's address from the demande, then record it."""
        agent, now = ctx.actor, ctx.now
        subject, text = " ".join(subject.split()), text.replace("\r\n", "\n").strip()
        if not subject or len(subject) > MAX_SUBJECT:
            raise LetterError(f"l’objet est demandé, en {MAX_SUBJECT} caractères au plus")
        if not text or len(text) > MAX_TEXT:
            raise LetterError(f"le texte est demandé, en {MAX_TEXT} caractères au plus")
        letter = self.letters().get(letter_id)
        if self.smtp is None:
            raise LetterError(
                "aucun serveur de courriel n’est configuré ([smtp]) : le courriel ne peut partir"
            )
        member = authorize_for_demande(
            self.engine, self.vault, self.config, agent, now, numero, ACTION
        )
        to = self._family_address(numero, now)
        message = self._message(to, subject, text, now)
        try:
            client = self.connect(self.smtp)
            try:
                client.send_message(message, from_addr=self.smtp.sender, to_addrs=[to])
            finally:
                client.quit()
        except (OSError, smtplib.SMTPException) as exc:
            raise LetterError(
                f"le serveur de courriel n’a pas pris le message ({type(exc).__name__}) : "
                "rien n’est parti, réessayez plus tard"
            ) from None
        sent = SentEmail(sent_at=now, letter=letter.id, title=letter.title, sent_by=member.email)
        self._record(numero, sent)
        return sent

    def sent(self, numero: str) -> list[SentEmail]:
        """What the follow-up keeps of the emails sent (for a page already authorised)."""
        with transaction(self.engine) as session:
            kept = store.read_secret(session, self.vault, numero, BlobKind.FAMILY_EMAILS)
        return SENT.validate_json(kept) if kept else []

    # --- parts ---------------------------------------------------------------------------------

    def _values(self, demande: Demande, agent: str, now: datetime) -> dict[str, str]:
        member = self.config.staff_member(agent)
        lieu = self.config.lieu
        return letters.values(
            demande,
            commune=self.config.commune_name(demande.commune_insee),
            lieu=lieu.name,
            lieu_phone=lieu.phone,
            lieu_address=lieu.address,
            agent=member.name if member else agent,
            today=deadlines.local_date(now, self.config.timezone),
        )

    def _family_address(self, numero: str, now: datetime) -> str:
        with transaction(self.engine) as session:
            row = store.get(session, numero)
            if row is None or row.status != Status.RECEIVED:
                raise NotHeld(f"{numero} : demande non détenue")
            refuse_past_retention(row, deadlines.local_date(now, self.config.timezone))
            record = store.read_secret(session, self.vault, numero, BlobKind.RECORD)
        if record is None:
            raise NotHeld(f"{numero} : demande non détenue")
        to = letters.family_address(RECORD.validate_json(record))
        if to is None:
            raise LetterError(
                f"{numero} : la demande ne donne aucune adresse électronique de la famille ; "
                "joignez-la par téléphone ou par courrier"
            )
        usable = letters.usable_address(to)
        if usable is None:
            raise LetterError(
                f"{numero} : l’adresse électronique de la famille n’est pas utilisable ; "
                "joignez-la par téléphone ou par courrier"
            )
        return usable

    def _message(self, to: str, subject: str, text: str, now: datetime) -> EmailMessage:
        assert self.smtp is not None
        domain = self.smtp.sender.rpartition("@")[2] or "intake.invalid"
        message = EmailMessage(policy=SMTP_POLICY.clone(max_line_length=998))
        message["From"] = Address(self.config.lieu.name, addr_spec=self.smtp.sender)
        message["To"] = Address(addr_spec=to)
        reply_to = self.config.raw.family_emails.reply_to
        if reply_to:
            message["Reply-To"] = Address(self.config.lieu.name, addr_spec=reply_to)
        message["Subject"] = subject
        message["Date"] = format_datetime(now)
        message["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
        message.set_content(text + "\n")
        return message

    def _record(self, numero: str, sent: SentEmail) -> None:
        with transaction(self.engine) as session:
            row = store.get(session, numero, for_update=True)
            if row is None or row.status != Status.RECEIVED:
                return  # destroyed meanwhile: nothing of the message outlives it
            kept = store.read_secret(session, self.vault, numero, BlobKind.FAMILY_EMAILS)
            history = [*(SENT.validate_json(kept) if kept else []), sent]
            store.replace_secret(
                session, self.vault, numero, BlobKind.FAMILY_EMAILS, SENT.dump_json(history)
            )
            row.updated_at = sent.sent_at
            store.save(session, row)
            self.vault.trail.record(
                session,
                at=sent.sent_at,
                actor=sent.sent_by,
                action=ACTION,
                numero=numero,
                detail={"modele": sent.letter},
            )
