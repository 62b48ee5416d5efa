"""The convention's clocks, as flux-demandes-v1.md ("Deadlines") sets them.

Every deadline is a whole local day in the lieu's time zone: the retrieval
deadline is the last day on which a demande may still be retrieved, the purge
date the day by whose end its personal data must be gone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

RETENTION = relativedelta(months=6)


def day_range(
    first: date | None, last: date | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The instants from the start of `first` to the end of `last`, local days (either open)."""
    since = datetime.combine(first, time(), tz) if first else None
    until = datetime.combine(last + timedelta(days=1), time(), tz) if last else None
    return since, until


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("instant without time zone")
    return instant.astimezone(tz).date()


def retrieval_clock_start(
    transmitted_at: datetime,
    notified_in_feed: datetime | None = None,
    notified_by_mail: datetime | None = None,
) -> datetime:
    """The earliest known notification time, else the transmission.

    The mailbox's `Date` and the feed's `dateNotification` both tell when the
    notification email went out; when both are known the earlier one wins,
    because the lieu's obligation started with the first of them.
    """
    known = [t for t in (notified_by_mail, notified_in_feed) if t is not None]
    return min(known) if known else transmitted_at


def retrieval_due(clock_start: datetime, days: int, tz: ZoneInfo) -> date:
    """Last local day of the N calendar days that follow the notification day."""
    return local_date(clock_start, tz) + timedelta(days=days)


def retrieval_met(retrieved_at: datetime | None, due: date, tz: ZoneInfo) -> bool | None:
    if retrieved_at is None:
        return None
    return local_date(retrieved_at, tz) <= due


def retrieval_state(
    retrieved_at: datetime | None, due: date, today: date, soon_days: int, tz: ZoneInfo
) -> str:
    """`met` or `late` once retrieved; else `overdue`, `due-soon` (within `soon_days`) or
    `pending`."""
    met = retrieval_met(retrieved_at, due, tz)
    if met is not None:
        return "met" if met else "late"
    left = (due - today).days
    if left < 0:
        return "overdue"
    return "due-soon" if left <= soon_days else "pending"


def purge_due(transmitted_at: datetime, tz: ZoneInfo) -> date:
    """Local date of the transmission plus 6 calendar months (31 August -> end of February)."""
    return local_date(transmitted_at, tz) + RETENTION


def past_retention(transmitted_at: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """True once the purge day has begun: storing the demande now would only be to destroy it
    within hours, and every hour kept past six months breaks the convention."""
    return local_date(now, tz) >= purge_due(transmitted_at, tz)
