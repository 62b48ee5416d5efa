"""The last step of the flow: announce what arrived, raise the alerts that are due, send what
the outbox holds. Never a personal datum in an email (`intake.convention.notices`
decides the texts)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from intake.clock import Clock
from intake.convention.notices import Notices
from notifier.smtp import Delivery, SmtpSettings, deliver
from storage.db import transaction


@dataclass(frozen=True)
class Notified:
    announced: int
    alerts: int
    delivery: Delivery | None  # None: no [smtp], the emails stay queued


@dataclass(frozen=True)
class NotifyPass:
    engine: Engine
    notices: Notices
    smtp: SmtpSettings | None
    clock: Clock
    alert_points: tuple[int, ...]  # days before a retrieval deadline

    def run(self) -> Notified:
        """Announce new demandes, raise the deadline alerts that are due, send what is queued."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            announced = self.notices.announce_new(session, now)
            alerts = self.notices.deadline_alerts(session, now, self.alert_points)
            alerts += self.notices.attestation_reminders(session, now)
        if self.smtp is None:
            return Notified(announced, alerts, None)
        delivery = deliver(self.engine, self.smtp, now)
        if delivery.failed:
            with transaction(self.engine) as session:
                self.notices.delivery_failed(session, now, delivery.failed)
        return Notified(announced, alerts, delivery)
