"""The demandes a person may see, a page at a time, with the filters of the console's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from intake import deadlines, french
from intake.config import Config, StaffSection
from storage import demandes as store
from storage.db import transaction
from storage.models import Status

PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    commune: str | None = None
    status: str | None = None
    treated: bool | None = None  # None: all; False: « à traiter »; True: « traitées »
    since: date | None = None  # transmitted on or after
    until: date | None = None  # transmitted on or before


@dataclass(frozen=True)
class Item:
    numero: str
    commune: str
    commune_name: str
    status: str
    status_label: str
    transmitted: date | None
    retrieval_due: date | None
    late: bool
    purge_due: date | None
    treated_at: datetime | None
    follow_up: str | None


@dataclass(frozen=True)
class Page:
    items: list[Item]
    total: int
    number: int
    pages: int


def demandes_page(
    engine: Engine,
    config: Config,
    member: StaffSection,
    filters: Filters,
    number: int,
    now: datetime,
    size: int = PAGE_SIZE,
) -> Page:
    tz = config.timezone
    today = deadlines.local_date(now, tz)
    communes = config.staff_communes(member)
    if filters.commune and filters.commune not in communes:
        return Page([], 0, 1, 1)  # another commune's demandes: none for this person
    start, end = deadlines.day_range(filters.since, filters.until, tz)
    number = max(1, number)
    with transaction(engine) as session:
        rows, total = store.page(
            session,
            communes=communes,
            commune=filters.commune,
            status=filters.status,
            treated=filters.treated,
            since=start,
            until=end,
            offset=(number - 1) * size,
            limit=size,
        )
    items = [
        Item(
            numero=r.numero,
            commune=r.commune,
            commune_name=config.commune_name(r.commune),
            status=r.status,
            status_label=french.status(r.status),
            transmitted=deadlines.local_date(r.transmitted_at, tz) if r.transmitted_at else None,
            retrieval_due=r.retrieval_due,
            late=(
                r.status in (Status.NOTIFIED, Status.QUARANTINED)
                and r.retrieval_due is not None
                and r.retrieval_due < today
            ),
            purge_due=r.purge_due,
            treated_at=r.treated_at,
            follow_up=r.followup,
        )
        for r in rows
    ]
    return Page(items, total, number, max(1, -(-total // size)))
