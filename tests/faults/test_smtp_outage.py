"""The SMTP server down for the length of a whole `intake run`, then back: every email is
delivered once, after recovery, by the next run."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from email import message_from_bytes, policy

from tests.e2e.conftest import Intake
from tests.e2e.test_poll import configure
from tests.e2e.test_run import start_daemon, stop, wait_for, with_smtp
from tests.support.smtp import SmtpServer


def outbox(intake: Intake) -> list[tuple[str, int, str | None]]:
    with sqlite3.connect(intake.folder / "data" / "intake.db", timeout=10) as db:
        return db.execute("SELECT message_id, attempts, sent_at FROM outbox_message").fetchall()


def test_emails_wait_for_the_relay_and_go_once(initialised: Intake, sandbox):
    state, url = sandbox
    configure(initialised, url)
    smtp = SmtpServer()  # not started: the relay is down
    with_smtp(initialised, smtp.port)
    made = {d.numero for d in state.add_demandes(5, age=timedelta(days=1))}
    state.add_demandes(2, age=timedelta(days=14))  # due tomorrow: deadline alerts too

    first = start_daemon(initialised)
    try:
        assert wait_for(lambda: made <= set(state.public_state()["acknowledged"]))
        assert wait_for(lambda: bool(outbox(initialised)) and all(
            attempts >= 1 for _, attempts, _ in outbox(initialised)))  # fmt: skip
    finally:
        assert stop(first)[0] == 0
    assert all(sent is None for _, _, sent in outbox(initialised))

    smtp.start()
    try:
        initialised.env["INTAKE_TEST_NOW"] = "2026-11-23T12:00:00+00:00"  # retries are due
        second = start_daemon(initialised)
        try:
            assert wait_for(lambda: all(sent for _, _, sent in outbox(initialised)), 90)
        finally:
            assert stop(second)[0] == 0
        ids = [
            str(message_from_bytes(m, policy=policy.default)["Message-ID"])
            for m in smtp.sink.messages
        ]
        assert sorted(ids) == sorted(mid for mid, _, _ in outbox(initialised))  # each once
    finally:
        smtp.stop()
