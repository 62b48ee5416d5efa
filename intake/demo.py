"""`intake demo`: the whole cycle on made-up families, in a fresh folder, in about a minute.

The sandbox extranet and a local SMTP server (which files each email as a `.eml`) run in this
process; the worker is the real one — the service's own jobs (`Duties`, as `intake run` runs
them), the real database, vault, outbox and PDFs — driven over a compressed timeline by a clock
the demo moves forward. The story starts eight months ago: demandes arrive and are retrieved, a
deadline is missed, six months pass, the data is destroyed, the attestation is drafted and
signed with a demo certificate, the monthly reports are written. Then the last weeks up to
today (`intake.demo_today`): the console opens on live demandes, due dates relative to today.
"""

from __future__ import annotations

import logging
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from intake import config as configuration
from intake.app import App
from intake.clock import FixedClock
from intake.convention import deadlines
from intake.daemon import Daemon
from intake.demo_lieu import CONFIG, CONSOLE_PASSWORD, STAFF, EmlFiler
from intake.demo_today import current_weeks
from intake.desk.accounts import Accounts
from intake.ops import logs
from intake.ops.duties import ACTOR, Duties
from intake.reports import MONTH
from intake.sandbox.certificates import signatory
from intake.sandbox.server import free_port, start
from intake.sandbox.state import Account, SandboxState, notification_email
from intake.sources import mailbox
from intake.web.server import serve
from storage.db import transaction
from storage.vault import generate_master_key_file

PARIS = ZoneInfo("Europe/Paris")  # the demo lieu's time zone, as in CONFIG
MARKER = ".intake-demo"
AGENT = "l.feuga@ville-corbas.fr"  # the demo's one agent (intake.demo_lieu's CONFIG)
PASSWORD = "bac-a-sable"  # noqa: S105  (the sandbox's made-up account)
DEMO_PASSPHRASE = "demo"  # noqa: S105  (the demo certificate's, printed for the reader)


