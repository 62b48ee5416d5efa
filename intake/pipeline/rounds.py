"""One retrieval round by hand (`intake poll`): the notification emails first (their clock
runs even when the extranet is down), then each habilitated person's account, then the emails
this made due. Each step is handed over as it ends, for the command to show it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from intake.pipeline.mailbox import MailboxReport
from intake.pipeline.poll import PollReport

if TYPE_CHECKING:
    from intake.pipeline.notify import Notified
    from intake.wiring import Parts


@dataclass(frozen=True)
class Pass:
    account: str
    report: PollReport


@dataclass(frozen=True)
class Retrieval:
    app: Parts

    def round(self, only: str | None = None) -> Iterator[MailboxReport | Pass | Notified]:
        """The round's steps, as they end; `ValueError` (before any step) for a commune that
        is not configured or no account retrieves, or without an [extranet] section."""
        pollers = self.app.pollers(only)

        def steps() -> Iterator[MailboxReport | Pass | Notified]:
            mail = self.app.mailbox_pass()
            if mail is not None:
                yield mail.run()
            for poller in pollers:
                yield Pass(poller.account, poller.poll())
            yield self.app.notify()

        return steps()
