"""Helpers for the retention tests: a lieu's configuration and a fast way to hold demandes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from intake.convention import deadlines
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault

SIGNATORY = "l.feuga@ville-corbas.fr"


def hold(
    engine: Engine,
    vault: Vault,
    numero: str,
    transmitted_at: datetime,
    tz: ZoneInfo,
    *,
    at: datetime | None = None,
    commune: str = "69273",
    status: str = Status.RECEIVED,
) -> DemandeRow:
    """A demande as the pipeline stores it, with secrets, without going through a feed."""
    at = at or transmitted_at
    row = DemandeRow(
        numero=numero,
        commune=commune,
        status=status,
        transmitted_at=transmitted_at,
        retrieved_at=None if status == Status.NOTIFIED else at,
        retrieval_due=deadlines.retrieval_due(transmitted_at, 15, tz),
        purge_due=deadlines.purge_due(transmitted_at, tz),
        created_at=at,
        updated_at=at,
    )
    with transaction(engine) as session:
        store.save(session, row)
        if status != Status.NOTIFIED:
            store.put_secrets(
                session,
                vault,
                numero,
                {BlobKind.RECORD: f"famille secrète de {numero}".encode(), BlobKind.PDF: b"%PDF"},
            )
    return row


def held_secrets(engine: Engine) -> int:
    from sqlmodel import func, select

    from storage.models import DemandeBlob, DemandeKey

    with transaction(engine) as session:
        keys = session.exec(select(func.count()).select_from(DemandeKey)).one()
        blobs = session.exec(select(func.count()).select_from(DemandeBlob)).one()
    return int(keys) + int(blobs)


def day(text: str) -> date:
    return date.fromisoformat(text)
