"""The purge and its attestation on both engines: on time, complete, once, provable."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from intake.clock import FixedClock
from intake.convention.notices import Notices
from intake.retention import Retention
from intake.retention import purge as purge_module
from storage import attestations as attestation_store
from storage import demandes as store
from storage.db import transaction
from storage.models import DemandeRow, OutboxMessage, Status
from tests.support.lieu import PARIS
from tests.support.retention import day, held_secrets, hold

JAN_10 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)  # purge day 2026-07-10
JAN_31 = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 1 February in Paris: purge day 2026-08-01
FEB_20 = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)  # purge day 2026-08-20


def at(text: str) -> FixedClock:
    return FixedClock(datetime.fromisoformat(text))


@pytest.fixture
def held(engine, vault):
    hold(engine, vault, "ME-2026-0000001", JAN_10, PARIS)
    hold(engine, vault, "ME-2026-0000002", JAN_31, PARIS)
    hold(engine, vault, "ME-2026-0000003", FEB_20, PARIS, status=Status.QUARANTINED)
    hold(engine, vault, "ME-2026-0000004", JAN_10, PARIS, status=Status.NOTIFIED)
    return engine


def rows(engine) -> dict[str, DemandeRow]:
    with transaction(engine) as session:
        return {r.numero: r for r in session.exec(select(DemandeRow))}


def test_monthly_batch_on_the_first_takes_the_whole_month(held, lieu_config, vault):
    purge = Retention(lieu_config, held, vault, at("2026-07-01T04:00:00+02:00"), "système:test")
    planned = purge.plan()
    assert [p.numero for p in planned] == ["ME-2026-0000001", "ME-2026-0000004"]
    assert held_secrets(held) == 9  # dry run: nothing changed

    outcome = purge.purge()
    assert outcome.purged == 2
    assert outcome.next_purge == day("2026-08-01")
    state = rows(held)
    assert state["ME-2026-0000001"].status == Status.PURGED
    assert state["ME-2026-0000001"].purge_reason == "conservation-6-mois"
    assert state["ME-2026-0000001"].fingerprint is None
    assert state["ME-2026-0000001"].attestation_id == outcome.attestation
    assert state["ME-2026-0000002"].status == Status.RECEIVED
    with transaction(held) as session:
        assert not store.has_secret(session, "ME-2026-0000001", "record")
        attestation = attestation_store.get(session, outcome.attestation)
        assert vault.trail.verify(session).ok
    assert held_secrets(held) == 6
    assert attestation.demandes == 2
    assert attestation.sign_by == day("2026-08-10")  # a month after the earliest purge day
    assert attestation.pdf.startswith(b"%PDF-")
    manifest = json.loads(attestation.manifest)
    assert hashlib.sha256(attestation.manifest.encode()).hexdigest() == attestation.manifest_sha256
    assert [d["numero"] for d in manifest["demandes"]] == ["ME-2026-0000001", "ME-2026-0000004"]
    assert manifest["journal_audit"]["sequence"] == attestation.audit_seq

    assert purge.purge().purged == 0  # the same day again: nothing more, no new attestation


def test_the_daily_run_catches_the_month_it_missed(held, lieu_config, vault, caplog):
    """Down from June to 3 August: that run takes July's leftovers under July's own
    attestation, as the 1 July run would have (late, and the log, the attestation's dates and
    the signatories' email say so), then all of August, before any August purge day ends."""
    purge = Retention(lieu_config, held, vault, at("2026-08-03T10:00:00+02:00"), "système:test")
    with caplog.at_level("WARNING", logger="intake.retention.purge"):
        outcome = purge.purge()
    assert outcome.purged == 4  # the notified-only and the quarantined ones included
    assert outcome.next_purge is None
    assert held_secrets(held) == 0
    (july,) = outcome.caught_up
    assert outcome.attestation not in (None, july)
    state = rows(held)
    assert {n: state[n].attestation_id for n in state} == {
        "ME-2026-0000001": july,
        "ME-2026-0000004": july,
        "ME-2026-0000002": outcome.attestation,
        "ME-2026-0000003": outcome.attestation,
    }
    with transaction(held) as session:
        made = {a.id: a for a in attestation_store.drafted(session)}
    assert made[july].sign_by == day("2026-08-10")  # the law's: 10 July plus a month
    assert made[outcome.attestation].sign_by == day("2026-09-01")
    assert "purge de rattrapage : 2 demande(s) de 07/2026" in caplog.text
    assert f"attestation n° {july}" in caplog.text

    with transaction(held) as session:
        Notices(lieu_config).attestation_reminders(session, purge.clock.now())
        emails = {m.attestation_id: m for m in session.exec(select(OutboxMessage))}
    assert "Destruction en retard" in emails[july].text_body
    assert "la première le 10/07/2026" in emails[july].text_body
    assert "la première le 01/08/2026" in emails[outcome.attestation].text_body


def test_a_purge_on_time_says_nothing_of_a_delay(held, lieu_config, vault):
    purge = Retention(lieu_config, held, vault, at("2026-07-01T04:00:00+02:00"), "système:test")
    outcome = purge.purge()
    assert outcome.caught_up == ()
    with transaction(held) as session:
        Notices(lieu_config).attestation_reminders(session, purge.clock.now())
        (email,) = session.exec(select(OutboxMessage))
    assert "Destruction en retard" not in email.text_body


def test_daily_policy_takes_each_on_its_day(held, lieu_config, vault):
    raw = lieu_config.raw.model_copy(
        update={"retention": lieu_config.raw.retention.model_copy(update={"policy": "daily"})}
    )
    config = dataclasses.replace(lieu_config, raw=raw)
    purge = Retention(config, held, vault, at("2026-07-09T23:00:00+02:00"), "système:test")
    assert purge.purge().purged == 0
    later = dataclasses.replace(purge, clock=at("2026-07-10T00:05:00+02:00"))
    outcome = later.purge()
    assert outcome.purged == 2
    assert outcome.next_purge == day("2026-08-01")


def test_an_interrupted_purge_is_completed_under_the_same_attestation(
    held, lieu_config, monkeypatch, vault
):
    purge = Retention(lieu_config, held, vault, at("2026-08-01T03:00:00+02:00"), "système:test")
    monkeypatch.setattr(purge_module, "BATCH", 1)
    real_batch = Retention._destroy_batch
    calls = {"n": 0}

    def crash_after_one(self, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process stopped between two batches
        return real_batch(self, *args)

    monkeypatch.setattr(Retention, "_destroy_batch", crash_after_one)
    with pytest.raises(KeyboardInterrupt):
        purge.purge()
    monkeypatch.setattr(Retention, "_destroy_batch", real_batch)
    outcome = purge.purge()
    assert outcome.purged == 3  # the remaining ones; the first went before the crash
    # July's (missed on 1 July: caught up first) was the one interrupted; August's follows.
    (july,) = outcome.caught_up
    with transaction(held) as session:
        drafted = attestation_store.drafted(session)
    assert [(a.id, a.demandes) for a in drafted] == [(july, 2), (outcome.attestation, 2)]
    assert {r.attestation_id for r in rows(held).values()} == {july, outcome.attestation}


def test_reminders_before_the_deadline_then_daily_once_late(held, lieu_config, vault):
    outcome = Retention(lieu_config, held, vault, at("2026-07-01T04:00:00+02:00"), "t").purge()
    notices = Notices(lieu_config)  # sign_by: 10 August

    def remind(when: str) -> list[str]:
        with transaction(held) as session:
            notices.attestation_reminders(session, datetime.fromisoformat(when))
            return [m.dedupe_key for m in session.exec(select(OutboxMessage))]

    n = outcome.attestation
    assert remind("2026-07-01T05:00:00+02:00") == [f"attestation-nouvelle:{n}"]
    assert remind("2026-07-20T09:00:00+02:00")[-1] == f"attestation-nouvelle:{n}"  # J-21
    assert remind("2026-07-26T09:00:00+02:00")[-1] == f"attestation-rappel:{n}:J-15"
    assert remind("2026-07-27T09:00:00+02:00")[-1] == f"attestation-rappel:{n}:J-15"
    assert remind("2026-08-08T09:00:00+02:00")[-1] == f"attestation-rappel:{n}:J-2"
    assert remind("2026-08-11T09:00:00+02:00")[-2:] == [
        f"attestation-retard-admin:{n}",
        f"attestation-retard:{n}:2026-08-11",
    ]
    keys = remind("2026-08-12T09:00:00+02:00")
    assert keys.count(f"attestation-retard-admin:{n}") == 1
    assert keys[-1] == f"attestation-retard:{n}:2026-08-12"
    assert f"attestation-rappel:{n}:J-7" not in keys  # J-2 already passed when last looked
    with transaction(held) as session:
        late = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.dedupe_key == f"attestation-retard:{n}:2026-08-12"
            )
        ).one()
    assert "10/08/2026" in late.subject
    assert late.recipients == "l.feuga@ville-corbas.fr"
