"""The hash chain catches a changed, inserted or deleted event, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from storage import audit
from storage.db import transaction

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def fill(engine: Engine, n: int = 5) -> None:
    with transaction(engine) as session:
        for i in range(n):
            audit.record(
                session,
                at=T0 + timedelta(minutes=i),
                actor="l.feuga@ville-corbas.fr",
                action="lecture",
                numero=f"ME-2026-{i:07d}",
                detail={"pdf": False},
            )


def verify(engine: Engine) -> audit.Verification:
    with transaction(engine) as session:
        return audit.verify(session)


def tamper(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_an_intact_chain(engine):
    assert verify(engine) == audit.Verification(True, 0, None)
    fill(engine)
    assert verify(engine) == audit.Verification(True, 5, None)


def test_a_changed_event(engine):
    fill(engine)
    tamper(engine, "UPDATE audit_event SET actor = 'quelqu.un@ailleurs.fr' WHERE seq = 3")
    result = verify(engine)
    assert (result.ok, result.first_bad) == (False, 3)


def test_a_deleted_event(engine):
    fill(engine)
    tamper(engine, "DELETE FROM audit_event WHERE seq = 2")
    assert (verify(engine).ok, verify(engine).first_bad) == (False, 2)


def test_the_newest_events_deleted(engine):
    fill(engine)
    tamper(engine, "DELETE FROM audit_event WHERE seq >= 4")
    assert (verify(engine).ok, verify(engine).first_bad) == (False, 4)


def test_an_inserted_event(engine):
    fill(engine)
    tamper(engine, "UPDATE audit_event SET seq = seq + 1000 WHERE seq >= 3")
    tamper(engine, "UPDATE audit_event SET seq = seq - 999 WHERE seq >= 1000")
    with transaction(engine) as session:
        row = session.exec(text("SELECT prev_hash, hash FROM audit_event WHERE seq = 2")).one()
    tamper(
        engine,
        "INSERT INTO audit_event (seq, at, actor, action, numero, detail, prev_hash, hash) "
        f"VALUES (3, '2026-11-23 09:02:30', 'x@y.fr', 'lecture', NULL, '{{}}', "
        f"'{row[1]}', '{'f' * 64}')",
    )
    result = verify(engine)
    assert (result.ok, result.first_bad) == (False, 3)


def test_appends_from_two_sessions_form_one_chain(engine):
    fill(engine, 3)
    fill(engine, 3)
    assert verify(engine).events == 6 and verify(engine).ok


def test_pruning_leaves_a_sealed_checkpoint_the_chain_starts_from(engine, vault):
    fill(engine, 6)
    with transaction(engine) as session:
        gone = audit.prune(
            session,
            before=T0 + timedelta(minutes=3),  # events 1 to 3 are older
            now=T0 + timedelta(days=400),
            seal=vault.fingerprint,
            actor="système:test",
        )
    assert gone == 3
    with transaction(engine) as session:
        result = audit.verify(session, vault.fingerprint)
        again = audit.prune(
            session,
            before=T0 + timedelta(minutes=3),
            now=T0 + timedelta(days=401),
            seal=vault.fingerprint,
            actor="système:test",
        )
    assert result == audit.Verification(True, 4, None)  # 4, 5, 6 and the pruning itself
    assert again == 0

    tamper(engine, "UPDATE audit_checkpoint SET seq = 4")  # hide event 4 as if pruned
    tamper(engine, "DELETE FROM audit_event WHERE seq = 4")
    with transaction(engine) as session:
        forged = audit.verify(session, vault.fingerprint)
    assert not forged.ok and forged.reason == "point de départ du journal falsifié"
