"""Which master key a database belongs to: checked before any use, recorded once, rotated.

A wrong key file (a restored backup, a typo in the configuration) must never store demandes
that nobody will be able to read, nor acknowledge them so that they leave the extranet:
`unlock` refuses it before anything is fetched, stored or acknowledged.

The first unlock of a database made before the key was recorded adopts the key if the
demandes already held were wrapped by it, checks the old unkeyed audit chain and re-chains
it with HMAC-SHA-256, recording what it found in the trail itself.

Every unlock also re-wraps the data keys still wrapped by the master key (databases made
before the key store, `key_date` NULL) by the key of their purge day: an Alembic migration
cannot reach the key store, so this is done here, in batches, idempotently, and recorded. A
demande whose purge day's key was already destroyed is not re-wrapped: the purge (or
`intake restore`) destroys it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from storage import audit
from storage.db import transaction
from storage.keystore import KeyStore
from storage.models import AuditCheckpoint, AuditEvent, DemandeKey, DemandeRow, VaultMeta
from storage.vault import DerivedKeys, Vault, VaultError, master_key_id

SYSTEM_ACTOR = "système:coffre"
BATCH = 1000


class KeyMismatch(VaultError):
    """The key file is not the one this database was made with."""


def _mismatch(found: str, expected: str) -> KeyMismatch:
    return KeyMismatch(
        f"la clé maîtresse n'est pas celle de cette base de données (empreinte de la clé : "
        f"{found}, attendue : {expected}). Rien n'a été lu, récupéré ni acquitté. Remettez "
        "la bonne clé (celle de vos sauvegardes) à l'emplacement indiqué par vault.key_file."
    )


def unlock(
    engine: Engine,
    master_key: bytes,
    now: datetime,
    keys_dir: Path | None = None,
    today: Callable[[], date] | None = None,
) -> Vault:
    """The vault for this database, or `KeyMismatch`. `keys_dir`: the key store's folder
    (None: keys in memory, for tests); `today`: the lieu's date, past which a purge day's key
    is never used."""
    key_id = master_key_id(master_key)
    keys = KeyStore(master_key, key_id, keys_dir, today)
    vault = None
    with transaction(engine) as session:
        meta = session.get(VaultMeta, 1)
        if meta is not None:
            vault = _open(meta, master_key, key_id, keys)
    if vault is None:
        with transaction(engine) as session:
            # The head's lock serialises two workers adopting the key at once.
            audit.head_for_update(session)
            meta = session.get(VaultMeta, 1)
            if meta is not None:
                vault = _open(meta, master_key, key_id, keys)
            else:
                vault = _adopt(session, master_key, key_id, now, keys)
    rewrap_legacy(engine, vault, now)
    return vault


def key_id(engine: Engine) -> str | None:
    """The id of the master key this database's vault is under (None before its first one)."""
    with transaction(engine) as session:
        meta = session.get(VaultMeta, 1)
        return meta.key_id if meta else None


def _open(meta: VaultMeta, master_key: bytes, key_id: str, keys: KeyStore) -> Vault:
    if not hmac.compare_digest(meta.key_id, key_id):
        raise _mismatch(key_id, meta.key_id)
    probe = Vault(master_key, keys=keys)
    derived = DerivedKeys(
        fingerprint=probe.unwrap_secret(meta.fingerprint_key, "fingerprint"),
        audit=probe.unwrap_secret(meta.audit_key, "audit"),
    )
    return Vault(master_key, derived, keys)


def _legacy(session: Session, vault: Vault, after: str) -> list[tuple[DemandeKey, date]]:
    mark = vault.keys.destroyed_through()
    query = (
        select(DemandeKey, col(DemandeRow.purge_due))
        .join(DemandeRow, col(DemandeRow.numero) == col(DemandeKey.numero))
        .where(
            col(DemandeKey.key_date).is_(None),
            col(DemandeRow.purge_due).is_not(None),
            col(DemandeKey.numero) > after,
        )
        .order_by(col(DemandeKey.numero))
        .limit(BATCH)
    )
    if mark is not None:
        query = query.where(col(DemandeRow.purge_due) > mark)
    return [(key, due) for key, due in session.exec(query).all() if due is not None]


def rewrap_legacy(engine: Engine, vault: Vault, now: datetime) -> int:
    """Data keys wrapped by the master key, re-wrapped by their purge day's key (idempotent:
    nothing to do costs one query)."""
    count, after = 0, ""
    while True:
        with transaction(engine) as session:
            batch = _legacy(session, vault, after)
            if not batch:
                break
            session.execute(
                update(DemandeKey),
                [
                    {
                        "numero": k.numero,
                        "wrapped_key": vault.wrap(
                            vault.unwrap(k.wrapped_key, k.numero, None), k.numero, due
                        ),
                        "key_date": due,
                    }
                    for k, due in batch
                ],
            )
            count += len(batch)
            after = batch[-1][0].numero
    if count:
        with transaction(engine) as session:
            audit.head_for_update(session)
            vault.trail.record(
                session,
                at=now,
                actor=SYSTEM_ACTOR,
                action="cles-par-echeance",
                detail={"cles_rechiffrees": count},
            )
    return count


@dataclass(frozen=True)
class LegacyCheck:
    intact: bool
    events: int
    first_bad: int | None


