"""What the convention makes due and the worker has not done: a purge overdue, an attestation
past its deadline, a monthly report missed. `status` and the console's dashboard both report
them, in the monitoring plugins' levels: a warning while there is still time, critical once
the legal limit is past. Nothing personal: counts, months and dates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Protocol

from dateutil.relativedelta import relativedelta

from intake.convention import deadlines
from intake.french import month_name

if TYPE_CHECKING:  # `intake status` reads without SQLAlchemy (storage.health) and calls assess
    from sqlalchemy import Engine

    from intake.config import Config

OK, WARNING, CRITICAL = 0, 1, 2
# The daemon purges at 02:30 and makes last month's report at 06:00, in the lieu's zone (with
# up to 5 minutes of jitter, `intake.daemon`): past these hours, what is not done was missed.
PURGE_DONE_BY = time(3, 0)
REPORT_DONE_BY = time(7, 0)


@dataclass(frozen=True)
class Overdue:
    level: int
    text: str


MONTH = relativedelta(months=1)  # as intake.reports.figures, which loads the ORM


class Unsigned(Protocol):
    """An attestation drafted and not signed: its number and its legal deadline."""

    @property
    def id(self) -> int | None: ...
    @property
    def sign_by(self) -> date | None: ...


def overdue(engine: Engine, config: Config, now: datetime) -> list[Overdue]:
    """Every obligation of the convention not met on time, worst first."""
    from storage import attestations as attestation_store
    from storage import audit, destruction
    from storage import reports as report_store
    from storage.db import transaction

    today = now.astimezone(config.timezone).date()
    with transaction(engine) as session:
        late, due_today = destruction.purge_backlog(session, today)
        attestations = attestation_store.late(session, today)
        kept = {month for month, _ in report_store.kept(session)}
        began = audit.first_event_at(session)
    return assess(late, due_today, attestations, kept, began, config, now)


def assess(
    late: int,
    due_today: int,
    attestations: Sequence[Unsigned],
    kept: set[str] | frozenset[str],
    began: datetime | None,
    config: Config,
    now: datetime,
) -> list[Overdue]:
    """The same from what was read: demandes kept past their purge day and due today,
    attestations unsigned past their deadline, the months whose report is kept, and when the
    audit trail began."""
    local = now.astimezone(config.timezone)
    found = _purge(late, due_today, local.time())
    found += [
        Overdue(
            CRITICAL,
            f"attestation de destruction n° {a.id} non signée, "
            f"date limite dépassée ({a.sign_by:%d/%m/%Y})",
        )
        for a in attestations
    ]
    missed = _missed_reports(kept, began, local, config)
    if missed:
        names = ", ".join(month_name(m) for m in missed[:3]) + (" …" if len(missed) > 3 else "")
        found.append(Overdue(WARNING, f"{len(missed)} rapport(s) mensuel(s) manquant(s) : {names}"))
    return sorted(found, key=lambda o: -o.level)


def _purge(late: int, due_today: int, at: time) -> list[Overdue]:
    found = []
    if late:
        found.append(
            Overdue(
                CRITICAL,
                f"purge en retard : {late} demande(s) conservée(s) au-delà de 6 mois",
            )
        )
    if due_today and at >= PURGE_DONE_BY:
        found.append(
            Overdue(
                WARNING,
                f"purge du jour non faite : {due_today} demande(s) à détruire avant ce soir",
            )
        )
    return found


def _missed_reports(
    kept: set[str] | frozenset[str], began: datetime | None, local: datetime, config: Config
) -> list[date]:
    """The months the worker saw end (since its first event) whose report is not kept; last
    month's only once the daemon's hour for it is past."""
    if began is None:
        return []
    month = deadlines.local_date(began, config.timezone).replace(day=1)
    last = local.date().replace(day=1) - MONTH  # the previous month
    if local.day == 1 and local.time() < REPORT_DONE_BY:
        last -= MONTH
    missed = []
    while month <= last:
        if month.strftime("%Y-%m") not in kept:
            missed.append(month)
        month += MONTH
    return missed
