"""The destruction's use cases, as `intake purge` and `intake convention fin` call them: the
purge (or what it would destroy), and the end of the convention with who may decide it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from intake.context import Context
from intake.desk.access import AccessDenied, authorize
from intake.retention.purge import Planned, PurgeOutcome
from storage import attestations as attestation_store
from storage.db import transaction

if TYPE_CHECKING:
    from intake.config import StaffSection
    from intake.pipeline.notify import Notified
    from intake.wiring import Parts


@dataclass(frozen=True)
class PurgeDone:
    outcome: PurgeOutcome
    sign_by: date | None  # the day by which the attestation it drafted is to be signed
    notified: Notified | None  # the emails it queued and sent (an attestation to sign)


def _done(app: Parts, outcome: PurgeOutcome, notified: Notified | None) -> PurgeDone:
    sign_by = None
    if outcome.attestation is not None:
        with transaction(app.engine) as session:
            drafted = attestation_store.get(session, outcome.attestation)
        sign_by = drafted.sign_by if drafted is not None else None
    return PurgeDone(outcome, sign_by, notified)


@dataclass(frozen=True)
class Purge:
    app: Parts

    def plan(self, ctx: Context) -> list[Planned]:
        """What a purge would destroy today, without changing anything."""
        return self.app.retention(ctx.actor).plan()

    def run(self, ctx: Context) -> PurgeDone:
        """Destroy what is due, draft its attestation and tell the signatories."""
        outcome = self.app.retention(ctx.actor).purge()
        notified = self.app.notify() if outcome.attestation else None
        return _done(self.app, outcome, notified)


@dataclass(frozen=True)
class Convention:
    app: Parts

    def may_end(self, ctx: Context) -> StaffSection:
        """Who may end the convention: a habilitated signatory or admin (asked before their
        password, so that nobody else is asked for it)."""
        member = authorize(self.app.config, ctx.actor, ctx.now)
        if not {"signatory", "admin"} & set(member.duties):
            raise AccessDenied(
                f"{ctx.actor} ne peut pas mettre fin à la convention : il faut une personne de "
                "[[staff]] avec le rôle « signatory » ou « admin »"
            )
        return member

    def end(self, ctx: Context) -> PurgeDone:
        """Everything destroyed and attested, nothing taken in after (`end_convention`)."""
        from intake.retention.convention import end_convention

        member = self.may_end(ctx)
        outcome = end_convention(self.app.retention(member.email), member.email, ctx.now)
        return _done(self.app, outcome, self.app.notify())
