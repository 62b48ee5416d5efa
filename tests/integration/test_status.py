"""`intake status` as a monitoring plugin: 0 all is well, 1 a warning, 2 critical."""

from __future__ import annotations

from datetime import timedelta

from intake.status import CRITICAL, OK, WARNING, health
from storage import communes, heartbeats
from storage.db import transaction
from tests.support.lieu import NOW, PARIS
from tests.support.retention import hold


def beat(engine, at) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        heartbeats.beat(session, "worker-1", at, 60, True)


def test_a_stopped_service_is_critical(engine, lieu_config):
    result = health(engine, lieu_config, NOW)
    assert result.code == CRITICAL
    assert result.summary() == "INTAKE CRITICAL - service arrêté (intake run)"


def test_a_running_service_with_nothing_to_say(engine, lieu_config):
    beat(engine, NOW - timedelta(seconds=30))
    result = health(engine, lieu_config, NOW)
    assert (result.code, result.summary()) == (OK, "INTAKE OK - tout va bien")


def test_a_silent_service(engine, lieu_config):
    beat(engine, NOW - timedelta(minutes=10))  # silent, not yet three poll periods
    assert health(engine, lieu_config, NOW).code == WARNING
    beat(engine, NOW - timedelta(hours=2))  # three periods of 30 minutes without a sign
    result = health(engine, lieu_config, NOW)
    assert result.code == CRITICAL and "service muet depuis 2 h" in result.summary()


def test_a_failing_commune_warns_then_is_critical_after_a_day(engine, lieu_config):
    beat(engine, NOW)
    with transaction(engine) as session:
        communes.record_error(session, "69029", NOW - timedelta(hours=3), "http-500", "panne")
    result = health(engine, lieu_config, NOW)
    assert result.code == WARNING and "Bron (69029) en erreur depuis 3 h [http-500]" in (
        result.summary()
    )
    later = NOW + timedelta(days=1)
    beat(engine, later)
    assert health(engine, lieu_config, later).code == CRITICAL


def test_a_late_demande_is_a_warning(engine, vault, lieu_config):
    beat(engine, NOW)
    hold(engine, vault, "ME-2026-0000001", NOW - timedelta(days=20), PARIS, status="notified")
    result = health(engine, lieu_config, NOW)
    assert result.code == WARNING and "1 demande(s) en retard" in result.summary()
