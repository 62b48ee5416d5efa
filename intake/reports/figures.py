"""A month's figures, per commune: demandes retrieved, within the deadline, delays, overdue,
destroyed and treated ones, the extranet's availability, the attestations' state."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from intake.config import Config
from intake.convention import deadlines
from storage import attestations as attestation_store
from storage import audit
from storage import communes as communes_store
from storage import demandes as demandes_store
from storage.models import DemandeRow
from storage.status import still_owed


def parse_month(text: str) -> date:
    year, _, month = text.partition("-")
    try:
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"mois invalide : {text!r} (attendu AAAA-MM, par ex. 2026-10)") from None


MONTH = relativedelta(months=1)


def previous_month(today: date) -> date:
    return today.replace(day=1) - MONTH


@dataclass
class CommuneFigures:
    insee: str
    name: str
    received: int = 0
    within: int = 0
    delays: list[int] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    destroyed: int = 0
    attempts: int = 0
    successes: int = 0
    treated: int = 0  # marked as treated during the month
    outcomes: dict[str, int] = field(default_factory=dict)  # follow-ups of those, by kind

    @property
    def share(self) -> float | None:
        return self.within / self.received if self.received else None

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    @property
    def longest_delay(self) -> int | None:
        return max(self.delays) if self.delays else None

    @property
    def availability(self) -> float | None:
        return self.successes / self.attempts if self.attempts else None


@dataclass
class Figures:
    month: date
    made_at: datetime
    communes: list[CommuneFigures]
    per_day: dict[date, list[int]]  # delays of the demandes retrieved each day
    attestations: dict[str, int]
    audit_head: tuple[int, str] = (0, audit.GENESIS)  # anchored outside the database too

    @property
    def last_day(self) -> date:
        return self.month + relativedelta(months=1) - timedelta(days=1)


def gather(session: Session, config: Config, month: date, now: datetime) -> Figures:
    tz = config.timezone
    last_day = month + relativedelta(months=1) - timedelta(days=1)
    today = deadlines.local_date(now, tz)
    by_commune = {c.insee: CommuneFigures(c.insee, c.name) for c in config.raw.communes}
    per_day: dict[date, list[int]] = defaultdict(list)
    # Rows touched by the month: retrieved, destroyed or due in it, or still owed.
    start = datetime(month.year, month.month, 1, tzinfo=tz) - timedelta(days=1)
    for row in demandes_store.month_rows(session, start, month - timedelta(days=1)):
        figures = by_commune.get(row.commune)
        if figures is None:
            continue
        _count(row, figures, per_day, month, last_day, min(today, last_day), config)
    availability = communes_store.availability(session, month, last_day)
    for insee, (attempts, successes) in availability.items():
        if insee in by_commune:
            by_commune[insee].attempts, by_commune[insee].successes = attempts, successes
    states: dict[str, int] = defaultdict(int)
    for attestation in attestation_store.drafted(session):
        states[attestation_store.state(attestation, today)] += 1
    return Figures(
        month, now, list(by_commune.values()), dict(per_day), dict(states), audit.head(session)
    )


def _count(
    row: DemandeRow,
    figures: CommuneFigures,
    per_day: dict[date, list[int]],
    month: date,
    last_day: date,
    horizon: date,
    config: Config,
) -> None:
    tz = config.timezone
    due = row.retrieval_due
    if row.retrieved_at is not None and due is not None:
        retrieved = deadlines.local_date(row.retrieved_at, tz)
        if month <= retrieved <= last_day:
            started = due - timedelta(days=config.retrieval_days)
            delay = max((retrieved - started).days, 0)
            figures.received += 1
            figures.delays.append(delay)
            per_day[retrieved].append(delay)
            if retrieved <= due:
                figures.within += 1
            else:
                figures.overdue.append(row.numero)
    elif due is not None and due < horizon and still_owed(row.status):
        figures.overdue.append(row.numero)  # still owed on the extranet
    if row.purged_at is not None and month <= deadlines.local_date(row.purged_at, tz) <= last_day:
        figures.destroyed += 1
    if row.treated_at is not None and month <= deadlines.local_date(row.treated_at, tz) <= last_day:
        figures.treated += 1
        if row.followup:
            figures.outcomes[row.followup] = figures.outcomes.get(row.followup, 0) + 1


# --- output --------------------------------------------------------------------------------------
