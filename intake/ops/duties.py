"""What each job of the service does, in the process that runs it.

`intake run`'s scheduler (`intake.daemon`) keeps time in a small process and starts each job
as a process of its own (`intake run --tache NOM`), which builds the app, does this one thing
and ends: the libraries and caches a job needs live only as long as it does. The demo and the
tests run the same duties in their own process.

A duty answers whether the staff have news to hear (new demandes, an attestation, a report,
an alert): the scheduler then runs the emails' pass at once, one pass at a time. A job's
failure is logged by its exception's type only (a driver's message may quote parameters).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from intake.app import App
from intake.clock import Clock
from intake.ops.job_names import DROPBOX_ENV
from storage.locks import job_lock

if TYPE_CHECKING:
    from intake.pipeline.poll import PollReport
    from intake.sources.dropbox import Dropbox

log = logging.getLogger("intake.daemon")

ACTOR = "système:intake-run"


@dataclass
class Duties:
    app: App
    stop: threading.Event = field(default_factory=threading.Event)
    _dropbox: Dropbox | None = None

    def run(self, name: str) -> bool:
        """Do one job now (`intake.ops.children.JOB_NAMES`); whether the staff have news to
        hear. A job the configuration does not have ([mailbox], [dropbox], [extranet]) has
        nothing to do."""
        duties: dict[str, Callable[[], bool]] = {
            "courriels": self._notify,
            "purge": self._purge,
            "rapport": self._report,
            "journal": self._prune_audit,
            "verification": self._verify_trail,
            "calendrier": self._calendar,
            "boite": self._mailbox,
            "depot": self._scan_dropbox,
            "extranet": self._poll,
        }
        return duties[name]()

    def guarded(self, name: str) -> bool:
        """`run`, a failure logged (its type only) and not raised: the service goes on."""
        try:
            return self.run(name)
        except Exception as exc:
            log.error("tâche %s en échec : %s", name, type(exc).__name__)
            return False

    def run_all(self, names: Sequence[str]) -> bool:
        """Each job in turn, guarded, until a stop request; whether any brought news."""
        news = False
        for name in names:
            if self.stop.is_set():
                break
            news = self.guarded(name) or news
        return news

    # --- the jobs --------------------------------------------------------------------------

    def _poll(self) -> bool:
        if self.app.config.raw.extranet is None:
            return False
        news = False
        for poller in self.app.pollers(stop=self.stop):
            if self.stop.is_set():
                break
            report = poller.poll()
            self._log_pass(report)
            news = news or any(commune.lines for commune in report.communes)
        return news  # the staff hear of a batch at once

    def _log_pass(self, report: PollReport) -> None:
        for commune in report.communes:
            if commune.error:
                log.warning("extranet %s : erreur %s", commune.insee, commune.error.code)
            else:
                # A pass that found nothing is no event for the journal (every 30 minutes,
                # all day): the heartbeat and `intake status` say the service is alive.
                (log.info if commune.lines or commune.acknowledged else log.debug)(
                    "extranet %s : %d demande(s), %d acquittée(s)",
                    commune.insee,
                    len(commune.lines),
                    commune.acknowledged,
                )
        if report.sign_in_error is not None:
            log.warning("extranet : connexion refusée (%s)", report.sign_in_error.code)

    def _mailbox(self) -> bool:
        if self.app.config.raw.mailbox is None:
            return False
        with job_lock(self.app.engine, "boite") as mine:
            reader = self.app.mailbox_pass() if mine else None
            if reader is None:
                return False
            report = reader.run()
        if report.error:
            log.warning("boîte aux lettres : %s", report.error)
        elif report.notified or report.unreadable:
            (log.warning if report.unreadable else log.info)(
                "boîte aux lettres : %d notification(s), %d illisible(s)",
                len(report.notified),
                report.unreadable,
            )
        return bool(report.notified)  # an old notification may be due for an alert already

    def dropbox(self) -> Dropbox | None:
        """The drop folder, watched from one scan to the next by whoever holds it."""
        if self._dropbox is None:
            self._dropbox = self.app.dropbox()
        return self._dropbox

    def _scan_dropbox(self) -> bool:
        dropbox = self.dropbox()
        if dropbox is None:
            return False
        with job_lock(self.app.engine, "depot") as mine:
            if not mine:
                return False
            # The scheduler saw the folder stand still between two of its looks: the pass
            # goes on from its last one, and takes nothing that moved since (`Dropbox.ready`).
            seen = os.environ.get(DROPBOX_ENV)
            if seen is None:
                dropbox.ready()  # run by hand or in one process: a look of its own
            else:
                dropbox.resume(json.loads(seen))
            lines = self.app.ingest_dropbox(dropbox)
        if lines:
            refused = sum(1 for line in lines if line.result == "refused")
            (log.warning if refused else log.info)(
                "dépôt : %d demande(s) lue(s), %d refus", len(lines), refused
            )
        return bool(lines)

    def _purge(self) -> bool:
        with job_lock(self.app.engine, "purge") as mine:
            if not mine:
                return False
            outcome = self.app.retention(ACTOR).purge()
            dropbox = self.dropbox()
            if dropbox is not None:
                dropbox.clean_legacy()
        if outcome.purged:
            log.info(
                "purge : %d demande(s) détruite(s), attestation n° %s",
                outcome.purged,
                outcome.attestation,
            )
        return bool(outcome.purged)

    def _report(self) -> bool:
        with job_lock(self.app.engine, "rapport") as mine:
            made = self.app.monthly_reports() if mine else []
        for done in made:
            if done.late_since is None:
                log.info("rapport mensuel %s établi", done.report.month)
            else:
                log.warning(
                    "rapport mensuel %s établi en rattrapage : dû le %s, le service était arrêté",
                    done.report.month,
                    f"{done.late_since:%d/%m/%Y}",
                )
        return bool(made)

    def _prune_audit(self) -> bool:
        with job_lock(self.app.engine, "journal") as mine:
            gone = self.app.prune_audit(ACTOR) if mine else 0
        if gone:
            log.info("journal d'audit : %d événement(s) de plus de 12 mois élagués", gone)
        return False

    def _calendar(self) -> bool:
        from intake.convention import calendar

        with job_lock(self.app.engine, "calendrier") as mine:
            if not mine:
                return False
            app = self.app
            queued = calendar.remind(
                app.engine, app.vault, app.config, app.notices, app.clock.now()
            )
        if queued:
            log.info("calendrier : %d rappel(s) mis en file", queued)
        return bool(queued)

    def _verify_trail(self) -> bool:
        from intake.trail import verify_and_alert

        with job_lock(self.app.engine, "verification") as mine:
            if not mine:
                return False
            app = self.app
            result = verify_and_alert(
                app.engine, app.vault, app.config, app.notices, app.clock.now()
            )
        if not result.ok:
            log.error("journal d'audit altéré : %d anomalie(s)", len(result.problems()))
        return not result.ok

    def _notify(self) -> bool:
        with job_lock(self.app.engine, "courriels") as mine:
            if not mine:
                return False
            notified = self.app.notify()
        delivery = notified.delivery
        if (
            notified.announced
            or notified.alerts
            or (delivery and (delivery.sent or delivery.error))
        ):
            (log.warning if delivery and delivery.error else log.info)(
                "courriels : %d annonce(s), %d alerte(s), %s",
                notified.announced,
                notified.alerts,
                "pas de [smtp]"
                if delivery is None
                else f"{len(delivery.sent)} envoyé(s)"
                + (f" ; {delivery.error}" if delivery.error else ""),
            )
        return False


@dataclass
class InProcess:
    """The duties done in this process, as the schedule's runner (the demo's live service)."""

    duties: Duties

    @classmethod
    def of(cls, app: App, stop: threading.Event) -> InProcess:
        return cls(Duties(app, stop))

    def __call__(self, *names: str, env: Mapping[str, str] | None = None) -> bool:
        return self.duties.run_all(names)

    def interrupt(self) -> None:
        self.duties.stop.set()

    def abandon(self) -> None:
        """A thread cannot be ended: the process exits without waiting for it."""


def run_as_job(config_path: str | None, names: list[str], clock: Clock) -> int:
    """`intake run --tache NOM…`: jobs in this process, one after the other, started by the
    service's scheduler (`intake.ops.children`); its exit status: NEWS if one brought news,
    else 0 (a failed job is in the journal, and the others were done all the same)."""
    from intake import config as configuration
    from intake.ops.children import bind_to_parent, job_config
    from intake.ops.job_names import NEWS, PREPARATION
    from intake.ops.stopping import install_stop_signals

    app = App(job_config(configuration.locate(config_path)), clock)
    stop = threading.Event()
    install_stop_signals(stop)
    bind_to_parent()
    if PREPARATION in names:
        prepare(app)
        return 0
    return NEWS if Duties(app, stop).run_all(names) else 0


def prepare(app: App) -> None:
    """What the service needs before its first job: the database reached and migrated, the
    convention open, the master key the database's own (a wrong key stops the service here)."""
    app.ensure_open()
    app.vault  # noqa: B018
