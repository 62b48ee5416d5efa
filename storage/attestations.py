"""The attestations store: drafts, their tombstones, their signatures, the convention's end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from storage.models import Attestation, ConventionState, DemandeRow


def unfinished(session: Session, reason: str) -> Attestation | None:
    """A draft whose purge stopped half-way (a crash, a stop): the next purge completes it."""
    query = (
        select(Attestation)
        .where(Attestation.reason == reason, col(Attestation.drafted_at).is_(None))
        .order_by(col(Attestation.id))
        .with_for_update()
    )
    return session.exec(query).first()


def start(session: Session, reason: str, now: datetime) -> Attestation:
    attestation = Attestation(reason=reason, created_at=now)
    session.add(attestation)
    session.flush()
    return attestation


def save(session: Session, attestation: Attestation) -> None:
    """A draft completed, or its signature recorded (flushed: later statements see it)."""
    session.add(attestation)
    session.flush()


def drop(session: Session, attestation: Attestation) -> None:
    """A draft that covers nothing (another worker purged it all)."""
    session.delete(attestation)


def get(session: Session, attestation_id: int, *, for_update: bool = False) -> Attestation | None:
    query = select(Attestation).where(Attestation.id == attestation_id)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def drafted(session: Session) -> list[Attestation]:
    query = (
        select(Attestation)
        .where(col(Attestation.drafted_at).is_not(None))
        .order_by(col(Attestation.id))
    )
    return list(session.exec(query))


@dataclass(frozen=True)
class Covered:
    """A destroyed demande as its attestation lists it (its tombstone's columns)."""

    numero: str
    commune: str
    transmitted_at: datetime | None
    purge_due: date | None
    purged_at: datetime | None


def covered(session: Session, attestation_id: int) -> list[Covered]:
    """The demandes an attestation covers, by commune and numero (columns only: a purge may
    cover 100,000)."""
    # sqlmodel's select() is typed for at most four columns (it takes any number).
    query = (
        select(  # type: ignore[call-overload]
            DemandeRow.numero,
            DemandeRow.commune,
            DemandeRow.transmitted_at,
            DemandeRow.purge_due,
            DemandeRow.purged_at,
        )
        .where(DemandeRow.attestation_id == attestation_id)
        .order_by(col(DemandeRow.commune), col(DemandeRow.numero))
    )
    return [Covered(*row) for row in session.exec(query)]


def communes_covered(session: Session, ids: list[int]) -> dict[int, set[str]]:
    """The communes of the demandes each attestation covers (from their tombstones)."""
    query = (
        select(DemandeRow.attestation_id, DemandeRow.commune)
        .where(col(DemandeRow.attestation_id).in_(ids))
        .distinct()
    )
    covered_by: dict[int, set[str]] = {i: set() for i in ids}
    for attestation_id, commune in session.exec(query):
        if attestation_id is not None:
            covered_by[attestation_id].add(commune)
    return covered_by


def count_unsigned(session: Session) -> int:
    query = (
        select(func.count())
        .select_from(Attestation)
        .where(col(Attestation.drafted_at).is_not(None), col(Attestation.signed_at).is_(None))
    )
    return int(session.exec(query).one())


def late(session: Session, today: date) -> list[Attestation]:
    """Drafted attestations still unsigned after their legal deadline (`sign_by`), oldest
    first."""
    query = (
        select(Attestation)
        .where(
            col(Attestation.drafted_at).is_not(None),
            col(Attestation.signed_at).is_(None),
            col(Attestation.sign_by) < today,
        )
        .order_by(col(Attestation.sign_by), col(Attestation.id))
    )
    return list(session.exec(query))


def state(attestation: Attestation, today: date) -> str:
    """`signed`, `late` (unsigned after its legal deadline) or `pending`."""
    if attestation.signed_at is not None:
        return "signed"
    if attestation.sign_by is not None and today > attestation.sign_by:
        return "late"
    return "pending"


# --- the convention's end ------------------------------------------------------------------------


def convention_end(session: Session) -> ConventionState | None:
    return session.get(ConventionState, 1)


def record_final(session: Session, ended: ConventionState, attestation_id: int) -> None:
    """The convention's end names the attestation of the destruction it caused."""
    ended.attestation_id = attestation_id
    session.add(ended)


def end_convention(session: Session, now: datetime, by: str) -> ConventionState:
    ended = ConventionState(id=1, ended_at=now, ended_by=by)
    session.add(ended)
    session.flush()
    return ended
