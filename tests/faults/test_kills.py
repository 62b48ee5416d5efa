"""SIGKILL at random moments of `intake ingest` and of `intake run`: after each restart every
demande is stored once and whole, and none is acknowledged without being stored."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from intake.feed.parallel import PARALLEL_FROM_BYTES
from tests.e2e.conftest import LAUNCHER, Intake
from tests.e2e.test_poll import configure
from tests.e2e.test_run import start_daemon, stop, wait_for
from tests.faults.invariants import check_storage
from tests.support.feeds import Dem, numero, write_feed
from tests.support.processes import children

INGEST_KILLS = 30
RUN_KILLS = 20  # 50 random moments in all


def start_ingest(intake: Intake, feed: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), "ingest", str(feed)],
        cwd=intake.folder,
        env=intake.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def alive(intake: Intake, pid: int) -> bool:
    workers = json.loads(intake("status", "--json").out)["workers"]
    return any(w["worker"].endswith(f":{pid}") for w in workers)


def test_ingest_killed_at_random_moments(initialised: Intake, tmp_path):
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1, 161)])
    database = initialised.folder / "data" / "intake.db"
    rng = random.Random(20261123)
    for _ in range(INGEST_KILLS):
        process = start_ingest(initialised, feed)
        time.sleep(rng.uniform(0.4, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        check_storage(database)
    final = initialised("ingest", str(feed))
    assert final.code == 0, final.err
    assert check_storage(database) == {numero(i) for i in range(1, 161)}
    assert initialised("audit", "verify").code == 0


def test_run_killed_at_random_moments(initialised: Intake, sandbox):
    state, url = sandbox
    configure(initialised, url)
    made = {d.numero for d in state.add_demandes(60, age=timedelta(days=1))}
    state.faults.ack_delay = 0.05
    database = initialised.folder / "data" / "intake.db"
    rng = random.Random(7)
    for _ in range(RUN_KILLS):
        process = start_daemon(initialised)
        time.sleep(rng.uniform(0.5, 3.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        time.sleep(state.faults.ack_delay + 0.1)  # an acknowledgement in flight is lost
        held = check_storage(database)
        assert set(state.public_state()["acknowledged"]) <= held
    process = start_daemon(initialised)
    try:
        assert wait_for(lambda: set(state.public_state()["acknowledged"]) == made, 120)
        # This daemon's own heartbeat (the killed ones' stay behind): it is up, its stop
        # handlers installed, before it is asked to stop.
        assert wait_for(lambda: alive(initialised, process.pid), 60)
    finally:
        code, _ = stop(process)
    assert code == 0
    assert check_storage(database) == made
    assert initialised("audit", "verify").code == 0


def test_ingest_killed_while_its_workers_decide(initialised: Intake, tmp_path):
    """A large feed is read by worker processes: killing the ingest kills them too (none
    left waiting forever on its queue), and the next ingest stores the feed whole."""
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1, 1301)])
    assert feed.stat().st_size >= PARALLEL_FROM_BYTES
    database = initialised.folder / "data" / "intake.db"
    process = start_ingest(initialised, feed)
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while len(workers) < 2 and process.poll() is None and time.monotonic() < deadline:
        workers = children(process.pid)
        time.sleep(0.02)
    assert len(workers) >= 2, "the ingest never started its workers"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()]
    check_storage(database)
    final = initialised("ingest", str(feed))
    assert final.code == 0, final.err
    assert check_storage(database) == {numero(i) for i in range(1, 1301)}
