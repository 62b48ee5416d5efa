"""PostgreSQL restarted during a poll (a server of the test's own, as this machine's would
be): the pass under way may fail, the worker reconnects on the next one and goes on; nothing
lost, nothing acknowledged without being stored. The machine's shared server is not the one
restarted: the other tests run meanwhile, in parallel."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from storage.db import make_engine, upgrade
from tests.integration.test_extranet import make_poller, sandbox, stored  # noqa: F401
from tests.support.postgres import PrivatePostgres

pytestmark = pytest.mark.postgres


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture
def engine(server: PrivatePostgres) -> Iterator[Engine]:
    engine = make_engine(server.url)
    upgrade(engine)
    yield engine
    engine.dispose()


def test_a_poll_goes_on_after_postgresql_restarts(
    server,
    engine,
    ingestor,
    sandbox,  # noqa: F811
    now,
):
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
    server.restart()
    worker.join(timeout=120)
    assert set(state.public_state()["acknowledged"]) <= set(stored(engine))

    state.faults.update({"slow": 0.0})
    for _ in range(3):  # bounded: the next passes reconnect (pool_pre_ping) and finish
        make_poller(ingestor, url).poll()
        if set(state.public_state()["acknowledged"]) == made:
            break
    assert set(stored(engine)) == made
    assert set(state.public_state()["acknowledged"]) == made
