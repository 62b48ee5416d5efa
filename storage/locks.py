"""Who does a job when several workers share one PostgreSQL database.

Each job (the polling of one commune, the purge, the report, the emails...) takes a
PostgreSQL advisory lock for as long as it runs; a worker that finds it taken skips the job,
which another worker is doing. The lock belongs to the database session: a worker that dies
releases it with its connection. SQLite has one worker by construction (see
`single_instance`), so its locks are always granted.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from storage.errors import StorageError
from storage.urls import sqlite_database

if TYPE_CHECKING:  # the service's scheduler takes `single_instance` and stays without SQLAlchemy
    from sqlalchemy import Connection, Engine


def lock_key(name: str, schema: str | None = None) -> int:
    """A stable signed 64-bit key per job name and schema, as pg_advisory_lock wants.

    Advisory locks are per database already; the schema keeps apart the lieus (or test runs)
    that share one database in schemas of their own. The schema public keeps the key it always
    had, so workers of an older version still exclude the newer ones."""
    scope = name if schema in (None, "public") else f"{name}\x00{schema}"
    digest = hashlib.sha256(f"intake:{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def current_schema(connection: Connection) -> str | None:
    """The schema this session creates its tables in (the first of its search_path)."""
    from sqlalchemy import text

    return connection.execute(text("SELECT current_schema()")).scalar()


@contextmanager
def job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """True if this worker holds the job's lock for the block, False if another one does."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    from sqlalchemy import text

    with engine.connect() as connection:
        key = lock_key(name, current_schema(connection))
        held = bool(
            connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        )
        connection.commit()
        try:
            yield held
        finally:
            if held:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


class AlreadyRunning(StorageError):
    """Another `intake run` holds the SQLite database."""


@contextmanager
def single_instance(database_url: str) -> Iterator[int | None]:
    """On SQLite, one `intake run` per database file: an exclusive lock on `<file>.run.lock`
    for the life of the process (released by the kernel if it dies). The lock's descriptor is
    given, for the service's jobs to hold it with it (None: no lock, PostgreSQL)."""
    database = sqlite_database(database_url)
    if database is None:
        yield None
        return
    path = Path(f"{database}.run.lock")
    stream: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            stream.seek(0)
            holder = stream.read().strip() or "?"
            raise AlreadyRunning(
                f"un autre « intake run » (processus {holder}) utilise déjà la base "
                f"{database} ; une base SQLite ne sert qu'un seul service à la fois. "
                "Pour plusieurs services, utilisez PostgreSQL ([database] url)."
            ) from None
        stream.seek(0)
        stream.truncate()
        stream.write(f"{os.getpid()}\n")
        stream.flush()
        yield stream.fileno()
    finally:
        stream.close()
