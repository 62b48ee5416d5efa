"""The notification mailbox against a real IMAP server (a private dovecot on loopback)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from intake.convention.notices import Notices
from intake.pipeline import MailboxPass
from intake.sandbox.families import make_demande
from intake.sandbox.state import notification_email
from intake.sources.mailbox import MailboxSettings
from storage import demandes as store
from storage.db import transaction
from storage.models import OutboxMessage, Status
from tests.support import dovecot
from tests.support.feeds import SAMPLES
from tests.support.required import missing

SAMPLE = (SAMPLES / "notification-ME-2026-0000101.eml").read_bytes()
USER, PASSWORD = "accueil", "imap-secret"


@pytest.fixture
def imap() -> Iterator[dovecot.Dovecot]:
    if not dovecot.available():
        missing("dovecot (the IMAP tier)", "scripts/test-services installs dovecot-imapd")
    server = dovecot.Dovecot({USER: PASSWORD})
    server.start()
    yield server
    server.stop()


def reader(ingestor, imap, lieu_config) -> MailboxPass:
    settings = MailboxSettings("127.0.0.1", imap.port, USER, PASSWORD, use_ssl=False)
    return MailboxPass(ingestor, settings, Notices(lieu_config))


def test_a_notification_starts_the_clock_once_and_is_left_in_place(
    ingestor, engine, imap, lieu_config
):
    imap.append(USER, SAMPLE)
    first = reader(ingestor, imap, lieu_config).run()
    assert first.notified == ["ME-2026-0000101"] and first.error is None
    with transaction(engine) as session:
        row = store.get(session, "ME-2026-0000101")
        assert row.status == Status.NOTIFIED
        assert row.mail_notified_at == datetime(2026, 11, 3, 5, 2, tzinfo=UTC)
        assert row.retrieval_due == date(2026, 11, 18) and row.purge_due == date(2027, 5, 3)
    assert reader(ingestor, imap, lieu_config).run().notified == []  # a second run: nothing
    (flags,) = imap.flags(USER)
    assert b"\\Seen" not in flags and b"\\Deleted" not in flags


def test_the_retrieved_demande_keeps_the_clock_of_the_email(
    ingestor, engine, imap, lieu_config, samples
):
    # The email went out at 23:55 on 2 November, the feed says 06:02 on the 3rd: the earlier
    # one starts the clock, so the deadline is a day earlier.
    early = SAMPLE.replace(b"Tue, 03 Nov 2026 06:02:00 +0100", b"Mon, 02 Nov 2026 23:55:00 +0100")
    imap.append(USER, early)
    reader(ingestor, imap, lieu_config).run()
    list(ingestor.ingest_file(samples / "flux-69273-corbas.xml"))
    with transaction(engine) as session:
        row = store.get(session, "ME-2026-0000101")
        assert row.status == Status.RECEIVED and row.retrieval_due == date(2026, 11, 17)


def test_unreadable_emails_from_the_extranet_are_reported_once_others_ignored(
    ingestor, engine, imap, lieu_config
):
    imap.append(USER, SAMPLE.replace("Numéro de demande".encode(), b"Numero"))
    imap.append(
        USER, SAMPLE.replace(b"ne-pas-repondre@monenfant.example", b"newsletter@ailleurs.example")
    )
    first = reader(ingestor, imap, lieu_config).run()
    assert first.unreadable == 1 and first.notified == []
    reader(ingestor, imap, lieu_config).run()
    with transaction(engine) as session:
        alerts = list(session.exec(select(OutboxMessage)))
    assert [a.subject for a in alerts] == ["[intake] Courriel de l'extranet illisible"]
    assert "dsi@ville-corbas.fr" in alerts[0].recipients


def test_the_sandbox_emails_are_read_whatever_the_commune_name(ingestor, engine, imap, lieu_config):
    transmitted = datetime(2026, 11, 20, 8, 0, tzinfo=ZoneInfo("Europe/Paris"))
    demande = make_demande(random.Random(1), 42, "69029", "Bron-sur-Rhône « test »", transmitted)
    imap.append(USER, notification_email(demande, ["accueil@ville-bron.fr"]).as_bytes())
    outside = make_demande(random.Random(2), 43, "69259", "Vénissieux", transmitted)
    imap.append(USER, notification_email(outside, ["accueil@ville-bron.fr"]).as_bytes())
    ingestor = replace(ingestor, communes=frozenset({"69273", "69029"}))
    report = reader(ingestor, imap, lieu_config).run()
    assert report.notified == [demande.numero] and report.unreadable == 0
    with transaction(engine) as session:
        assert store.get(session, outside.numero) is None  # not the lieu's commune


def test_an_unreachable_mailbox_is_reported(ingestor, lieu_config):
    settings = MailboxSettings("127.0.0.1", 9, USER, PASSWORD, use_ssl=False, timeout=2)
    report = MailboxPass(ingestor, settings, Notices(lieu_config)).run()
    assert report.error and "injoignable" in report.error


def test_the_sandbox_mails_into_dovecot_and_the_worker_reads_then_retrieves(
    ingestor, engine, lieu_config, now
):
    """The issue's scenario: the extranet announces by email (LMTP into dovecot), the worker
    starts the clocks from the mailbox, then retrieves and acknowledges each demande."""
    from datetime import timedelta

    from intake.pipeline import Poller
    from intake.sandbox.server import start
    from intake.sandbox.state import Account, SandboxState
    from intake.sources.extranet import ExtranetClient, RetryPolicy

    if not dovecot.available():
        pytest.skip("IMAP tier skipped: dovecot is not installed (scripts/test-services)")
    agent = "l.feuga@ville-corbas.fr"
    imap = dovecot.Dovecot({agent: PASSWORD})
    imap.start()
    state = SandboxState(
        accounts={agent: Account(agent, "x", frozenset({"69273"}))},
        smtp=("127.0.0.1", imap.lmtp_port),
        lmtp=True,
        now=lambda: now,
    )
    server, url = start(state)
    try:
        made = sorted(d.numero for d in state.add_demandes(3, "69273", age=timedelta(days=1)))
        settings = MailboxSettings("127.0.0.1", imap.port, agent, PASSWORD, use_ssl=False)
        assert sorted(MailboxPass(ingestor, settings).run().notified) == made
        with transaction(engine) as session:
            assert {store.get(session, n).status for n in made} == {Status.NOTIFIED}
        poller = Poller(
            ingestor,
            lambda: ExtranetClient(url, agent, "x", policy=RetryPolicy()),
            ["69273"],
            agent,
            "mark",
        )
        poller.poll()
        with transaction(engine) as session:
            rows = [store.get(session, n) for n in made]
        assert {r.status for r in rows} == {Status.RECEIVED}
        assert all(r.mail_notified_at is not None and r.acknowledged_at for r in rows)
        assert sorted(state.public_state()["acknowledged"]) == made
    finally:
        server.shutdown()
        server.server_close()
        imap.stop()


@pytest.mark.parametrize("mode", ["ssl", "starttls"])
def test_the_mailbox_over_tls(ingestor, engine, lieu_config, tmp_path, mode):
    from tests.support.tls import self_signed

    if not dovecot.available():
        pytest.skip("IMAP tier skipped: dovecot is not installed (scripts/test-services)")
    certificate, key = self_signed(tmp_path)
    server = dovecot.Dovecot({USER: PASSWORD}, tls=(certificate, key))
    server.start()
    try:
        server.append(USER, SAMPLE)
        port = server.imaps_port if mode == "ssl" else server.port
        settings = MailboxSettings(
            "127.0.0.1",
            port,
            USER,
            PASSWORD,
            use_ssl=mode == "ssl",
            starttls=mode == "starttls",
            ca_bundle=certificate,
        )
        assert MailboxPass(ingestor, settings).run().notified == ["ME-2026-0000101"]
        untrusted = MailboxSettings(
            "127.0.0.1", port, USER, PASSWORD, use_ssl=mode == "ssl", starttls=mode == "starttls"
        )
        assert "certificat" in (MailboxPass(ingestor, untrusted).run().error or "")
    finally:
        server.stop()
