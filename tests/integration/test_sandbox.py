"""The sandbox extranet itself: concurrency and the notification email of the spec."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from intake.sandbox.server import start
from intake.sandbox.state import Account, SandboxState
from intake.sources.extranet import ExtranetClient, RetryPolicy
from tests.support.smtp import SmtpServer

ACCOUNT = "l.feuga@ville-corbas.fr"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_each_new_demande_is_announced_by_the_spec_email(smtp):
    sink, port = smtp.sink, smtp.port
    state = SandboxState(
        accounts={ACCOUNT: Account(ACCOUNT, "x", frozenset({"69273"}))}, smtp=("127.0.0.1", port)
    )
    (demande,) = state.add_demandes(1, "69273", age=timedelta(days=1))
    ((sender, recipients, content),) = sink.envelopes
    message = message_from_bytes(content, policy=policy.default)
    assert sender == "ne-pas-repondre@monenfant.example" and recipients == [ACCOUNT]
    assert message["Subject"] == (
        f"[mon-enfant.fr] Nouvelle demande d'accueil {demande.numero} - Corbas (69273)"
    )
    body = message.get_content()
    assert f"Numéro de demande : {demande.numero}" in body
    assert "Commune : Corbas (69273)" in body
    available = demande.transmitted_at
    assert f"Mise à disposition le : {available:%d/%m/%Y} à {available:%H:%M}" in body
    assert message["Date"].datetime == demande.notified_at


def test_several_clients_are_served_at_once():
    state = SandboxState(accounts={ACCOUNT: Account(ACCOUNT, "x", frozenset({"69273"}))})
    (demande,) = state.add_demandes(1, "69273", age=timedelta(days=1))
    server, url = start(state)
    try:
        state.faults.ack_delay = 2.0
        slow = ExtranetClient(url, ACCOUNT, "x", policy=RetryPolicy(attempts=1))
        slow.sign_in()
        hanging = threading.Thread(target=slow.acknowledge, args=(demande.numero,))
        hanging.start()
        time.sleep(0.2)
        quick = ExtranetClient(url, ACCOUNT, "x", policy=RetryPolicy(attempts=1))
        quick.sign_in()
        assert quick.feed("69273", None).changed  # answered while the other call still hangs
        assert hanging.is_alive()
        hanging.join(timeout=10)
    finally:
        server.shutdown()
        server.server_close()
