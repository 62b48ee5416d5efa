"""`intake run`: the schedule and the stopping; no business rule lives here.

APScheduler 3.11 runs one job per duty. Every job runs once at start-up (what
fell due while the worker was down is done at once, coalesced, never skipped),
then on its trigger; a job never overlaps itself. With several workers on one
PostgreSQL database each run of a job takes an advisory lock, so each thing is
done by one worker at a time (`storage.locks`); on SQLite a second worker
refuses to start. SIGTERM or SIGINT stop the schedule, interrupt waits between
retries, let the demande under way finish, and the process exits 0 within
`GRACE` seconds. A heartbeat row tells `intake status` the worker is alive.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from intake.app import App
from intake.convention import calendar
from intake.ops import systemd
from intake.pipeline.poll import PollReport
from intake.sources.dropbox import Dropbox
from intake.trail import verify_and_alert
from storage import heartbeats
from storage.db import transaction
from storage.locks import job_lock, single_instance

log = logging.getLogger("intake.daemon")

GRACE = 8.0  # seconds given to the job under way after a stop signal
MAILBOX_MINUTES = 5
NOTIFY_MINUTES = 1
DROPBOX_SECONDS = 30
HEARTBEAT_SECONDS = 20
SHORTEST_INTERVAL = 60  # the emails' minute: `intake status` worries after twice that
ACTOR = "système:intake-run"

Job = tuple[str, Callable[[], None], BaseTrigger]


def install_stop_signals(stop: threading.Event) -> None:
    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)


@dataclass
class Daemon:
    app: App
    stop: threading.Event = field(default_factory=threading.Event)
    # A job still running after the grace period (a network call that will not end): the
    # process must exit anyway, since nothing it holds is committed and unacknowledged.
    abandoned: bool = False
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    reload_requested: bool = False  # SIGHUP: stop cleanly, systemd restarts with the new config
    _running: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)
    # Two jobs notify (the minute's, and the poll's own at its end): one delivery at a time.
    _notifying: threading.Lock = field(default_factory=threading.Lock)
    _dropbox: Dropbox | None = None

    def jobs(self) -> list[Job]:
        config = self.app.config
        tz = config.timezone
        jobs: list[Job] = [
            ("pouls", self._beat, IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=tz)),
            ("courriels", self._notify, IntervalTrigger(minutes=NOTIFY_MINUTES, timezone=tz)),
            # Daily at night: the 1st's run is the monthly batch, the others catch up.
            ("purge", self._purge, CronTrigger(hour=2, minute=30, timezone=tz, jitter=300)),
            ("rapport", self._report, CronTrigger(hour=6, minute=0, timezone=tz, jitter=300)),
            ("journal", self._prune_audit, CronTrigger(day=1, hour=3, timezone=tz, jitter=300)),
            ("verification", self._verify_trail, CronTrigger(hour=4, timezone=tz, jitter=300)),
            ("calendrier", self._calendar, CronTrigger(hour=7, timezone=tz, jitter=300)),
        ]
        if config.raw.mailbox is not None:
            trigger = IntervalTrigger(minutes=MAILBOX_MINUTES, timezone=tz, jitter=20)
            jobs.append(("boite", self._mailbox, trigger))
        if config.raw.dropbox is not None:
            self._dropbox = self.app.dropbox()
            jobs.append(("depot", self._scan_dropbox, IntervalTrigger(seconds=DROPBOX_SECONDS)))
        if config.raw.extranet is not None:
            minutes = config.raw.extranet.poll_minutes
            trigger = IntervalTrigger(minutes=minutes, timezone=tz, jitter=min(60, minutes * 6))
            jobs.append(("extranet", self._poll, trigger))
        return jobs

    def run_job(self, name: str) -> None:
        """Run one job now, as the schedule would (the demo and tests drive time themselves)."""
        for job_name, job, _ in self.jobs():
            if job_name == name:
                self._guarded(job_name, job)()
                return
        raise KeyError(name)

    def run(self) -> int:
        with single_instance(self.app.config.database_url):
            return self._run()

    def _run(self) -> int:
        self._install_signals()
        scheduler, names = self.scheduled()
        scheduler.start()
        log.info("intake run : démarré (%s)", ", ".join(names))
        systemd.notify("READY=1", f"STATUS=en marche : {', '.join(names)}")
        self.stop.wait()
        systemd.notify("STOPPING=1")
        finished = self.wind_down(scheduler)
        (log.info if finished else log.warning)(
            "intake run : arrêté%s",
            "" if finished else " (travail en cours abandonné, repris au prochain démarrage)",
        )
        self.abandoned = not finished
        return systemd.EXIT_RELOAD if self.reload_requested else 0

    def scheduled(self) -> tuple[BackgroundScheduler, list[str]]:
        """Every job on a scheduler, each due at once, not yet started: `intake run`'s, and the
        demo's, which runs the service beside its console. The first heartbeat is written."""
        scheduler = BackgroundScheduler(
            timezone=self.app.config.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        start = datetime.now(self.app.config.timezone)  # the scheduler's own clock
        jobs = self.jobs()
        self._beat(started=True)
        for name, job, trigger in jobs:
            scheduler.add_job(
                self._guarded(name, job), trigger, id=name, name=name, next_run_time=start
            )
        return scheduler, [name for name, _, _ in jobs]

    def wind_down(self, scheduler: BackgroundScheduler) -> bool:
        """Stop the scheduler, give the job under way its grace period, forget the heartbeat
        (the service is stopped, not silent); whether every job finished."""
        self.stop.set()
        scheduler.shutdown(wait=False)
        with self._idle:
            finished = self._idle.wait_for(lambda: self._running == 0, timeout=GRACE)
        with transaction(self.app.engine) as session:
            heartbeats.forget(session, self.worker)
        return finished

    def _install_signals(self) -> None:
        install_stop_signals(self.stop)

        def reload(signum: int, frame: FrameType | None) -> None:
            # The configuration is read once at start: a reload is a clean restart, which
            # systemd performs when the process ends with EXIT_RELOAD (Restart=on-failure).
            log.info("SIGHUP : arrêt propre pour relire la configuration au redémarrage")
            self.reload_requested = True
            self.stop.set()

        signal.signal(signal.SIGHUP, reload)

    def _guarded(self, name: str, job: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            if self.stop.is_set():
                return
            with self._idle:
                self._running += 1
            try:
                job()
            except Exception as exc:  # a job's failure must not stop the worker
                # The type only: a driver's message may quote parameters.
                log.error("tâche %s en échec : %s", name, type(exc).__name__)
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()

        return run

    # --- the jobs --------------------------------------------------------------------------

    def _beat(self, started: bool = False) -> None:
        with transaction(self.app.engine) as session:
            heartbeats.beat(
                session, self.worker, self.app.clock.now(), SHORTEST_INTERVAL, started=started
            )
        # From the scheduler's own job, after a committed write: a hung scheduler or database
        # stops the pings, and systemd's watchdog restarts the service.
        systemd.notify("WATCHDOG=1")

    def _poll(self) -> None:
        for poller in self.app.pollers(stop=self.stop):
            if self.stop.is_set():
                break
            self._log_pass(poller.poll())
        if not self.stop.is_set():
            self._notify()  # the staff hear of a batch at once, not at the next minute

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

    def _mailbox(self) -> None:
        with job_lock(self.app.engine, "boite") as mine:
            reader = self.app.mailbox_pass() if mine else None
            if reader is None:
                return
            report = reader.run()
        if report.error:
            log.warning("boîte aux lettres : %s", report.error)
        elif report.notified or report.unreadable:
            (log.warning if report.unreadable else log.info)(
                "boîte aux lettres : %d notification(s), %d illisible(s)",
                len(report.notified),
                report.unreadable,
            )

    def _scan_dropbox(self) -> None:
        assert self._dropbox is not None
        with job_lock(self.app.engine, "depot") as mine:
            if not mine:
                return
            lines = self.app.ingest_dropbox(self._dropbox)
        if lines:
            refused = sum(1 for line in lines if line.result == "refused")
            (log.warning if refused else log.info)(
                "dépôt : %d demande(s) lue(s), %d refus", len(lines), refused
            )
            self._notify()

    def _purge(self) -> None:
        with job_lock(self.app.engine, "purge") as mine:
            if not mine:
                return
            outcome = self.app.retention(ACTOR).purge()
            if self._dropbox is not None:
                self._dropbox.clean_legacy()
        if outcome.purged:
            log.info(
                "purge : %d demande(s) détruite(s), attestation n° %s",
                outcome.purged,
                outcome.attestation,
            )
            self._notify()

    def _report(self) -> None:
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
        if made:
            self._notify()

    def _prune_audit(self) -> None:
        with job_lock(self.app.engine, "journal") as mine:
            gone = self.app.prune_audit(ACTOR) if mine else 0
        if gone:
            log.info("journal d'audit : %d événement(s) de plus de 12 mois élagués", gone)

    def _calendar(self) -> None:
        with job_lock(self.app.engine, "calendrier") as mine:
            if not mine:
                return
            app = self.app
            queued = calendar.remind(
                app.engine, app.vault, app.config, app.notices, app.clock.now()
            )
        if queued:
            log.info("calendrier : %d rappel(s) mis en file", queued)
            self._notify()

    def _verify_trail(self) -> None:
        with job_lock(self.app.engine, "verification") as mine:
            if not mine:
                return
            app = self.app
            result = verify_and_alert(
                app.engine, app.vault, app.config, app.notices, app.clock.now()
            )
        if not result.ok:
            log.error("journal d'audit altéré : %d anomalie(s)", len(result.problems()))
            self._notify()

    def _notify(self) -> None:
        with self._notifying, job_lock(self.app.engine, "courriels") as mine:
            if not mine:
                return
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
