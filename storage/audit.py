"""The audit trail: append-only, chained with HMAC-SHA-256, never personal.

Each event's link is an HMAC, under a key derived from the master key (its own
label), of its own fields and the previous link: a changed, inserted or
deleted event breaks the chain, and nobody without the key can compute a new
one (a plain hash chain can be recomputed by anyone who edits the database).
`audit_head` records the last link in the same transaction, so removing the
newest events shows too; wiping the whole trail is caught by the cross-check
of the store against the trail (`coverage`) and by the anchors kept outside
the database. Appends are serialised by locking the head row (`FOR UPDATE` on
PostgreSQL; SQLite transactions are already `BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, update
from sqlmodel import Session, col, delete, func, select

from storage.anchors import Anchoring
from storage.models import AuditCheckpoint, AuditEvent, AuditHead

GENESIS = "0" * 64
VERIFY_BATCH = 5000


# The encoders of `json.dumps(…, ensure_ascii=False, separators=(",", ":"))`, made once: a
# purge or an ingest appends one event per demande, and `dumps` with options builds a new
# encoder at each call. Same bytes.
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DETAIL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _canonical(
    seq: int, at: datetime, actor: str, action: str, numero: str | None, detail: str, prev: str
) -> bytes:
    return _CANONICAL.encode(
        [seq, at.isoformat(timespec="microseconds"), actor, action, numero, detail, prev]
    ).encode("utf-8")


def legacy_digest(event: AuditEvent) -> str:
    """The unkeyed SHA-256 link of trails written before the HMAC chain (migration only)."""
    return hashlib.sha256(
        _canonical(
            event.seq,
            event.at,
            event.actor,
            event.action,
            event.numero,
            event.detail,
            event.prev_hash,
        )
    ).hexdigest()


# When, action, numero, detail.
Event = tuple[datetime, str, str | None, Mapping[str, object] | None]


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad: int | None
    reason: str | None = None


class Trail:
    """The trail's writer and checker, holding the chain's key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.anchoring: Anchoring | None = None  # set by the application (`intake.trail`)

    def link(
        self,
        seq: int,
        at: datetime,
        actor: str,
        action: str,
        numero: str | None,
        detail: str,
        prev: str,
    ) -> str:
        message = _canonical(seq, at, actor, action, numero, detail, prev)
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def seal(self, text: bytes) -> str:
        return hmac.new(self._key, b"audit-seal:" + text, hashlib.sha256).hexdigest()

    def record(
        self,
        session: Session,
        *,
        at: datetime,
        actor: str,
        action: str,
        numero: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> str:
        """Append one event in the caller's transaction and return its link. `detail` must
        hold nothing personal."""
        return self.record_many(session, actor=actor, events=[(at, action, numero, detail)])[-1]

    def record_many(self, session: Session, *, actor: str, events: Sequence[Event]) -> list[str]:
        """Append `events` in order, in the caller's transaction; their links."""
        return _append(session, self, actor, events)

    def prune(self, session: Session, *, before: datetime, now: datetime, actor: str) -> int:
        return _prune(session, self, before=before, now=now, actor=actor)

    def verify(self, session: Session) -> Verification:
        return _verify(session, self)

    def rechain(self, session: Session) -> int:
        """Recompute every link under this key (the migration from the unkeyed chain, after
        the old chain was checked). Returns the number of events."""
        return _rechain(session, self)


def _append(session: Session, trail: Trail, actor: str, events: Sequence[Event]) -> list[str]:
    head = _locked_head(session)
    rows: list[dict[str, object]] = []
    seq, previous = head.seq, head.hash
    for when, action, numero, detail in events:
        at = when.astimezone(UTC)  # hashed as stored: a local offset would not survive the base
        detail_text = _DETAIL.encode(dict(detail or {}))
        seq += 1
        digest = trail.link(seq, at, actor, action, numero, detail_text, previous)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "numero": numero,
                "detail": detail_text,
                "prev_hash": previous,
                "hash": digest,
            }
        )
        previous = digest
    if not rows:
        return []
    # Plain INSERTs: an ingest or a purge appends one event per demande, and the ORM's unit
    # of work would cost more than everything else they write. (SQLModel's metaclass sets
    # __table__ but does not declare it to type checkers.)
    session.execute(insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]
    head.seq, head.hash = seq, previous
    session.add(head)
    if trail.anchoring is not None:
        trail.anchoring.note(session, (seq, previous), [e[1] for e in events], events[-1][0])
    return [str(row["hash"]) for row in rows]


_HEAD = "audit_head"


def head_for_update(session: Session) -> tuple[int, str]:
    """The head, locked for the rest of the transaction: serialises whoever rewrites keys."""
    head = _locked_head(session)
    return head.seq, head.hash


def _locked_head(session: Session) -> AuditHead:
    """The head row, locked once per transaction (`FOR UPDATE` serialises appends)."""
    transaction = session.get_transaction()
    cached: tuple[object, AuditHead] | None = session.info.get(_HEAD)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    session.info[_HEAD] = (transaction, head)
    return head


def checkpoint_text(seq: int, hash_: str) -> bytes:
    return f"audit-checkpoint:{seq}:{hash_}".encode()


