"""`intake status` as a monitoring plugin: 0 all is well, 1 a warning, 2 critical."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from intake.ops.status import CRITICAL, OK, WARNING, health
from storage import attestations, audit, communes, heartbeats, reports
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
        communes.record_error(
            session, "69029", NOW - timedelta(hours=3), "http-500", "panne", tz=PARIS
        )
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


# --- what the convention made due (issue 25, item 5), on a fixed clock ----------------------


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def test_a_purge_not_done_warns_on_its_day_and_is_critical_the_next(engine, vault, lieu_config):
    # Transmitted on 23 May: its personal data must be gone by the end of 23 November.
    hold(engine, vault, "ME-2026-0000001", paris("2026-05-23T09:00"), PARIS)
    assert health_at(engine, lieu_config, paris("2026-11-23T02:00")).problems == []  # not yet
    at_noon = health_at(engine, lieu_config, paris("2026-11-23T12:00"))
    assert at_noon.code == WARNING
    assert "purge du jour non faite : 1 demande(s)" in at_noon.summary()
    result = health_at(engine, lieu_config, paris("2026-11-24T00:30"))
    assert result.code == CRITICAL
    assert "purge en retard : 1 demande(s) conservée(s) au-delà de 6 mois" in result.summary()


def test_an_attestation_past_its_deadline_is_critical(engine, lieu_config):
    with transaction(engine) as session:
        for sign_by in (date(2026, 11, 22), date(2026, 11, 30)):
            attestation = attestations.start(session, "conservation-6-mois", NOW)
            attestation.drafted_at, attestation.sign_by = NOW - timedelta(days=30), sign_by
            session.add(attestation)
    on_time = health_at(engine, lieu_config, paris("2026-11-22T23:59"))
    assert on_time.code == WARNING and "2 attestation(s) de destruction à signer" in (
        on_time.summary()
    )
    late = health_at(engine, lieu_config, paris("2026-11-23T00:01"))
    assert late.code == CRITICAL
    assert "attestation de destruction n° 1 non signée, date limite dépassée (22/11/2026)" in (
        late.summary()
    )
    assert "n° 2" not in late.summary()


def test_a_monthly_report_missed_is_a_warning(engine, lieu_config):
    with transaction(engine) as session:  # the worker began in September
        audit.Trail(bytes(32)).record(
            session, at=paris("2026-09-10T08:00"), actor="intake", action="demarrage"
        )
    result = health_at(engine, lieu_config, NOW)
    assert result.code == WARNING
    assert "2 rapport(s) mensuel(s) manquant(s) : septembre 2026, octobre 2026" in (
        result.summary()
    )
    with transaction(engine) as session:
        for month in ("2026-09", "2026-10"):
            reports.add(session, month, NOW, b"%PDF", b"csv")
    assert health_at(engine, lieu_config, NOW).code == OK
    # November's is made on 1 December at 6:00: not missed before 7:00, missed after.
    assert health_at(engine, lieu_config, paris("2026-12-01T06:30")).code == OK
    missed = health_at(engine, lieu_config, paris("2026-12-01T07:30"))
    assert missed.code == WARNING and "novembre 2026" in missed.summary()


def test_the_dashboard_shows_what_is_overdue(engine, vault, lieu_config):
    from intake.desk.dashboard import dashboard

    hold(engine, vault, "ME-2026-0000001", paris("2026-05-20T09:00"), PARIS)
    member = lieu_config.staff_member("l.feuga@ville-corbas.fr")
    board = dashboard(engine, lieu_config, member, NOW)
    assert [(a.level, a.text) for a in board.alerts] == [
        (CRITICAL, "purge en retard : 1 demande(s) conservée(s) au-delà de 6 mois")
    ]


def health_at(engine, config, at):  # type: ignore[no-untyped-def]
    beat(engine, at)
    return health(engine, config, at)
