"""The demandes a person may see, a page at a time, with the filters of the console's list;
the same list, whole and oldest first, is `intake demandes`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from intake import vocabulary
from intake.config import Config
from intake.config.sections import CommuneSection
from intake.convention import deadlines
from storage import queue
from storage.db import transaction
from storage.models import DemandeRow, Status
from storage.status import still_owed

PAGE_SIZE = 50


STAGES = {"a-recuperer": "à récupérer", "en-retard": "en retard"}


@dataclass(frozen=True)
class Filters:
    commune: str | None = None
    status: str | None = None  # a status, or a stage of STAGES
    treated: bool | None = None  # None: all; False: « à traiter »; True: « traitées »
    since: date | None = None  # transmitted on or after
    until: date | None = None  # transmitted on or before
    newest_first: bool = False  # by default, the nearest deadline first
    oldest_first: bool = False  # by transmission, oldest first (`intake demandes`)


def criteria(
    filters: Filters, communes: frozenset[str] | None, now: datetime, config: Config
) -> queue.Criteria:
    """The query of a list, and of the dashboard's count that links to it. « À traiter »:
    received (so held and readable), not past its destruction day, not yet treated; never a
    destroyed demande, nor one refused by a rule (those are « à récupérer »)."""
    today = deadlines.local_date(now, config.timezone)
    start, end = deadlines.day_range(filters.since, filters.until, config.timezone)
    stage = filters.status if filters.status in STAGES else None
    return queue.Criteria(
        communes=communes,
        commune=filters.commune,
        status=None if stage else filters.status,
        treated=filters.treated if filters.treated else None,
        to_treat_on=today if filters.treated is False else None,
        owed=stage == "a-recuperer",
        late_on=today if stage == "en-retard" else None,
        since=start,
        until=end,
    )


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
    transmitted_at: datetime | None = None
    notified_at: datetime | None = None  # the earliest notification known (mail or feed)
    retrieved_at: datetime | None = None
    retrieval_met: bool | None = None  # received: within its retrieval deadline or not


@dataclass(frozen=True)
class Page:
    items: list[Item]
    total: int
    number: int
    pages: int
    communes: tuple[CommuneSection, ...] = ()  # those the person may choose, by name


def _item(r: DemandeRow, config: Config, today: date) -> Item:
    tz = config.timezone
    notified = [t for t in (r.mail_notified_at, r.notified_at) if t is not None]
    return Item(
        numero=r.numero,
        commune=r.commune,
        commune_name=config.commune_name(r.commune),
        status=r.status,
        status_label=vocabulary.status(r.status),
        transmitted=deadlines.local_date(r.transmitted_at, tz) if r.transmitted_at else None,
        retrieval_due=r.retrieval_due,
        late=still_owed(r.status) and r.retrieval_due is not None and r.retrieval_due < today,
        purge_due=r.purge_due,
        treated_at=r.treated_at,
        follow_up=r.followup,
        transmitted_at=r.transmitted_at,
        notified_at=min(notified) if notified else None,
        retrieved_at=r.retrieved_at,
        retrieval_met=(
            deadlines.retrieval_met(r.retrieved_at, r.retrieval_due, tz)
            if r.retrieval_due and r.status == Status.RECEIVED
            else None
        ),
    )


def demandes_page(
    engine: Engine,
    config: Config,
    communes: frozenset[str] | None,
    filters: Filters,
    number: int,
    now: datetime,
    size: int | None = PAGE_SIZE,
) -> Page:
    """The page `number` of `size` demandes (None: all of them) among `communes` (None:
    every commune, for the system's own reading)."""
    today = deadlines.local_date(now, config.timezone)
    choices = tuple(
        sorted(
            (c for c in config.raw.communes if communes is None or c.insee in communes),
            key=lambda c: c.name.casefold(),
        )
    )
    if filters.commune and communes is not None and filters.commune not in communes:
        return Page([], 0, 1, 1, choices)  # another commune's demandes: none for this person
    number = max(1, number)
    with transaction(engine) as session:
        rows, total = queue.page(
            session,
            criteria(filters, communes, now, config),
            newest_first=filters.newest_first,
            oldest_first=filters.oldest_first,
            offset=(number - 1) * (size or 0),
            limit=size,
        )
        items = [_item(r, config, today) for r in rows]
    pages = max(1, -(-total // size)) if size else 1
    return Page(items, total, number, pages, choices)
