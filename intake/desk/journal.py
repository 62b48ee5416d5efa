"""The audit trail as admins read it (`/journal`) and hand it to the Caf (CSV): who read,
exported, signed or was refused, when. Events carry no personal data; reading the journal
is itself reserved to admins and a refused attempt is recorded."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from intake.config import Config, StaffSection
from intake.context import Context
from intake.convention import deadlines
from intake.desk.access import AccessDenied, authorize_audited
from intake.desk.exports import safe_cell
from intake.desk.journal_text import sentence
from intake.vocabulary import ACTIONS
from storage import audit
from storage.db import transaction
from storage.models import AuditEvent
from storage.vault import Vault

PAGE_SIZE = 100


@dataclass(frozen=True)
class JournalFilters:
    actor: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class JournalPage:
    events: list[AuditEvent]
    total: int
    number: int
    pages: int


def _bounds(filters: JournalFilters, config: Config) -> tuple[datetime | None, datetime | None]:
    return deadlines.day_range(filters.since, filters.until, config.timezone)


@dataclass(frozen=True)
class Journal:
    """The audit trail for admins only: a refused reading is recorded."""

    config: Config
    engine: Engine
    vault: Vault

    def _admin(self, ctx: Context) -> StaffSection:
        member = authorize_audited(
            self.engine, self.vault, self.config, ctx.actor, ctx.now, action="journal"
        )
        if "admin" not in member.duties:
            with transaction(self.engine) as session:
                self.vault.trail.record(
                    session,
                    at=ctx.now,
                    actor=member.email,
                    action="acces-refuse",
                    detail={"demande": "journal", "motif": "role"},
                )
            raise AccessDenied(f"{member.email} : le journal est réservé au rôle « admin »")
        return member

    def page(self, ctx: Context, filters: JournalFilters, number: int) -> JournalPage:
        self._admin(ctx)
        since, until = _bounds(filters, self.config)
        number = max(1, number)
        with transaction(self.engine) as session:
            events, total = audit.events(
                session,
                actor=filters.actor,
                action=filters.action,
                since=since,
                until=until,
                offset=(number - 1) * PAGE_SIZE,
                limit=PAGE_SIZE,
            )
        return JournalPage(events, total, number, max(1, -(-total // PAGE_SIZE)))

    def csv(self, ctx: Context, filters: JournalFilters) -> bytes:
        """The filtered journal for a Caf request: UTF-8 with BOM, « ; », French headers."""
        member = self._admin(ctx)
        since, until = _bounds(filters, self.config)
        with transaction(self.engine) as session:
            events, _ = audit.events(
                session,
                actor=filters.actor,
                action=filters.action,
                since=since,
                until=until,
                limit=None,
            )
            self.vault.trail.record(
                session,
                at=ctx.now,
                actor=member.email,
                action="export-journal",
                detail={"evenements": len(events)},
            )
        return _csv(events, self.config)


def _csv(events: list[AuditEvent], config: Config) -> bytes:
    stream = io.StringIO()
    writer = csv.writer(stream, delimiter=";")
    writer.writerow(
        ["N°", "Date et heure", "Personne", "Action", "Demande", "Événement", "Empreinte"]
    )
    tz = config.timezone
    names = staff_names(config)
    for event in events:
        writer.writerow(
            safe_cell(value)
            for value in (
                event.seq,
                event.at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"),
                event.actor,
                ACTIONS.get(event.action, event.action),
                event.numero or "",
                describe(event, names),
                event.hash,
            )
        )
    return ("\ufeff" + stream.getvalue()).encode("utf-8")


def staff_names(config: Config) -> dict[str, str]:
    """Each habilitated person's name by address: the journal speaks of people, not logins."""
    return {m.email: m.name for m in config.raw.staff}


def describe(event: AuditEvent, names: dict[str, str]) -> str:
    """« Laetitia Feuga a lu la demande ME-2026-0000101 »."""
    return sentence(event.actor, event.action, event.numero, event.detail, names)
