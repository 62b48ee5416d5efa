"""Who sees which kept report. A monthly report has one line per commune of the lieu: an
agent gets the CSV's lines of her communes, and the PDF only if it covers none but hers;
signatories and admins, who answer for the lieu, get both whole. A refusal is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from intake.clock import Clock
from intake.config import Config, StaffSection
from intake.desk.access import AccessDenied, authorize_audited, record_refusal, sees_every_commune
from intake.reports.csv import communes_of, only_communes
from storage import reports as report_store
from storage.db import transaction
from storage.vault import Vault


@dataclass(frozen=True)
class KeptReport:
    month: str  # AAAA-MM
    made_at: datetime
    whole: bool  # the PDF is hers to open (it covers no other commune)


@dataclass(frozen=True)
class ReportAccess:
    config: Config
    engine: Engine
    vault: Vault
    clock: Clock

    def _member(self, agent: str) -> StaffSection:
        return authorize_audited(
            self.engine, self.vault, self.config, agent, self.clock.now(), action="rapport"
        )

    def _whole(self, member: StaffSection, csv_bytes: bytes) -> bool:
        theirs = self.config.staff_communes(member)
        return sees_every_commune(member) or communes_of(csv_bytes) <= theirs

    def kept(self, agent: str) -> list[KeptReport]:
        """The months whose report is kept, newest first (every agent sees that one is)."""
        member = self._member(agent)
        shown = []
        with transaction(self.engine) as session:
            for month, made in report_store.kept(session):
                report = None if sees_every_commune(member) else report_store.get(session, month)
                whole = report is None or self._whole(member, report.csv)
                shown.append(KeptReport(month, made, whole))
        return shown

    def file(self, agent: str, month: str, kind: str) -> bytes | None:
        """A kept report's PDF or CSV as this agent may have it; None when there is none."""
        member = self._member(agent)
        with transaction(self.engine) as session:
            report = report_store.get(session, month)
        if report is None:
            return None
        if self._whole(member, report.csv):
            return report.pdf if kind == "pdf" else report.csv
        if kind == "csv":
            return only_communes(report.csv, self.config.staff_communes(member))
        record_refusal(
            self.engine, self.vault, self.config, agent, self.clock.now(),
            action="rapport", motif="commune", detail={"mois": month},
        )  # fmt: skip
        raise AccessDenied(
            f"{member.email} : le PDF du rapport de {month} couvre aussi d'autres communes que "
            "les vôtres ; téléchargez son CSV (les lignes de vos communes), ou demandez le PDF "
            "à un signataire ou un administrateur"
        )
