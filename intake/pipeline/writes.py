"""Every write of a demande that ingesting, polling or the mailbox makes: store it new,
find it already held, keep a diverging copy in quarantine, refuse it, record that it was
announced; each with its audit event, in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from intake.clock import Clock
from intake.convention import deadlines
from intake.feed import Accepted, Code, DocumentRefused, Refused
from intake.sources.mailbox import Notification
from storage import demandes as store
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault
from storage.writer import NewDemandes, save_with_secrets


class Result(StrEnum):
    INGESTED = "ingested"
    HELD = "held"  # already held with identical content: nothing changed
    REFUSED = "refused"


@dataclass(frozen=True)
class Line:
    """What happened to one demande (or to the whole document when `numero` is None)."""

    label: str
    result: Result
    numero: str | None = None
    commune: str | None = None
    code: str | None = None
    message: str | None = None
    retrieval_due: date | None = None
    pdf_name: str | None = None  # a demande stored or held: its PDF's file name in the feed


@dataclass
class Group:
    """One group's transaction: its rows read at the start (`known`; a numero met `twice`
    is read again by its own steps, which then see what the earlier ones wrote), and the
    new demandes waiting to be written together."""

    known: dict[str, DemandeRow]
    twice: set[str]
    new: NewDemandes


@dataclass(frozen=True)
class DemandeWriter:
    vault: Vault
    clock: Clock
    communes: frozenset[str]
    timezone: ZoneInfo
    retrieval_days: int
    actor: str

    # --- whole documents --------------------------------------------------------------------

    def refuse_document(self, session: Session, name: str, refused: DocumentRefused) -> Line:
        now = self.clock.now()
        violation = refused.violation
        store.record_refusal(
            session,
            at=now,
            source=name,
            numero=None,
            commune=None,
            code=violation.code,
            message=violation.message,
        )
        self.audit_event(
            session, now, "refus-flux", detail={"fichier": name, "code": violation.code}
        )
        return Line(name, Result.REFUSED, code=violation.code, message=violation.message)

    # --- valid demandes -----------------------------------------------------------------------

    def store(
        self,
        session: Session,
        accepted: Accepted,
        record: bytes,
        fingerprint: str,
        pdf: bytes,
        source: str,
        group: Group | None = None,
    ) -> Line:
        """A new demande joins the group's writes (written at once without a group); anything
        else writes at once, after what the group holds."""
        now = self.clock.now()
        if group is None:
            row = store.get(session, accepted.numero, for_update=True)
        else:
            row = group.known.get(accepted.numero)
            if row is not None:
                group.new.write(session)
        if row is not None and row.status == Status.RECEIVED:
            return self._already_received(session, row, accepted, pdf, fingerprint, now)
        if row is not None and row.status == Status.PURGED:
            return self._after_purge(session, row, now)
        secrets = {BlobKind.RECORD: record, BlobKind.XML: accepted.xml, BlobKind.PDF: pdf}
        detail: dict[str, object] = {"commune": accepted.commune, "source": source}
        if row is None:  # new: the one path of a new demande, with its group or alone
            new = group.new if group is not None else NewDemandes(self.vault, self.actor)
            timing = self._new(new, accepted, fingerprint, source, secrets, detail, now)
            if group is None:
                new.write(session)
            return Line(
                accepted.numero,
                Result.INGESTED,
                accepted.numero,
                accepted.commune,
                retrieval_due=timing["retrieval_due"],
            )
        detail["remplace"] = row.status
        self._fill(row, accepted.commune, accepted.transmitted_at, accepted.notified_at, now)
        row.status, row.refusal_code, row.fingerprint = Status.RECEIVED, None, fingerprint
        row.retrieved_at, row.source = now, source
        save_with_secrets(
            session,
            self.vault,
            row,
            secrets,
            fresh=False,
            actor=self.actor,
            event=(now, "reception", accepted.numero, detail),
        )
        return Line(
            accepted.numero,
            Result.INGESTED,
            accepted.numero,
            accepted.commune,
            retrieval_due=row.retrieval_due,
        )

    def _new(
        self,
        new: NewDemandes,
        accepted: Accepted,
        fingerprint: str,
        source: str,
        secrets: dict[BlobKind, bytes],
        detail: dict[str, object],
        now: datetime,
    ) -> dict[str, date]:
        """A new demande's columns (a plain mapping), handed to storage with its secrets and
        its audit event; its due dates."""
        timing = self._timing(accepted.transmitted_at, accepted.notified_at, None)
        row: dict[str, object] = {
            "numero": accepted.numero,
            "commune": accepted.commune,
            "status": Status.RECEIVED,
            "fingerprint": fingerprint,
            "source": source,
            "retrieved_at": now,
            "created_at": now,
            "updated_at": now,
            "transmitted_at": accepted.transmitted_at,
            "notified_at": accepted.notified_at,
            **timing,
        }
        new.add(row, secrets, (now, "reception", accepted.numero, detail))
        return timing

    def _already_received(
        self,
        session: Session,
        row: DemandeRow,
        accepted: Accepted,
        pdf: bytes,
        fingerprint: str,
        now: datetime,
    ) -> Line:
        numero = row.numero
        if row.fingerprint == fingerprint:  # another worker stored it meanwhile
            return Line(numero, Result.HELD, numero, row.commune, retrieval_due=row.retrieval_due)
        message = (
            "une demande de même numéro est déjà détenue avec un contenu différent ; "
            "la copie reçue est conservée chiffrée en quarantaine, la demande détenue "
            "est inchangée"
        )
        self._quarantine_copy(session, numero, accepted.xml, pdf)
        self._log_refusal(session, numero, row.commune, Code.DOUBLON_DIVERGENT, message, now)
        return Line(numero, Result.REFUSED, numero, row.commune, Code.DOUBLON_DIVERGENT, message)

    def _after_purge(self, session: Session, row: DemandeRow, now: datetime) -> Line:
        message = "cette demande a déjà été détruite au terme de sa conservation ; rien n'est gardé"
        self._log_refusal(session, row.numero, row.commune, Code.DEJA_EXPIREE, message, now)
        return Line(row.numero, Result.REFUSED, row.numero, row.commune, Code.DEJA_EXPIREE, message)

    # --- refused demandes ---------------------------------------------------------------------

    def refuse(self, session: Session, file_name: str, refused: Refused) -> Line:
        now = self.clock.now()
        message = " ; ".join(str(v) for v in refused.violations)
        if refused.quarantine is not None and refused.numero is not None:
            self._quarantine(session, refused, now)
        self._log_refusal(
            session,
            refused.numero,
            refused.commune,
            refused.code,
            message,
            now,
            source=file_name,
        )
        return Line(
            refused.label, Result.REFUSED, refused.numero, refused.commune, refused.code, message
        )

    def _quarantine(self, session: Session, refused: Refused, now: datetime) -> None:
        assert refused.quarantine is not None and refused.numero is not None
        row = store.get(session, refused.numero, for_update=True)
        quarantine = refused.quarantine
        if row is not None and row.status in (Status.RECEIVED, Status.PURGED):
            if row.status == Status.RECEIVED:  # a held demande re-sent in a refused form
                self._quarantine_copy(session, row.numero, quarantine.xml, quarantine.pdf)
            return
        fingerprint = self.vault.fingerprint(quarantine.xml)
        if row is not None and row.status == Status.QUARANTINED and row.fingerprint == fingerprint:
            return
        row = row or DemandeRow(
            numero=refused.numero,
            commune=refused.commune or "",
            status=Status.QUARANTINED,
            created_at=now,
            updated_at=now,
        )
        self._fill(row, refused.commune or row.commune, quarantine.transmitted_at, None, now)
        row.status, row.refusal_code, row.fingerprint = (
            Status.QUARANTINED,
            refused.code,
            fingerprint,
        )
        secrets = {BlobKind.QUARANTINE_XML: quarantine.xml}
        if quarantine.pdf is not None:
            secrets[BlobKind.QUARANTINE_PDF] = quarantine.pdf
        save_with_secrets(
            session,
            self.vault,
            row,
            secrets,
            fresh=False,
            actor=self.actor,
            event=(now, "quarantaine", row.numero, {"code": refused.code}),
        )

    def _quarantine_copy(
        self, session: Session, numero: str, xml: bytes, pdf: bytes | None
    ) -> None:
        # One quarantined copy is enough for the agents; a feed polled again adds nothing.
        if store.has_secret(session, numero, BlobKind.QUARANTINE_XML):
            return
        store.add_secret(session, self.vault, numero, BlobKind.QUARANTINE_XML, xml)
        if pdf:
            store.add_secret(session, self.vault, numero, BlobKind.QUARANTINE_PDF, pdf)

    def _log_refusal(
        self,
        session: Session,
        numero: str | None,
        commune: str | None,
        code: str,
        message: str,
        now: datetime,
        source: str = "",
    ) -> None:
        if store.record_refusal(
            session,
            at=now,
            source=source,
            numero=numero,
            commune=commune,
            code=code,
            message=message,
        ):
            self.audit_event(
                session, now, "refus", numero=numero, detail={"code": code, "commune": commune}
            )

    def audit_event(
        self,
        session: Session,
        now: datetime,
        action: str,
        *,
        numero: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        self.vault.trail.record(
            session, at=now, actor=self.actor, action=action, numero=numero, detail=detail
        )

    # --- notifications (the mailbox) ------------------------------------------------------

    def record_notification(
        self, session: Session, notification: Notification, now: datetime
    ) -> bool:
        """Start (or move earlier) the retrieval clock of an announced demande; True if the
        fact is new. A demande of a commune outside the convention is not the lieu's."""
        if notification.commune not in self.communes:
            return False
        row = store.get(session, notification.numero, for_update=True)
        if (
            row is not None
            and row.mail_notified_at is not None
            and row.mail_notified_at <= notification.sent_at
        ):
            return False
        if row is None:
            row = DemandeRow(
                numero=notification.numero,
                commune=notification.commune,
                status=Status.NOTIFIED,
                created_at=now,
                updated_at=now,
                source="courriel",
            )
            row.mail_notified_at = notification.sent_at
            self._fill(row, notification.commune, notification.available_at, None, now)
        else:
            row.mail_notified_at = notification.sent_at
            start = deadlines.retrieval_clock_start(
                row.transmitted_at or notification.available_at,
                row.notified_at,
                row.mail_notified_at,
            )
            row.retrieval_due = deadlines.retrieval_due(start, self.retrieval_days, self.timezone)
            row.updated_at = now
        store.save(session, row)
        self.audit_event(
            session, now, "notification", numero=row.numero, detail={"commune": row.commune}
        )
        return True

    # --- deadlines ----------------------------------------------------------------------------

    def _fill(
        self,
        row: DemandeRow,
        commune: str,
        transmitted_at: datetime,
        notified_at: datetime | None,
        now: datetime,
    ) -> None:
        row.commune = commune
        row.transmitted_at = transmitted_at
        row.notified_at = notified_at
        timing = self._timing(transmitted_at, notified_at, row.mail_notified_at)
        row.retrieval_due, row.purge_due = timing["retrieval_due"], timing["purge_due"]
        row.updated_at = now

    def _timing(
        self,
        transmitted_at: datetime,
        notified_at: datetime | None,
        mail_notified_at: datetime | None,
    ) -> dict[str, date]:
        """A demande's two due dates: its retrieval's and its destruction's."""
        start = deadlines.retrieval_clock_start(transmitted_at, notified_at, mail_notified_at)
        return {
            "retrieval_due": deadlines.retrieval_due(start, self.retrieval_days, self.timezone),
            "purge_due": deadlines.purge_due(transmitted_at, self.timezone),
        }
