"""A real SMTP server on loopback for the tests (aiosmtpd), that can be stopped and restarted."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from intake.sandbox.server import free_port
from notifier.smtp import SmtpSettings


class Sink:
    """aiosmtpd handler keeping what it is sent: (sender, recipients, raw content)."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    @property
    def messages(self) -> list[bytes]:
        return [content for _, _, content in self.envelopes]


class SmtpServer:
    def __init__(self, **options: Any) -> None:
        self.sink, self.port, self.options = Sink(), free_port(), options
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(
            self.sink, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def settings(self) -> SmtpSettings:
        return SmtpSettings("127.0.0.1", self.port, "intake@ville-corbas.fr", timeout=5)

    def parsed(self) -> list[EmailMessage]:
        return [
            message_from_bytes(m, policy=policy.default)  # type: ignore[misc]
            for m in self.sink.messages
        ]
