"""The scheduler's own statements (storage.pulse), in plain SQL without the ORM: what they
write the ORM reads as its own heartbeats write it, and whether mail waits is what the ORM's
queries of the emails' pass find, on SQLite (by `sqlite3` alone) and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from storage import demandes as store
from storage import heartbeats, outbox
from storage.db import transaction
from storage.locks import current_schema
from storage.pulse import Pulse
from tests.integration.test_status_reads import _email
from tests.support.lieu import NOW, PARIS
from tests.support.retention import hold


def _url(engine: Engine) -> str:
    """The database URL as a configuration gives it (on PostgreSQL, the test's schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return url
    with engine.connect() as connection:
        schema = current_schema(connection)
    return f"{url}?options=-csearch_path%3D{schema}"


def _workers(engine: Engine) -> list[tuple[str, object, object, int]]:
    with transaction(engine) as session:
        return [
            (w.worker, w.started_at, w.beat_at, w.interval_seconds)
            for w in heartbeats.all_workers(session)
        ]


def test_the_heartbeat_reads_as_the_orm_writes_it(engine):
    pulse = Pulse(_url(engine))
    if engine.dialect.name == "sqlite":
        assert pulse._engine is None  # the standard library's driver, not SQLAlchemy
    with transaction(engine) as session:  # a worker that died without a word, long ago
        heartbeats.beat(session, "hote:1", NOW - timedelta(hours=1), 60, True)
    pulse.beat("hote:2", NOW, 60, started=True)
    assert _workers(engine) == [("hote:2", NOW, NOW, 60)]  # the dead one's row is history
    later = NOW + timedelta(seconds=20)
    pulse.beat("hote:2", later, 60, started=False)
    assert _workers(engine) == [("hote:2", NOW, later, 60)]  # its start is kept
    with transaction(engine) as session:  # and the ORM's own beat goes on from there
        heartbeats.beat(session, "hote:2", later + timedelta(seconds=20), 60, False)
    assert _workers(engine) == [("hote:2", NOW, later + timedelta(seconds=20), 60)]
    pulse.forget("hote:2")
    assert _workers(engine) == []
    pulse.close()


def _orm_finds_mail(engine: Engine, at: object) -> bool:
    with transaction(engine) as session:
        return bool(outbox.due(session, at, limit=1) or store.unannounced(session))  # type: ignore[arg-type]


def test_mail_waits_when_the_orm_finds_mail_to_send_or_demandes_to_announce(engine, vault):
    pulse = Pulse(_url(engine))
    cases: list[bool] = []

    def agree(at: object = NOW) -> bool:
        expected = _orm_finds_mail(engine, at)
        assert pulse.mail_waiting(at) == expected  # type: ignore[arg-type]
        cases.append(expected)
        return expected

    assert not agree()  # an empty database
    with transaction(engine) as session:
        session.add(_email("sent", sent=True))
        session.add(_email("failed", failed=True))
    assert not agree()  # nothing left to send
    with transaction(engine) as session:
        session.add(_email("later"))
    assert agree()
    assert not agree(NOW - timedelta(seconds=1))  # its next attempt is not due yet
    with transaction(engine) as session:
        for message in outbox.due(session, NOW):
            message.sent_at = NOW
            session.add(message)
    assert not agree()
    hold(engine, vault, "ME-2026-0000001", NOW - timedelta(days=2), PARIS)
    assert agree()  # received, not yet announced to the staff
    with transaction(engine) as session:
        store.mark_announced(session, store.unannounced(session), NOW)
    assert not agree()
    hold(engine, vault, "ME-2026-0000002", NOW, PARIS, status="notified")  # not received
    hold(engine, vault, "ME-2026-0000003", NOW, PARIS, status="quarantined")  # refused
    assert not agree()
    assert True in cases and False in cases
    pulse.close()


def test_an_sqlite_url_with_options_is_read_by_sqlite3_too(engine):
    """Any SQLite URL the configuration may hold (options, encoded characters) is the file's."""
    if engine.dialect.name != "sqlite":
        return
    pulse = Pulse(_url(engine) + "?timeout=30")
    assert pulse._engine is None
    pulse.beat("hote:3", NOW, 60, started=True)
    assert _workers(engine) == [("hote:3", NOW, NOW, 60)]
    assert not pulse.mail_waiting(NOW)
