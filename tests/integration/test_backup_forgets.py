"""Backups that forget (issue 25, item 1): a copy of the database taken before a purge, put
back beside the kept master key, opens nothing the purge destroyed, whether it is put back
with `intake restore` or, as an attacker would, by copying it back and setting the clock to
before the purge day. A demande still within its time reads again."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from intake.app import App
from intake.clock import FixedClock
from intake.config import Config
from intake.convention.calendar import calendar
from intake.ops import backups
from intake.retention import Retention
from storage import anchors, audit
from storage import backup as copies
from storage import demandes as store
from storage.db import is_sqlite, transaction
from storage.errors import VaultError
from storage.models import AuditEvent, BlobKind, DemandeRow, Status
from tests.support.lieu import PARIS
from tests.support.retention import hold

GONE = "ME-2026-0000001"  # transmitted 10 January: purge day 10 July
KEPT = "ME-2026-0000002"  # transmitted 10 March: purge day 10 September
BEFORE = datetime.fromisoformat("2026-06-20T10:00:00+02:00")
PURGE = datetime.fromisoformat("2026-07-01T04:00:00+02:00")  # monthly: all of July goes
AFTER = datetime.fromisoformat("2026-07-02T10:00:00+02:00")


def app_at(config: Config, engine: Engine, instant: datetime) -> App:
    app = App(config, FixedClock(instant))
    app.__dict__["engine"] = engine  # the test's engine (its own PostgreSQL schema)
    return app


def read(app: App, numero: str) -> bytes | None:
    with transaction(app.engine) as session:
        return store.read_secret(session, app.vault, numero, BlobKind.RECORD)


def status(engine: Engine, numero: str) -> str:
    with transaction(engine) as session:
        row = session.get(DemandeRow, numero)
        assert row is not None
        return row.status


@pytest.fixture
def copied(engine: Engine, lieu_config: Config, tmp_path: Path) -> Path:
    """Two demandes held, the database copied (`intake backup`), then the July purge."""
    before = app_at(lieu_config, engine, BEFORE)
    hold(engine, before.vault, GONE, datetime.fromisoformat("2026-01-10T09:00:00+01:00"), PARIS)
    hold(engine, before.vault, KEPT, datetime.fromisoformat("2026-03-10T09:00:00+01:00"), PARIS)
    assert read(before, GONE) == f"famille secrète de {GONE}".encode()
    copy = tmp_path / "copie.db"
    backups.backup_database(before, copy, "système:test")
    assert copy.stat().st_mode & 0o777 == 0o600

    purging = app_at(lieu_config, engine, PURGE)
    outcome = Retention(lieu_config, engine, purging.vault, purging.clock, "système:test").purge()
    assert outcome.purged == 1
    assert not (lieu_config.keys_dir / "2026-07-10.cle").exists()
    assert (lieu_config.keys_dir / "2026-09-10.cle").exists()
    return copy


def test_intake_restore_destroys_again_what_was_destroyed_since(
    engine: Engine, lieu_config: Config, copied: Path
):
    app = app_at(lieu_config, engine, AFTER)
    with transaction(engine) as session:
        before_restore = audit.head(session)
    done = backups.restore_database(app, copied, "système:test")

    assert done.destroyed_again == 1
    assert status(engine, GONE) == Status.PURGED  # the tombstone again
    with transaction(engine) as session:
        assert not store.has_secret(session, GONE, BlobKind.RECORD)
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions[-2:] == ["destruction", "restauration"]
        assert app.vault.trail.verify(session).ok
        found, _ = anchors.read(anchors.anchors_file(lieu_config.key_file))
        assert found[-1].why == "restauration"
        assert anchors.check(session, found) == []
    assert done.head != before_restore
    assert read(app, GONE) is None  # nothing left to read
    assert read(app, KEPT) == f"famille secrète de {KEPT}".encode()  # still within its time


def test_a_copy_put_back_by_hand_with_the_clock_set_back_opens_nothing_destroyed(
    engine: Engine, lieu_config: Config, copied: Path
):
    """The attacker's way: the copy put back with the database's own tools (no
    reconciliation), the kept master key, and a clock set to before the purge day."""
    if is_sqlite(engine):
        engine.dispose()
        live = Path(engine.url.database or "")
        for leftover in (Path(f"{live}-wal"), Path(f"{live}-shm")):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(copied, live)
    else:
        copies.restore(engine, copied)  # pg_restore, nothing else
    (lieu_config.keys_dir / "purgee-jusqu-au").unlink()  # even the store's mark
    attacker = app_at(lieu_config, engine, BEFORE)
    assert status(engine, GONE) == Status.RECEIVED  # the copy's row, ciphertexts and all
    with pytest.raises(VaultError, match="détruite"):
        read(attacker, GONE)
    assert read(attacker, KEPT) == f"famille secrète de {KEPT}".encode()


def test_a_key_store_copy_never_brings_back_a_destroyed_key(
    engine: Engine, lieu_config: Config, tmp_path: Path
):
    before = app_at(lieu_config, engine, BEFORE)
    hold(engine, before.vault, GONE, datetime.fromisoformat("2026-01-10T09:00:00+01:00"), PARIS)
    sealed = tmp_path / "cles.bin"
    made = backups.backup_keys(before, sealed, "une phrase de passe longue", "système:test")
    assert made.keep_until == date(2026, 7, 20)  # a month: a purge's time to its attestation
    assert made.days == 1
    (due,) = [d for d in calendar(engine, lieu_config, date(2026, 6, 20)) if "magasin" in d.what]
    assert due.day == date(2026, 7, 20) and "à détruire" in due.what
    purging = app_at(lieu_config, engine, PURGE)
    Retention(lieu_config, engine, purging.vault, purging.clock, "système:test").purge()

    after = app_at(lieu_config, engine, AFTER)
    restored, refused = backups.restore_keys(after, sealed, "une phrase de passe longue")
    assert (restored, refused) == ([], [date(2026, 7, 10)])
    assert not (lieu_config.keys_dir / "2026-07-10.cle").exists()
