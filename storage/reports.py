"""The monthly reports kept: one row per month (its PDF and CSV), written once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import MonthlyReport


def kept(session: Session) -> list[tuple[str, datetime]]:
    """The months whose report is kept ("AAAA-MM"), newest first, with when each was made."""
    query = select(MonthlyReport.month, MonthlyReport.created_at).order_by(
        col(MonthlyReport.month).desc()
    )
    return [(month, made) for month, made in session.exec(query).all()]


def get(session: Session, month: str) -> MonthlyReport | None:
    return session.get(MonthlyReport, month)


def add(session: Session, month: str, now: datetime, pdf: bytes, csv: bytes) -> MonthlyReport:
    """Keep a month's report (the caller has checked, in this transaction, that none is)."""
    report = MonthlyReport(month=month, created_at=now, pdf=pdf, csv=csv)
    session.add(report)
    session.flush()
    return report
