"""The jobs' processes as the scheduler runs them: their exit says whether there is news, no
more than two run at once, and a stop reaches each one under way and starts no other."""

from __future__ import annotations

import sys
import threading
import time

from intake.ops.children import AT_ONCE, Children
from intake.ops.job_names import NEWS

# A stand-in for `intake … run --tache NOM`: the job's name is its last argument.
JOB = (
    "import sys, time\n"
    "name = sys.argv[-1].split('=')[-1]\n"
    f"if name == 'news': sys.exit({NEWS})\n"
    "if name == 'fails': sys.exit(1)\n"
    "time.sleep(float(name))\n"
)


def _children() -> Children:
    return Children([sys.executable, "-c", JOB])


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
