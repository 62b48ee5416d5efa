"""Workers' heartbeats: one row per running `intake run`, removed when it stops cleanly."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from storage.models import Heartbeat


def beat(session: Session, worker: str, now: datetime, interval: int, started: bool) -> None:
    if started:  # the rows of workers that died without a word are history by now
        stale = now - timedelta(seconds=10 * interval)
        session.exec(delete(Heartbeat).where(col(Heartbeat.beat_at) < stale))
    row = session.get(Heartbeat, worker)
    if row is None or started:
        row = row or Heartbeat(worker=worker, started_at=now, beat_at=now, interval_seconds=0)
        row.started_at = now
    row.beat_at = now
    row.interval_seconds = interval
    session.add(row)


def forget(session: Session, worker: str) -> None:
    session.exec(delete(Heartbeat).where(col(Heartbeat.worker) == worker))


def all_workers(session: Session) -> list[Heartbeat]:
    return list(session.exec(select(Heartbeat).order_by(col(Heartbeat.beat_at).desc())))
