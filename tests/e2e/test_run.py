"""`intake run` as the service manager runs it: a subprocess, stopped by a signal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.e2e.conftest import LAUNCHER, Intake
from tests.e2e.test_poll import configure, rows
from tests.support.processes import children, running, shared_objects
from tests.support.smtp import SmtpServer

# C extensions of what only the jobs need: the database layer, the vault, the feed's parser.
JOB_LIBRARIES = ("/sqlalchemy/", "/cryptography/", "/lxml/", "/psycopg")
PERSONAL = ["Martin", "Bernard", "Nguyễn", "N'Diaye", "example.org", "rue des", "place de"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def start_daemon(intake: Intake) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), "run"],
        cwd=intake.folder,
        env=intake.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> tuple[int, float]:
    began = time.monotonic()
    process.send_signal(signum)
    code = process.wait(timeout=30)
    return code, time.monotonic() - began


def with_smtp(intake: Intake, port: int) -> None:
    config = intake.folder / "intake.toml"
    config.write_text(
        config.read_text() + f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\n'
        'sender = "intake@ville-corbas.fr"\n'
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_the_daemon_retrieves_announces_and_stops_cleanly(
    initialised: Intake, sandbox, smtp, signum
):
    state, url = sandbox
    sink = smtp.sink
    configure(initialised, url)
    with_smtp(initialised, smtp.port)
    made = {d.numero for d in state.add_demandes(3, age=timedelta(days=1))}
    process = start_daemon(initialised)
    try:
        assert wait_for(lambda: set(state.public_state()["acknowledged"]) == made)
        assert wait_for(lambda: len(sink.messages) >= 1)
    finally:
        code, took = stop(process, signum)
    assert code == 0 and took < 10
    (announcement,) = sink.messages
    assert b"[intake] 3 nouvelles demandes - Corbas" in announcement
    wire = announcement.decode("utf-8", "replace")
    assert all(personal not in wire for personal in PERSONAL)


def test_stopped_mid_poll_nothing_is_acknowledged_without_being_stored(
    initialised: Intake, sandbox
):
    state, url = sandbox
    configure(initialised, url)
    state.add_demandes(4, age=timedelta(days=1))
    state.faults.ack_delay = 2.0  # every acknowledgement hangs: the stop comes mid-poll
    process = start_daemon(initialised)
    assert wait_for(lambda: bool(rows(initialised)))
    code, took = stop(process)
    assert code == 0 and took < 10
    stored = {numero for numero, _ in rows(initialised)}
    time.sleep(state.faults.ack_delay + 0.5)
    acknowledged = set(state.public_state()["acknowledged"])
    assert acknowledged <= stored
    assert len(acknowledged) < 4  # it stopped before the end of the feed
    # The next run acknowledges the rest, and stores nothing twice.
    state.faults.ack_delay = 0
    process = start_daemon(initialised)
    try:
        assert wait_for(lambda: len(state.public_state()["acknowledged"]) == 4, 60)
    finally:
        assert stop(process)[0] == 0
    assert sorted(numero for numero, _ in rows(initialised)) == sorted(state.known)
    assert all(count == 1 for count in state.public_state()["acknowledged"].values())


def test_the_service_keeps_only_its_schedule_each_job_runs_and_ends_apart(
    initialised: Intake, sandbox
):
    """The long-lived process holds the schedule, the heartbeat and the emails' question: the
    feed, the vault and the database layer are loaded by each job's process, which ends."""
    state, url = sandbox
    configure(initialised, url)
    made = {d.numero for d in state.add_demandes(2, age=timedelta(days=1))}
    process = start_daemon(initialised)
    try:
        assert wait_for(lambda: set(state.public_state()["acknowledged"]) == made)
        assert wait_for(lambda: not children(process.pid), 60)  # the start's jobs are done
        mapped = shared_objects(process.pid)
        assert any("pydantic_core" in path for path in mapped)  # the probe sees libraries
        loaded = [p for p in mapped if any(lib in p for lib in JOB_LIBRARIES)]
        assert loaded == []
    finally:
        code, _ = stop(process)
    assert code == 0


def test_a_job_ends_with_the_service_killed_and_stores_what_it_acknowledged(
    initialised: Intake, sandbox
):
    """Killed without a word (SIGKILL), the service cannot stop its jobs: the kernel tells
    them (SIGTERM), and each stops as on a stop request, the demande under way finished."""
    state, url = sandbox
    configure(initialised, url)
    state.add_demandes(4, age=timedelta(days=1))
    state.faults.ack_delay = 2.0  # the poll's process is still at work when the service dies
    process = start_daemon(initialised)
    jobs: set[int] = set()
    try:
        assert wait_for(lambda: bool(rows(initialised)))
        jobs = children(process.pid)
        assert jobs
    finally:
        process.kill()
        process.wait(timeout=10)
    assert wait_for(lambda: not any(running(pid) for pid in jobs), 20)
    time.sleep(state.faults.ack_delay + 0.5)
    stored = {numero for numero, _ in rows(initialised)}
    assert set(state.public_state()["acknowledged"]) <= stored
    assert len(state.public_state()["acknowledged"]) < 4  # it stopped before the feed's end