def _prune(session: Session, trail: Trail, *, before: datetime, now: datetime, actor: str) -> int:
    """Delete the events older than `before`, leaving a sealed checkpoint where the chain now
    begins; the pruning itself is recorded. How many went."""
    last = session.exec(
        select(AuditEvent).where(col(AuditEvent.at) < before).order_by(col(AuditEvent.seq).desc())
    ).first()
    checkpoint = session.get(AuditCheckpoint, 1)
    if last is None or (checkpoint is not None and last.seq <= checkpoint.seq):
        return 0
    gone = session.exec(delete(AuditEvent).where(col(AuditEvent.seq) <= last.seq)).rowcount
    checkpoint = checkpoint or AuditCheckpoint(id=1, seq=0, hash=GENESIS, pruned_at=now, seal="")
    checkpoint.seq, checkpoint.hash, checkpoint.pruned_at = last.seq, last.hash, now
    checkpoint.pruned_events += gone
    checkpoint.seal = trail.seal(checkpoint_text(last.seq, last.hash))
    session.add(checkpoint)
    trail.record(
        session,
        at=now,
        actor=actor,
        action="elagage-journal",
        detail={"jusqu_a": last.seq, "evenements": gone},
    )
    return int(gone)


def _verify(session: Session, trail: Trail) -> Verification:
    """Walk the whole chain in batches (constant memory), from its start or its sealed
    checkpoint."""
    expected_seq, prev_hash, count, last = 1, GENESIS, 0, 0
    checkpoint = session.get(AuditCheckpoint, 1)
    if checkpoint is not None:
        if not hmac.compare_digest(
            trail.seal(checkpoint_text(checkpoint.seq, checkpoint.hash)), checkpoint.seal
        ):
            return Verification(False, 0, checkpoint.seq, "point de départ du journal falsifié")
        expected_seq, prev_hash, last = checkpoint.seq + 1, checkpoint.hash, checkpoint.seq
    while True:
        batch = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) >= expected_seq)
            .order_by(col(AuditEvent.seq))
            .limit(VERIFY_BATCH)
        ).all()
        for event in batch:
            problem = _check(trail, event, expected_seq, prev_hash)
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


def _check(trail: Trail, event: AuditEvent, expected_seq: int, prev_hash: str) -> str | None:
    if event.seq != expected_seq:
        return f"événement {expected_seq} manquant"
    if event.prev_hash != prev_hash:
        return f"événement {event.seq} : maillon précédent différent (insertion ou suppression)"
    recomputed = trail.link(
        event.seq, event.at, event.actor, event.action, event.numero, event.detail, event.prev_hash
    )
    if not hmac.compare_digest(recomputed, event.hash):
        return f"événement {event.seq} : contenu modifié ou chaîne recalculée sans la clé"
    return None


def _rechain(session: Session, trail: Trail) -> int:
    head = _locked_head(session)
    checkpoint = session.get(AuditCheckpoint, 1)
    previous = checkpoint.hash if checkpoint is not None else GENESIS
    count, after = 0, checkpoint.seq if checkpoint is not None else 0
    while True:
        batch = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) > after)
            .order_by(col(AuditEvent.seq))
            .limit(VERIFY_BATCH)
        ).all()
        changes = []
        for event in batch:
            link = trail.link(
                event.seq, event.at, event.actor, event.action, event.numero, event.detail, previous
            )
            changes.append({"seq": event.seq, "prev_hash": previous, "hash": link})
            previous, after = link, event.seq
        if changes:
            session.execute(update(AuditEvent), changes)
        count += len(batch)
        if len(batch) < VERIFY_BATCH:
            break
    if checkpoint is not None:
        checkpoint.seal = trail.seal(checkpoint_text(checkpoint.seq, checkpoint.hash))
        session.add(checkpoint)
    head.seq, head.hash = after, previous
    session.add(head)
    return count


def head(session: Session) -> tuple[int, str]:
    """The chain's last link: (sequence number, hash)."""
    row = session.get(AuditHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)


def first_event_at(session: Session) -> datetime | None:
    """When the lieu's trail began: no report is due for a month the worker never saw."""
    event = session.exec(select(AuditEvent).order_by(col(AuditEvent.seq)).limit(1)).first()
    return event.at if event else None


def events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int | None = 100,
) -> tuple[list[AuditEvent], int]:
    """Events matching the filters, newest first, and how many match. Reads only."""
    conditions = []
    if actor:
        conditions.append(col(AuditEvent.actor) == actor)
    if action:
        conditions.append(col(AuditEvent.action) == action)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= since)
    if until is not None:
        conditions.append(col(AuditEvent.at) < until)
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    query = (
        select(AuditEvent).where(*conditions).order_by(col(AuditEvent.seq).desc()).offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query)), int(total)


def last_event_at(session: Session, *, actor: str, action: str) -> datetime | None:
    return session.exec(
        select(func.max(AuditEvent.at)).where(
            col(AuditEvent.actor) == actor, col(AuditEvent.action) == action
        )
    ).one()


def copies_of(session: Session, numeros: Sequence[str]) -> list[AuditEvent]:
    """The copies that left the vault for these demandes: exports, and PDFs written or
    downloaded. Reads only, in chunks (a purge may cover 100,000 demandes)."""
    found: list[AuditEvent] = []
    for start in range(0, len(numeros), 500):
        chunk = list(numeros[start : start + 500])
        found += session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.numero).in_(chunk))
            .where(
                (col(AuditEvent.action) == "export")
                | (
                    (col(AuditEvent.action) == "lecture")
                    & col(AuditEvent.detail).contains('"pdf":true')
                )
            )
            .order_by(col(AuditEvent.seq))
        )
    return found


def last_detail(session: Session, *, action: str) -> dict[str, object] | None:
    """The detail of the newest event of this action, or None if there is none."""
    event = session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.action) == action)
        .order_by(col(AuditEvent.seq).desc())
        .limit(1)
    ).first()
    return None if event is None else dict(json.loads(event.detail))
