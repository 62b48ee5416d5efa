"""source -> feed -> storage -> (acknowledge -> notify, later issues); the only place that orders
these steps.

Each demande is stored in its own transaction, its record, XML and PDF together
or not at all, with its audit event. Ingesting the same demande again changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from intake import deadlines
from intake.clock import Clock
from intake.feed import (
    Accepted,
    Code,
    DocumentRefused,
    FeedHeader,
    FeedSchema,
    Refused,
    RuleContext,
    read_feed,
)
from intake.feed.model import RECORD
from intake.feed.pdf import PdfSource
from storage import audit
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault


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


@dataclass(frozen=True)
class Ingestor:
    engine: Engine
    vault: Vault
    schema: FeedSchema
    clock: Clock
    communes: frozenset[str]
    timezone: ZoneInfo
    retrieval_days: int
    actor: str

    def ingest_file(
        self, path: Path, *, source: str = "depot", pdfs: PdfSource | None = None
    ) -> Iterator[Line | FeedHeader]:
        ctx = RuleContext(self.communes, self.timezone, self.clock.now())
        for outcome in read_feed(path, schema=self.schema, ctx=ctx, pdfs=pdfs):
            if isinstance(outcome, FeedHeader):
                yield outcome
            elif isinstance(outcome, DocumentRefused):
                yield self._refuse_document(path, outcome)
            elif isinstance(outcome, Accepted):
                yield self._accept(outcome, source, path.name)
            else:
                yield self._refuse(path.name, outcome)

    # --- whole documents --------------------------------------------------------------------

    def _refuse_document(self, path: Path, refused: DocumentRefused) -> Line:
        now = self.clock.now()
        violation = refused.violation
        with transaction(self.engine) as session:
            store.record_refusal(
                session,
                at=now,
                source=path.name,
                numero=None,
                commune=None,
                code=violation.code,
                message=violation.message,
            )
            self._audit(
                session, now, "refus-flux", detail={"fichier": path.name, "code": violation.code}
            )
        return Line(path.name, Result.REFUSED, code=violation.code, message=violation.message)

    # --- valid demandes -----------------------------------------------------------------------

    def _accept(self, accepted: Accepted, source: str, file_name: str) -> Line:
        demande = accepted.demande
        record = RECORD.dump_json(demande)
        fingerprint = self.vault.fingerprint(record)
        held = self._held_identical(demande.numero, fingerprint)
        if held is not None:  # re-sent after a crash or polled again: no PDF to fetch
            return held
        # The PDF may come over the network: fetched outside any write transaction.
        pdf = accepted.load_pdf()
        if isinstance(pdf, Refused):
            return self._refuse(file_name, pdf)
        now = self.clock.now()
        with transaction(self.engine) as session:
            row = store.get(session, demande.numero, for_update=True)
            if row is not None and row.status == Status.RECEIVED:
                return self._already_received(session, row, accepted, pdf, fingerprint, now)
            if row is not None and row.status == Status.PURGED:
                return self._after_purge(session, row, now)
            replaced = row.status if row is not None else None
            row = row or DemandeRow(
                numero=demande.numero,
                commune=demande.commune_insee,
                status=Status.RECEIVED,
                created_at=now,
                updated_at=now,
            )
            self._fill(
                row,
                demande.commune_insee,
                demande.date_transmission,
                demande.date_notification,
                now,
            )
            row.status, row.refusal_code, row.fingerprint = Status.RECEIVED, None, fingerprint
            row.retrieved_at, row.source = now, source
            store.save(session, row)
            store.put_secrets(
                session,
                self.vault,
                demande.numero,
                {
                    BlobKind.RECORD: record,
                    BlobKind.XML: accepted.xml,
                    BlobKind.PDF: pdf,
                },
            )
            detail: dict[str, object] = {"commune": demande.commune_insee, "source": source}
            if replaced:
                detail["remplace"] = replaced
            self._audit(session, now, "reception", numero=demande.numero, detail=detail)
        return Line(
            demande.numero,
            Result.INGESTED,
            demande.numero,
            demande.commune_insee,
            retrieval_due=row.retrieval_due,
        )

    def _held_identical(self, numero: str, fingerprint: str) -> Line | None:
        with transaction(self.engine) as session:
            row = store.get(session, numero)
        if row is None or row.status != Status.RECEIVED or row.fingerprint != fingerprint:
            return None
        return Line(numero, Result.HELD, numero, row.commune, retrieval_due=row.retrieval_due)

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

    def _refuse(self, file_name: str, refused: Refused) -> Line:
        now = self.clock.now()
        message = " ; ".join(str(v) for v in refused.violations)
        with transaction(self.engine) as session:
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
        store.save(session, row)
        secrets = {BlobKind.QUARANTINE_XML: quarantine.xml}
        if quarantine.pdf is not None:
            secrets[BlobKind.QUARANTINE_PDF] = quarantine.pdf
        store.put_secrets(session, self.vault, row.numero, secrets)
        self._audit(session, now, "quarantaine", numero=row.numero, detail={"code": refused.code})

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
            self._audit(
                session, now, "refus", numero=numero, detail={"code": code, "commune": commune}
            )

    def _audit(
        self,
        session: Session,
        now: datetime,
        action: str,
        *,
        numero: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        audit.record(session, at=now, actor=self.actor, action=action, numero=numero, detail=detail)

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
        start = deadlines.retrieval_clock_start(transmitted_at, notified_at, row.mail_notified_at)
        row.retrieval_due = deadlines.retrieval_due(start, self.retrieval_days, self.timezone)
        row.purge_due = deadlines.purge_due(transmitted_at, self.timezone)
        row.updated_at = now
