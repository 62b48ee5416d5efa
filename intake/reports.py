"""The monthly report: what the lieu did with the month's demandes, for its director and the Caf.

Per commune: demandes retrieved, retrieved within the deadline (count and share), median and
longest delay, overdue ones by numero, destroyed ones, the extranet's availability; the
attestations' state; a chart of receptions and delays per day. A PDF (fpdf2, the chart drawn
with its primitives) and a CSV. Nothing personal: numeros, communes, dates and counts.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from intake import deadlines
from intake.config import Config
from storage import anchors, audit
from storage import attestations as attestation_store
from storage import communes as communes_store
from storage.db import transaction
from storage.models import DemandeRow, MonthlyReport, Status


def parse_month(text: str) -> date:
    year, _, month = text.partition("-")
    try:
        return date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"mois invalide : {text!r} (attendu AAAA-MM, par ex. 2026-10)") from None


MONTH = relativedelta(months=1)


MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
]  # fmt: skip


def month_name(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


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
    rows = session.exec(
        select(DemandeRow).where(
            or_(
                col(DemandeRow.retrieved_at) >= start,
                col(DemandeRow.purged_at) >= start,
                col(DemandeRow.treated_at) >= start,
                col(DemandeRow.retrieval_due) >= month - timedelta(days=1),
                col(DemandeRow.status).in_([Status.NOTIFIED, Status.QUARANTINED]),
            )
        )
    )
    for row in rows:
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
    elif due is not None and due < horizon and row.status in (Status.NOTIFIED, Status.QUARANTINED):
        figures.overdue.append(row.numero)  # still owed on the extranet
    if row.purged_at is not None and month <= deadlines.local_date(row.purged_at, tz) <= last_day:
        figures.destroyed += 1
    if row.treated_at is not None and month <= deadlines.local_date(row.treated_at, tz) <= last_day:
        figures.treated += 1
        if row.followup:
            figures.outcomes[row.followup] = figures.outcomes.get(row.followup, 0) + 1


# --- output --------------------------------------------------------------------------------------

CSV_HEADER = [
    "mois",
    "commune",
    "insee",
    "recues",
    "dans_le_delai",
    "part_dans_le_delai",
    "delai_median_jours",
    "delai_max_jours",
    "en_retard",
    "numeros_en_retard",
    "detruites",
    "disponibilite_extranet",
    "traitees",
    "familles_contactees",
    "orientees",
    "sans_suite",
]


def _ratio(value: float | None) -> str:
    # A French spreadsheet reads « 0,875 » as a number, « 0.875 » as text.
    return "" if value is None else f"{value:.3f}".replace(".", ",")


def to_csv(figures: Figures) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    month = figures.month.strftime("%Y-%m")
    for c in figures.communes:
        writer.writerow(
            [
                month,
                c.name,
                c.insee,
                c.received,
                c.within,
                _ratio(c.share),
                "" if c.median_delay is None else f"{c.median_delay:g}".replace(".", ","),
                "" if c.longest_delay is None else c.longest_delay,
                len(c.overdue),
                " ".join(sorted(c.overdue)),
                c.destroyed,
                _ratio(c.availability),
                c.treated,
                c.outcomes.get("contactee", 0),
                c.outcomes.get("orientee", 0),
                c.outcomes.get("sans-suite", 0),
            ]
        )
    return out.getvalue().encode("utf-8-sig")  # the BOM lets a spreadsheet read the accents


@dataclass(frozen=True)
class Reports:
    config: Config
    engine: Engine

    def anchor(self, figures: Figures, now: datetime) -> None:
        """The head printed in the report, appended to the anchors beside the key."""
        why = f"rapport-{figures.month:%Y-%m}"
        anchors.append(anchors.anchors_file(self.config.key_file), figures.audit_head, why, now)

    def make(self, month: date, now: datetime) -> tuple[bytes, bytes]:
        """(PDF, CSV) of a month, computed now."""
        from intake import report_pdf  # fpdf2 only when a report is drawn

        with transaction(self.engine) as session:
            figures = gather(session, self.config, month, now)
        self.anchor(figures, now)
        return report_pdf.render(figures, self.config), to_csv(figures)

    def stored(self) -> list[tuple[str, datetime]]:
        """The months whose report is kept, newest first, with when each was made."""
        with transaction(self.engine) as session:
            rows = session.exec(
                select(MonthlyReport.month, MonthlyReport.created_at).order_by(
                    col(MonthlyReport.month).desc()
                )
            ).all()
        return [(month, made) for month, made in rows]

    def stored_file(self, month: str, kind: str) -> bytes | None:
        """A kept report's PDF or CSV (`kind`), or None."""
        with transaction(self.engine) as session:
            report = session.get(MonthlyReport, month)
        if report is None:
            return None
        return report.pdf if kind == "pdf" else report.csv

    def store_once(
        self,
        month: date,
        now: datetime,
        announce: Callable[[Session, MonthlyReport], object] | None = None,
    ) -> MonthlyReport | None:
        """Make and keep the month's report unless a worker already did, and `announce` it in
        the same transaction; the new row, or None when it existed."""
        key = month.strftime("%Y-%m")
        with transaction(self.engine) as session:
            if session.get(MonthlyReport, key) is not None:
                return None
        pdf, csv_bytes = self.make(month, now)
        with transaction(self.engine) as session:
            if session.get(MonthlyReport, key) is not None:
                return None
            report = MonthlyReport(month=key, created_at=now, pdf=pdf, csv=csv_bytes)
            session.add(report)
            session.flush()
            if announce is not None:
                announce(session, report)
            return report
