"""The outbox over a real SMTP server (aiosmtpd on loopback), and the alerts it carries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from intake.convention.notices import Notices
from notifier import outbox
from notifier.render import render
from notifier.smtp import SmtpSettings, deliver
from storage import outbox as outbox_store
from storage.db import transaction
from storage.models import DemandeRow, OutboxMessage, Status
from tests.support.smtp import SmtpServer
from tests.support.tls import self_signed

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PERSONAL = ["Bernard", "Sophie", "Nguyễn", "Lefèvre", "Marronniers", "example.org", "1234567"]


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def queue(engine, key: str, now: datetime = T0) -> None:
    rendered = render(
        "technical", lieu="CCAS de Corbas", headline="Essai <b>", detail="d", action="a"
    )
    with transaction(engine) as session:
        outbox.enqueue(
            session,
            kind="technique",
            dedupe_key=key,
            recipients=["dsi@ville.fr"],
            rendered=rendered,
            now=now,
            domain="ville-corbas.fr",
        )


def rows(engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_email_has_a_text_and_an_autoescaped_html_part(engine, smtp):
    queue(engine, "k1")
    assert len(deliver(engine, smtp.settings, T0).sent) == 1
    (message,) = smtp.parsed()
    assert message["Subject"] == "[intake] Essai <b>"
    assert message["Message-ID"] == rows(engine)[0].message_id
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Essai <b>." in text and "Essai &lt;b&gt;." in html and "<b>" not in html
    assert deliver(engine, smtp.settings, T0).sent == []  # sent once


def test_an_alert_is_queued_once(engine):
    queue(engine, "same")
    queue(engine, "same")
    assert len(rows(engine)) == 1


def test_smtp_down_then_up_loses_nothing_and_sends_once(engine, smtp):
    for key in ("a", "b", "c"):
        queue(engine, key)
    smtp.stop()
    down = deliver(engine, smtp.settings, T0)
    assert down.error and len(down.deferred) == 3 and not down.sent
    assert all(r.attempts == 1 and r.next_attempt_at > T0 for r in rows(engine))
    assert deliver(engine, smtp.settings, T0).deferred == []  # not due yet: no new attempt
    smtp.start()
    later = T0 + timedelta(minutes=5)
    assert len(deliver(engine, smtp.settings, later).sent) == 3
    assert deliver(engine, smtp.settings, later + timedelta(hours=1)).sent == []
    assert len(smtp.sink.messages) == 3
    assert {m["Message-ID"] for m in smtp.parsed()} == {r.message_id for r in rows(engine)}


def test_a_message_fails_for_good_after_bounded_attempts_and_stays_counted(engine, smtp):
    queue(engine, "doomed")
    smtp.stop()
    now = T0
    for _ in range(outbox.MAX_ATTEMPTS):
        result = deliver(engine, smtp.settings, now)
        now += timedelta(hours=7)
    assert result.failed and rows(engine)[0].failed_at is not None
    smtp.start()
    queue(engine, "fine", now)
    assert len(deliver(engine, smtp.settings, now).sent) == 1
    with transaction(engine) as session:
        assert outbox_store.counts(session) == outbox_store.Counts(queued=0, failed=1)


def _held(engine, numero: str, commune: str, due: date, status: Status = Status.QUARANTINED):
    with transaction(engine) as session:
        session.add(
            DemandeRow(
                numero=numero,
                commune=commune,
                status=status,
                refusal_code="enfant-trop-age",
                retrieval_due=due,
                transmitted_at=T0,
                purge_due=due + timedelta(days=150),
                created_at=T0,
                updated_at=T0,
            )
        )


@pytest.mark.parametrize("zone", ["Europe/Paris", "Indian/Reunion"])
def test_deadline_alerts_at_each_point_once_then_daily_across_dst(engine, lieu_config, zone):
    tz = ZoneInfo(zone)
    notices = Notices(replace(lieu_config, timezone=tz))
    due = date(2026, 10, 27)  # the Paris clocks go back on 25 October 2026
    _held(engine, "ME-2026-0000001", "69273", due)

    def alerts_on(day: date, hour: int = 23, minute: int = 30) -> int:
        at = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
        with transaction(engine) as session:
            return notices.deadline_alerts(session, at.astimezone(UTC), (5, 1))

    schedule = {
        date(2026, 10, 21): 0,
        date(2026, 10, 22): 1,
        date(2026, 10, 23): 0,
        date(2026, 10, 24): 0,
        date(2026, 10, 25): 0,
        date(2026, 10, 26): 1,
        date(2026, 10, 27): 0,
        date(2026, 10, 28): 1,
        date(2026, 10, 29): 1,
    }
    for day, expected in schedule.items():
        assert alerts_on(day) == expected, day
        assert alerts_on(day, 0, 5) == 0, day  # same local day, earlier: nothing new
    subjects = [r.subject for r in rows(engine)]
    assert subjects[0] == "[intake] À récupérer avant le 27/10/2026 : ME-2026-0000001 - Corbas"
    assert subjects[-1] == "[intake] Récupération en retard : ME-2026-0000001 - Corbas"
    assert {r.recipients for r in rows(engine)} == {"l.feuga@ville-corbas.fr"}


def test_a_late_start_sends_the_nearest_point_passed(engine, lieu_config):
    notices = Notices(lieu_config)
    _held(engine, "ME-2026-0000002", "69029", date(2026, 11, 26))  # J-3 at T0
    with transaction(engine) as session:
        assert notices.deadline_alerts(session, T0, (5, 1)) == 1
    (row,) = rows(engine)
    assert "dans 3 jours" in row.text_body and row.recipients == "accueil@ville-bron.fr"


def test_one_announcement_per_commune_and_batch_without_personal_data(
    ingestor, engine, samples, lieu_config, smtp
):
    list(ingestor.ingest_file(samples / "flux-69273-corbas.xml"))
    notices = Notices(lieu_config)
    with transaction(engine) as session:
        assert notices.announce_new(session, T0) == 1
    with transaction(engine) as session:
        assert notices.announce_new(session, T0) == 0
    deliver(engine, smtp.settings, T0)
    (message,) = smtp.parsed()
    assert message["Subject"] == "[intake] 3 nouvelles demandes - Corbas"
    assert message["To"] == "l.feuga@ville-corbas.fr"
    wire = b"".join(smtp.sink.messages).decode("utf-8", "replace")
    text = message.get_body(("plain",)).get_content()
    assert "ME-2026-0000101" in text and "intake show ME-2026-0000101" in text
    for personal in PERSONAL:
        assert personal not in wire and personal not in text


def test_starttls_and_login_when_configured(engine, tmp_path):
    import ssl

    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            logins.append((auth_data.login, auth_data.password))
            return AuthResult(success=auth_data.password == b"relais-secret")
        return AuthResult(success=False)

    relay = SmtpServer(
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=True,
    ).start()
    sink, port = relay.sink, relay.port
    try:
        queue(engine, "tls")
        settings = SmtpSettings(
            "127.0.0.1",
            port,
            "intake@ville-corbas.fr",
            starttls=True,
            username="intake",
            password="relais-secret",
            ca_bundle=cert,
            timeout=5,
        )
        assert len(deliver(engine, settings, T0).sent) == 1
        assert logins == [(b"intake", b"relais-secret")] and len(sink.messages) == 1
        queue(engine, "wrong-password")
        refused = deliver(engine, replace(settings, password="faux"), T0)
        assert refused.error and not refused.sent and len(sink.messages) == 1
    finally:
        relay.stop()
