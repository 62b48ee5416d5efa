"""The end of the convention: everything destroyed and attested, nothing taken in after.

One operation in several transactions (the end recorded, the destruction in batches, the
final attestation): interrupted anywhere, running it again completes it under the same
attestation; once complete, it refuses to run twice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from intake.errors import IntakeError
from intake.retention.purge import PurgeOutcome, Retention
from storage import attestations as attestation_store
from storage.db import transaction


class ConventionEnded(IntakeError):
    """The convention has ended: nothing is taken in any more."""


def end_convention(retention: Retention, agent: str, now: datetime) -> PurgeOutcome:
    """`retention` acts as `agent` (its vault already checked against the key)."""
    vault = retention.vault
    work_left = retention.work_left()  # its own transaction: read before taking the lock
    with transaction(retention.engine) as session:
        ended = attestation_store.convention_end(session)
        if ended is None:
            attestation_store.end_convention(session, now, agent)
            vault.trail.record(session, at=now, actor=agent, action="fin-de-convention")
        elif not work_left:
            on = ended.ended_at.astimezone(retention.config.timezone)
            raise ConventionEnded(
                f"la convention a déjà pris fin le {on:%d/%m/%Y} ({ended.ended_by}) "
                "et tout a été détruit"
            )
    outcome = retention.destroy_everything()
    with transaction(retention.engine) as session:
        ended = attestation_store.convention_end(session)
        assert ended is not None
        if outcome.attestation is not None and ended.attestation_id is None:
            attestation_store.record_final(session, ended, outcome.attestation)
    return outcome


def ensure_open(engine: Engine, timezone: ZoneInfo) -> None:
    """After the convention's end nothing is taken in any more."""
    with transaction(engine) as session:
        ended = attestation_store.convention_end(session)
    if ended is not None:
        raise ConventionEnded(
            f"la convention a pris fin le "
            f"{ended.ended_at.astimezone(timezone):%d/%m/%Y} "
            f"({ended.ended_by}) : plus aucune demande n'est reçue"
        )
