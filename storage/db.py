"""Engines, sessions and migrations.

SQLite (the embedded default): WAL, secure_delete, foreign keys, full sync,
and `BEGIN IMMEDIATE` so that two writers queue instead of failing on a
lock upgrade. PostgreSQL by URL, for several workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from storage.locks import current_schema, lock_key
from storage.revision import HEAD_REVISION as HEAD_REVISION  # the newest migration

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA secure_delete=ON",  # freed pages are zeroed: destroyed data leaves no trace
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",  # we acknowledge to the extranet after commit
    "PRAGMA busy_timeout=30000",
)


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database not in (None, "", ":memory:"):
            # Encrypted or not, the database is the lieu's alone: no other account lists it.
            Path(parsed.database).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            _owner_only(Path(parsed.database))
        engine = create_engine(url, connect_args={"isolation_level": None}, **kwargs)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _owner_only(database: Path) -> None:
    """The database and its WAL files in 0600, even if made under a wider umask before: SQLite
    gives new WAL and shared-memory files the database file's own mode."""
    if not database.exists():  # an empty file is a new database to SQLite
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            continue


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def truncate_wal(engine: Engine) -> None:
    """SQLite: fold the WAL into the database file and empty it (a checkpoint, TRUNCATE)."""
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None  # None only once the connection is closed
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


# --- migrations ---------------------------------------------------------------------------------


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("storage") / "migrations"))
    config.attributes["engine"] = engine
    return config


# Any constant: several workers starting at once on PostgreSQL migrate one after the other.
MIGRATION_LOCK = 0x696E74616B65


def _migration_lock(connection: Connection) -> int:
    """The constant in the schema public; elsewhere one per schema, so that lieus (or test runs)
    sharing a database in schemas of their own migrate without waiting for each other."""
    schema = current_schema(connection)
    return MIGRATION_LOCK if schema in (None, "public") else lock_key("migration", schema)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not engine.dialect.has_table(connection, "alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            key = _migration_lock(connection)
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        config = _alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_is_current(engine: Engine) -> bool:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
