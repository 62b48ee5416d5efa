"""Reading and exporting demandes in full: only for an identified habilitated agent, and
every reading recorded in the audit trail (who, what, when; never the content)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from intake.config import Config, StaffSection
from intake.convention import deadlines
from intake.errors import IntakeError
from intake.feed.model import RECORD, Demande
from intake.habilitation import habilitated, outside_period
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault


class AccessDenied(IntakeError):
    pass


class NotHeld(IntakeError):
    pass


class PastRetention(NotHeld):
    """Held past its purge day: a purge is due and nobody may read it any more."""


def refuse_past_retention(row: DemandeRow, today: date) -> None:
    if row.purge_due is not None and today >= row.purge_due:
        raise PastRetention(
            f"{row.numero} : la durée de conservation a pris fin le {row.purge_due:%d/%m/%Y} ; "
            "ses données ne sont plus lisibles et doivent être détruites : une destruction est "
            "due (intake purge)"
        )


def record_refusal(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    now: datetime,
    *,
    action: str,
    motif: str,
    numero: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """A refused access is an event too (`acces-refuse`: what was asked, why it was refused).
    A claimed address outside [[staff]] is not written down (it may be anyone's): the event
    says only that it was not a habilitated person."""
    member = config.staff_member(agent)
    actor = member.email if member is not None else "inconnu:non-habilite"
    if member is None:
        why = "hors-staff"
    else:
        why = motif if habilitated(member, now, config.timezone) else "hors-periode"
    with transaction(engine) as session:
        vault.trail.record(
            session,
            at=now,
            actor=actor,
            action="acces-refuse",
            numero=numero,
            detail={"demande": action, "motif": why} | (detail or {}),
        )


def _audit_refusal(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    now: datetime,
    numero: str | None,
    action: str,
) -> None:
    record_refusal(engine, vault, config, agent, now, action=action, motif="commune", numero=numero)


def sees_every_commune(member: StaffSection) -> bool:
    """Signatories and admins answer for the whole lieu: they see every attestation and
    every report, whatever their communes."""
    return not {"admin", "signatory"}.isdisjoint(member.duties)


def authorize_audited(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    now: datetime,
    *,
    commune: str | None = None,
    numero: str | None = None,
    action: str,
) -> StaffSection:
    try:
        return authorize(config, agent, now, commune)
    except AccessDenied:
        _audit_refusal(engine, vault, config, agent, now, numero, action)
        raise


def authorize(
    config: Config, email: str, now: datetime, commune: str | None = None
) -> StaffSection:
    """The person of [[staff]], habilitated at `now`, for the commune if one is named."""
    member = config.staff_member(email)
    if member is None:
        raise AccessDenied(
            f"{email} n'est pas une personne habilitée de la configuration ([[staff]])"
        )
    if (why := outside_period(member, now, config.timezone)) is not None:
        raise AccessDenied(why)
    if commune is not None and commune not in config.staff_communes(member):
        raise AccessDenied(f"{member.email} n'est pas habilité(e) pour la commune {commune}")
    return member


def authorize_for_demande(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    now: datetime,
    numero: str,
    action: str,
) -> StaffSection:
    """The agent, if habilitated for the demande's commune; a refusal is audited first. A
    numero that is not held is refused the same way to someone outside [[staff]]."""
    with transaction(engine) as session:
        row = store.get(session, numero)
    if row is None:
        authorize_audited(engine, vault, config, agent, now, numero=numero, action=action)
        raise NotHeld(f"{numero} : aucune demande de ce numéro n'est détenue")
    return authorize_audited(
        engine, vault, config, agent, now, commune=row.commune, numero=numero, action=action
    )


@dataclass(frozen=True)
class Opened:
    row: DemandeRow
    demande: Demande | None  # None for a quarantined demande (only its XML is kept)
    quarantine_xml: bytes | None
    pdf: bytes | None
    follow_up: bytes | None = None  # the lieu's follow-up, JSON (intake.desk.followup)
    family_emails: bytes | None = None  # the emails sent to the family, JSON (intake.family)


def open_demande(
    engine: Engine,
    vault: Vault,
    config: Config,
    numero: str,
    agent: str,
    now: datetime,
    *,
    with_pdf: bool = False,
) -> Opened:
    member = authorize_for_demande(engine, vault, config, agent, now, numero, "lecture")
    with transaction(engine) as session:
        row = store.get(session, numero)
        if row is None:
            raise NotHeld(f"{numero} : aucune demande de ce numéro n'est détenue")
        if row.status == Status.PURGED:
            raise NotHeld(
                f"{numero} : données détruites le {row.purged_at:%d/%m/%Y} ({row.purge_reason})"
                if row.purged_at
                else f"{numero} : données détruites"
            )
        if row.status == Status.NOTIFIED:
            raise NotHeld(f"{numero} : annoncée par courriel mais pas encore récupérée")
        refuse_past_retention(row, deadlines.local_date(now, config.timezone))
        record = store.read_secret(session, vault, numero, BlobKind.RECORD)
        quarantine = store.read_secret(session, vault, numero, BlobKind.QUARANTINE_XML)
        pdf = None
        if with_pdf:
            pdf = store.read_secret(session, vault, numero, BlobKind.PDF) or _declared_pdf(
                quarantine, store.read_secret(session, vault, numero, BlobKind.QUARANTINE_PDF)
            )
        vault.trail.record(
            session,
            at=now,
            actor=member.email,
            action="lecture",
            numero=numero,
            detail={"pdf": bool(with_pdf and pdf is not None)},
        )
        follow_up = store.read_secret(session, vault, numero, BlobKind.FOLLOWUP)
        family_emails = store.read_secret(session, vault, numero, BlobKind.FAMILY_EMAILS)
        demande = RECORD.validate_json(record) if record is not None else None
        return Opened(row, demande, quarantine, pdf, follow_up, family_emails)


# The declared SHA-256 of a quarantined copy's PDF, read from its XML without parsing it again.
_DECLARED_SHA256 = re.compile(
    rb"<(?:[\w.-]+:)?documentPdf\b[^>]*?\bsha256=[\"']([0-9a-f]{64})[\"']"
)


def _declared_pdf(quarantine_xml: bytes | None, pdf: bytes | None) -> bytes | None:
    """A quarantined PDF, only if it is the one its copy declares. Earlier versions kept bytes
    of the declared size whatever their hash (the master key behind a link, say): never
    served."""
    if pdf is None or quarantine_xml is None:
        return None
    declared = _DECLARED_SHA256.search(quarantine_xml)
    if declared is None or hashlib.sha256(pdf).hexdigest().encode() != declared.group(1):
        return None
    return pdf
