"""What every command needs, built once from the configuration: database, vault, schema, clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine
from sqlmodel import Session

from intake import coverage, deadlines
from intake.clock import Clock, SystemClock
from intake.config import Config
from intake.feed import FeedSchema
from intake.notices import Notices
from intake.pipeline import Ingestor, Line, MailboxPass, Poller
from intake.pipeline.dropbox import DropboxPass
from intake.reports import MONTH, Reports, month_name, previous_month
from intake.retention import Retention
from intake.retention.attestations import Attestations
from intake.retention.convention import ConventionEnded
from intake.sources.dropbox import Dropbox
from intake.sources.extranet import ExtranetClient, TransientError
from intake.sources.mailbox import MailboxSettings
from notifier.smtp import Delivery, SmtpSettings, deliver
from storage import attestations as attestation_store
from storage import audit, keyring
from storage.db import make_engine, transaction, upgrade
from storage.models import MonthlyReport
from storage.vault import Vault, read_master_key_file

AUDIT_KEPT = relativedelta(months=12)


@dataclass(frozen=True)
class Notified:
    announced: int
    alerts: int
    delivery: Delivery | None  # None: no [smtp], the emails stay queued


@dataclass
class App:
    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.config.database_url)
        upgrade(engine)
        return engine

    @cached_property
    def vault(self) -> Vault:
        """The vault, once the key file is known to be this database's (`KeyMismatch`)."""
        return keyring.unlock(
            self.engine, read_master_key_file(self.config.key_file), self.clock.now()
        )

    @cached_property
    def schema(self) -> FeedSchema:
        return FeedSchema()

    def pollers(self, only: str | None = None, stop: threading.Event | None = None) -> list[Poller]:
        """One retrieval pass per habilitated person's account, each for its communes."""
        config = self.config
        if config.raw.extranet is None:
            raise ValueError("aucune section [extranet] dans la configuration")
        if only is not None and only not in config.commune_codes:
            raise ValueError(f"la commune {only} n'est pas dans la configuration")
        stop = stop or threading.Event()
        found = []
        for account in coverage.accounts(config):
            communes = [c for c in account.communes if only is None or c == only]
            if communes:
                found.append(self._poller(account, communes, stop))
        return found

    def poller(self, only: str | None = None, stop: threading.Event | None = None) -> Poller:
        """The first account's pass (one account: the pass)."""
        found = self.pollers(only, stop)
        if not found:
            raise ValueError(f"aucun compte extranet ne couvre la commune {only}")
        return found[0]

    def _poller(
        self, account: coverage.AccountCoverage, communes: list[str], stop: threading.Event
    ) -> Poller:
        config = self.config
        extranet = config.raw.extranet
        assert extranet is not None
        member = account.member
        password = config.secret(account.secret_section, "password")
        if not password:
            raise ValueError(
                "mot de passe de l'extranet introuvable (extranet.password_env "
                "ou extranet.password_file)"
            )
        ca_bundle = str(config.resolve_path(extranet.ca_bundle)) if extranet.ca_bundle else None

        def interruptible_sleep(seconds: float) -> None:
            if stop.wait(seconds):
                raise TransientError("arrêt demandé pendant une attente")

        def connect() -> ExtranetClient:
            return ExtranetClient(
                extranet.url,
                member.email,
                password,
                ca_bundle=ca_bundle,
                sleep=interruptible_sleep,
                now=self.clock.now,
                stop=stop,
            )

        return Poller(
            ingestor=self.ingestor(member.email),
            connect=connect,
            communes=communes,
            account=member.email,
            password_mark=self.vault.fingerprint(password.encode()),
            notices=self.notices,
            unreachable_after=timedelta(hours=config.raw.alerts.unreachable_hours),
            stop=stop,
        )

    def mailbox_pass(self) -> MailboxPass | None:
        box = self.config.raw.mailbox
        if box is None:
            return None
        settings = MailboxSettings(
            host=box.host,
            port=box.port,
            username=self.config.secret(box, "username") or "",
            password=self.config.secret(box, "password") or "",
            folder=box.folder,
            sender=box.sender,
            use_ssl=box.ssl,
            starttls=box.starttls,
        )
        return MailboxPass(self.ingestor(f"boite:{settings.username}"), settings, self.notices)

    @cached_property
    def notices(self) -> Notices:
        return Notices(self.config)

    def smtp_settings(self) -> SmtpSettings | None:
        smtp = self.config.raw.smtp
        if smtp is None:
            return None
        return SmtpSettings(
            host=smtp.host,
            port=smtp.port,
            sender=smtp.sender,
            starttls=smtp.starttls,
            username=self.config.secret(smtp, "username"),
            password=self.config.secret(smtp, "password"),
            ca_bundle=str(self.config.resolve_path(smtp.ca_bundle)) if smtp.ca_bundle else None,
        )

    def notify(self) -> Notified:
        """Announce new demandes, raise the deadline alerts that are due, send what is queued."""
        now = self.clock.now()
        points = tuple(self.config.raw.alerts.before_deadline)
        with transaction(self.engine) as session:
            announced = self.notices.announce_new(session, now)
            alerts = self.notices.deadline_alerts(session, now, points)
            alerts += self.notices.attestation_reminders(session, now)
        settings = self.smtp_settings()
        if settings is None:
            return Notified(announced, alerts, None)
        delivery = deliver(self.engine, settings, now)
        if delivery.failed:
            with transaction(self.engine) as session:
                self.notices.delivery_failed(session, now, delivery.failed)
        return Notified(announced, alerts, delivery)

    def retention(self, actor: str) -> Retention:
        return Retention(self.config, self.engine, self.vault, self.clock, actor)

    @cached_property
    def attestations(self) -> Attestations:
        return Attestations(self.config, self.engine, self.vault, self.clock)

    @cached_property
    def reports(self) -> Reports:
        return Reports(self.config, self.engine)

    def monthly_report(self) -> MonthlyReport | None:
        """Last month's report, once for all workers, emailed to the admins and signatories."""
        now = self.clock.now()
        month = previous_month(deadlines.local_date(now, self.config.timezone))
        with transaction(self.engine) as session:
            began = audit.first_event_at(session)
        if began is None or deadlines.local_date(began, self.config.timezone) >= month + MONTH:
            return None  # installed since: that month is not the worker's to report

        def announce(session: Session, report: MonthlyReport) -> None:
            self.notices.monthly_report(session, now, report.month, month_name(month))

        return self.reports.store_once(month, now, announce)

    def dropbox(self) -> Dropbox | None:
        section = self.config.raw.dropbox
        return Dropbox(self.config.resolve_path(section.path)) if section else None

    def ingest_dropbox(self, dropbox: Dropbox) -> list[Line]:
        """Ingest each settled document of the dropbox, then clear it out of the folder."""
        return DropboxPass(self.ingestor("système:depot"), dropbox, self.notices, self.clock).run()

    def prune_audit(self, actor: str) -> int:
        """Events older than `AUDIT_KEPT` go, behind a checkpoint sealed by the master key."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            return self.vault.trail.prune(session, before=now - AUDIT_KEPT, now=now, actor=actor)

    def ensure_open(self) -> None:
        """After the convention's end nothing is taken in any more."""
        with transaction(self.engine) as session:
            ended = attestation_store.convention_end(session)
        if ended is not None:
            raise ConventionEnded(
                f"la convention a pris fin le "
                f"{ended.ended_at.astimezone(self.config.timezone):%d/%m/%Y} "
                f"({ended.ended_by}) : plus aucune demande n'est reçue"
            )

    def ingestor(self, actor: str) -> Ingestor:
        self.ensure_open()
        return Ingestor(
            engine=self.engine,
            vault=self.vault,
            schema=self.schema,
            clock=self.clock,
            communes=self.config.commune_codes,
            timezone=self.config.timezone,
            retrieval_days=self.config.retrieval_days,
            actor=actor,
        )
