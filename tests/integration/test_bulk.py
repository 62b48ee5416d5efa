"""storage.bulk writes exactly what SQLAlchemy's own executemany writes, on each engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, insert, select

from storage.bulk import insert_rows
from storage.db import transaction
from storage.models import AuditEvent, DemandeBlob, DemandeKey, DemandeRow, Status

PARIS_WINTER = timezone(timedelta(hours=1))


def _row(numero: str) -> dict[str, object]:
    at = datetime(2026, 11, 23, 11, 30, 15, 123456, tzinfo=PARIS_WINTER)
    return {
        "numero": numero,
        "commune": "69273",
        "status": Status.RECEIVED,
        "fingerprint": "f" * 64,
        "source": "depot",
        "retrieved_at": at,
        "created_at": at,
        "updated_at": at,
        "transmitted_at": at - timedelta(days=3),
        "notified_at": None,
        "retrieval_due": date(2026, 12, 5),
        "purge_due": date(2027, 5, 20),
    }


def _columns(engine: Engine, numero: str) -> tuple[object, ...]:
    with transaction(engine) as session:
        row = session.exec(select(DemandeRow).where(DemandeRow.numero == numero)).one()[0]
        return tuple(getattr(row, column.key) for column in DemandeRow.__table__.columns)


def test_rows_read_back_as_sqlalchemy_writes_them(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(insert(DemandeRow.__table__), [_row("ME-2026-0000001")])
        insert_rows(session, DemandeRow.__table__, [_row("ME-2026-0000002")])
    ours, theirs = _columns(engine, "ME-2026-0000002"), _columns(engine, "ME-2026-0000001")
    assert ours[1:] == theirs[1:]
    stored = dict(zip([c.key for c in DemandeRow.__table__.columns], ours, strict=True))
    assert stored["retrieved_at"] == datetime(2026, 11, 23, 10, 30, 15, 123456, tzinfo=UTC)
    assert stored["status"] == Status.RECEIVED


def test_bytes_go_in_unchanged(engine: Engine) -> None:
    blob = bytes(range(256)) * 10
    with transaction(engine) as session:
        insert_rows(session, DemandeRow.__table__, [_row("ME-2026-0000003")])
        insert_rows(
            session,
            DemandeKey.__table__,
            [{"numero": "ME-2026-0000003", "wrapped_key": b"k" * 60, "master_key_id": "m"}],
        )
        insert_rows(
            session,
            DemandeBlob.__table__,
            [{"numero": "ME-2026-0000003", "kind": "pdf", "ciphertext": blob}],
        )
    with transaction(engine) as session:
        stored = session.exec(select(DemandeBlob.ciphertext)).one()[0]
    assert bytes(stored) == blob


def test_rows_with_different_columns_are_refused(engine: Engine) -> None:
    rows = [_row("ME-2026-0000004"), {**_row("ME-2026-0000005"), "extra": 1}]
    with pytest.raises(ValueError), transaction(engine) as session:
        insert_rows(session, DemandeRow.__table__, rows)
    with transaction(engine) as session:
        assert session.exec(select(DemandeRow)).all() == []


def test_a_left_out_column_with_a_default_falls_back_to_sqlalchemy(engine: Engine) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    event = {
        "seq": 1,
        "at": at,
        "actor": "test",
        "action": "essai",
        "numero": None,
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    with transaction(engine) as session:
        insert_rows(session, AuditEvent.__table__, [event])
    with transaction(engine) as session:
        assert session.exec(select(AuditEvent.detail)).one()[0] == "{}"
