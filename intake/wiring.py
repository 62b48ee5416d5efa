"""What the services are built from: the composition root's parts (`intake.app.App`), named
as a protocol so that no service imports the root that builds it (no import cycle)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from intake.clock import Clock
    from intake.config import Config
    from intake.feed import FeedSchema
    from intake.pipeline import Ingestor, MailboxPass, Poller
    from intake.pipeline.notify import Notified
    from intake.retention import Retention
    from storage.vault import Vault


class Parts(Protocol):
    config: Config
    clock: Clock

    @property
    def engine(self) -> Engine: ...

    @property
    def vault(self) -> Vault: ...

    @property
    def schema(self) -> FeedSchema: ...

    def ingestor(self, actor: str) -> Ingestor: ...

    def pollers(
        self, only: str | None = None, stop: threading.Event | None = None
    ) -> list[Poller]: ...

    def mailbox_pass(self) -> MailboxPass | None: ...

    def notify(self) -> Notified: ...

    def retention(self, actor: str) -> Retention: ...
