"""The demandes store: the only code that touches the demande tables and their vault blobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, insert
from sqlmodel import Session, col, delete, func, or_, select

from storage.models import BlobKind, DemandeBlob, DemandeKey, DemandeRow, Refusal, Status
from storage.status import OWED

if TYPE_CHECKING:  # the vault is handed in; listing and counting (`intake status`) need none
    from storage.vault import Vault


def get(session: Session, numero: str, *, for_update: bool = False) -> DemandeRow | None:
    """One demande's row; with `for_update`, locked (FOR UPDATE) until the transaction ends."""
    query = select(DemandeRow).where(DemandeRow.numero == numero)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def get_many(session: Session, numeros: Sequence[str], *, lock: bool = False) -> list[DemandeRow]:
    """The rows of these numeros that exist; with `lock`, locked (FOR UPDATE)."""
    if not numeros:
        return []
    query = select(DemandeRow).where(col(DemandeRow.numero).in_(numeros))
    return list(session.exec(query.with_for_update() if lock else query))


def save(session: Session, row: DemandeRow) -> DemandeRow:
    """Insert or update a row (flushed: later statements of the transaction see it)."""
    session.add(row)
    session.flush()
    return row


def put_secrets(
    session: Session,
    vault: Vault,
    numero: str,
    blobs: Mapping[BlobKind, bytes],
    *,
    fresh: bool = False,
) -> None:
    """Replace every secret of a demande by `blobs`, under a fresh data key (`fresh`: the
    demande has none yet)."""
    if not fresh:
        destroy_secrets(session, numero)
    data_key = vault.new_data_key()
    row = session.get(DemandeRow, numero)  # saved just before: no query
    # Plain INSERTs: a feed of thousands of demandes writes four rows per demande.
    session.execute(
        insert(DemandeKey),
        wrapped_key_row(vault, data_key, numero, row.purge_due if row is not None else None),
    )
    session.execute(
        insert(DemandeBlob),
        [
            {
                "numero": numero,
                "kind": kind,
                "ciphertext": vault.encrypt(data_key, numero, kind, plaintext),
            }
            for kind, plaintext in blobs.items()
        ],
    )


def wrapped_key_row(
    vault: Vault, data_key: bytes, numero: str, purge_due: object
) -> dict[str, object]:
    """The `demande_key` row: the data key wrapped by its purge day's key (the master key
    itself only for a demande without a purge day, which the purge never reaches)."""
    if isinstance(purge_due, date):
        wrapped, key_date = vault.wrap(data_key, numero, purge_due), purge_due
    else:
        wrapped, key_date = vault.wrap_legacy(data_key, numero), None
    return {
        "numero": numero,
        "wrapped_key": wrapped,
        "master_key_id": vault.key_id,
        "key_date": key_date,
    }


def add_secret(
    session: Session, vault: Vault, numero: str, kind: BlobKind, plaintext: bytes
) -> None:
    """Add one blob under the demande's existing data key (a quarantined copy, say)."""
    data_key = _data_key(session, vault, numero)
    session.add(
        DemandeBlob(
            numero=numero, kind=kind, ciphertext=vault.encrypt(data_key, numero, kind, plaintext)
        )
    )
    session.flush()


def replace_secret(
    session: Session, vault: Vault, numero: str, kind: BlobKind, plaintext: bytes
) -> None:
    """The demande's one blob of this kind, replaced (a follow-up recorded again)."""
    session.exec(
        delete(DemandeBlob).where(col(DemandeBlob.numero) == numero, col(DemandeBlob.kind) == kind)
    )
    add_secret(session, vault, numero, kind, plaintext)


def has_secret(session: Session, numero: str, kind: BlobKind) -> bool:
    """Whether the demande holds a blob of this kind (no lock, nothing decrypted)."""
    query = select(DemandeBlob.id).where(DemandeBlob.numero == numero, DemandeBlob.kind == kind)
    return session.exec(query).first() is not None


def read_secret(session: Session, vault: Vault, numero: str, kind: BlobKind) -> bytes | None:
    """A blob decrypted with the demande's data key, or None (no lock)."""
    blob = session.exec(
        select(DemandeBlob)
        .where(DemandeBlob.numero == numero, DemandeBlob.kind == kind)
        .order_by(col(DemandeBlob.id))
    ).first()
    if blob is None:
        return None
    return vault.decrypt(_data_key(session, vault, numero), numero, kind, blob.ciphertext)


def destroy_secrets(session: Session, numero: str) -> None:
    """Delete the ciphertexts and the wrapped key: what remains can never be read again."""
    session.exec(delete(DemandeBlob).where(col(DemandeBlob.numero) == numero))
    session.exec(delete(DemandeKey).where(col(DemandeKey.numero) == numero))
    session.flush()