@dataclass
class Demo:
    folder: Path
    out: TextIO
    started: datetime  # the real instant the demo begins: its timeline starts there
    console: bool = False  # serve the console at the end, until Ctrl-C
    command: str = "intake"  # the command as the newcomer can type it (`.venv/bin/intake`)
    web_port: int = field(init=False, default=8080)
    clock: FixedClock = field(init=False)
    _cleanups: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = FixedClock(story_start(self.started))

    def say(self, when: datetime | None, text: str) -> None:
        stamp = f"[{when.astimezone(PARIS):%d/%m/%Y}] " if when else ""
        print(f"{stamp}{text}", file=self.out)
        self.out.flush()

    # --- set-up -----------------------------------------------------------------------------

    def prepare(self) -> tuple[App, Duties, SandboxState, EmlFiler]:
        if self.folder.exists():
            if any(self.folder.iterdir()) and not (self.folder / MARKER).exists():
                raise FileExistsError(
                    f"{self.folder} existe et n'est pas un dossier de démonstration : "
                    "choisissez un dossier neuf (intake demo DOSSIER)"
                )
            shutil.rmtree(self.folder)
        for name in ("courriels", "attestations", "rapports", "secrets"):
            (self.folder / name).mkdir(parents=True, exist_ok=True)
        (self.folder / MARKER).write_text("dossier écrit par intake demo\n", encoding="utf-8")

        start_day = self.clock.now()
        state = SandboxState(
            accounts={AGENT: Account(AGENT, PASSWORD, frozenset({"69273"}))},
            seed=7,
            now=self.clock.now,
        )
        server, url = start(state)

        def stop_sandbox() -> None:
            server.shutdown()
            server.server_close()

        self._cleanups.append(stop_sandbox)
        filer = EmlFiler(self.folder / "courriels", STAFF)
        port = free_port()
        controller = Controller(filer, hostname="127.0.0.1", port=port)
        controller.start()
        self._cleanups.append(controller.stop)

        config_path = self.folder / "intake.toml"
        self.web_port = 8080 if _free(8080) else free_port()
        config_path.write_text(
            CONFIG.format(
                extranet=url,
                smtp_port=port,
                web_port=self.web_port,
                signed_on=(start_day - timedelta(days=30)).astimezone(PARIS).date().isoformat(),
            ),
            encoding="utf-8",
        )
        secret = self.folder / "secrets" / "extranet.txt"
        secret.write_text(PASSWORD + "\n", encoding="utf-8")
        secret.chmod(0o600)
        generate_master_key_file(self.folder / "secrets" / "master.key")
        app = App(configuration.load(config_path), self.clock)
        Accounts(app.config, app.engine, app.vault, self.clock).set_password(
            AGENT, CONSOLE_PASSWORD
        )
        self.say(start_day, f"Lieu de démonstration prêt dans {self.folder}/ (extranet {url}).")
        return app, Duties(app), state, filer

    def close(self) -> None:
        for cleanup in reversed(self._cleanups):
            cleanup()

    # --- the timeline ---------------------------------------------------------------------------

    def run(self) -> int:
        app, duties, state, filer = self.prepare()
        try:
            with self._journal():
                self._story(app, duties, state)
                current_weeks(self, app, duties, state)
                self._artefacts(filer)
                self._console(app)
        finally:
            self.close()
        return 0

    @contextmanager
    def _journal(self) -> Iterator[None]:
        """The worker's log goes to a file of the demo, as systemd's journal would keep it."""
        journal = logging.FileHandler(self.folder / "journal.log", encoding="utf-8")
        journal.setFormatter(logs.plain())
        logger = logging.getLogger("intake")
        logger.addHandler(journal)
        logger.propagate = False
        level, logger.level = logger.level, logging.INFO  # what `intake run` would log
        try:
            yield
        finally:
            logger.removeHandler(journal)
            logger.propagate = True
            logger.level = level
            journal.close()

    def _console(self, app: App) -> None:
        url = f"http://127.0.0.1:{self.web_port}"
        sign_in = f"adresse {AGENT}, mot de passe « {CONSOLE_PASSWORD} »"
        if not self.console:
            print(
                f"\nLa console web : {self.command} -c {self.folder}/intake.toml web, puis {url} "
                f"({sign_in}). Le service, lui, s'arrête avec la démonstration (son extranet "
                "aussi) : la console le dira arrêté.",
                file=self.out,
            )
            return
        print(
            f"\nLa console web : {url} ({sign_in}). Le service tourne à côté, sur l'extranet "
            "de démonstration. Ctrl-C pour arrêter.",
            file=self.out,
        )
        self.out.flush()
        live = App(app.config)  # the story is over: the console and the service in real time
        service = Daemon.in_process(live)
        scheduler, _ = service.scheduled()
        scheduler.start()
        try:
            serve(live, f"127.0.0.1:{self.web_port}")
        finally:
            service.wind_down(scheduler)

    def at(self, moment: datetime) -> datetime:
        self.clock.instant = moment
        return moment

    def jobs(self, duties: Duties, *names: str) -> None:
        for name in names:
            duties.guarded(name)

    def _story(self, app: App, duties: Duties, state: SandboxState) -> None:
        day0 = self.at(self.clock.now())
        made = state.add_demandes(4, "69273", age=timedelta(hours=20))
        self.say(
            day0,
            f"{len(made)} familles déposent une demande ; l'extranet les met à "
            "disposition du lieu.",
        )
        self.jobs(duties, "extranet", "courriels")
        self.say(day0, "Le service les récupère, les chiffre, les acquitte et prévient l'agent.")

        day1 = self.at(day0 + timedelta(days=1))
        (late,) = state.add_demandes(1, "69273")
        held_back = state.pending["69273"].pop(late.numero)  # not in the feed yet
        self.read_notification(app, late)
        self.say(
            day1,
            f"Courriel de notification pour {late.numero}, mais la demande n'apparaît pas "
            "dans le flux de l'extranet : le délai de 15 jours court.",
        )
        for offset in range(2, 20):
            moment = self.at(day0 + timedelta(days=offset))
            if offset == 19:
                state.pending["69273"][late.numero] = held_back
            self.jobs(duties, "extranet", "courriels")
            if offset == 17:
                self.say(
                    moment,
                    f"Délai dépassé pour {late.numero} : l'agent est alerté chaque jour "
                    "(courriels « Récupération en retard »).",
                )
            if offset == 19:
                self.say(
                    moment,
                    f"{late.numero} apparaît enfin : récupérée, en retard, ce que le rapport "
                    "mensuel dira.",
                )
            if moment.astimezone(PARIS).day == 1:
                self.monthly_report(app, duties, moment)
        last = deadlines.local_date(self.clock.now(), PARIS)
        self.monthly_report(app, duties, _morning(last.replace(day=1) + MONTH))

        self._six_months_later(app, duties, made[0].transmitted_at)

    def _six_months_later(self, app: App, duties: Duties, first_transmitted: datetime) -> None:
        purge_due = deadlines.purge_due(first_transmitted, PARIS)
        batch_day = purge_due.replace(day=1)
        moment = self.at(_night(batch_day))
        self.jobs(duties, "purge", "courriels")
        summary = app.attestations.listing()[-1]
        self.say(
            moment,
            f"Six mois ont passé : {summary.demandes} demande(s) détruite(s) "
            f"(clés et contenus chiffrés supprimés) ; attestation n° {summary.id} à signer "
            f"avant le {summary.sign_by:%d/%m/%Y}.",
        )
        folder = self.folder / "attestations"
        (folder / f"attestation-{summary.id}.pdf").write_bytes(
            app.attestations.document(summary.id)
        )

        moment = self.at(moment + timedelta(days=3, hours=7))
        # Valid from the real start too: whoever opens the signed PDF today sees it valid.
        valid_from = min(moment, self.started)
        certificate = signatory(
            "Laetitia Feuga", AGENT, valid_from, days=900, passphrase=DEMO_PASSPHRASE
        )
        (self.folder / "certificat-demo.p12").write_bytes(certificate.pkcs12)
        signed = app.attestations.sign(summary.id, AGENT, certificate.pkcs12, DEMO_PASSPHRASE)
        (folder / f"attestation-{summary.id}-signee.pdf").write_bytes(
            app.attestations.document(summary.id)
        )
        self.say(
            moment,
            f"Laetitia Feuga signe l'attestation n° {signed.id} avec son "
            "certificat (signature PAdES).",
        )
        for offset in range(1, 32):  # the rest of the month: the daemon's catch-up runs
            self.at(_night(batch_day + timedelta(days=offset)))
            self.jobs(duties, "purge", "courriels")
        self.monthly_report(app, duties, _morning(batch_day + MONTH))

    def monthly_report(self, app: App, duties: Duties, moment: datetime) -> None:
        self.at(moment)
        self.jobs(duties, "rapport", "courriels")
        month = deadlines.local_date(moment, PARIS).replace(day=1) - MONTH
        self._save_report(app, month)
        self.say(
            moment,
            f"Rapport mensuel de {month:%m/%Y} envoyé aux administrateurs et aux signataires.",
        )

    def read_notification(self, app: App, demande: Any) -> None:
        """What the mailbox job does with one message, without an IMAP server in the demo."""
        raw = notification_email(demande, [AGENT]).as_bytes()
        notification = mailbox.parse(raw, PARIS)
        with transaction(app.engine) as session:
            app.ingestor("boite:demo").writer.record_notification(
                session, notification, self.clock.now()
            )

    def _save_report(self, app: App, month: date) -> None:
        pdf, csv_bytes = app.reports.make(month, self.clock.now())
        stem = self.folder / "rapports" / f"rapport-{month:%Y-%m}"
        stem.with_suffix(".pdf").write_bytes(pdf)
        stem.with_suffix(".csv").write_bytes(csv_bytes)

    def _artefacts(self, filer: EmlFiler) -> None:
        print("\nCe que la démonstration a produit :", file=self.out)
        print(
            f"  courriels envoyés ({filer.count}, format .eml) : {self.folder}/courriels/",
            file=self.out,
        )
        for path in sorted((self.folder / "attestations").iterdir()):
            print(f"  attestation : {path}", file=self.out)
        for path in sorted((self.folder / "rapports").iterdir()):
            print(f"  rapport : {path}", file=self.out)
        print(
            f"  certificat de démonstration : {self.folder}/certificat-demo.p12 "
            f"(phrase secrète « {DEMO_PASSPHRASE} »)",
            file=self.out,
        )
        print(f"  journal du service : {self.folder}/journal.log", file=self.out)
        print(
            f"  configuration et base : {self.folder}/intake.toml, {self.folder}/data/",
            file=self.out,
        )
        print(
            f"Pour explorer : {self.command} -c {self.folder}/intake.toml demandes | attestations "
            "| audit verify",
            file=self.out,
        )


def story_start(started: datetime) -> datetime:
    """Eight months before the demo's start, on the 3rd at 10:00: the story's months (six of
    retention, a month to destroy and sign, a report) end before the current weeks begin, and
    its demandes all fall due in one month's purge."""
    day = deadlines.local_date(started, PARIS).replace(day=1)
    month = day.month - 8
    year = day.year + (month - 1) // 12
    return datetime(year, (month - 1) % 12 + 1, 3, 10, 0, tzinfo=PARIS)


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _night(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 30, tzinfo=PARIS)


def _morning(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, 0, tzinfo=PARIS)


__all__ = ["ACTOR", "Demo"]
