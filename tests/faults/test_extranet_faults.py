"""A long run against an extranet with every fault of the sandbox switched on at random, and
two long outages: nothing lost, nothing acknowledged without being stored, and the admins
told once per outage and commune, not once per failed poll."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import select

from intake.convention.notices import Notices
from storage.db import transaction
from storage.models import OutboxMessage, Status
from tests.integration.test_extranet import make_poller, sandbox, stored  # noqa: F401
from tests.support.lieu import NOW

RANDOM_FAULTS = {
    "error500": 0.08,
    "maintenance": 0.04,
    "rate_limit": 0.05,
    "reset": 0.05,
    "truncate": 0.15,
    "expire": 0.05,
    "slow": 0.03,
    "slow_seconds": 0.02,
}
OUTAGES = (range(10, 22), range(40, 50))  # polls every 30 minutes: 6 h and 5 h down
STEPS = 60


def test_a_long_faulty_run(sandbox, ingestor, engine, lieu_config, clock):  # noqa: F811
    state, url = sandbox  # on `clock`, like the ingestor
    rng = random.Random(99)
    made: set[str] = set()
    for step in range(STEPS):
        clock.instant = NOW + timedelta(minutes=30 * step)
        if step % 6 == 0:
            made |= {d.numero for d in state.add_demandes(rng.randint(1, 4))}
        down = any(step in outage for outage in OUTAGES)
        state.faults.update({**RANDOM_FAULTS, "maintenance": 1.0 if down else 0.04})
        poller = make_poller(ingestor, url)
        poller.notices = Notices(lieu_config)
        poller.unreachable_after = timedelta(hours=4)
        poller.poll()
        assert set(state.public_state()["acknowledged"]) <= set(stored(engine))

    state.faults.update({name: 0 for name in RANDOM_FAULTS if name != "slow_seconds"})
    clock.instant += timedelta(minutes=30)
    make_poller(ingestor, url).poll()
    rows = stored(engine)
    assert set(rows) == made and all(r.status == Status.RECEIVED for r in rows.values())
    assert set(state.public_state()["acknowledged"]) == made

    with transaction(engine) as session:
        alerts = [
            m.dedupe_key
            for m in session.exec(select(OutboxMessage))
            if m.dedupe_key.startswith("injoignable:")
        ]
    per_commune = {insee: [a for a in alerts if a.startswith(f"injoignable:{insee}:")]
                   for insee in ("69029", "69273")}  # fmt: skip
    assert {insee: len(keys) for insee, keys in per_commune.items()} == {"69029": 2, "69273": 2}
