"""The composition root: what every command needs, built once from the configuration
(database, vault, schema, clock), and the services wired from it. No rule lives here.

Each part imports its modules when first asked for: `intake status` opens the database and
reads a few tables; it has no use for the feed's schema, the extranet client or the PDF
makers, and a supervision probe runs it every minute.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from intake.clock import Clock, SystemClock

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from intake.config import Config
    from intake.context import Context
    from intake.convention import coverage
    from intake.convention.notices import Notices
    from intake.desk.account_admin import AccountAdmin
    from intake.desk.accounts import Accounts
    from intake.desk.exports import Exports
    from intake.desk.followup import FollowUps
    from intake.desk.journal import Journal
    from intake.desk.services import Desk, Reading
    from intake.family.service import FamilyEmails
    from intake.feed import FeedSchema
    from intake.pipeline import Ingestor, Line, MailboxPass, Poller
    from intake.pipeline.notify import Notified
    from intake.pipeline.rounds import Retrieval
    from intake.reports import Reports
    from intake.reports.access import ReportAccess
    from intake.reports.monthly import Made
    from intake.retention import Retention
    from intake.retention.attestations import Attestations
    from intake.retention.service import Convention, Purge
    from intake.sources.dropbox import Dropbox
    from intake.sources.extranet import ExtranetClient
    from notifier.smtp import SmtpSettings
    from storage.vault import Vault


@dataclass
class App:
    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        from storage.db import make_engine, upgrade

        engine = make_engine(self.config.database_url)
        upgrade(engine)
        return engine

    @cached_property
    def vault(self) -> Vault:
        """The vault, once the key file is known to be this database's (`KeyMismatch`)."""
        from intake.trail import anchor_sensitive_events
        from storage import keyring
        from storage.vault import read_master_key_file

        vault = keyring.unlock(
            self.engine,
            read_master_key_file(self.config.key_file),
            self.clock.now(),
            self.config.keys_dir,
            self.today,
        )
        anchor_sensitive_events(vault, self.config.key_file)
        return vault

    def context(self, actor: str) -> Context:
        """Who acts, now: what every service method is called with."""
        from intake.context import Context

        return Context(actor, self.clock.now())

    # --- the services (each use case is one of their methods) ----------------------------------

    @cached_property
    def reading(self) -> Reading:
        from intake.desk.services import Reading

        return Reading(self)

    @cached_property
    def followups(self) -> FollowUps:
        from intake.desk.followup import FollowUps

        return FollowUps(self.config, self.engine, self.vault)

    @cached_property
    def exports(self) -> Exports:
        from intake.desk.exports import Exports

        return Exports(self.config, self.engine, self.vault)

    @cached_property
    def journal(self) -> Journal:
        from intake.desk.journal import Journal

        return Journal(self.config, self.engine, self.vault)

    @cached_property
    def desk(self) -> Desk:
        from intake.desk.services import Desk

        return Desk(self)

    @cached_property
    def accounts(self) -> Accounts:
        from intake.desk.accounts import Accounts

        return Accounts(self.config, self.engine, self.vault, self.clock)

    @cached_property
    def account_admin(self) -> AccountAdmin:
        from intake.desk.account_admin import AccountAdmin

        return AccountAdmin(self.config, self.engine, self.vault, self.clock)

    @cached_property
    def retrieval(self) -> Retrieval:
        from intake.pipeline.rounds import Retrieval

        return Retrieval(self)

    @cached_property
    def purge(self) -> Purge:
        from intake.retention.service import Purge

        return Purge(self)

    @cached_property
    def convention(self) -> Convention:
        from intake.retention.service import Convention

        return Convention(self)

    def today(self) -> date:
        """The lieu's date (its time zone), from the app's clock."""
        from intake.convention import deadlines

        return deadlines.local_date(self.clock.now(), self.config.timezone)

    @cached_property
    def schema(self) -> FeedSchema:
        from intake.feed import FeedSchema

        return FeedSchema()

    def pollers(self, only: str | None = None, stop: threading.Event | None = None) -> list[Poller]:
        """One retrieval pass per habilitated person's account, each for its communes."""
        from intake.convention import coverage, deadlines

        config = self.config
        if config.raw.extranet is None:
            raise ValueError("aucune section [extranet] dans la configuration")
        if only is not None and only not in config.commune_codes:
            raise ValueError(f"la commune {only} n'est pas dans la configuration")
        stop = stop or threading.Event()
        found = []
        today = deadlines.local_date(self.clock.now(), config.timezone)
        for account in coverage.accounts(config, today):
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
        from intake.pipeline import Poller
        from intake.sources.extranet import ExtranetClient
        from intake.sources.extranet_errors import TransientError

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
        from intake.pipeline import MailboxPass
        from intake.sources.mailbox import MailboxSettings

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
        from intake.convention.notices import Notices

        return Notices(self.config)

    def smtp_settings(self) -> SmtpSettings | None:
        from notifier.smtp import SmtpSettings

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

    @cached_property
    def family_emails(self) -> FamilyEmails:
        from intake.family.service import FamilyEmails

        return FamilyEmails(self.config, self.engine, self.vault, self.smtp_settings())

    def notify(self) -> Notified:
        from intake.pipeline.notify import NotifyPass

        points = tuple(self.config.raw.alerts.before_deadline)
        return NotifyPass(self.engine, self.notices, self.smtp_settings(), self.clock, points).run()

    def retention(self, actor: str) -> Retention:
        from intake.retention import Retention

        return Retention(self.config, self.engine, self.vault, self.clock, actor)

    @cached_property
    def attestations(self) -> Attestations:
        from intake.retention.attestations import Attestations

        return Attestations(self.config, self.engine, self.vault, self.clock)

    @cached_property
    def reports(self) -> Reports:
        from intake.reports import Reports

        return Reports(self.config, self.engine)

    @cached_property
    def report_access(self) -> ReportAccess:
        from intake.reports.access import ReportAccess

        return ReportAccess(self.config, self.engine, self.vault, self.clock)

    def monthly_reports(self) -> list[Made]:
        """Last month's report and any the service missed while down, each made once."""
        return self.reports.catch_up(self.clock.now(), self.notices)

    def dropbox(self) -> Dropbox | None:
        from intake.sources.dropbox import Dropbox

        section = self.config.raw.dropbox
        return Dropbox(self.config.resolve_path(section.path)) if section else None

    def ingest_dropbox(self, dropbox: Dropbox) -> list[Line]:
        """Ingest each settled document of the dropbox, then clear it out of the folder."""
        from intake.pipeline.dropbox import DropboxPass

        return DropboxPass(self.ingestor("système:depot"), dropbox, self.notices, self.clock).run()

    def prune_audit(self, actor: str) -> int:
        from intake.retention.purge import prune_audit

        return prune_audit(self.engine, self.vault, self.clock.now(), actor)

    def ensure_open(self) -> None:
        from intake.retention.convention import ensure_open

        ensure_open(self.engine, self.config.timezone)

    def ingestor(self, actor: str) -> Ingestor:
        from intake.pipeline import Ingestor

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
