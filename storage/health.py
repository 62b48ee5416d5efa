"""What `intake status` reads, in one read transaction, as plain SQL on a DB-API connection.

A supervision probe runs `intake status` every minute: importing SQLAlchemy and the models
costs it more than half a second of CPU, where its nine counts and short lists take a few
milliseconds. So this module imports neither: on the embedded SQLite database, when nothing
has to be done before reading (the file exists, only its owner can read it and its schema is
the newest), `quick_read` opens it with the standard library's driver. Anything else (no
file yet, a schema to migrate, modes to tighten, PostgreSQL) goes through the engine, which
does those first, and `read_connection` reads the same way on its connection.

The conditions are those of `storage.demandes`, `storage.attestations`, `storage.communes`,
`storage.heartbeats`, `storage.reports`, `storage.audit` and the outbox's counts;
tests/integration/test_status_reads.py compares both on the same rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from storage.revision import HEAD_REVISION
from storage.status import Status
from storage.urls import sqlite_file

if TYPE_CHECKING:
    from sqlalchemy import Engine

_BUSY_SECONDS = 30  # as storage.db's busy_timeout: a writer holding the lock is waited for


@dataclass(frozen=True)
class CommuneRow:
    insee: str
    last_success: datetime | None
    last_error: datetime | None
    last_error_code: str | None
    failing_since: datetime | None


@dataclass(frozen=True)
class WorkerRow:
    worker: str
    started_at: datetime
    beat_at: datetime
    interval_seconds: int


@dataclass(frozen=True)
class LateAttestation:
    id: int
    sign_by: date


@dataclass(frozen=True)
class Snapshot:
    communes: list[CommuneRow]  # by INSEE code
    overdue: int  # owed by the extranet past their retrieval deadline
    queued: int  # emails not sent yet
    failed: int  # emails given up
    unsigned: int  # drafted attestations not signed
    workers: list[WorkerRow]  # newest heartbeat first
    purge_late: int  # kept past their purge day
    purge_today: int  # whose purge day is today
    late_attestations: list[LateAttestation]  # unsigned past their deadline, oldest first
    kept_months: frozenset[str]  # the monthly reports kept ("AAAA-MM")
    first_event_at: datetime | None  # when the audit trail began


class _State(Protocol):
    @property
    def last_success(self) -> datetime | None: ...
    @property
    def last_error(self) -> datetime | None: ...
    @property
    def failing_since(self) -> datetime | None: ...


def failing_since(state: _State | None) -> datetime | None:
    """When the commune's current run of errors began; None when its last attempt succeeded."""
    if state is None or state.last_error is None:
        return None
    if state.last_success is not None and state.last_error <= state.last_success:
        return None
    return state.failing_since or state.last_error


def quick_read(url: str, today: date) -> Snapshot | None:
    """The snapshot read with `sqlite3` alone, or None when the engine must open the database
    (not an SQLite file, no file yet, a file others may read, a schema to migrate)."""
    database = sqlite_file(url)
    if database is None or not _private_file(database):
        return None
    connection = sqlite3.connect(database, timeout=_BUSY_SECONDS, isolation_level=None)
    try:
        return read_connection(connection, "sqlite", today, check_revision=True)
    finally:
        connection.close()


