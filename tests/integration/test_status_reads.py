"""`intake status` reads with plain SQL (storage.health), without the ORM: on the same rows it
finds what the ORM's queries find, on SQLite (by the engine and by `sqlite3` alone) and on
PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine

from storage import attestations, audit, communes, destruction, heartbeats, reports
from storage import demandes as store
from storage.db import transaction
from storage.health import Snapshot, quick_read, read_engine
from storage.models import OutboxMessage
from tests.support.lieu import NOW, PARIS
from tests.support.retention import hold

TODAY = date(2026, 11, 23)


def _email(key: str, *, sent: bool = False, failed: bool = False) -> OutboxMessage:
    return OutboxMessage(
        dedupe_key=key,
        kind="alerte",
        message_id=f"<{key}@intake>",
        recipients="accueil@ville-corbas.fr",
        subject="Alerte",
        text_body="-",
        html_body="-",
        created_at=NOW,
        next_attempt_at=NOW,
        sent_at=NOW if sent else None,
        failed_at=NOW if failed else None,
    )


def _fill(engine: Engine, vault) -> None:  # type: ignore[no-untyped-def]
    may = NOW.replace(year=2026, month=5, day=20)
    hold(engine, vault, "ME-2026-0000001", may, PARIS)  # kept past its purge day
    hold(engine, vault, "ME-2026-0000002", may + timedelta(days=3), PARIS)  # purged today
    hold(engine, vault, "ME-2026-0000003", NOW - timedelta(days=20), PARIS, status="notified")
    hold(engine, vault, "ME-2026-0000004", NOW - timedelta(days=1), PARIS, status="quarantined")
    with transaction(engine) as session:
        heartbeats.beat(session, "hote:1", NOW - timedelta(minutes=5), 60, True)
        heartbeats.beat(session, "hote:2", NOW, 20, False)
        communes.record_success(session, "69273", NOW - timedelta(hours=2), "etag", tz=PARIS)
        communes.record_error(session, "69029", NOW - timedelta(hours=3), "http-500", "x", tz=PARIS)
        communes.record_error(session, "69029", NOW - timedelta(hours=1), "http-502", "y", tz=PARIS)
        for sign_by, signed in ((date(2026, 11, 20), False), (date(2026, 11, 30), False),
                                (date(2026, 11, 1), True)):  # fmt: skip
            attestation = attestations.start(session, "conservation-6-mois", NOW)
            attestation.drafted_at, attestation.sign_by = NOW - timedelta(days=30), sign_by
            attestation.signed_at = NOW if signed else None
            session.add(attestation)
        session.add_all([_email("a"), _email("b", sent=True), _email("c", failed=True)])
        reports.add(session, "2026-10", NOW, b"%PDF", b"csv")
        audit.Trail(bytes(32)).record(session, at=NOW - timedelta(days=60), actor="intake",
                                      action="demarrage")  # fmt: skip


def _as_the_orm_reads(engine: Engine) -> dict[str, object]:
    with transaction(engine) as session:
        states = communes.all_states(session)
        workers = heartbeats.all_workers(session)
        return {
            "communes": [
                (s.insee, s.last_success, s.last_error, s.last_error_code, s.failing_since)
                for s in states
            ],
            "overdue": store.count_overdue(session, TODAY),
            "unsigned": attestations.count_unsigned(session),
            "workers": [(w.worker, w.started_at, w.beat_at, w.interval_seconds) for w in workers],
            "purge": destruction.purge_backlog(session, TODAY),
            "late": [(a.id, a.sign_by) for a in attestations.late(session, TODAY)],
            "kept": {month for month, _ in reports.kept(session)},
            "began": audit.first_event_at(session),
        }


def _as_read(snapshot: Snapshot) -> dict[str, object]:
    return {
        "communes": [
            (c.insee, c.last_success, c.last_error, c.last_error_code, c.failing_since)
            for c in snapshot.communes
        ],
        "overdue": snapshot.overdue,
        "unsigned": snapshot.unsigned,
        "workers": [
            (w.worker, w.started_at, w.beat_at, w.interval_seconds) for w in snapshot.workers
        ],
        "purge": (snapshot.purge_late, snapshot.purge_today),
        "late": [(a.id, a.sign_by) for a in snapshot.late_attestations],
        "kept": set(snapshot.kept_months),
        "began": snapshot.first_event_at,
    }


def test_the_plain_reads_find_what_the_orm_finds(engine, vault):
    _fill(engine, vault)
    expected = _as_the_orm_reads(engine)
    assert expected["overdue"] == 1 and expected["purge"] == (1, 1)  # the rows say something
    assert expected["unsigned"] == 2 and len(expected["late"]) == 1  # type: ignore[arg-type]
    snapshot = read_engine(engine, TODAY)
    assert _as_read(snapshot) == expected
    assert (snapshot.queued, snapshot.failed) == (1, 1)
    if engine.dialect.name == "sqlite":  # the command's own path: sqlite3, no engine
        quick = quick_read(engine.url.render_as_string(hide_password=False), TODAY)
        assert quick == snapshot


def test_a_database_that_needs_the_engine_is_left_to_it(engine, tmp_path):
    if engine.dialect.name != "sqlite":
        assert quick_read(engine.url.render_as_string(hide_password=False), TODAY) is None
        return
    url = engine.url.render_as_string(hide_password=False)
    assert quick_read(url, TODAY) is not None
    with engine.begin() as connection:  # a schema older than the code's
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    assert quick_read(url, TODAY) is None
    assert quick_read(f"sqlite:///{tmp_path / 'nothing.db'}", TODAY) is None  # no file yet
    assert not (tmp_path / "nothing.db").exists()