def _adopt(
    session: Session, master_key: bytes, key_id: str, now: datetime, keys: KeyStore
) -> Vault:
    others = session.exec(
        select(DemandeKey.master_key_id).where(DemandeKey.master_key_id != key_id).limit(1)
    ).first()
    if others is not None:
        raise _mismatch(key_id, others)
    vault = Vault(master_key, keys=keys)
    session.add(
        VaultMeta(
            id=1,
            key_id=key_id,
            fingerprint_key=vault.wrap_secret(vault.derived.fingerprint, "fingerprint"),
            audit_key=vault.wrap_secret(vault.derived.audit, "audit"),
            created_at=now,
        )
    )
    legacy = _check_legacy_chain(session, vault)
    rechained = vault.trail.rechain(session)
    vault.trail.record(
        session,
        at=now,
        actor=SYSTEM_ACTOR,
        action="cle-enregistree",
        detail={
            "empreinte": key_id,
            "evenements_rechaines": rechained,
            "ancien_chainage_intact": legacy.intact,
            "ancien_premier_defaut": legacy.first_bad,
        },
    )
    return vault


def _check_legacy_chain(session: Session, vault: Vault) -> LegacyCheck:
    """The unkeyed SHA-256 chain as it was before the HMAC chain (empty on a new database)."""
    checkpoint = session.get(AuditCheckpoint, 1)
    previous, after = audit.GENESIS, 0
    if checkpoint is not None:
        text = audit.checkpoint_text(checkpoint.seq, checkpoint.hash)
        if not hmac.compare_digest(vault.fingerprint(text), checkpoint.seal):
            return LegacyCheck(False, 0, checkpoint.seq)
        previous, after = checkpoint.hash, checkpoint.seq
    count = 0
    while True:
        batch = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.seq) > after)
            .order_by(col(AuditEvent.seq))
            .limit(audit.VERIFY_BATCH)
        ).all()
        for event in batch:
            if (
                event.seq != after + 1
                or event.prev_hash != previous
                or audit.legacy_digest(event) != event.hash
            ):
                return LegacyCheck(False, count, after + 1)
            previous, after, count = event.hash, event.seq, count + 1
        if len(batch) < audit.VERIFY_BATCH:
            break
    head_seq, head_hash = audit.head(session)
    intact = (head_seq, head_hash) == (after, previous)
    return LegacyCheck(intact, count, None if intact else after + 1)


@dataclass(frozen=True)
class Rotation:
    old_key_id: str
    new_key_id: str
    keys: int  # data keys still wrapped by the master key itself, re-wrapped
    purge_keys: int = 0  # purge-day keys of the key store given the new key's envelope


def rotate(
    engine: Engine, old: Vault, new_master_key: bytes, now: datetime, actor: str
) -> Rotation:
    """Give every purge-day key of the key store the new master key's envelope (the old one
    stays until the new key file is in place: `finish_rotation`), then, in one transaction,
    re-wrap the data keys the master key wraps itself and the derived keys: killed half-way,
    nothing changed and the old key still opens everything."""
    new_id = master_key_id(new_master_key)
    if new_id == old.key_id:
        raise VaultError("la nouvelle clé est identique à la clé actuelle")
    new_keys = KeyStore(new_master_key, new_id, old.keys.directory, old.keys.today)
    new = Vault(new_master_key, old.derived, new_keys)
    purge_keys = old.keys.add_master(new.keys)
    count = 0
    with transaction(engine) as session:
        audit.head_for_update(session)
        meta = session.get(VaultMeta, 1)
        if meta is None or meta.key_id != old.key_id:
            raise _mismatch(old.key_id, meta.key_id if meta else "?")
        after = ""
        while True:
            batch = session.exec(
                select(DemandeKey)
                .where(col(DemandeKey.numero) > after, col(DemandeKey.key_date).is_(None))
                .order_by(col(DemandeKey.numero))
                .limit(BATCH)
            ).all()
            if not batch:
                break
            session.execute(
                update(DemandeKey),
                [
                    {
                        "numero": k.numero,
                        "wrapped_key": new.wrap_legacy(
                            old.unwrap(k.wrapped_key, k.numero, None), k.numero
                        ),
                    }
                    for k in batch
                ],
            )
            count += len(batch)
            after = batch[-1].numero
        session.execute(update(DemandeKey).values(master_key_id=new.key_id))
        meta.key_id = new.key_id
        meta.fingerprint_key = new.wrap_secret(new.derived.fingerprint, "fingerprint")
        meta.audit_key = new.wrap_secret(new.derived.audit, "audit")
        meta.rotated_at = now
        session.add(meta)
        new.trail.record(
            session,
            at=now,
            actor=actor,
            action="rotation-cle",
            detail={
                "ancienne": old.key_id,
                "nouvelle": new.key_id,
                "cles": count,
                "cles_echeance": len(new.keys.days()),
            },
        )
    return Rotation(old.key_id, new.key_id, count, purge_keys)


def finish_rotation(keys_dir: Path | None, new_master_key: bytes, old_master_key: bytes) -> int:
    """Once the new key file is in place: make sure every purge-day key has the new key's
    envelope (a rotation killed before it did), then drop the old key's."""
    new = KeyStore(new_master_key, master_key_id(new_master_key), keys_dir)
    old = KeyStore(old_master_key, master_key_id(old_master_key), keys_dir)
    added = old.add_master(new)
    new.keep_only_own_master()
    return added
