"""The audit trail: append-only, hash-chained, never personal.

Each event's hash covers its own fields and the previous event's hash, so a
changed, inserted or deleted event breaks the chain; `audit_head` records
the last link in the same transaction, so removing the newest events shows too.
Appends are serialised by locking the head row (`FOR UPDATE` on PostgreSQL;
SQLite transactions are already `BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import AuditEvent, AuditHead

GENESIS = "0" * 64
VERIFY_BATCH = 5000


def _digest(
    seq: int, at: datetime, actor: str, action: str, numero: str | None, detail: str, prev_hash: str
) -> str:
    canonical = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, numero, detail, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    numero: str | None = None,
    detail: Mapping[str, object] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction. `detail` must hold nothing personal."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    detail_text = json.dumps(
        dict(detail or {}), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    )
    seq = head.seq + 1
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        numero=numero,
        detail=detail_text,
        prev_hash=head.hash,
        hash=_digest(seq, at, actor, action, numero, detail_text, head.hash),
    )
    head.seq, head.hash = seq, event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None


def verify(session: Session) -> Verification:
    """Walk the whole chain in batches (constant memory)."""
    expected_seq, prev_hash, count, last = 1, GENESIS, 0, 0
    while True:
        batch = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) >= expected_seq)
            .order_by(col(AuditEvent.seq))
            .limit(VERIFY_BATCH)
        ).all()
        for event in batch:
            problem = _check(event, expected_seq, prev_hash)
            if problem:
                return Verification(False, count, min(event.seq, expected_seq), problem)
            prev_hash, expected_seq, last = event.hash, event.seq + 1, event.seq
            count += 1
        if len(batch) < VERIFY_BATCH:
            break
    head = session.get(AuditHead, 1)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != last or head_hash != prev_hash:
        return Verification(
            False,
            count,
            last + 1,
            "des événements récents ont disparu ou la tête de chaîne a été modifiée",
        )
    return Verification(True, count, None)


def _check(event: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    if event.seq != expected_seq:
        return f"événement {expected_seq} manquant"
    if event.prev_hash != prev_hash:
        return f"événement {event.seq} : maillon précédent différent (insertion ou suppression)"
    recomputed = _digest(
        event.seq, event.at, event.actor, event.action, event.numero, event.detail, event.prev_hash
    )
    if recomputed != event.hash:
        return f"événement {event.seq} : contenu modifié"
    return None


def head_hash(session: Session) -> str:
    head = session.get(AuditHead, 1)
    return head.hash if head else GENESIS
