"""The store checked against the trail: everything held must have the events that made it.

A keyed chain cannot be recomputed, but it can be wiped or cut short together with its
head. Each demande, tombstone, refusal and attestation held is evidence that events were
written: one found without its event shows a trail that lost events. Items older than the
oldest event kept (the trail is pruned after a year, behind a sealed checkpoint) are not
expected to have theirs any more.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func
from sqlmodel import Session, col, select

from storage.models import Attestation, AuditCheckpoint, AuditEvent, DemandeRow, Refusal, Status

SHOWN = 5  # numeros named per problem: enough to start looking, never a whole listing

# The event that every demande in a status must have (the one that put it there).
_ENTRY_EVENT = {
    Status.NOTIFIED: "notification",
    Status.RECEIVED: "reception",
    Status.QUARANTINED: "quarantaine",
}


def _since(session: Session) -> datetime | None:
    """From when the trail is complete: its start, or its oldest event once pruned."""
    if session.get(AuditCheckpoint, 1) is None:
        return None
    return session.exec(select(func.min(AuditEvent.at))).one()


def _missing(session: Session, action: str, *conditions: ColumnElement[bool]) -> list[str]:
    has_event = exists().where(
        and_(col(AuditEvent.numero) == col(DemandeRow.numero), col(AuditEvent.action) == action)
    )
    query = (
        select(DemandeRow.numero)
        .where(*conditions, ~has_event)
        .order_by(col(DemandeRow.numero))
        .limit(SHOWN)
    )
    return list(session.exec(query))


def _problem(what: str, numeros: list[str], action: str) -> str:
    names = ", ".join(numeros) + (" …" if len(numeros) == SHOWN else "")
    return f"{what} sans leur événement « {action} » dans le journal : {names}"


def uncovered(session: Session) -> list[str]:
    """What the store holds that the trail does not account for, in French (no personal
    data: numeros and attestation numbers only). Empty when all is accounted for."""
    since = _since(session)
    problems: list[str] = []
    for status, action in _ENTRY_EVENT.items():
        conditions = [col(DemandeRow.status) == status]
        if since is not None:
            conditions.append(col(DemandeRow.created_at) >= since)
        if numeros := _missing(session, action, *conditions):
            problems.append(_problem(f"demandes « {status} »", numeros, action))
    conditions = [col(DemandeRow.status) == Status.PURGED]
    if since is not None:
        conditions.append(col(DemandeRow.purged_at) >= since)
    if numeros := _missing(session, "destruction", *conditions):
        problems.append(_problem("demandes détruites (pierres tombales)", numeros, "destruction"))
    problems += _refusals(session, since)
    problems += _attestations(session, since)
    return problems


def _refusals(session: Session, since: datetime | None) -> list[str]:
    after = [] if since is None else [col(Refusal.at) >= since]
    has_event = exists().where(
        and_(col(AuditEvent.numero) == col(Refusal.numero), col(AuditEvent.action) == "refus")
    )
    numeros = list(
        session.exec(
            select(Refusal.numero)
            .where(col(Refusal.numero).is_not(None), *after, ~has_event)
            .order_by(col(Refusal.numero))
            .limit(SHOWN)
        )
    )
    problems = [_problem("refus", [n for n in numeros if n], "refus")] if numeros else []
    # Refusals of whole files have no numero: they are counted instead.
    files = session.exec(
        select(func.count()).select_from(Refusal).where(col(Refusal.numero).is_(None), *after)
    ).one()
    event_after = [] if since is None else [col(AuditEvent.at) >= since]
    events = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            col(AuditEvent.numero).is_(None),
            col(AuditEvent.action).in_(("refus", "refus-flux")),
            *event_after,
        )
    ).one()
    if files > events:
        problems.append(
            f"{files} refus de fichiers entiers pour {events} événement(s) de refus au journal"
        )
    return problems


def _attestations(session: Session, since: datetime | None) -> list[str]:
    recorded: dict[str, set[int]] = {"attestation": set(), "signature-attestation": set()}
    for action, detail in session.exec(
        select(AuditEvent.action, AuditEvent.detail).where(
            col(AuditEvent.action).in_(tuple(recorded))
        )
    ):
        number = json.loads(detail).get("attestation")
        if isinstance(number, int):
            recorded[action].add(number)
    problems: list[str] = []
    held = session.exec(
        select(Attestation.id, Attestation.drafted_at, Attestation.signed_at).where(
            col(Attestation.drafted_at).is_not(None)
        )
    )
    for number, drafted, signed in held:
        if (
            drafted is not None  # as the query says: mypy does not know it
            and (since is None or drafted >= since)
            and number not in recorded["attestation"]
        ):
            problems.append(f"attestation n° {number} sans son événement « attestation »")
        if (
            signed is not None
            and (since is None or signed >= since)
            and number not in recorded["signature-attestation"]
        ):
            problems.append(
                f"attestation n° {number} signée sans son événement « signature-attestation »"
            )
    return problems
