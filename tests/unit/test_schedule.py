"""When the service's scheduler starts a job's process: the emails' pass only when it has
something to do, at once after a job that brought news; a dropbox pass once a feed settled."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from intake.clock import FixedClock
from intake.daemon import CATCH_UP, MAIL_PASS_MINUTES, NIGHTLY, Daemon
from intake.ops.job_names import DROPBOX_ENV
from intake.sources.dropbox import Dropbox

NOW = datetime.fromisoformat("2026-11-23T10:00:00+01:00")


@dataclass
class Recorder:
    """A runner that does nothing but note the jobs it is asked for."""

    news: set[str] = field(default_factory=set)  # the jobs that say they bring news
    ran: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # the last job's

    def __call__(self, *names: str, env: Mapping[str, str] | None = None) -> bool:
        self.ran.append("+".join(names))
        self.env = dict(env or {})
        return bool(self.news.intersection(names))

    def interrupt(self) -> None: ...

    def abandon(self) -> None: ...


@dataclass
class Mailbag:
    """The scheduler's statements, with mail waiting or not."""

    waiting: bool = False
    asked: int = 0

    def mail_waiting(self, now: datetime) -> bool:
        self.asked += 1
        return self.waiting

    def beat(self, worker: str, now: datetime, interval: int, started: bool) -> None: ...


def _daemon(config, recorder: Recorder, clock: FixedClock, mailbag: Mailbag) -> Daemon:  # type: ignore[no-untyped-def]
    return Daemon(config, recorder, clock, _pulse=mailbag)  # type: ignore[arg-type]


def test_the_emails_pass_runs_only_when_it_has_something_to_do(lieu_config):
    clock, recorder, mailbag = FixedClock(NOW), Recorder(), Mailbag()
    daemon = _daemon(lieu_config, recorder, clock, mailbag)
    daemon._mail()
    assert recorder.ran == ["courriels"]  # the first minute: always
    for _ in range(MAIL_PASS_MINUTES - 1):  # nothing waits: no process started
        clock.instant += timedelta(minutes=1)
        daemon._mail()
    assert recorder.ran == ["courriels"] and mailbag.asked == MAIL_PASS_MINUTES - 1
    mailbag.waiting = True  # an email queued by the console, or a demande to announce
    daemon._mail()
    assert recorder.ran == ["courriels"] * 2
    mailbag.waiting = False
    clock.instant += timedelta(minutes=MAIL_PASS_MINUTES - 1)
    daemon._mail()
    assert len(recorder.ran) == 2
    clock.instant += timedelta(minutes=1)  # the pass runs at least this often
    daemon._mail()
    assert len(recorder.ran) == 3


def test_a_new_day_brings_the_emails_pass_its_alerts_count_days(lieu_config):
    clock, recorder, mailbag = FixedClock(NOW.replace(hour=23, minute=50)), Recorder(), Mailbag()
    daemon = _daemon(lieu_config, recorder, clock, mailbag)
    daemon._mail()
    clock.instant += timedelta(minutes=5)
    daemon._mail()
    assert len(recorder.ran) == 1
    clock.instant += timedelta(minutes=6)  # 00:01, local time
    daemon._mail()
    assert len(recorder.ran) == 2


def test_a_job_that_brings_news_is_followed_by_the_emails_pass_at_once(lieu_config):
    clock, recorder, mailbag = FixedClock(NOW), Recorder(news={"extranet"}), Mailbag()
    daemon = _daemon(lieu_config, recorder, clock, mailbag)
    daemon._mail()
    daemon._duty("purge")  # nothing to say
    daemon._duty("extranet")
    assert recorder.ran == ["courriels", "purge", "extranet", "courriels"]
    daemon.stop.set()  # stopping: no new pass
    daemon._duty("extranet")
    assert recorder.ran[-1] == "extranet"


def test_a_dropbox_pass_starts_once_a_feed_has_settled(lieu_config, tmp_path: Path):
    clock, recorder = FixedClock(NOW), Recorder()
    daemon = _daemon(lieu_config, recorder, clock, Mailbag())
    wall = [1_000_000.0]
    daemon._dropbox = Dropbox(tmp_path, wall_clock=lambda: wall[0])
    daemon._watch_dropbox()  # an empty folder: no process
    feed = tmp_path / "flux.xml"
    feed.write_bytes(b"<flux/>")
    os.utime(feed, (wall[0], wall[0]))
    daemon._watch_dropbox()  # the first look only records the folder
    wall[0] += 30
    assert recorder.ran == []
    daemon._watch_dropbox()  # it stood still between two looks, long enough
    assert recorder.ran == ["depot"]
    assert json.loads(recorder.env[DROPBOX_ENV]) == {"flux.xml": [7, int(wall[0] - 30) * 10**9]}


def test_at_start_the_nightly_jobs_catch_up_together_and_never_twice_at_once(lieu_config):
    clock, recorder = FixedClock(NOW), Recorder(news={"rapport"})
    daemon = _daemon(lieu_config, recorder, clock, Mailbag())
    scheduler, names = daemon.scheduled()
    assert set(NIGHTLY) <= set(names)
    jobs = {job.id: job for job in scheduler.get_jobs()}  # not started: times still to come
    due_now = {
        name for name, job in jobs.items() if job.trigger.__class__.__name__ != "CronTrigger"
    }
    assert CATCH_UP in due_now and not due_now.intersection(NIGHTLY)
    jobs[CATCH_UP].func()
    assert recorder.ran == ["+".join(NIGHTLY), "courriels"]  # one process, then the news
    daemon._busy.add("purge")  # the catch-up still at work when the night's purge comes
    daemon._duty("purge")
    assert recorder.ran[-1] == "courriels"


def test_a_dropbox_pass_goes_on_from_the_schedulers_look(tmp_path: Path):
    """The pass's process takes the feeds only if nothing moved since the scheduler saw the
    folder stand still (a copy that began meanwhile and stalled is left for later)."""
    wall = [1_000_000.0]
    feed = tmp_path / "flux.xml"
    feed.write_bytes(b"<flux/>")
    os.utime(feed, (wall[0] - 60, wall[0] - 60))
    scheduler = Dropbox(tmp_path, wall_clock=lambda: wall[0])
    scheduler.ready()
    assert scheduler.due()
    seen = json.loads(json.dumps(scheduler.last_scan()))  # as handed over, in JSON
    still = Dropbox(tmp_path, wall_clock=lambda: wall[0])
    still.resume(seen)
    assert still.ready() == [feed]
    late = tmp_path / "autre.xml"  # a copy begun after the look, stalled since
    late.write_bytes(b"<fl")
    os.utime(late, (wall[0] - 30, wall[0] - 30))
    moved = Dropbox(tmp_path, wall_clock=lambda: wall[0])
    moved.resume(seen)
    assert moved.ready() == []
