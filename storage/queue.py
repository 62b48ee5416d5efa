"""The work queue's queries: one page of demandes matching a person's criteria, and the
dashboard's counts made with the very same conditions, so a count and the list it links to
never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, case
from sqlmodel import Session, col, func, or_, select

from storage.demandes import owed
from storage.models import DemandeRow, Status


@dataclass(frozen=True)
class Criteria:
    """Which demandes a list shows; the dashboard counts with the same criteria, so that a
    count and the list it links to never disagree."""

    communes: frozenset[str] | None  # None: every commune (the system's own reading)
    commune: str | None = None
    status: str | None = None
    treated: bool | None = None
    to_treat_on: date | None = None  # « à traiter »: held, readable that day, not treated
    owed: bool = False  # still to retrieve from the extranet (announced or in quarantine)
    late_on: date | None = None  # still owed and past its retrieval deadline that day
    since: datetime | None = None
    until: datetime | None = None


def _where(criteria: Criteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.communes is not None:
        conditions.append(col(DemandeRow.commune).in_(sorted(criteria.communes)))
    if criteria.commune:
        conditions.append(col(DemandeRow.commune) == criteria.commune)
    if criteria.status:
        conditions.append(col(DemandeRow.status) == criteria.status)
    if criteria.treated is not None:
        treated_at = col(DemandeRow.treated_at)
        conditions.append(treated_at.is_not(None) if criteria.treated else treated_at.is_(None))
    if criteria.to_treat_on is not None:
        conditions += [
            col(DemandeRow.status) == Status.RECEIVED,
            col(DemandeRow.treated_at).is_(None),
            or_(
                col(DemandeRow.purge_due).is_(None),
                col(DemandeRow.purge_due) > criteria.to_treat_on,
            ),
        ]
    if criteria.owed or criteria.late_on is not None:
        conditions.append(owed())
    if criteria.late_on is not None:
        conditions.append(col(DemandeRow.retrieval_due) < criteria.late_on)
    if criteria.since is not None:
        conditions.append(col(DemandeRow.transmitted_at) >= criteria.since)
    if criteria.until is not None:
        conditions.append(col(DemandeRow.transmitted_at) < criteria.until)
    return conditions


def _deadline_first() -> list[Any]:
    """The nearest deadline first: retrieval for what is still owed, destruction for what is
    held; tombstones last."""
    deadline = case((owed(), col(DemandeRow.retrieval_due)), else_=col(DemandeRow.purge_due))
    return [
        case((col(DemandeRow.status) == Status.PURGED, 1), else_=0),
        deadline.is_(None),
        deadline,
        col(DemandeRow.numero),
    ]


def page(
    session: Session,
    criteria: Criteria,
    *,
    newest_first: bool = False,
    oldest_first: bool = False,
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[list[DemandeRow], int]:
    """One page of the demandes matching `criteria`, the nearest deadline first (or the
    newest, or the oldest, transmission first), and how many match (`limit` None: all of
    them). Reads only: locks nothing."""
    conditions = _where(criteria)
    total = session.exec(select(func.count()).select_from(DemandeRow).where(*conditions)).one()
    order: list[Any]
    if newest_first:
        order = [col(DemandeRow.transmitted_at).desc(), col(DemandeRow.numero).desc()]
    elif oldest_first:
        order = [col(DemandeRow.transmitted_at), col(DemandeRow.numero)]
    else:
        order = _deadline_first()
    rows = session.exec(
        select(DemandeRow).where(*conditions).order_by(*order).offset(offset).limit(limit)
    )
    return list(rows), int(total)


def count_by_commune(session: Session, criteria: Criteria) -> dict[str, int]:
    """How many demandes match `criteria` in each commune (the dashboard's figures)."""
    rows = session.exec(
        select(DemandeRow.commune, func.count())
        .where(*_where(criteria))
        .group_by(DemandeRow.commune)
    ).all()
    return {insee: int(n) for insee, n in rows}
