"""One retrieval pass on the extranet: sign in as the habilitated person, then commune by
commune fetch the feed, ingest it, and acknowledge what is committed, and only that."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from intake.convention.notices import Notices
from intake.feed import (
    Code,
)
from intake.feed.model import DocumentPdf
from intake.feed.pdf import PdfMissingError
from intake.pipeline.ingest import Ingestor
from intake.pipeline.writes import Line, Result
from intake.sources.extranet import ExtranetClient
from intake.sources.extranet_errors import (
    ACCOUNT_CODES,
    AccountError,
    ExtranetError,
    TransientError,
    UnknownDemande,
)
from storage import communes as communes_store
from storage import demandes as store
from storage.db import transaction
from storage.locks import job_lock

log = logging.getLogger(__name__)


class ExtranetPdfSource:
    """PDFs downloaded from the extranet, for the demandes that need them."""

    def __init__(self, client: ExtranetClient) -> None:
        self.client = client

    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        try:
            return self.client.pdf(numero, document)
        except AccountError:
            raise  # the account is stopped: the poller ends the pass
        except ExtranetError as exc:
            # Refused pdf-invalide for now; kept unacknowledged, so the next poll tries again.
            raise PdfMissingError(f"{document.nom} ({exc})") from None


@dataclass
class CommunePass:
    insee: str
    lines: list[Line] = field(default_factory=list)
    unchanged: bool = False
    acknowledged: int = 0
    error: ExtranetError | None = None


@dataclass
class PollReport:
    communes: list[CommunePass] = field(default_factory=list)
    sign_in_error: ExtranetError | None = None

    @property
    def unreachable(self) -> bool:
        return self.sign_in_error is not None or any(c.error for c in self.communes)

    @property
    def refused(self) -> bool:
        return any(line.result == Result.REFUSED for c in self.communes for line in c.lines)


# The code of an error no step expected: recorded as the commune's, like an outage.
UNEXPECTED = "erreur-interne"

# A blocked account is tried again at most once a day: it cannot be locked any further, and
# the Caf may have unblocked it. A refused password is tried again only once it has changed.
BLOCKED_RETRY = timedelta(hours=24)


@dataclass
class Poller:
    """One retrieval pass: sign in as the habilitated person, then for each commune fetch the
    feed, store each demande, acknowledge what is stored, and only that."""

    ingestor: Ingestor
    connect: Callable[[], ExtranetClient]
    communes: list[str]
    account: str
    password_mark: str
    notices: Notices | None = None
    unreachable_after: timedelta = timedelta(hours=4)
    commune_seconds: float = 900.0  # one commune's whole pass: feed, PDFs, acknowledgements
    # Set by the daemon on SIGTERM: the demande under way is finished, nothing more is begun.
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def engine(self) -> Engine:
        return self.ingestor.engine

    def poll(self) -> PollReport:
        report = PollReport()
        refusal = self._account_still_stopped()
        if refusal is not None:
            report.sign_in_error = refusal
            return report
        client = self.connect()
        try:
            client.sign_in()
        except ExtranetError as exc:
            report.sign_in_error = exc
            self._record_sign_in_failure(exc)
            return report
        except Exception as exc:  # not the extranet's answer: every commune's error
            report.communes = [self._unexpected(insee, exc) for insee in self.communes]
            return report
        try:
            self._signed_in()
            for insee in self.communes:
                if self.stop.is_set():
                    break
                with job_lock(self.engine, f"commune:{insee}") as mine:
                    if not mine:
                        continue  # another worker is polling it right now
                    try:
                        outcome = self._commune(client, insee)
                    except Exception as exc:  # one commune's bug never blocks the others
                        outcome = self._unexpected(insee, exc)
                report.communes.append(outcome)
                if isinstance(outcome.error, AccountError):
                    report.sign_in_error = outcome.error
                    self._stop_account(outcome.error)
                    break
        finally:
            client.sign_out()
        return report

    # --- the account ---------------------------------------------------------------------------

    def _account_still_stopped(self) -> ExtranetError | None:
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            stopped = communes_store.stopped_account(session, self.account)
        if stopped is None or stopped.password_mark != self.password_mark:
            return None
        if stopped.code == "compte-bloque" and now - stopped.since >= BLOCKED_RETRY:
            return None
        return AccountError(
            f"compte {self.account} arrêté depuis le "
            f"{stopped.since.astimezone(self.ingestor.timezone):%d/%m/%Y à %H:%M} "
            f"({stopped.code}) : aucune tentative tant que le mot de passe configuré "
            "n'a pas changé",
            code=stopped.code,
        )

    def _record_sign_in_failure(self, error: ExtranetError) -> None:
        if isinstance(error, AccountError):
            self._stop_account(error)
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            for insee in self.communes:
                self._record_error_in(session, insee, error.code, str(error), now)

    def _stop_account(self, error: ExtranetError) -> None:
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            communes_store.stop_account(session, self.account, error.code, now, self.password_mark)
            self.ingestor.writer.audit_event(
                session, now, "compte-arrete", detail={"code": error.code}
            )
            if self.notices is not None:
                self.notices.account_stopped(session, now, self.account, error.code, str(error))

    def _signed_in(self) -> None:
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            communes_store.release_account(session, self.account)
            self.ingestor.writer.audit_event(session, now, "connexion-extranet")

    # --- one commune ---------------------------------------------------------------------------

    def _commune(self, client: ExtranetClient, insee: str) -> CommunePass:
        # However slowly the extranet answers, one commune's pass ends in bounded time and
        # the others get their turn.
        with client.deadline(self.commune_seconds):
            outcome = self._commune_within(client, insee)
            if client.overdue() and outcome.error is None:
                outcome.error = TransientError(
                    "délai de récupération de la commune dépassé : le reste attend le "
                    "prochain passage",
                    code="delai-depasse",
                )
                self._record_error(insee, outcome.error.code, str(outcome.error))
        return outcome

    def _commune_within(self, client: ExtranetClient, insee: str) -> CommunePass:
        outcome = CommunePass(insee)
        with transaction(self.engine) as session:
            etag = communes_store.state(session, insee).etag
        try:
            feed = client.feed(insee, etag)
        except ExtranetError as exc:
            outcome.error = exc
            self._record_error(insee, exc.code, str(exc))
            return outcome
        if not feed.changed:
            outcome.unchanged = True
            self._record_success(insee, etag)
            return outcome
        complete = True
        try:
            for line in self.ingestor.ingest(
                feed.content,
                f"extranet-{insee}",
                source="extranet",
                pdfs=ExtranetPdfSource(client),
                stop=self.stop,
            ):
                if not isinstance(line, Line):
                    continue
                outcome.lines.append(line)
                if self.stop.is_set():
                    complete = False  # the rest of the feed waits for the next pass
                    break
                if line.result in (Result.INGESTED, Result.HELD) and line.numero:
                    complete &= self._acknowledge(client, line.numero, outcome)
                elif line.numero is None or line.code == Code.PDF_INVALIDE:
                    complete = False  # worth fetching again: the fault may be the transport's
        except AccountError as exc:
            outcome.error = exc
            return outcome
        if self.stop.is_set():
            complete = False  # the ingest may have stopped early, without a last line
        if client.overdue():
            return outcome  # recorded as the commune's error by `_commune`
        # The ETag is kept only once everything in this feed is settled, so that whatever
        # could not be stored or acknowledged is fetched again on the next pass.
        self._record_success(insee, feed.etag if complete else None)
        return outcome

    def _unexpected(self, insee: str, exc: Exception) -> CommunePass:
        """An error no step expected (a bug, a library's exception): the commune's error,
        recorded and told like an outage, so that a commune is never blocked in silence.
        Nothing more of it is acknowledged; its feed is fetched whole on the next pass."""
        # The type only: an exception's text may quote a value of the feed.
        kind = type(exc).__name__
        log.error("extranet %s : erreur inattendue (%s)", insee, kind)
        error = ExtranetError(
            f"erreur inattendue pendant la récupération ({kind}) : ce qui n'est pas enregistré "
            "n'est pas acquitté et sera repris au prochain passage",
            code=UNEXPECTED,
        )
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            communes_store.forget_etag(session, insee)
            self._record_error_in(session, insee, UNEXPECTED, str(error), now, kind)
        return CommunePass(insee, error=error)

    def _acknowledge(self, client: ExtranetClient, numero: str, outcome: CommunePass) -> bool:
        # Only ever called for a demande that is committed: acknowledge after commit.
        try:
            client.acknowledge(numero)
        except AccountError:
            raise
        except UnknownDemande:
            log.info("acknowledgement of %s: unknown to the extranet", numero)
            return True
        except ExtranetError as exc:
            self._record_error(outcome.insee, exc.code, f"{numero} non acquittée : {exc}")
            return False
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            row = store.get(session, numero, for_update=True)
            if row is not None and row.acknowledged_at is None:
                row.acknowledged_at = now
                store.save(session, row)
                self.ingestor.writer.audit_event(session, now, "accuse-reception", numero=numero)
        outcome.acknowledged += 1
        return True

    def _record_success(self, insee: str, etag: str | None) -> None:
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            communes_store.record_success(session, insee, now, etag, tz=self.ingestor.timezone)
            if etag is None:
                communes_store.forget_etag(session, insee)

    def _record_error(self, insee: str, code: str, message: str) -> None:
        now = self.ingestor.clock.now()
        with transaction(self.engine) as session:
            self._record_error_in(session, insee, code, message, now)

    def _record_error_in(
        self,
        session: Session,
        insee: str,
        code: str,
        message: str,
        now: datetime,
        kind: str = "",
    ) -> None:
        """Record the error, and tell the admins in the same transaction when it is news:
        at once for a refused commune or an unexpected error (once per episode), after
        `unreachable_after` for an outage (once)."""
        communes_store.record_error(session, insee, now, code, message, tz=self.ingestor.timezone)
        if self.notices is None or code in ACCOUNT_CODES:
            return
        if code == "commune-non-habilitee":
            self.notices.commune_refused(session, now, insee)
            return
        since = communes_store.state(session, insee).failing_since
        if code == UNEXPECTED and since is not None:
            self.notices.unexpected_error(session, now, insee, since, kind)
            return
        if since is not None and now - since >= self.unreachable_after:
            self.notices.extranet_unreachable(session, now, insee, since, code)
