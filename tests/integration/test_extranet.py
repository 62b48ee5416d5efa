"""The real client and poller against the sandbox extranet over loopback HTTP."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from intake.clock import FixedClock
from intake.pipeline import Ingestor, Poller, Result
from intake.sandbox.server import start
from intake.sandbox.state import Account, SandboxState
from intake.sources.extranet import ExtranetClient, RetryPolicy
from storage import communes as communes_store
from storage.db import transaction
from storage.models import DemandeRow, Status
from tests.support.lieu import NOW

ACCOUNT = "l.feuga@ville-corbas.fr"
PASSWORD = "bac-a-sable"
FAST = RetryPolicy(attempts=8, total_seconds=30, initial_wait=0.01, max_wait=0.05)


@pytest.fixture
def sandbox(clock: FixedClock) -> Iterator[tuple[SandboxState, str]]:
    """The sandbox extranet on the test's clock (the ingestor's too)."""
    state = SandboxState(
        communes={"69273": "Corbas", "69029": "Bron"},
        accounts={ACCOUNT: Account(ACCOUNT, PASSWORD, frozenset({"69273", "69029"}))},
        seed=7,
        now=clock.now,
    )
    state.faults.retry_after = 0
    server, url = start(state)
    yield state, url
    server.shutdown()
    server.server_close()


def make_poller(
    ingestor: Ingestor,
    url: str,
    password: str = PASSWORD,
    communes: tuple[str, ...] = ("69029", "69273"),
) -> Poller:
    ingestor = replace(ingestor, communes=frozenset(communes))

    def connect() -> ExtranetClient:
        return ExtranetClient(url, ACCOUNT, password, policy=FAST)

    return Poller(ingestor, connect, list(communes), ACCOUNT, password_mark=password)


def stored(engine: Engine) -> dict[str, DemandeRow]:
    with transaction(engine) as session:
        return {r.numero: r for r in session.exec(select(DemandeRow)).scalars()}


def test_a_clean_pass_then_a_pass_with_nothing_new(sandbox, ingestor, engine, now):
    state, url = sandbox
    made = {d.numero for d in state.add_demandes(6, age=timedelta(days=1))}
    report = make_poller(ingestor, url).poll()
    assert not report.unreachable and not report.refused
    rows = stored(engine)
    assert set(rows) == made
    assert all(r.status == Status.RECEIVED and r.acknowledged_at for r in rows.values())
    assert state.public_state()["acknowledged"] == dict.fromkeys(made, 1)
    # The extranet's feeds are now empty; the next pass keeps their ETags, the one after
    # is answered 304 and downloads nothing.
    make_poller(ingestor, url).poll()
    again = make_poller(ingestor, url).poll()
    assert [c.unchanged for c in again.communes] == [True, True]
    assert state.public_state()["acknowledged"] == dict.fromkeys(made, 1)


def test_every_fault_switched_on_ends_with_each_demande_stored_once(sandbox, ingestor, engine, now):
    state, url = sandbox
    random.seed(1234)
    made = {d.numero for d in state.add_demandes(12, age=timedelta(days=1))}
    state.faults.update(
        {
            "error500": 0.15,
            "maintenance": 0.1,
            "rate_limit": 0.1,
            "reset": 0.1,
            "truncate": 0.3,
            "expire": 0.1,
            "slow": 0.05,
            "slow_seconds": 0.05,
        }
    )
    for _ in range(25):  # bounded: faults are random, each pass settles some demandes
        make_poller(ingestor, url).poll()
        if not any(state.public_state()["pending"].values()):
            break
    state.faults.update(
        {
            "error500": 0,
            "maintenance": 0,
            "rate_limit": 0,
            "reset": 0,
            "truncate": 0,
            "expire": 0,
            "slow": 0,
        }
    )
    make_poller(ingestor, url).poll()
    rows = stored(engine)
    public = state.public_state()
    assert set(rows) == made
    assert all(r.status == Status.RECEIVED for r in rows.values())
    assert set(public["acknowledged"]) == made and not any(public["pending"].values())
    assert set(public["acknowledged"]) <= set(rows)  # nothing acknowledged without being stored
    injected = public["faults_injected"]
    assert {"error500", "reset", "truncate", "expire", "maintenance", "rate_limit"} <= set(injected)


def test_a_refused_demande_stays_in_the_extranet(sandbox, ingestor, engine, now):
    state, url = sandbox
    (expired,) = state.add_demandes(1, "69273", age=timedelta(days=200))
    (fine,) = state.add_demandes(1, "69273", age=timedelta(days=1))
    report = make_poller(ingestor, url).poll()
    lines = {line.numero: line for c in report.communes for line in c.lines}
    assert (lines[expired.numero].result, lines[expired.numero].code) == (
        Result.REFUSED,
        "deja-expiree",
    )
    assert lines[fine.numero].result == Result.INGESTED
    public = state.public_state()
    assert public["pending"]["69273"] == [expired.numero]
    assert expired.numero not in public["acknowledged"]
    assert expired.numero not in stored(engine)


def test_a_wrong_password_is_tried_once_then_never_again(sandbox, ingestor, engine, now):
    state, url = sandbox
    state.add_demandes(2, age=timedelta(days=1))
    first = make_poller(ingestor, url, password="faux").poll()
    assert first.sign_in_error is not None and first.sign_in_error.code == "identifiants-invalides"
    second = make_poller(ingestor, url, password="faux").poll()
    assert second.sign_in_error is not None
    assert state.public_state()["sign_ins"] == {ACCOUNT: 1}
    with transaction(engine) as session:
        recorded = communes_store.state(session, "69273")
        assert recorded.last_error_code == "identifiants-invalides"
        assert recorded.last_success is None
    fixed = make_poller(ingestor, url).poll()  # a new password: the account is used again
    assert fixed.sign_in_error is None and len(stored(engine)) == 2


@pytest.mark.parametrize("account_state", ["mot-de-passe-a-changer", "compte-bloque"])
def test_account_problems_stop_the_account(sandbox, ingestor, now, account_state):
    state, url = sandbox
    state.accounts[ACCOUNT].state = account_state
    assert make_poller(ingestor, url).poll().sign_in_error.code == account_state
    assert make_poller(ingestor, url).poll().sign_in_error.code == account_state
    assert state.public_state()["sign_ins"] == {ACCOUNT: 1}


def test_a_commune_not_habilitated_does_not_stop_the_others(sandbox, ingestor, engine, now):
    state, url = sandbox
    state.accounts[ACCOUNT].communes = frozenset({"69273"})
    made = {d.numero for d in state.add_demandes(3, "69273", age=timedelta(days=1))}
    report = make_poller(ingestor, url).poll()
    by_commune = {c.insee: c for c in report.communes}
    assert by_commune["69029"].error.code == "commune-non-habilitee"
    assert by_commune["69273"].error is None and by_commune["69273"].acknowledged == 3
    assert set(stored(engine)) == made
    with transaction(engine) as session:
        assert communes_store.state(session, "69029").last_error_code == "commune-non-habilitee"
        assert communes_store.state(session, "69273").last_success is not None


def test_a_long_maintenance_is_reported_not_waited_for(sandbox, ingestor, now):
    state, url = sandbox
    state.faults.update({"maintenance": 1.0, "retry_after": 3600})
    report = make_poller(ingestor, url).poll()
    assert report.unreachable and report.sign_in_error.code == "maintenance"


def technical_alerts(engine) -> list[tuple[str, str]]:
    from sqlmodel import select as select_model

    from storage.models import OutboxMessage

    with transaction(engine) as session:
        return [
            (m.subject, m.recipients)
            for m in session.exec(
                select_model(OutboxMessage).where(OutboxMessage.kind == "technique")
            )
        ]


def test_admins_are_told_once_per_account_problem(sandbox, ingestor, engine, lieu_config, now):
    from intake.convention.notices import Notices

    _, url = sandbox
    for _ in range(3):
        poller = make_poller(ingestor, url, password="faux")
        poller.notices = Notices(lieu_config)
        poller.poll()
    ((subject, recipients),) = technical_alerts(engine)
    assert "identifiants-invalides" in subject
    assert recipients == "dsi@ville-corbas.fr, l.feuga@ville-corbas.fr"


def test_an_outage_is_reported_once_after_the_threshold(ingestor, engine, lieu_config, clock):
    from intake.convention.notices import Notices

    for hours in (0, 1, 5, 6, 30):
        clock.instant = NOW + timedelta(hours=hours)
        poller = make_poller(ingestor, "http://127.0.0.1:9", communes=("69273",))
        poller.notices = Notices(lieu_config)
        poller.unreachable_after = timedelta(hours=4)
        poller.connect = lambda: ExtranetClient(
            "http://127.0.0.1:9", ACCOUNT, PASSWORD, policy=RetryPolicy(attempts=1)
        )
        assert poller.poll().unreachable
    ((subject, _),) = technical_alerts(engine)
    assert subject.startswith("[intake] Extranet injoignable pour Corbas depuis le 23/11/2026")


def test_a_refused_commune_is_reported_to_the_admins(sandbox, ingestor, engine, lieu_config, now):
    from intake.convention.notices import Notices

    state, url = sandbox
    state.accounts[ACCOUNT].communes = frozenset({"69273"})
    poller = make_poller(ingestor, url)
    poller.notices = Notices(lieu_config)
    poller.poll()
    ((subject, _),) = technical_alerts(engine)
    assert subject == "[intake] Extranet : compte non habilité pour Bron (69029)"


def test_a_year_of_eleven_digits_refuses_its_demande_only(sandbox, ingestor, engine, now):
    """Issue 21: such a date aborted the whole feed on every pass; nothing was stored nor
    acknowledged, and the commune was blocked without a word."""
    state, url = sandbox
    before, hostile, after = state.add_demandes(3, "69273", age=timedelta(days=1))
    element = re.sub(rb"<dateDepot>\d{4}", b"<dateDepot>99999999999", hostile.element, count=1)
    state.pending["69273"][hostile.numero] = replace(hostile, element=element)
    report = make_poller(ingestor, url, communes=("69273",)).poll()
    assert not report.unreachable
    lines = {line.numero: line for c in report.communes for line in c.lines}
    assert (lines[hostile.numero].result, lines[hostile.numero].code) == (
        Result.REFUSED,
        "schema-invalide",
    )
    rows = stored(engine)
    assert {n for n, r in rows.items() if r.status == Status.RECEIVED} == {
        before.numero,
        after.numero,
    }
    assert rows[hostile.numero].status == Status.QUARANTINED  # a copy for the agents
    assert state.public_state()["pending"]["69273"] == [hostile.numero]


def test_an_unexpected_error_is_the_communes_shown_and_told_once(
    sandbox, ingestor, engine, lieu_config, clock, monkeypatch
):
    """Whatever a pass raises for one commune is that commune's error: recorded, shown by
    `status` (a warning, critical after a day) and on the dashboard, the administrators told
    once per episode, without the exception's text; the other communes are retrieved."""
    from intake.convention.notices import Notices
    from intake.desk.dashboard import dashboard
    from intake.ops.status import CRITICAL, WARNING, health
    from storage import heartbeats

    state, url = sandbox
    state.add_demandes(2, "69029", age=timedelta(days=1))
    (fine,) = state.add_demandes(1, "69273", age=timedelta(days=1))
    ingest = Ingestor.ingest

    def broken(self, feed, name, **kwargs):  # type: ignore[no-untyped-def]
        if name == "extranet-69029":
            raise RuntimeError("Dupont 06 12 34 56 78")  # a message that quotes a value
        yield from ingest(self, feed, name, **kwargs)

    monkeypatch.setattr(Ingestor, "ingest", broken)
    for hours in (0, 1, 2):
        clock.instant = NOW + timedelta(hours=hours)
        poller = make_poller(ingestor, url)
        poller.notices = Notices(lieu_config)
        report = poller.poll()
        errors = {c.insee: c.error for c in report.communes}
        assert errors["69029"] is not None and errors["69029"].code == "erreur-interne"
        assert errors["69273"] is None
    assert set(stored(engine)) == {fine.numero}
    assert state.public_state()["pending"]["69029"]  # nothing acknowledged
    ((subject, recipients),) = technical_alerts(engine)
    assert "Bron (69029)" in subject and "dsi@ville-corbas.fr" in recipients
    assert "Dupont" not in subject + str(_alert_bodies(engine))
    with transaction(engine) as session:
        heartbeats.beat(session, "worker-1", clock.instant, 60, True)
    result = health(engine, lieu_config, clock.instant)
    assert result.code == WARNING and "Bron (69029) en erreur depuis 2 h [erreur-interne]" in (
        result.summary()
    )
    member = lieu_config.staff_member("accueil@ville-bron.fr")
    (bron,) = [c for c in dashboard(engine, lieu_config, member, clock.instant).communes
               if c.insee == "69029"]  # fmt: skip
    assert bron.error_code == "erreur-interne" and bron.failing_since == NOW
    later = NOW + timedelta(days=1, hours=1)
    with transaction(engine) as session:
        heartbeats.beat(session, "worker-1", later, 60, True)
    assert health(engine, lieu_config, later).code == CRITICAL


def _alert_bodies(engine) -> list[str]:  # type: ignore[no-untyped-def]
    from sqlmodel import select as select_model

    from storage.models import OutboxMessage

    with transaction(engine) as session:
        return [m.text_body + m.html_body for m in session.exec(select_model(OutboxMessage))]


def test_an_unexpected_error_at_sign_in_is_every_communes(sandbox, ingestor, engine, monkeypatch):
    _, url = sandbox

    def broken(self):  # type: ignore[no-untyped-def]
        raise KeyError("jeton")

    monkeypatch.setattr(ExtranetClient, "sign_in", broken)
    report = make_poller(ingestor, url).poll()
    assert report.unreachable
    assert {c.insee: c.error.code for c in report.communes} == {
        "69029": "erreur-interne",
        "69273": "erreur-interne",
    }
    with transaction(engine) as session:
        states = {s.insee: s.last_error_code for s in communes_store.all_states(session)}
    assert states == {"69029": "erreur-interne", "69273": "erreur-interne"}
