"""The convention's calendar: staff changes told to the Caf within 15 days, an account's
45-day lock, the tacit renewal and its notice; reminders 7 and 1 days before, once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from intake import config as configuration
from intake.convention import annexe1
from intake.convention.calendar import calendar, remind
from intake.convention.notices import Notices
from storage import communes
from storage.db import transaction
from storage.models import OutboxMessage
from tests.support.lieu import PARIS
from tests.support.poppler import poppler


def lieu(lieu_config, extra: str = ""):
    path = lieu_config.path
    path.write_text(
        path.read_text()
        + '\n[[staff]]\nname = "Nouvelle Recrue"\nemail = "recrue@ville-corbas.fr"\n'
        'duties = ["recipient"]\nsince = 2026-12-01\n'
        '\n[[staff]]\nname = "Ancien Agent"\nemail = "ancien@ville-corbas.fr"\n'
        'duties = ["recipient"]\nuntil = 2026-11-20\n' + extra,
        encoding="utf-8",
    )
    return configuration.load(path, {})


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)


def sent(engine) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage)))


def test_what_is_due(engine, lieu_config):
    config = lieu(
        lieu_config,
        '\n[extranet]\nurl = "https://extranet.example/p"\naccount = "l.feuga@ville-corbas.fr"\n'
        'password_env = "PW"\n',
    )
    with transaction(engine) as session:
        communes.record_success(session, "69273", at(date(2026, 11, 20)), None, tz=PARIS)
    items = {i.key.split(":")[0]: i.day for i in calendar(engine, config, date(2026, 12, 2))}
    assert items == {
        "arrivee": date(2026, 12, 16),  # 1 December + 15 days
        "depart": date(2026, 12, 5),  # 20 November + 15 days
        "compte": date(2027, 1, 4),  # 20 November + 45 days
        "renouvellement": date(2027, 1, 15),  # signed 15 January 2026
        "denonciation": date(2026, 10, 15),  # three months before
    }


def test_reminders_seven_and_one_day_before_once_each(engine, vault, lieu_config):
    config = lieu(lieu_config)
    notices = Notices(config)
    remind(engine, vault, config, notices, at(date(2026, 12, 9)))  # 7 days before the 16th
    remind(engine, vault, config, notices, at(date(2026, 12, 9)))
    remind(engine, vault, config, notices, at(date(2026, 12, 15)))  # 1 day before
    subjects = [m.subject for m in sent(engine) if m.kind == "technique"]
    about_the_16th = [s for s in subjects if "16/12/2026" in s]
    assert len(about_the_16th) == 2
    assert any("dans 7 jours" in s for s in about_the_16th)
    assert any("dans 1 jour)" in s for s in about_the_16th)


def test_the_annexe_goes_out_once_per_staff_list(engine, vault, lieu_config, tmp_path):
    config = lieu(lieu_config, '\n[caf]\nemail = "partenaires@caf69.fr"\n')
    notices = Notices(config)
    remind(engine, vault, config, notices, at(date(2026, 12, 2)))  # first seen: recorded
    assert [m for m in sent(engine) if m.kind == "annexe1"] == []
    path = lieu_config.path
    path.write_text(
        path.read_text() + '\n[[staff]]\nname = "Troisième"\nemail = "trois@ville-corbas.fr"\n'
        'duties = ["recipient"]\nsince = 2026-12-03\n',
        encoding="utf-8",
    )
    config = configuration.load(path, {})
    notices = Notices(config)
    remind(engine, vault, config, notices, at(date(2026, 12, 3)))  # the list changed
    remind(engine, vault, config, notices, at(date(2026, 12, 4)))  # same list, another day
    annexes = [m for m in sent(engine) if m.kind == "annexe1"]
    assert len(annexes) == 1 and "partenaires@caf69.fr" in annexes[0].recipients
    assert "Nouvelle Recrue" in annexes[0].text_body and "Ancien Agent" in annexes[0].text_body
    assert "Troisième" in annexes[0].text_body
    text = annexe1.text(config, date(2026, 12, 2))
    assert "  - Nouvelle Recrue <recrue@ville-corbas.fr>" in text
    assert "Personnes dont l'habilitation a pris fin" in text
    path = tmp_path / "annexe1.pdf"
    path.write_bytes(annexe1.pdf(config, date(2026, 12, 2)))
    assert "Nouvelle Recrue" in poppler("pdftotext", path, "-")
    before = annexe1.text(config, date(2026, 11, 30))
    assert "Nouvelle Recrue" not in before  # not yet habilitated then


def test_once_a_day_alerts_follow_the_lieus_day(engine, lieu_config):
    """Two refusals at 23:30 and 00:30 in Paris are two days (the same UTC day); two at
    00:30 and 23:30 the same Paris day are one alert (two UTC days)."""
    notices = Notices(lieu_config)
    with transaction(engine) as session:
        moments = (
            datetime(2026, 11, 2, 22, 30, tzinfo=UTC),  # 2 November, 23:30 in Paris
            datetime(2026, 11, 2, 23, 30, tzinfo=UTC),  # 3 November, 00:30
            datetime(2026, 11, 3, 22, 30, tzinfo=UTC),  # 3 November, 23:30
        )
        queued = [notices.commune_refused(session, m, "69029") for m in moments]
    assert queued == [True, True, False]
    keys = sorted(m.dedupe_key for m in sent(engine))
    assert keys == [
        "commune-non-habilitee:69029:2026-11-02",
        "commune-non-habilitee:69029:2026-11-03",
    ]