def _private_file(database: Path) -> bool:
    """The database exists and it and its WAL files are its owner's alone (storage.db makes
    them so when it opens the database: left to it otherwise)."""
    try:
        if database.stat().st_mode & 0o077:
            return False
    except FileNotFoundError:
        return False
    for path in (Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.stat().st_mode & 0o077:
                return False
        except FileNotFoundError:
            continue
    return True


def read_connection(
    connection: Any, dialect: str, today: date, *, check_revision: bool = False
) -> Snapshot | None:
    """Every figure in one read transaction of a DB-API connection (sqlite3 in autocommit
    mode, or psycopg); None if `check_revision` finds the schema not the newest."""
    sqlite = dialect == "sqlite"
    day: Any = today.isoformat() if sqlite else today  # SQLite keeps dates as ISO text
    cursor = connection.cursor()
    if sqlite:
        cursor.execute("BEGIN")
    try:
        if check_revision and _revision(cursor, sqlite) != HEAD_REVISION:
            return None
        return _snapshot(_Reader(cursor, sqlite), day)
    finally:
        cursor.close()
        connection.rollback()  # nothing was written


def _revision(cursor: Any, sqlite: bool) -> str | None:
    if sqlite:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
        if cursor.fetchone() is None:
            return None
    cursor.execute("SELECT version_num FROM alembic_version")
    row = cursor.fetchone()
    return None if row is None else str(row[0])


class _Reader:
    """Queries written with `?`, run with the driver's own placeholders."""

    def __init__(self, cursor: Any, sqlite: bool) -> None:
        self.cursor, self.sqlite = cursor, sqlite

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        self.cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), params)
        return list(self.cursor.fetchall())

    def count(self, sql: str, *params: Any) -> int:
        return int(self.rows(sql, *params)[0][0])


def _snapshot(db: _Reader, day: Any) -> Snapshot:
    owed = (Status.NOTIFIED.value, Status.QUARANTINED.value)
    kept = Status.PURGED.value
    return Snapshot(
        communes=[
            CommuneRow(insee, _instant(success), _instant(error), code, _instant(since))
            for insee, success, error, code, since in db.rows(
                "SELECT insee, last_success, last_error, last_error_code, failing_since "
                "FROM commune_state ORDER BY insee"
            )
        ],
        overdue=db.count(
            "SELECT count(*) FROM demande WHERE status IN (?, ?) AND retrieval_due < ?",
            *owed,
            day,
        ),
        queued=db.count(
            "SELECT count(*) FROM outbox_message WHERE sent_at IS NULL AND failed_at IS NULL"
        ),
        failed=db.count("SELECT count(*) FROM outbox_message WHERE failed_at IS NOT NULL"),
        unsigned=db.count(
            "SELECT count(*) FROM attestation WHERE drafted_at IS NOT NULL AND signed_at IS NULL"
        ),
        workers=[
            WorkerRow(worker, _utc(started), _utc(beat), int(interval))
            for worker, started, beat, interval in db.rows(
                "SELECT worker, started_at, beat_at, interval_seconds FROM heartbeat "
                "ORDER BY beat_at DESC"
            )
        ],
        purge_late=db.count(
            "SELECT count(*) FROM demande WHERE status != ? AND purge_due < ?", kept, day
        ),
        purge_today=db.count(
            "SELECT count(*) FROM demande WHERE status != ? AND purge_due = ?", kept, day
        ),
        late_attestations=[
            LateAttestation(int(number), _day(sign_by))
            for number, sign_by in db.rows(
                "SELECT id, sign_by FROM attestation WHERE drafted_at IS NOT NULL "
                "AND signed_at IS NULL AND sign_by < ? ORDER BY sign_by, id",
                day,
            )
        ],
        kept_months=frozenset(month for (month,) in db.rows("SELECT month FROM monthly_report")),
        first_event_at=next(
            (_instant(at) for (at,) in db.rows("SELECT at FROM audit_event ORDER BY seq LIMIT 1")),
            None,
        ),
    )


def _instant(value: str | datetime | None) -> datetime | None:
    """As storage.models.UTCDateTime reads it: SQLite keeps UTC as naive ISO text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc(value: str | datetime) -> datetime:
    instant = _instant(value)
    assert instant is not None  # a NOT NULL column
    return instant


def _day(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def read_engine(engine: Engine, today: date) -> Snapshot:
    """The same snapshot through an engine that has opened (and if need be migrated) the
    database: PostgreSQL, or SQLite when `quick_read` declined."""
    connection = engine.raw_connection()
    try:
        snapshot = read_connection(connection, engine.dialect.name, today)
    finally:
        connection.close()
    assert snapshot is not None  # no revision asked for
    return snapshot
