"""What the console's front page shows a person: for each of their communes the last
successful retrieval and what is still to retrieve, the emails waiting, the attestations
to sign, and whether the service is running. Nothing personal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from intake.config import Config, StaffSection
from intake.convention import coverage, deadlines
from intake.desk.listing import Filters, criteria
from intake.obligations import CRITICAL, Overdue, overdue
from intake.ops.status import service_state
from storage import attestations as attestation_store
from storage import communes as communes_store
from storage import demandes as store
from storage import health, heartbeats, queue
from storage import outbox as outbox_store
from storage.db import transaction


@dataclass(frozen=True)
class CommuneLine:
    insee: str
    name: str
    last_success: datetime | None
    failing_since: datetime | None
    error_code: str | None
    to_treat: int
    to_retrieve: int
    late: int
    next_due: date | None
    uncovered: bool = False  # no usable extranet account retrieves it (intake.convention.coverage)


# What each figure of the dashboard counts: the filters of the list it links to.
TO_TREAT = Filters(treated=False)
TO_RETRIEVE = Filters(status="a-recuperer")
LATE = Filters(status="en-retard")


@dataclass(frozen=True)
class Dashboard:
    communes: list[CommuneLine]
    queued_emails: int
    failed_emails: int
    unsigned_attestations: int
    service: str  # running, silent, stopped
    last_beat: datetime | None
    # What the convention made due and is not done (purge, attestation, report), and the
    # person's communes no extranet account retrieves; worst first.
    alerts: tuple[Overdue, ...] = ()

    @property
    def to_treat(self) -> int:
        return sum(c.to_treat for c in self.communes)


def dashboard(engine: Engine, config: Config, member: StaffSection, now: datetime) -> Dashboard:
    today = deadlines.local_date(now, config.timezone)
    mine = config.staff_communes(member)
    gaps = set(coverage.uncovered_codes(config, today))
    with transaction(engine) as session:
        states = {s.insee: s for s in communes_store.all_states(session)}
        pending = store.pending_by_commune(session, today)
        counts = {
            name: queue.count_by_commune(session, criteria(filters, mine, now, config))
            for name, filters in (("treat", TO_TREAT), ("retrieve", TO_RETRIEVE), ("late", LATE))
        }
        emails = outbox_store.counts(session)
        unsigned = attestation_store.count_unsigned(session)
        workers = heartbeats.all_workers(session)
    lines = []
    for commune in sorted(config.raw.communes, key=lambda c: c.name.casefold()):
        if commune.insee not in mine:
            continue
        state = states.get(commune.insee)
        waiting = pending.get(commune.insee, store.Pending(0, 0, None))
        failing = health.failing_since(state)
        lines.append(
            CommuneLine(
                insee=commune.insee,
                name=commune.name,
                last_success=state.last_success if state else None,
                failing_since=failing,
                error_code=state.last_error_code if failing and state else None,
                to_treat=counts["treat"].get(commune.insee, 0),
                to_retrieve=counts["retrieve"].get(commune.insee, 0),
                late=counts["late"].get(commune.insee, 0),
                next_due=waiting.next_due,
                uncovered=commune.insee in gaps,
            )
        )
    uncovered = [
        Overdue(
            CRITICAL,
            f"{config.commune_name(insee)} ({insee}) : aucun compte extranet d'une personne "
            "habilitée ne la récupère",
        )
        for insee in sorted(gaps & mine)
    ]
    return Dashboard(
        alerts=(*overdue(engine, config, now), *uncovered),
        communes=lines,
        queued_emails=emails.queued,
        failed_emails=emails.failed,
        unsigned_attestations=unsigned,
        service=service_state(workers, now),
        last_beat=workers[0].beat_at if workers else None,
    )
