"""One timestamp per line, in UTC ISO 8601; none under journald; INFO for a service."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

from intake.ops import logs

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def test_plain_lines_carry_one_utc_timestamp(monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    record = logging.LogRecord("intake", logging.INFO, "", 0, "purge : %d", (3,), None)
    line = logs.plain().format(record)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO intake: purge : 3", line)


def test_under_journald_the_journal_stamps_the_line(monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    record = logging.LogRecord("intake", logging.WARNING, "", 0, "extranet", (), None)
    assert logs.plain().format(record) == "WARNING intake: extranet"


def test_a_service_logs_its_normal_events_at_info():
    logs.configure(verbose=False, as_json=False, service=True)
    assert logging.getLogger().level == logging.INFO
    logs.configure(verbose=False, as_json=False)
    assert logging.getLogger().level == logging.WARNING


def _one_day_of_scheduling(config, verbose: bool, capsys) -> list[str]:  # type: ignore[no-untyped-def]
    """Every run of every job of `intake run` over a day, through APScheduler's own executor
    code (its logging included), the jobs themselves replaced by nothing: the journal's lines
    that are the schedule's and not the lieu's events."""
    from apscheduler.executors.base import run_job
    from apscheduler.job import Job
    from apscheduler.schedulers.background import BackgroundScheduler

    from intake.app import App
    from intake.daemon import Daemon

    logs.configure(verbose=verbose, as_json=False, service=True)
    capsys.readouterr()
    scheduler = BackgroundScheduler()  # never started: it only names the jobs' owner
    for name, _, trigger in Daemon.in_process(App(config)).jobs():
        job = Job(scheduler, id=name, name=name, func=lambda: None, trigger=trigger,
                  executor="default", args=(), kwargs={}, misfire_grace_time=None,
                  coalesce=True, max_instances=1, next_run_time=None)  # fmt: skip
        first = fire = trigger.get_next_fire_time(None, DAY)
        while fire is not None and fire < first + timedelta(days=1):
            run_job(job, "default", [fire], "apscheduler.executors.default")
            fire = trigger.get_next_fire_time(fire, fire)
    lines = capsys.readouterr().err.splitlines()
    logs.configure(verbose=False, as_json=False)
    logging.getLogger("apscheduler").setLevel(logging.NOTSET)
    return lines


def test_a_day_of_a_quiet_service_writes_few_lines(lieu_config, capsys):
    """The heartbeat runs every 20 s and the emails' pass every minute: APScheduler says two
    lines for each run at INFO, which the journal does not get unless -v."""
    assert len(_one_day_of_scheduling(lieu_config, False, capsys)) < 200


def test_verbose_brings_the_schedulers_lines_back(lieu_config, capsys):
    lines = _one_day_of_scheduling(lieu_config, True, capsys)
    assert len(lines) > 10_000 and "Running job" in lines[0]


def test_the_schedulers_warnings_always_reach_the_journal(capsys):
    logs.configure(verbose=False, as_json=False, service=True)
    logging.getLogger("apscheduler.scheduler").warning("Execution of job skipped")
    logging.getLogger("apscheduler.executors.default").info("Running job")
    assert capsys.readouterr().err.count("\n") == 1
    logging.getLogger("apscheduler").setLevel(logging.NOTSET)
