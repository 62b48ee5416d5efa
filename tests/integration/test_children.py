"""The jobs' processes as the scheduler runs them: their exit says whether there is news, no
more than two run at once, and a stop reaches each one under way and starts no other."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from intake.config import ConfigError
from intake.ops.children import AT_ONCE, Children, job_config
from intake.ops.job_names import CONFIG_ENV, NEWS
from storage.locks import AlreadyRunning, single_instance

# A stand-in for `intake … run --tache NOM`: the job's name is its last argument.
JOB = (
    "import sys, time\n"
    "name = sys.argv[-1].split('=')[-1]\n"
    f"if name == 'news': sys.exit({NEWS})\n"
    "if name == 'fails': sys.exit(1)\n"
    "time.sleep(float(name))\n"
)


def _children() -> Children:
    return Children([sys.executable, "-c", JOB], config_text="")


def test_the_exit_says_whether_the_staff_have_news() -> None:
    children = _children()
    assert children("news") is True
    assert children("0") is False
    assert children("fails") is False  # logged by the job itself


def test_no_more_than_two_jobs_run_at_once() -> None:
    children = _children()
    most = 0
    threads = [threading.Thread(target=children, args=("0.6",)) for _ in range(5)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
        with children._lock:
            most = max(most, len(children._live))
        time.sleep(0.02)
    assert not any(t.is_alive() for t in threads)
    assert most == AT_ONCE == 2


def test_a_stop_reaches_the_jobs_under_way_and_starts_no_other() -> None:
    children = _children()
    ran: list[bool] = []
    threads = [
        threading.Thread(target=lambda: ran.append(children("30"))) for _ in range(AT_ONCE + 1)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(children._live) < AT_ONCE and time.monotonic() < deadline:
        time.sleep(0.02)
    began = time.monotonic()
    children.interrupt()  # SIGTERM: the stand-in has no handler, so it ends at once
    for thread in threads:
        thread.join(timeout=10)
    assert time.monotonic() - began < 5
    assert ran == [False] * (AT_ONCE + 1) and not children._live
    assert children("0") is False and not children._live  # stopping: nothing new starts


def test_a_job_holds_the_services_lock_on_the_sqlite_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Killed, the service leaves its jobs to finish their demande: no second service may
    start on the database meanwhile, so the job holds the lock with it."""
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    results: list[bool] = []
    with single_instance(url) as lock:
        assert lock is not None
        children = Children([sys.executable, "-c", JOB], config_text="", lock_fds=(lock,))
        job = threading.Thread(target=lambda: results.append(children("2")))
        job.start()
        deadline = time.monotonic() + 10
        while not children._live and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the process is up, the descriptor inherited
    with pytest.raises(AlreadyRunning):  # the service is gone, its job is not
        with single_instance(url):
            pass
    job.join(timeout=10)
    assert results == [False]
    with single_instance(url):  # the job ended: the database is free
        pass


def test_a_job_works_with_the_configuration_the_service_read_at_start(lieu_config) -> None:  # type: ignore[no-untyped-def]
    """An edit of the file takes effect at the next start, never halfway through."""
    path = lieu_config.path
    started_with = path.read_text(encoding="utf-8")
    path.write_text("cassé = [", encoding="utf-8")  # an edit under way
    env = {CONFIG_ENV: started_with}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert job_config(path).raw == lieu_config.raw
    with pytest.raises(ConfigError):  # run by hand: the file as it is
        job_config(path)


def test_the_emails_pass_never_waits_behind_long_jobs() -> None:
    """A password link lives 30 minutes, an alert is due today: the emails' pass has a turn of
    its own, whatever the other jobs are doing."""
    script = JOB.replace(
        "name = sys.argv[-1].split('=')[-1]\n",
        "name = sys.argv[-1].split('=')[-1]\nname = '0' if name == 'courriels' else name\n",
    )
    children = Children([sys.executable, "-c", script], config_text="")
    long_jobs = [threading.Thread(target=children, args=("3",)) for _ in range(AT_ONCE)]
    for job in long_jobs:
        job.start()
    deadline = time.monotonic() + 10
    while len(children._live) < AT_ONCE and time.monotonic() < deadline:
        time.sleep(0.02)
    began = time.monotonic()
    assert children("courriels") is False
    assert time.monotonic() - began < 2.5  # it did not wait for a slot of theirs
    for job in long_jobs:
        job.join(timeout=10)
