"""`intake run`: the schedule and the stopping; no business rule lives here.

APScheduler 3.11 runs one job per duty. Every job runs once at start-up (what
fell due while the worker was down is done at once, coalesced, never skipped),
then at its interval; a job never overlaps itself. SIGTERM or SIGINT stop the
schedule, interrupt waits between retries, let the demande under way finish,
and the process exits 0 within `GRACE` seconds.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from intake.app import App

log = logging.getLogger("intake.daemon")

GRACE = 8.0  # seconds given to the job under way after a stop signal
MAILBOX_MINUTES = 5
NOTIFY_MINUTES = 1


@dataclass
class Daemon:
    app: App
    stop: threading.Event = field(default_factory=threading.Event)
    _running: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)
    # Two jobs notify (the minute's, and the poll's own at its end): one delivery at a time.
    _notifying: threading.Lock = field(default_factory=threading.Lock)

    def jobs(self) -> list[tuple[str, Callable[[], None], IntervalTrigger]]:
        config = self.app.config
        tz = config.timezone
        jobs: list[tuple[str, Callable[[], None], IntervalTrigger]] = [
            ("courriels", self._notify, IntervalTrigger(minutes=NOTIFY_MINUTES, timezone=tz)),
        ]
        if config.raw.mailbox is not None:
            jobs.append(
                (
                    "boite",
                    self._mailbox,
                    IntervalTrigger(minutes=MAILBOX_MINUTES, timezone=tz, jitter=20),
                )
            )
        if config.raw.extranet is not None:
            minutes = config.raw.extranet.poll_minutes
            jobs.append(
                (
                    "extranet",
                    self._poll,
                    IntervalTrigger(minutes=minutes, timezone=tz, jitter=min(60, minutes * 6)),
                )
            )
        return jobs

    def run(self) -> int:
        scheduler = BackgroundScheduler(
            timezone=self.app.config.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        start = datetime.now(self.app.config.timezone)  # the scheduler's own clock
        for name, job, trigger in self.jobs():
            scheduler.add_job(
                self._guarded(name, job), trigger, id=name, name=name, next_run_time=start
            )
        self._install_signals()
        scheduler.start()
        log.warning("intake run : démarré (%s)", ", ".join(name for name, _, _ in self.jobs()))
        self.stop.wait()
        scheduler.shutdown(wait=False)
        with self._idle:
            finished = self._idle.wait_for(lambda: self._running == 0, timeout=GRACE)
        log.warning(
            "intake run : arrêté%s",
            "" if finished else " (travail en cours abandonné, repris au prochain démarrage)",
        )
        return 0

    def _install_signals(self) -> None:
        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

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

    def _poll(self) -> None:
        report = self.app.poller(stop=self.stop).poll()
        for commune in report.communes:
            log.warning(
                "extranet %s : %s",
                commune.insee,
                f"erreur {commune.error.code}"
                if commune.error
                else f"{len(commune.lines)} demande(s), {commune.acknowledged} acquittée(s)",
            )
        if report.sign_in_error is not None:
            log.warning("extranet : connexion refusée (%s)", report.sign_in_error.code)
        if not self.stop.is_set():
            self._notify()  # the staff hear of a batch at once, not at the next minute

    def _mailbox(self) -> None:
        reader = self.app.mailbox_pass()
        if reader is None:
            return
        report = reader.run()
        if report.error:
            log.warning("boîte aux lettres : %s", report.error)
        elif report.notified or report.unreadable:
            log.warning(
                "boîte aux lettres : %d notification(s), %d illisible(s)",
                len(report.notified),
                report.unreadable,
            )

    def _notify(self) -> None:
        with self._notifying:
            notified = self.app.notify()
            delivery = notified.delivery
            if (
                notified.announced
                or notified.alerts
                or (delivery and (delivery.sent or delivery.error))
            ):
                log.warning(
                    "courriels : %d annonce(s), %d alerte(s), %s",
                    notified.announced,
                    notified.alerts,
                    "pas de [smtp]"
                    if delivery is None
                    else f"{len(delivery.sent)} envoyé(s)"
                    + (f" ; {delivery.error}" if delivery.error else ""),
                )
