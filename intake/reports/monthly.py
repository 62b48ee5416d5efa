"""The monthly report made, anchored and kept once, whichever worker makes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from intake.config import Config
from intake.convention import deadlines
from intake.convention.notices import Notices
from intake.french import month_name
from intake.reports.csv import to_csv
from intake.reports.figures import MONTH, Figures, gather, previous_month
from storage import anchors, audit
from storage import reports as report_store
from storage.db import transaction
from storage.models import MonthlyReport


@dataclass(frozen=True)
class Made:
    report: MonthlyReport
    late_since: date | None  # the day it was due, when the service was down that day


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
        from intake.reports import pdf as report_pdf  # fpdf2 only when a report is drawn

        with transaction(self.engine) as session:
            figures = gather(session, self.config, month, now)
        self.anchor(figures, now)
        return report_pdf.render(figures, self.config), to_csv(figures)

    def stored(self) -> list[tuple[str, datetime]]:
        """The months whose report is kept, newest first, with when each was made."""
        with transaction(self.engine) as session:
            return report_store.kept(session)

    def stored_file(self, month: str, kind: str) -> bytes | None:
        """A kept report's PDF or CSV (`kind`), or None."""
        with transaction(self.engine) as session:
            report = report_store.get(session, month)
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
            if report_store.get(session, key) is not None:
                return None
        pdf, csv_bytes = self.make(month, now)
        with transaction(self.engine) as session:
            if report_store.get(session, key) is not None:
                return None
            report = report_store.add(session, key, now, pdf, csv_bytes)
            if announce is not None:
                announce(session, report)
            return report

    def catch_up(self, now: datetime, notices: Notices) -> list[Made]:
        """Every month's report still owed, oldest first, once for all workers, each emailed
        to the admins and signatories: last month's, and those the service missed while it
        was down (each says it comes late). Months before the worker's first event are not
        its to report."""
        tz = self.config.timezone
        today = deadlines.local_date(now, tz)
        last = previous_month(today)
        with transaction(self.engine) as session:
            began = audit.first_event_at(session)
            kept = {month for month, _ in report_store.kept(session)}
        if began is None:
            return []
        month, made = deadlines.local_date(began, tz).replace(day=1), []
        while month <= last:
            due = month + MONTH  # made on the 1st when the service runs
            late = due if today > due else None
            if month.strftime("%Y-%m") not in kept:
                report = self.store_once(month, now, _announce(month, late, notices))
                if report is not None:
                    made.append(Made(report, late))
            month += MONTH
        return made


def _announce(
    month: date, late: date | None, notices: Notices
) -> Callable[[Session, MonthlyReport], object]:
    def announce(session: Session, report: MonthlyReport) -> None:
        late_since = f"{late:%d/%m/%Y}" if late else None
        notices.monthly_report(
            session, report.created_at, report.month, month_name(month), late_since=late_since
        )

    return announce
