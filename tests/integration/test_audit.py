"""The keyed chain catches a changed, inserted or deleted event, and a chain recomputed by
someone without the key, on both engines."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from storage import audit
from storage.db import transaction
from storage.vault import Vault

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def fill(engine: Engine, vault: Vault, n: int = 5) -> None:
    with transaction(engine) as session:
        for i in range(n):
            vault.trail.record(
                session,
                at=T0 + timedelta(minutes=i),
                actor="l.feuga@ville-corbas.fr",
                action="lecture",
                numero=f"ME-2026-{i:07d}",
                detail={"pdf": False},
            )


def verify(engine: Engine, vault: Vault) -> audit.Verification:
    with transaction(engine) as session:
        return vault.trail.verify(session)


def tamper(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def test_an_intact_chain(engine, vault):
    assert verify(engine, vault) == audit.Verification(True, 0, None)
    fill(engine, vault)
    assert verify(engine, vault) == audit.Verification(True, 5, None)


def test_a_changed_event(engine, vault):
    fill(engine, vault)
    tamper(engine, "UPDATE audit_event SET actor = 'quelqu.un@ailleurs.fr' WHERE seq = 3")
    result = verify(engine, vault)
    assert (result.ok, result.first_bad) == (False, 3)


def test_a_deleted_event(engine, vault):
    fill(engine, vault)
    tamper(engine, "DELETE FROM audit_event WHERE seq = 2")
    assert (verify(engine, vault).ok, verify(engine, vault).first_bad) == (False, 2)


def test_the_newest_events_deleted(engine, vault):
    fill(engine, vault)
    tamper(engine, "DELETE FROM audit_event WHERE seq >= 4")
    assert (verify(engine, vault).ok, verify(engine, vault).first_bad) == (False, 4)


def test_an_inserted_event(engine, vault):
    fill(engine, vault)
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
    result = verify(engine, vault)
    assert (result.ok, result.first_bad) == (False, 3)


def _sha256_link(row: object, prev: str) -> str:
    """What an attacker without the key can compute: the old, unkeyed link."""
    seq, at, actor, action, numero, detail = row  # type: ignore[misc]
    at = datetime.fromisoformat(str(at)).replace(tzinfo=UTC) if isinstance(at, str) else at
    canonical = json.dumps(
        [seq, at.astimezone(UTC).isoformat(timespec="microseconds"), actor, action, numero,
         detail, prev],
        ensure_ascii=False,
        separators=(",", ":"),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_an_edited_event_with_the_chain_recomputed_without_the_key(engine, vault):
    """The attack the unkeyed chain let through: edit, recompute every link, fix the head."""
    fill(engine, vault)
    tamper(engine, "UPDATE audit_event SET actor = 'quelqu.un@ailleurs.fr' WHERE seq = 3")
    with transaction(engine) as session:
        rows = session.exec(
            text("SELECT seq, at, actor, action, numero, detail FROM audit_event ORDER BY seq")
        ).all()
    previous = audit.GENESIS
    for row in rows:
        link = _sha256_link(tuple(row), previous)
        tamper(
            engine,
            "UPDATE audit_event SET prev_hash = :p, hash = :h WHERE seq = :s",
            p=previous,
            h=link,
            s=row[0],
        )
        previous = link
    tamper(engine, "UPDATE audit_head SET hash = :h", h=previous)
    result = verify(engine, vault)
    assert (result.ok, result.first_bad) == (False, 1)


def test_a_chain_made_under_another_key_is_refused(engine, vault):
    fill(engine, Vault(bytes(32)))
    assert (verify(engine, vault).ok, verify(engine, vault).first_bad) == (False, 1)


def test_appends_from_two_sessions_form_one_chain(engine, vault):
    fill(engine, vault, 3)
    fill(engine, vault, 3)
    assert verify(engine, vault).events == 6 and verify(engine, vault).ok


def test_pruning_leaves_a_sealed_checkpoint_the_chain_starts_from(engine, vault):
    fill(engine, vault, 6)
    with transaction(engine) as session:
        gone = vault.trail.prune(
            session,
            before=T0 + timedelta(minutes=3),  # events 1 to 3 are older
            now=T0 + timedelta(days=400),
            actor="système:test",
        )
    assert gone == 3
    with transaction(engine) as session:
        result = vault.trail.verify(session)
        again = vault.trail.prune(
            session,
            before=T0 + timedelta(minutes=3),
            now=T0 + timedelta(days=401),
            actor="système:test",
        )
    assert result == audit.Verification(True, 4, None)  # 4, 5, 6 and the pruning itself
    assert again == 0

    tamper(engine, "UPDATE audit_checkpoint SET seq = 4")  # hide event 4 as if pruned
    tamper(engine, "DELETE FROM audit_event WHERE seq = 4")
    with transaction(engine) as session:
        forged = vault.trail.verify(session)
    assert not forged.ok and forged.reason == "point de départ du journal falsifié"
