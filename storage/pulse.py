"""The few statements of the service's scheduler, which stays small: its heartbeat, and whether
the emails' pass has anything to do.

`intake run` keeps one long-lived process that only keeps time; every job runs in a process
of its own that ends with it (`intake.daemon`). The long-lived one writes its heartbeat every
20 seconds and asks every minute whether mail waits: on the embedded SQLite file it does so
with the standard library's driver, without SQLAlchemy or the models (they would double its
memory). PostgreSQL goes through SQLAlchemy's Core engine, its URL being SQLAlchemy's to read.

The conditions are those of `storage.heartbeats`, `storage.outbox.due` and
`storage.demandes.unannounced`; tests/integration/test_pulse.py compares both on the same rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from storage.status import Status
from storage.urls import sqlite_database

if TYPE_CHECKING:
    from sqlalchemy import Engine

_BUSY_SECONDS = 30  # as storage.db: a writer holding the lock is waited for

_BEAT = (
    "INSERT INTO heartbeat (worker, started_at, beat_at, interval_seconds) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (worker) DO UPDATE SET beat_at = excluded.beat_at, "
    "interval_seconds = excluded.interval_seconds"
)
_MAIL_WAITING = (
    "SELECT EXISTS (SELECT 1 FROM outbox_message WHERE sent_at IS NULL AND failed_at IS NULL "
    "AND next_attempt_at <= ?) OR EXISTS (SELECT 1 FROM demande WHERE status = ? "
    "AND announced_at IS NULL)"
)


class Pulse:
    """The scheduler's own connection to the lieu's database (one at a time, short-lived)."""

    def __init__(self, url: str) -> None:
        self._file = sqlite_database(url)  # any SQLite URL: its file, by sqlite3
        self._engine: Engine | None = None
        if self._file is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(url, pool_pre_ping=True, pool_size=1)

    def beat(self, worker: str, now: datetime, interval: int, started: bool) -> None:
        """This worker is alive at `now`; at its start, the rows of workers that died without
        a word (ten intervals silent) go, and its own start is noted."""
        with self._transaction() as run:
            if started:
                stale = now - timedelta(seconds=10 * interval)
                run("DELETE FROM heartbeat WHERE beat_at < ?", self._at(stale))
                run("DELETE FROM heartbeat WHERE worker = ?", worker)
            run(_BEAT, worker, self._at(now), self._at(now), interval)

    def forget(self, worker: str) -> None:
        """The worker stopped cleanly: it is stopped, not silent."""
        with self._transaction() as run:
            run("DELETE FROM heartbeat WHERE worker = ?", worker)

    def mail_waiting(self, now: datetime) -> bool:
        """An email due for sending, or a received demande not yet announced to the staff."""
        with self._transaction() as run:
            (row,) = run(_MAIL_WAITING, self._at(now), Status.RECEIVED.value)
        return bool(row[0])

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    def _at(self, instant: datetime) -> Any:
        """As storage.models.UTCDateTime writes it: SQLite keeps UTC as naive ISO text."""
        utc = instant.astimezone(UTC)
        if self._file is None:
            return utc
        return utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A function running `?`-placeholder statements in one committed transaction."""
        connection = self._connect()
        sqlite = self._file is not None
        cursor = connection.cursor()

        def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
            cursor.execute(sql if sqlite else sql.replace("?", "%s"), params)
            return list(cursor.fetchall()) if cursor.description else []

        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            yield run
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            cursor.close()
            connection.close()

    def _connect(self) -> Any:
        if self._engine is not None:
            return self._engine.raw_connection()
        assert self._file is not None
        # No implicit transaction: it is begun by hand, IMMEDIATE, as storage.db begins them.
        connection = sqlite3.connect(self._file, timeout=_BUSY_SECONDS, isolation_level=None)
        connection.execute("PRAGMA synchronous=FULL")
        return connection