def _data_key(session: Session, vault: Vault, numero: str) -> bytes:
    key = session.get(DemandeKey, numero)
    if key is None:
        raise LookupError(f"aucune clé pour {numero} (données détruites ?)")
    return vault.unwrap(key.wrapped_key, numero, key.key_date)


def listing(
    session: Session,
    *,
    commune: str | None = None,
    status: str | None = None,
    communes: frozenset[str] | None = None,
) -> Iterator[DemandeRow]:
    """The demandes held, by transmission date, filtered (no lock; nothing decrypted)."""
    query = select(DemandeRow).order_by(col(DemandeRow.transmitted_at), col(DemandeRow.numero))
    if commune:
        query = query.where(DemandeRow.commune == commune)
    if communes is not None:
        query = query.where(col(DemandeRow.commune).in_(sorted(communes)))
    if status:
        query = query.where(DemandeRow.status == status)
    yield from session.exec(query.execution_options(yield_per=500))


@dataclass(frozen=True)
class Pending:
    """Demandes the extranet still holds for the lieu in one commune."""

    count: int
    late: int
    next_due: date | None


def owed() -> ColumnElement[bool]:
    """Still owed by the extranet: announced, or refused by a rule and so never acknowledged
    (kept in quarantine). What the deadline alerts, the status and the reports count."""
    return col(DemandeRow.status).in_(OWED)


def pending_by_commune(session: Session, today: date) -> dict[str, Pending]:
    """Per commune: announced or refused demandes still to retrieve, how many are late, and
    the nearest deadline. Reads only."""
    waiting = owed()
    rows = session.exec(
        select(DemandeRow.commune, func.count(), func.min(DemandeRow.retrieval_due))
        .where(waiting)
        .group_by(DemandeRow.commune)
    ).all()
    late = dict(
        session.exec(
            select(DemandeRow.commune, func.count())
            .where(waiting, col(DemandeRow.retrieval_due) < today)
            .group_by(DemandeRow.commune)
        ).all()
    )
    return {insee: Pending(int(n), int(late.get(insee, 0)), due) for insee, n, due in rows}


def count_overdue(session: Session, today: date) -> int:
    """Demandes the extranet still holds for the lieu (announced, or refused by a rule and so
    never acknowledged) whose retrieval deadline has passed: staff must fetch them by hand."""
    query = (
        select(func.count())
        .select_from(DemandeRow)
        .where(
            owed(),
            col(DemandeRow.retrieval_due) < today,
        )
    )
    return int(session.exec(query).one())


def record_refusal(
    session: Session,
    *,
    at: datetime,
    source: str,
    numero: str | None,
    commune: str | None,
    code: str,
    message: str,
) -> bool:
    """Log a refusal, unless it repeats the last one of the same demande (a feed polled again)."""
    if numero is not None:
        last = session.exec(
            select(Refusal).where(Refusal.numero == numero).order_by(col(Refusal.id).desc())
        ).first()
        if last is not None and last.code == code and last.message == message:
            return False
    session.add(
        Refusal(
            at=at,
            source=source[:255],
            numero=numero,
            commune=commune,
            code=code,
            message=message[:4000],
        )
    )
    session.flush()
    return True


__all__ = ["BlobKind", "DemandeRow", "Status"]


def month_rows(session: Session, since: datetime, due_from: date) -> Iterator[DemandeRow]:
    """The rows a month's report counts (no lock): retrieved, destroyed or treated since
    `since`, due for retrieval from `due_from`, or still owed (announced, quarantined)."""
    query = select(DemandeRow).where(
        or_(
            col(DemandeRow.retrieved_at) >= since,
            col(DemandeRow.purged_at) >= since,
            col(DemandeRow.treated_at) >= since,
            col(DemandeRow.retrieval_due) >= due_from,
            owed(),
        )
    )
    yield from session.exec(query)


def unannounced(session: Session) -> list[DemandeRow]:
    """Received demandes not announced to the staff yet, by commune and numero; locked
    (FOR UPDATE), so that two workers never announce the same ones."""
    query = (
        select(DemandeRow)
        .where(DemandeRow.status == Status.RECEIVED, col(DemandeRow.announced_at).is_(None))
        .order_by(col(DemandeRow.commune), col(DemandeRow.numero))
        .with_for_update()
    )
    return list(session.exec(query))


def mark_announced(session: Session, rows: Sequence[DemandeRow], now: datetime) -> None:
    """Mark rows announced (rows read locked by `unannounced`, in the same transaction)."""
    for row in rows:
        row.announced_at = now
        session.add(row)
    session.flush()


def still_owed(session: Session) -> Iterator[DemandeRow]:
    """Demandes the extranet still holds for the lieu (announced, or refused and kept in
    quarantine), with a retrieval deadline (no lock)."""
    query = select(DemandeRow).where(
        owed(),
        col(DemandeRow.retrieval_due).is_not(None),
    )
    yield from session.exec(query)
