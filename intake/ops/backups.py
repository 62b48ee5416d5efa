"""Backups that forget: database copies (which hold no key) and the key store's encrypted copy
(which must be kept no longer than the time between a purge and its attestation).

Putting a database copy back reconciles it with the live key store at once: every demande
whose purge day's key was destroyed since the copy was made is destroyed again (ciphertexts
and wrapped key deleted, tombstone, audit event; no attestation changes: the one that covered
it says so already), and the restore is recorded in the trail and anchored beside the key.
A demande still within its time reads again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from intake.app import App
from intake.retention.purge import BATCH, END_REASON, KEY_COPY_KEPT, RETENTION_REASON
from storage import anchors, audit, destruction, keyring, keys_copy
from storage import backup as copies
from storage.db import is_sqlite, transaction, upgrade
from storage.errors import StorageError
from storage.vault import Vault

log = logging.getLogger(__name__)


class RestoreRefused(StorageError):
    pass


@dataclass(frozen=True)
class DatabaseCopy:
    path: Path
    sha256: str


@dataclass(frozen=True)
class KeyStoreCopy:
    path: Path
    days: int
    keep_until: date


@dataclass(frozen=True)
class Restored:
    destroyed_again: int
    rewrapped: int
    head: tuple[int, str]


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def backup_database(app: App, out: Path, actor: str) -> DatabaseCopy:
    """A consistent copy of the database (no key in it), recorded in the live trail."""
    vault, now = app.vault, app.clock.now()
    copies.backup(app.engine, out)
    digest = _digest(out)
    with transaction(app.engine) as session:
        vault.trail.record(
            session, at=now, actor=actor, action="sauvegarde", detail={"sha256": digest}
        )
    return DatabaseCopy(out, digest)


def backup_keys(app: App, out: Path, passphrase: str, actor: str) -> KeyStoreCopy:
    """The key store, sealed with a passphrase; to be destroyed by `keep_until`."""
    vault, now = app.vault, app.clock.now()
    today = app.today()
    files = dict(vault.keys.files())
    keep_until = today + KEY_COPY_KEPT
    sealed = keys_copy.seal(keys_copy.KeysCopy(today, keep_until, files), passphrase)
    copies.write_private(out, sealed)
    days = sum(1 for name in files if name.endswith(".cle"))
    with transaction(app.engine) as session:
        vault.trail.record(
            session,
            at=now,
            actor=actor,
            action="sauvegarde-cles",
            detail={"echeances": days, "a_detruire_le": keep_until.isoformat()},
        )
    return KeyStoreCopy(out, days, keep_until)


def restore_keys(app: App, sealed: Path, passphrase: str) -> tuple[list[date], list[date]]:
    """Keys from an encrypted copy put back; never one a purge destroyed, nor one past."""
    copy = keys_copy.open_sealed(sealed.read_bytes(), passphrase)
    return app.vault.keys.put_back(copy.files)


def restore_database(app: App, copy: Path | None, actor: str) -> Restored:
    """Put a copy back (SQLite; `copy` None: already put back by `pg_restore`), then
    reconcile it with the key store and record it."""
    vault, engine, now = app.vault, app.engine, app.clock.now()
    with transaction(engine) as session:
        replaced = audit.head(session)
    digest = None
    if copy is not None:
        if is_sqlite(engine):
            info = copies.inspect_sqlite(copy)
            if info.key_id is not None and info.key_id != vault.key_id:
                raise RestoreRefused(
                    f"{copy} : cette sauvegarde a été faite avec une autre clé maîtresse "
                    f"(empreinte {info.key_id}, en place : {vault.key_id}) ; rien n'a été "
                    "remplacé"
                )
        digest = _digest(copy)
        copies.restore(engine, copy)
        upgrade(engine)
    rewrapped = keyring.rewrap_legacy(engine, vault, now)
    destroyed = reconcile(app, vault, now, actor)
    with transaction(engine) as session:
        vault.trail.record(
            session,
            at=now,
            actor=actor,
            action="restauration",
            detail={
                "sha256": digest,
                "redetruites": destroyed,
                "tete_remplacee": {"sequence": replaced[0], "lien": replaced[1]},
            },
        )
    with transaction(engine) as session:
        head = audit.head(session)
    anchors.append(anchors.anchors_file(app.config.key_file), head, "restauration", now)
    log.info("restauration : %d demande(s) détruite(s) à nouveau", destroyed)
    return Restored(destroyed, rewrapped, head)


def reconcile(app: App, vault: Vault, now: datetime, actor: str) -> int:
    """Destroy again every demande whose purge day's key is gone from the key store."""
    mark = vault.keys.destroyed_through()
    held = vault.keys.days()
    reason = END_REASON if mark == date.max else RETENTION_REASON
    count = 0
    while True:
        with transaction(app.engine) as session:
            rows = destruction.keyless(session, mark, held, BATCH)
            if not rows:
                return count
            numeros = [r.numero for r in rows]
            destruction.destroy_many(session, numeros)
            destruction.mark_purged(session, numeros, now, reason, None)
            vault.trail.record_many(
                session,
                actor=actor,
                events=[
                    (now, "destruction", r.numero, {"commune": r.commune, "motif": "restauration"})
                    for r in rows
                ],
            )
            count += len(rows)
