"""Destruction's side of the demande tables: what is due (the purge's one query, and what a
restored copy holds whose keys are gone), the ciphertexts and keys destroyed in batches, the
tombstones marked; and what `status` reports of a purge that did not run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import text, tuple_, update
from sqlmodel import Session, col, delete, func, or_, select

from storage.models import DemandeBlob, DemandeKey, DemandeRow, Status


def destroy_many(session: Session, numeros: Sequence[str]) -> None:
    """`destroy_secrets` for a batch, in two statements.

    Crypto-shredding: destroying the wrapped data keys is what makes the content unreadable.
    On SQLite, the ciphertexts' pages are freed without being zeroed (`secure_delete` off for
    that statement: gigabytes of zeros cost most of a purge and protect nothing, since what
    they would hide can no longer be decrypted); the keys' pages are zeroed."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.execute(text("PRAGMA secure_delete=OFF"))
    try:
        session.exec(delete(DemandeBlob).where(col(DemandeBlob.numero).in_(numeros)))
    finally:
        if sqlite:
            session.execute(text("PRAGMA secure_delete=ON"))
    session.exec(delete(DemandeKey).where(col(DemandeKey.numero).in_(numeros)))
    session.flush()


def mark_purged(
    session: Session,
    numeros: Sequence[str],
    now: datetime,
    reason: str,
    attestation_id: int | None,
) -> None:
    """Turn destroyed demandes into tombstones, in one statement. The fingerprint, a keyed
    digest of the content, goes with the content."""
    session.execute(
        update(DemandeRow)
        .where(col(DemandeRow.numero).in_(numeros))
        .values(
            status=Status.PURGED,
            purged_at=now,
            purge_reason=reason,
            attestation_id=attestation_id,
            fingerprint=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Due:
    """A demande due for destruction, as the purge and its plan see it."""

    numero: str
    commune: str
    status: str
    purge_due: date


_DueRows = Sequence[tuple[str, str, str, date]]


def purgeable(
    session: Session,
    cutoff: date,
    limit: int | None = None,
    *,
    lock: bool = True,
    after: tuple[date, str] | None = None,
) -> list[Due]:
    """Demandes not yet destroyed whose purge day is on or before `cutoff`, oldest first: the
    one query of both the purge and its plan (`purge --dry-run`). With `lock`, the rows are
    locked for the transaction (FOR UPDATE; rows another worker is purging are skipped).
    `after` (the purge day and numero of the previous batch's last row) starts the scan
    there: without it, each batch of a large purge walked again over every tombstone the
    batches before it had left at the start of the index."""
    query = (
        select(DemandeRow.numero, DemandeRow.commune, DemandeRow.status, col(DemandeRow.purge_due))
        .where(DemandeRow.status != Status.PURGED, col(DemandeRow.purge_due) <= cutoff)
        .order_by(col(DemandeRow.purge_due), col(DemandeRow.numero))
        .limit(limit)
    )
    if after is not None:
        query = query.where(
            tuple_(col(DemandeRow.purge_due), col(DemandeRow.numero)) > tuple_(*after)
        )
    if lock:
        query = query.with_for_update(skip_locked=True)
    # purge_due <= cutoff: never NULL in these rows.
    return [Due(*row) for row in cast(_DueRows, session.exec(query).all())]


def keyless(
    session: Session, destroyed_through: date | None, held: Sequence[date], limit: int
) -> list[Due]:
    """Demandes not yet destroyed whose purge day's key is gone from the key store (destroyed
    since this database was copied, then the copy put back): what must be destroyed again."""
    used = session.exec(
        select(col(DemandeKey.key_date))
        .join(DemandeRow, col(DemandeRow.numero) == col(DemandeKey.numero))
        .where(DemandeRow.status != Status.PURGED, col(DemandeKey.key_date).is_not(None))
        .distinct()
    ).all()
    missing = sorted({d for d in used if d is not None} - set(held))
    conditions = []
    if destroyed_through is not None:
        conditions.append(col(DemandeRow.purge_due) <= destroyed_through)
    if missing:
        conditions.append(
            col(DemandeRow.numero).in_(
                select(DemandeKey.numero).where(col(DemandeKey.key_date).in_(missing))
            )
        )
    if not conditions:
        return []
    query = (
        select(DemandeRow.numero, DemandeRow.commune, DemandeRow.status, col(DemandeRow.purge_due))
        .where(DemandeRow.status != Status.PURGED, or_(*conditions))
        .order_by(col(DemandeRow.numero))
        .limit(limit)
    )
    # Never NULL in these rows either: a key's date is its demande's purge day.
    return [Due(*row) for row in cast(_DueRows, session.exec(query).all())]


def next_purge_due(session: Session) -> date | None:
    """The earliest purge day of what is not destroyed yet (no lock)."""
    query = select(func.min(DemandeRow.purge_due)).where(DemandeRow.status != Status.PURGED)
    return session.exec(query).one()


def purge_backlog(session: Session, today: date) -> tuple[int, int]:
    """Demandes not destroyed yet whose purge day has passed, and those whose purge day is
    `today` (no lock): what `status` reports of a purge that did not run."""
    kept = select(func.count()).select_from(DemandeRow).where(DemandeRow.status != Status.PURGED)
    late = session.exec(kept.where(col(DemandeRow.purge_due) < today)).one()
    due_today = session.exec(kept.where(col(DemandeRow.purge_due) == today)).one()
    return int(late), int(due_today)
