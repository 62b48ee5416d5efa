"""What the emails carry: the attestation to sign attached, base64 in 76-character lines,
French month names with their elision."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import select

from intake.clock import FixedClock
from intake.french import of_month
from intake.reports import month_name
from notifier.smtp import attachments_of, build
from storage.db import transaction
from storage.models import OutboxMessage
from tests.support.console import console_lieu
from tests.support.feeds import PERSONAL
from tests.support.lieu import NOW


def test_month_names_with_their_elision():
    assert [of_month(month_name(date(2027, m, 1))) for m in (4, 5, 8, 10)] == [
        "d'avril 2027",
        "de mai 2027",
        "d'août 2027",
        "d'octobre 2027",
    ]


def test_the_signatory_receives_the_attestation_attached(tmp_path):
    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert app.retention("système:test").purge().attestation == 1
    app.notify()
    with transaction(app.engine) as session:
        (message,) = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "attestation"))
    email = build(
        message, "intake@ville-corbas.fr", clock.now(), attachments_of(app.engine, message)
    )
    (attached,) = list(email.iter_attachments())
    assert attached.get_filename() == "attestation-1.pdf"
    assert attached.get_content().startswith(b"%PDF")
    raw = email.as_bytes()
    body = raw.split(b"attestation-1.pdf", 1)[1]
    lines = [line for line in body.splitlines() if line and not line.startswith(b"--")]
    assert max(len(line) for line in lines[2:]) <= 76


def test_the_monthly_report_email_says_d_avril(tmp_path):
    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)  # the trail begins in November 2026
    clock.instant = datetime(2027, 5, 2, 8, 0, tzinfo=NOW.tzinfo)
    made = app.monthly_reports()  # November's to April's: the service was off since
    assert made[-1].report.month == "2027-04"
    with transaction(app.engine) as session:
        (message,) = session.exec(
            select(OutboxMessage).where(OutboxMessage.report_month == "2027-04")
        )
    assert "Rapport mensuel d'avril 2027" in message.subject
    assert "Le rapport mensuel d'avril 2027 est joint" in message.text_body


def test_an_altered_trail_found_at_night_alerts_the_admins_once_a_day(tmp_path):
    from sqlalchemy import text

    from intake.ops.duties import Duties

    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)
    duties = Duties(app)
    duties.guarded("verification")  # intact: nothing to say
    with app.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE action = 'reception'"))
    duties.guarded("verification")
    duties.guarded("verification")  # the same day: one email
    with transaction(app.engine) as session:
        alerts = [
            m for m in session.exec(select(OutboxMessage)) if "Journal d'audit altéré" in m.subject
        ]
    assert len(alerts) == 1
    (alert,) = alerts
    assert "Projet de notification à la Caf" in alert.text_body
    assert "ME-2026-0000101" in alert.text_body  # the demandes left without their events
    assert not any(p in alert.text_body + alert.html_body for p in PERSONAL)


def test_a_signed_attestation_goes_to_the_caf_with_its_pdf(tmp_path):
    from datetime import timedelta

    from intake.sandbox.certificates import signatory

    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock, extra='\n[caf]\nemail = "partenaires@caf69.fr"\n')
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    number = app.retention("système:test").purge().attestation
    cert = signatory("Laetitia Feuga", "l.feuga@ville-corbas.fr", clock.now() - timedelta(days=9))
    app.attestations.sign(number, "l.feuga@ville-corbas.fr", cert.pkcs12, "demo")
    with transaction(app.engine) as session:
        (message,) = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "attestation-caf")
        )
    assert message.recipients == "partenaires@caf69.fr"
    assert "Attestation de destruction n° 1" in message.subject
    email = build(
        message, "intake@ville-corbas.fr", clock.now(), attachments_of(app.engine, message)
    )
    (attached,) = list(email.iter_attachments())
    assert b"/ByteRange" in attached.get_content()  # the signed copy
    assert not any(p in message.text_body for p in PERSONAL)


def test_the_attestation_lists_the_copies_that_left_the_vault(tmp_path):
    from intake.desk.access import open_demande

    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)
    agent = "l.feuga@ville-corbas.fr"
    open_demande(app.engine, app.vault, app.config, "ME-2026-0000102", agent, NOW, with_pdf=True)
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    number = app.retention("système:test").purge().attestation
    with transaction(app.engine) as session:
        from storage import attestations as attestation_store

        attestation = attestation_store.get(session, number)
    assert '"copies":[{"le":"2026-11-23","nature":"PDF","numero":"ME-2026-0000102"' in (
        attestation.manifest
    )
    path = tmp_path / "a.pdf"
    path.write_bytes(attestation.pdf)
    from tests.support.poppler import poppler

    text = " ".join(poppler("pdftotext", path, "-").split())
    assert "Copies sorties du coffre" in text and "confirme que ces copies" in text
    assert "ME-2026-0000102 — PDF le 23/11/2026 par l.feuga@ville-corbas.fr" in text
