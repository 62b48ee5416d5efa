"""PostgreSQL restarted during a poll (this machine's own server): the pass under way may
fail, the worker reconnects on the next one and goes on; nothing lost, nothing acknowledged
without being stored."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.test_extranet import make_poller, sandbox, stored  # noqa: F401
from tests.support.required import missing

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("engine", ["postgresql"], indirect=True),
]


def restart_postgres() -> None:
    versions = sorted(Path("/etc/postgresql").iterdir()) if Path("/etc/postgresql").exists() else []
    tool = shutil.which("pg_ctlcluster")
    if not versions or tool is None or os.geteuid() != 0:
        missing("pg_ctlcluster (as root)", "needed to restart the local PostgreSQL")
    subprocess.run(
        [tool, "--skip-systemctl-redirect", versions[-1].name, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def test_a_poll_goes_on_after_postgresql_restarts(engine, ingestor, sandbox, now):  # noqa: F811
    state, url = sandbox
    made = {d.numero for d in state.add_demandes(30, "69273", age=timedelta(days=1))}
    state.faults.update({"slow": 1.0, "slow_seconds": 0.08})  # a poll of several seconds
    failures: list[BaseException] = []

    def first_pass() -> None:
        try:
            make_poller(ingestor, url).poll()
        except Exception as exc:  # the connection died under it: the daemon logs and goes on
            failures.append(exc)

    worker = threading.Thread(target=first_pass)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not stored(engine):
        time.sleep(0.05)
    assert stored(engine), "the poll had not begun storing"
    restart_postgres()
    worker.join(timeout=120)
    assert set(state.public_state()["acknowledged"]) <= set(stored(engine))

    state.faults.update({"slow": 0.0})
    for _ in range(3):  # bounded: the next passes reconnect (pool_pre_ping) and finish
        make_poller(ingestor, url).poll()
        if set(state.public_state()["acknowledged"]) == made:
            break
    assert set(stored(engine)) == made
    assert set(state.public_state()["acknowledged"]) == made
