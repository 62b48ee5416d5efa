"""What the lieu did with a demande (convention, art. 3-4: « en assurer le suivi »): marked as
treated, and its outcome — family contacted, directed to a mode or structure, or no follow-up.

The outcome's kind is a clear column (counted in the monthly report, never personal); its
details (dates, means, the structure named, free text) are in the vault with the demande,
and destroyed with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from sqlalchemy import Engine

from intake.config import Config
from intake.context import Context
from intake.convention import deadlines
from intake.desk.access import NotHeld, authorize_for_demande, refuse_past_retention
from intake.errors import IntakeError
from intake.french import long_day
from intake.vocabulary import MEANS, NO_FOLLOW_UP, OUTCOMES
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, Status
from storage.vault import Vault


class FollowUpError(IntakeError):
    """A follow-up that cannot be recorded, in French."""


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: str
    contacted_on: date | None = None
    means: str | None = None
    directed_to: str = Field(default="", max_length=500)
    reason: str | None = None
    recorded_by: str
    recorded_at: datetime

    def summary(self) -> str:
        """One line, in French, for the person reading the demande."""
        if self.outcome == "contactee":
            when = f" le {long_day(self.contacted_on)}" if self.contacted_on else ""
            return f"famille contactée{when} ({MEANS.get(self.means or '', '—')})"
        if self.outcome == "orientee":
            return f"orientée vers : {self.directed_to}"
        return f"sans suite : {NO_FOLLOW_UP.get(self.reason or '', '—')}"


FOLLOW_UP = TypeAdapter(FollowUp)


def checked(
    outcome: str,
    contacted_on: date | None,
    means: str | None,
    directed_to: str,
    reason: str | None,
) -> tuple[date | None, str | None, str, str | None]:
    if outcome not in OUTCOMES:
        raise FollowUpError("issue inconnue : famille contactée, orientée ou sans suite")
    if outcome == "contactee" and (contacted_on is None or means not in MEANS):
        raise FollowUpError("famille contactée : la date et le moyen sont demandés")
    if outcome == "orientee" and not directed_to.strip():
        raise FollowUpError("orientée : indiquez vers quel mode d'accueil ou quelle structure")
    if outcome == "sans-suite" and reason not in NO_FOLLOW_UP:
        raise FollowUpError("sans suite : choisissez une raison dans la liste")
    return contacted_on, means, directed_to.strip()[:500], reason


@dataclass(frozen=True)
class FollowUpForm:
    """What the follow-up form says (convention, art. 3-4), checked by `record`."""

    outcome: str
    contacted_on: date | None = None
    means: str | None = None
    directed_to: str = ""
    reason: str | None = None


@dataclass(frozen=True)
class FollowUps:
    """A held demande marked as treated, and its outcome recorded, by a habilitated person
    of its commune; each in one transaction with its audit event."""

    config: Config
    engine: Engine
    vault: Vault

    def _held(self, ctx: Context, numero: str, what: str) -> str:
        member = authorize_for_demande(
            self.engine, self.vault, self.config, ctx.actor, ctx.now, numero, what
        )
        with transaction(self.engine) as session:
            row = store.get(session, numero)
        if row is None or row.status not in (Status.RECEIVED, Status.QUARANTINED):
            raise NotHeld(f"{numero} : demande non détenue")
        refuse_past_retention(row, deadlines.local_date(ctx.now, self.config.timezone))
        return member.email

    def mark_treated(self, ctx: Context, numero: str) -> None:
        email, now = self._held(ctx, numero, "traitee"), ctx.now
        with transaction(self.engine) as session:
            row = store.get(session, numero, for_update=True)
            assert row is not None
            row.treated_at, row.treated_by, row.updated_at = now, email, now
            store.save(session, row)
            self.vault.trail.record(session, at=now, actor=email, action="traitee", numero=numero)

    def record(self, ctx: Context, numero: str, form: FollowUpForm) -> FollowUp:
        outcome, now = form.outcome, ctx.now
        contacted_on, means, directed_to, reason = checked(
            outcome, form.contacted_on, form.means, form.directed_to, form.reason
        )
        email = self._held(ctx, numero, "suivi")
        follow_up = FollowUp(
            outcome=outcome,
            contacted_on=contacted_on,
            means=means if outcome == "contactee" else None,
            directed_to=directed_to if outcome == "orientee" else "",
            reason=reason if outcome == "sans-suite" else None,
            recorded_by=email,
            recorded_at=now,
        )
        with transaction(self.engine) as session:
            row = store.get(session, numero, for_update=True)
            assert row is not None
            store.replace_secret(
                session, self.vault, numero, BlobKind.FOLLOWUP, FOLLOW_UP.dump_json(follow_up)
            )
            row.followup, row.updated_at = outcome, now
            store.save(session, row)
            self.vault.trail.record(
                session, at=now, actor=email, action="suivi", numero=numero,
                detail={"issue": outcome},
            )  # fmt: skip
        return follow_up
