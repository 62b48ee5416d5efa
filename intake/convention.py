"""The end of the convention: everything destroyed and attested, nothing taken in after.

One operation in several transactions (the end recorded, the destruction in batches, the
final attestation): interrupted anywhere, running it again completes it under the same
attestation; once complete, it refuses to run twice.
"""

from __future__ import annotations

from datetime import datetime

from intake.app import App, ConventionEnded
from intake.retention import PurgeOutcome
from storage import attestations as attestation_store
from storage.db import transaction


def end_convention(app: App, agent: str, now: datetime) -> PurgeOutcome:
    vault = app.vault  # checks the key before anything changes
    retention = app.retention(agent)
    work_left = retention.work_left()  # its own transaction: read before taking the lock
    with transaction(app.engine) as session:
        ended = attestation_store.convention_end(session)
        if ended is None:
            attestation_store.end_convention(session, now, agent)
            vault.trail.record(session, at=now, actor=agent, action="fin-de-convention")
        elif not work_left:
            raise ConventionEnded(
                f"la convention a déjà pris fin le "
                f"{ended.ended_at.astimezone(app.config.timezone):%d/%m/%Y} ({ended.ended_by}) "
                "et tout a été détruit"
            )
    outcome = retention.destroy_everything()
    with transaction(app.engine) as session:
        ended = attestation_store.convention_end(session)
        assert ended is not None
        if outcome.attestation is not None and ended.attestation_id is None:
            ended.attestation_id = outcome.attestation
            session.add(ended)
    return outcome
