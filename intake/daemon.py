"""`intake run`: the schedule and the stopping; no business rule lives here.

APScheduler 3.11 keeps one job per duty; each run of a job is done by a runner: for the
service, a process of its own that ends with the job (`intake.ops.children`), so that the
long-lived process holds only the schedule, its heartbeat and its few statements (`storage.pulse`),
never the pipeline, the ORM or a job's caches; for the demo, the duties in its own process
(`intake.ops.duties`). Every job runs once at start-up (what fell due while the worker was down
is done at once, coalesced, never skipped; the nightly ones together, in one process), then on
its trigger; a job never overlaps itself. With several workers on one PostgreSQL database each
run of a job takes an advisory lock, so each thing is done by one worker at a time
(`storage.locks`); on SQLite a second worker refuses to start.

The emails' pass is asked every minute, and runs when mail waits (a message due, a demande not
announced), when a job brought news, when the day changed (the alerts count days), and at least
every `MAIL_PASS_MINUTES` (an attestation drafted by hand, a reminder): one pass at a time. The
drop folder is watched from here, and a pass started once a feed has settled.

SIGTERM or SIGINT stop the schedule, ask the jobs under way to stop (the demande under way is
finished), and the process exits 0 within `GRACE` seconds. A heartbeat row tells `intake
status` the worker is alive.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from intake.clock import Clock, SystemClock
from intake.config import Config
from intake.ops import systemd
from intake.ops.job_names import DROPBOX_ENV
from intake.ops.stopping import install_stop_signals
from storage.pulse import Pulse

if TYPE_CHECKING:
    from intake.app import App
    from intake.sources.dropbox import Dropbox

log = logging.getLogger("intake.daemon")

GRACE = 8.0  # seconds given to the job under way after a stop signal
MAILBOX_MINUTES = 5
NOTIFY_MINUTES = 1
MAIL_PASS_MINUTES = 15  # the emails' pass runs at least this often, mail waiting or not
DROPBOX_SECONDS = 30
HEARTBEAT_SECONDS = 20
SHORTEST_INTERVAL = 60  # the emails' minute: `intake status` worries after twice that

Job = tuple[str, Callable[[], None], BaseTrigger]
# The nightly jobs: at start-up, what fell due while the service was down is done by one
# process for them all (`CATCH_UP`), then each keeps its own hour.
NIGHTLY = ("purge", "rapport", "journal", "verification", "calendrier")
CATCH_UP = "rattrapage"


class Runner(Protocol):
    """Who does a job: in a process of its own (the service) or in this one (the demo)."""

    def __call__(self, *names: str, env: Mapping[str, str] | None = None) -> bool:
        """Do these jobs now, in order (`env`: what a job's process is told besides); whether
        the staff have news to hear."""
        ...

    def interrupt(self) -> None:
        """Ask the jobs under way to stop, and start no new one."""
        ...

    def abandon(self) -> None:
        """The grace period is over: end the jobs still running, if that can be done."""
        ...


@dataclass
class Daemon:
    config: Config
    runner: Runner
    clock: Clock = field(default_factory=SystemClock)
    stop: threading.Event = field(default_factory=threading.Event)
    # A job still running after the grace period (a network call that will not end): the
    # process must exit anyway, since nothing it holds is committed and unacknowledged.
    abandoned: bool = False
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    reload_requested: bool = False  # SIGHUP: stop cleanly, systemd restarts with the new config
    _running: int = 0
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _mailing: threading.Lock = field(default_factory=threading.Lock)  # one emails' pass at once
    _busy: set[str] = field(default_factory=set)  # the jobs under way (the catch-up's among them)
    _last_mail_pass: datetime | None = None
    _last_mail_day: date | None = None
    _pulse: Pulse | None = None
    _dropbox: Dropbox | None = None

    @classmethod
    def in_process(cls, app: App, stop: threading.Event | None = None) -> Daemon:
        """The schedule with its jobs done in this process (the demo's live service)."""
        from intake.ops.duties import InProcess

        stop = stop or threading.Event()
        return cls(app.config, InProcess.of(app, stop), app.clock, stop)

    @property
    def pulse(self) -> Pulse:
        if self._pulse is None:
            self._pulse = Pulse(self.config.database_url)
        return self._pulse

    def jobs(self) -> list[Job]:
        tz = self.config.timezone
        raw = self.config.raw

        def duty(name: str) -> Callable[[], None]:
            return lambda: self._duty(name)

        jobs: list[Job] = [
            ("pouls", self._beat, IntervalTrigger(seconds=HEARTBEAT_SECONDS, timezone=tz)),
            ("courriels", self._mail, IntervalTrigger(minutes=NOTIFY_MINUTES, timezone=tz)),
            # Daily at night: the 1st's run is the monthly batch, the others catch up.
            ("purge", duty("purge"), CronTrigger(hour=2, minute=30, timezone=tz, jitter=300)),
            ("rapport", duty("rapport"), CronTrigger(hour=6, timezone=tz, jitter=300)),
            ("journal", duty("journal"), CronTrigger(day=1, hour=3, timezone=tz, jitter=300)),
            ("verification", duty("verification"), CronTrigger(hour=4, timezone=tz, jitter=300)),
            ("calendrier", duty("calendrier"), CronTrigger(hour=7, timezone=tz, jitter=300)),
        ]
        if raw.mailbox is not None:
            trigger = IntervalTrigger(minutes=MAILBOX_MINUTES, timezone=tz, jitter=20)
            jobs.append(("boite", duty("boite"), trigger))
        if raw.dropbox is not None:
            from intake.sources.dropbox import Dropbox

            self._dropbox = Dropbox(self.config.resolve_path(raw.dropbox.path))
            jobs.append(("depot", self._watch_dropbox, IntervalTrigger(seconds=DROPBOX_SECONDS)))
        if raw.extranet is not None:
            minutes = raw.extranet.poll_minutes
            trigger = IntervalTrigger(minutes=minutes, timezone=tz, jitter=min(60, minutes * 6))
            jobs.append(("extranet", duty("extranet"), trigger))
        return jobs

    def run(self) -> int:
        """Keep the schedule until a stop signal (`intake.ops.serve` starts it)."""
        self._install_signals()
        scheduler, names = self.scheduled()
        scheduler.start()
        log.info("intake run : démarré (%s)", ", ".join(names))
        systemd.notify("READY=1", f"STATUS=en marche : {', '.join(names)}")
        # Awake each second: a signal the kernel gives to another thread has its handler run
        # only when this one runs, which a wait without end would never do.
        while not self.stop.wait(timeout=1.0):
            pass
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
            timezone=self.config.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        start = datetime.now(self.config.timezone)  # the scheduler's own clock
        jobs = self.jobs()
        self._beat(started=True)
        for name, job, trigger in jobs:
            first = {} if name in NIGHTLY else {"next_run_time": start}  # theirs: CATCH_UP
            scheduler.add_job(self._guarded(name, job), trigger, id=name, name=name, **first)
        catch_up = self._guarded(CATCH_UP, lambda: self._duty(*NIGHTLY))
        scheduler.add_job(catch_up, DateTrigger(start), id=CATCH_UP, name=CATCH_UP)
        return scheduler, [name for name, _, _ in jobs]

    def wind_down(self, scheduler: BackgroundScheduler) -> bool:
        """Stop the scheduler, give the jobs under way their grace period, forget the
        heartbeat (the service is stopped, not silent); whether every job finished."""
        self.stop.set()
        scheduler.shutdown(wait=False)
        self.runner.interrupt()
        with self._idle:
            finished = self._idle.wait_for(lambda: self._running == 0, timeout=GRACE)
        if not finished:
            self.runner.abandon()
        self.pulse.forget(self.worker)
        self.pulse.close()
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
        self.pulse.beat(self.worker, self.clock.now(), SHORTEST_INTERVAL, started=started)
        # From the scheduler's own job, after a committed write: a hung scheduler or database
        # stops the pings, and systemd's watchdog restarts the service.
        systemd.notify("WATCHDOG=1")

    def _duty(self, *names: str, env: Mapping[str, str] | None = None) -> None:
        with self._idle:
            if self._busy.intersection(names):  # a job never overlaps itself
                log.debug("tâche %s déjà en cours", ", ".join(names))
                return
            self._busy.update(names)
        try:
            news = self.runner(*names, env=env)
        finally:
            with self._idle:
                self._busy.difference_update(names)
        if news and not self.stop.is_set():
            self._mail(news=True)  # the staff hear of a batch at once, not at the next minute

    def _watch_dropbox(self) -> None:
        assert self._dropbox is not None
        if self._dropbox.due():  # the pass goes on from this look: nothing may move after it
            self._duty("depot", env={DROPBOX_ENV: json.dumps(self._dropbox.last_scan())})

    def _mail(self, news: bool = False) -> None:
        """The emails' pass, when it has something to do (see the module's docstring)."""
        with self._mailing:
            now = self.clock.now()
            today = now.astimezone(self.config.timezone).date()
            due = (
                news
                or self._last_mail_pass is None
                or now - self._last_mail_pass >= timedelta(minutes=MAIL_PASS_MINUTES)
                or today != self._last_mail_day
                or self.pulse.mail_waiting(now)
            )
            if due and not self.stop.is_set():
                self.runner("courriels")
                self._last_mail_pass, self._last_mail_day = now, today
