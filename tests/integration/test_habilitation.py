"""Habilitation periods enforced: a person of [[staff]] signs in, reads, is emailed, signs
and has their extranet account used only from `since` to `until` (both days included, in
the lieu's time zone). Each rule is tried on the day before, the day of and the day after
each date; the communes of an account no longer used show as uncovered, and the admins
are told."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from intake.app import App
from intake.cli.common import actor
from intake.clock import FixedClock
from intake.convention import calendar, coverage
from intake.desk.access import AccessDenied, open_demande
from intake.desk.accounts import Accounts, IdentityRefused, SignInRefused
from intake.desk.dashboard import dashboard
from intake.ops.status import health
from intake.retention.signing import SignatureRefused
from storage import heartbeats
from storage.db import transaction
from storage.models import AuditEvent, OutboxMessage
from tests.support.console import AGENT, DSI, PASSWORD, console_lieu
from tests.support.lieu import NOW

EMAIL = "remplacante@ville-corbas.fr"
SINCE, UNTIL = date(2026, 12, 1), date(2026, 12, 20)
ONE = timedelta(days=1)
EXTRA = (
    f'\n[[staff]]\nname = "Remplaçante"\nemail = "{EMAIL}"\nfunction = "Adjointe"\n'
    'duties = ["recipient", "signatory"]\ncommunes = ["69273"]\n'
    f"since = {SINCE}\nuntil = {UNTIL}\n"
    '\n[extranet]\nurl = "https://extranet.example/partenaires"\n'
    f'account = "{EMAIL}"\npassword_env = "PW_REMPLACANTE"\n'
)
# The day before, of and after each date, and whether the person is habilitated that day.
DAYS = [
    (SINCE - ONE, False),
    (SINCE, True),
    (SINCE + ONE, True),
    (UNTIL - ONE, True),
    (UNTIL, True),
    (UNTIL + ONE, False),
]
CORBAS = "Corbas (69273)"
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def lieu(tmp_path, monkeypatch) -> tuple[App, FixedClock]:
    monkeypatch.setenv("PW_REMPLACANTE", "mot de passe de l'extranet")
    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock, extra=EXTRA)
    Accounts(app.config, app.engine, app.vault, clock).set_password(EMAIL, PASSWORD)
    return app, clock


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def refusals(app: App) -> list[str]:
    with transaction(app.engine) as session:
        found = session.exec(
            select(AuditEvent.detail).where(
                AuditEvent.actor == EMAIL, AuditEvent.action == "acces-refuse"
            )
        )
        return list(found)


def terminal(accounts: Accounts):  # type: ignore[no-untyped-def]
    return accounts.authenticate(EMAIL, PASSWORD, lambda: "", source="test", action="lecture")


def test_sign_in_reading_and_commands_follow_the_period(lieu):
    app, clock = lieu
    accounts = Accounts(app.config, app.engine, app.vault, clock)
    for day, habilitated in DAYS:
        clock.instant = now = at(day)
        if habilitated:
            assert accounts.sign_in(EMAIL, PASSWORD).person.email == EMAIL
            assert terminal(accounts).email == EMAIL
            opened = open_demande(app.engine, app.vault, app.config, "ME-2026-0000101", EMAIL, now)
            assert opened.row.numero == "ME-2026-0000101"
            assert actor(app.config, EMAIL, now) == EMAIL
            continue
        with pytest.raises(SignInRefused):
            accounts.sign_in(EMAIL, PASSWORD)
        with pytest.raises(IdentityRefused):
            terminal(accounts)  # `intake show --agent` and the others that ask who acts
        with pytest.raises(AccessDenied, match="habilité"):
            open_demande(app.engine, app.vault, app.config, "ME-2026-0000101", EMAIL, now)
        with pytest.raises(AccessDenied, match=r"\[\[staff\]\] (since|until)"):
            actor(app.config, EMAIL, now)  # --agent of ingest, purge
    assert len(refusals(app)) == 2 and all('"hors-periode"' in r for r in refusals(app))


def test_an_open_session_ends_at_until(lieu):
    app, clock = lieu
    accounts = Accounts(app.config, app.engine, app.vault, clock)
    clock.instant = at(UNTIL, 23) + timedelta(minutes=50)
    token = accounts.sign_in(EMAIL, PASSWORD).token
    clock.instant = at(UNTIL, 23) + timedelta(minutes=59)
    assert accounts.person(token) is not None
    clock.instant = at(UNTIL + ONE, 0)
    assert accounts.person(token) is None
    clock.instant = at(UNTIL, 23) + timedelta(minutes=59)  # the session is gone, not paused
    assert accounts.person(token) is None


def test_emails_and_signatures_follow_the_period(lieu):
    app, clock = lieu
    for day, habilitated in DAYS:
        clock.instant = now = at(day)
        assert (EMAIL in app.notices.recipients("recipient", now, "69273")) is habilitated
        assert (EMAIL in app.notices.recipients("signatory", now)) is habilitated
        assert AGENT in app.notices.recipients("signatory", now)
        with pytest.raises(SignatureRefused) as refused:
            app.attestations.record_signed(999, EMAIL, b"%PDF-1.4 pas une attestation")
        assert ("habilitation" in str(refused.value) or "à partir" in str(refused.value)) is (
            not habilitated
        )


def test_the_extranet_account_serves_only_during_the_period(lieu):
    app, clock = lieu
    with transaction(app.engine) as session:
        heartbeats.beat(session, "w", NOW, 60, True)
    agent = app.config.staff_member(AGENT)
    assert agent is not None
    for day, habilitated in DAYS:
        clock.instant = now = at(day)
        assert [p.account for p in app.pollers()] == ([EMAIL] if habilitated else [])
        assert (CORBAS in coverage.uncovered(app.config, day)) is not habilitated
        summary = health(app.engine, app.config, now).summary()
        assert (CORBAS in summary) is not habilitated
        board = dashboard(app.engine, app.config, agent, now)
        (corbas,) = [c for c in board.communes if c.insee == "69273"]
        assert corbas.uncovered is not habilitated
        items = {d.key: d for d in calendar.calendar(app.engine, app.config, day)}
        ending = items[f"habilitation-fin:{EMAIL}:{UNTIL + ONE}"]
        assert ending.day == UNTIL + ONE and CORBAS in ending.what
    clock.instant = now = at(UNTIL + ONE)
    problems = [text for _, text in health(app.engine, app.config, now).problems]
    unused = [p for p in problems if "compte extranet de Remplaçante inutilisé" in p]
    assert len(unused) == 1 and "a pris fin le 20/12/2026" in unused[0]


def test_the_admins_are_told_once_the_day_after_until(lieu):
    app, _ = lieu

    def queued() -> list[OutboxMessage]:
        with transaction(app.engine) as session:
            return list(session.exec(select(OutboxMessage)))

    key = f"habilitation-fin:{EMAIL}:{UNTIL + ONE}"
    for day in (UNTIL - ONE, UNTIL):
        calendar.remind(app.engine, app.vault, app.config, app.notices, at(day))
        assert [m for m in queued() if m.dedupe_key == key] == []
    reminders = [m.dedupe_key for m in queued() if m.dedupe_key.startswith(f"calendrier:{key}")]
    assert reminders  # the calendar's reminders before the day, to the admins
    for day in (UNTIL + ONE, UNTIL + 2 * ONE):
        calendar.remind(app.engine, app.vault, app.config, app.notices, at(day))
    (alert,) = [m for m in queued() if m.dedupe_key == key]
    assert DSI in alert.recipients and EMAIL not in alert.recipients
    assert CORBAS in alert.text_body and "20/12/2026" in alert.text_body
