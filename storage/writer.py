"""The demande writer's storage: one call per demande. A new demande joins `NewDemandes` (its
row, data key, blobs and audit event written with the others of its transaction); an existing
one (announced, or in quarantine) is saved with its secrets and its event by `save_with_secrets`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import insert
from sqlmodel import Session

from storage import audit
from storage import demandes as store
from storage.models import BlobKind, DemandeBlob, DemandeKey, DemandeRow

if TYPE_CHECKING:
    from storage.vault import Vault


@dataclass
class NewDemandes:
    """New demandes of one transaction and their audit events, written together in four
    statements however many they are (per demande, the statements cost more than the rest)."""

    vault: Vault
    actor: str
    rows: list[dict[str, object]] = field(default_factory=list)
    keys: list[dict[str, object]] = field(default_factory=list)
    blobs: list[dict[str, object]] = field(default_factory=list)
    events: list[audit.Event] = field(default_factory=list)

    def add(
        self, row: Mapping[str, object], secrets: Mapping[BlobKind, bytes], event: audit.Event
    ) -> None:
        """`row`: the demande's columns (a plain mapping: building an ORM object per demande
        cost more than encrypting its PDF)."""
        numero = str(row["numero"])
        data_key = self.vault.new_data_key()
        self.rows.append(dict(row))
        self.keys.append(store.wrapped_key_row(self.vault, data_key, numero, row.get("purge_due")))
        self.blobs.extend(
            {
                "numero": numero,
                "kind": kind,
                "ciphertext": self.vault.encrypt(data_key, numero, kind, plaintext),
            }
            for kind, plaintext in secrets.items()
        )
        self.events.append(event)

    def write(self, session: Session) -> None:
        """Everything added so far (call it before any other write, to keep the order)."""
        if not self.rows:
            return
        # Core executemany on the tables, not the ORM's bulk insert: one statement each.
        # (SQLModel's metaclass sets __table__ but does not declare it to type checkers.)
        session.execute(insert(DemandeRow.__table__), self.rows)  # type: ignore[attr-defined]
        session.execute(insert(DemandeKey.__table__), self.keys)  # type: ignore[attr-defined]
        session.execute(insert(DemandeBlob.__table__), self.blobs)  # type: ignore[attr-defined]
        self.vault.trail.record_many(session, actor=self.actor, events=self.events)
        self.rows, self.keys, self.blobs, self.events = [], [], [], []


def save_with_secrets(
    session: Session,
    vault: Vault,
    row: DemandeRow,
    secrets: Mapping[BlobKind, bytes],
    *,
    fresh: bool,
    actor: str,
    event: audit.Event,
) -> None:
    """A demande's row saved, its secrets replaced by `secrets` under a fresh data key
    (`fresh`: it has none yet), and its audit event, in the caller's transaction."""
    store.save(session, row)
    store.put_secrets(session, vault, row.numero, secrets, fresh=fresh)
    at, action, numero, detail = event
    vault.trail.record(session, at=at, actor=actor, action=action, numero=numero, detail=detail)
