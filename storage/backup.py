"""Copies of the database, made and put back while keys stay outside it.

A copy holds no key that opens a demande: data keys are wrapped by purge-day keys that live in
the key store (storage/keystore.py), never in the database. SQLite: the online backup API (a
consistent snapshot while the service writes). PostgreSQL: `pg_dump`/`pg_restore` (custom
format), the password passed through the environment, never on the command line.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session, col, select

from storage.db import is_sqlite
from storage.errors import StorageError
from storage.models import AuditEvent

# One step: in WAL mode the copy reads one snapshot while the service keeps writing (copied
# in steps, every write of another connection would restart it).
PAGES_PER_STEP = -1


class BackupError(StorageError):
    pass


def _new_private(path: Path) -> None:
    """An empty file of its owner's alone, or `BackupError` if something is there."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise BackupError(f"refus d'écraser : {path} existe déjà") from None
    os.close(descriptor)


def write_private(path: Path, content: bytes) -> None:
    """A new file of its owner's alone holding `content`, synced; refused if `path` exists."""
    _new_private(path)
    descriptor = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _raw_sqlite(engine: Engine) -> tuple[PoolProxiedConnection, sqlite3.Connection]:
    raw = engine.raw_connection()
    connection = raw.driver_connection
    assert isinstance(connection, sqlite3.Connection)
    return raw, connection


def backup(engine: Engine, out: Path) -> None:
    """A consistent copy of the database at `out` (0600; refused if `out` exists)."""
    _new_private(out)
    try:
        if is_sqlite(engine):
            raw, live = _raw_sqlite(engine)
            try:
                target = sqlite3.connect(out)
                try:
                    live.backup(target, pages=PAGES_PER_STEP)
                    target.execute("PRAGMA journal_mode=DELETE")  # one file, nothing beside
                finally:
                    target.close()
            finally:
                raw.close()
        else:
            _pg("pg_dump", engine, ["--format=custom", "--no-owner", f"--file={out}"])
        _sync(out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class CopyInfo:
    key_id: str | None  # the master key the copy's database was made with


def inspect_sqlite(path: Path) -> CopyInfo:
    """What a SQLite copy says of itself, read only; `BackupError` if it is not one of ours."""
    try:
        copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        raise BackupError(f"{path} : pas une base SQLite lisible") from None
    try:
        names = {r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not {"demande", "demande_key", "audit_event"} <= names:
            raise BackupError(f"{path} : pas une sauvegarde d'intake (tables absentes)")
        row = None
        if "vault_meta" in names:
            row = copy.execute("SELECT key_id FROM vault_meta WHERE id = 1").fetchone()
        return CopyInfo(row[0] if row else None)
    except sqlite3.DatabaseError:
        raise BackupError(f"{path} : pas une base SQLite lisible") from None
    finally:
        copy.close()


def restore(engine: Engine, copy: Path) -> None:
    """Put a copy back in place of the live database (its whole content)."""
    if is_sqlite(engine):
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            raw, live = _raw_sqlite(engine)
            try:
                source.backup(live, pages=PAGES_PER_STEP)
            finally:
                raw.close()
        finally:
            source.close()
    else:
        _pg(
            "pg_restore",
            engine,
            ["--clean", "--if-exists", "--no-owner", "--single-transaction"],
            str(copy),
        )
    engine.dispose()  # every pooled connection saw the old database


def _pg(tool: str, engine: Engine, options: list[str], *rest: str) -> None:
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[variable] = str(value)
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    arguments = [tool, *options, f"--schema={schema}"]
    if tool == "pg_restore":
        arguments.append(f"--dbname={url.database}")
    try:
        done = subprocess.run(
            [*arguments, *rest], env=env, capture_output=True, text=True, check=False, timeout=3600
        )
    except FileNotFoundError:
        raise BackupError(f"{tool} introuvable : installez postgresql-client") from None
    if done.returncode != 0:
        # The tool's message names tables and options, never a demande's content (ciphertext).
        raise BackupError(f"{tool} a échoué ({done.returncode}) : {done.stderr.strip()[:500]}")


def key_copies(session: Session, since: datetime) -> list[tuple[datetime, str]]:
    """The key store copies made since `since` (audit events `sauvegarde-cles`): when, and
    the day by which each must be destroyed (ISO), oldest first. Reads only."""
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "sauvegarde-cles", col(AuditEvent.at) >= since)
        .order_by(col(AuditEvent.seq))
    )
    found = []
    for event in events:
        until = json.loads(event.detail).get("a_detruire_le")
        if isinstance(until, str):
            found.append((event.at, until))
    return found
