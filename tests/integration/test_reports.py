"""The monthly report's figures, read back from its CSV and from its PDF turned into text."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime

import pytest

from intake.reports import Reports
from storage import communes as communes_store
from storage.db import transaction
from storage.models import Status
from tests.support.lieu import PARIS
from tests.support.poppler import poppler
from tests.support.retention import hold


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.fixture
def october(engine, vault):
    """Corbas: 3 retrieved in October (delays 2, 5 and 20 days: one late), one still owed past
    its deadline, one destroyed in October; Bron: nothing. The extranet: 3 polls of 4 answered."""
    sent = [("2026-10-01T08:00:00+02:00", "2026-10-03T09:00:00+02:00"),
            ("2026-10-05T08:00:00+02:00", "2026-10-10T09:00:00+02:00"),
            ("2026-10-06T08:00:00+02:00", "2026-10-26T09:00:00+02:00")]  # fmt: skip
    for i, (transmitted, retrieved) in enumerate(sent, 1):
        hold(engine, vault, f"ME-2026-000000{i}", at(transmitted), PARIS, at=at(retrieved))
    owed = hold(engine, vault, "ME-2026-0000004", at("2026-10-02T08:00:00+02:00"), PARIS,
                status=Status.NOTIFIED)  # fmt: skip
    assert owed.retrieval_due == date(2026, 10, 17)
    gone = hold(engine, vault, "ME-2026-0000005", at("2026-04-02T08:00:00+02:00"), PARIS)
    with transaction(engine) as session:
        gone.status, gone.purged_at = Status.PURGED, at("2026-10-01T02:30:00+02:00")
        session.add(gone)
        for hour, ok in ((1, True), (2, False), (3, True), (4, True)):
            moment = datetime(2026, 10, 12, hour, tzinfo=UTC)
            if ok:
                communes_store.record_success(session, "69273", moment, None, tz=PARIS)
            else:
                communes_store.record_error(
                    session, "69273", moment, "injoignable", "panne", tz=PARIS
                )
    return engine


def test_the_report_counts_right(october, lieu_config, tmp_path):
    pdf, csv_bytes = Reports(lieu_config, october).make(
        date(2026, 10, 1), at("2026-11-01T06:00:00+01:00")
    )
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig")), delimiter=";"))
    corbas = next(r for r in rows if r["Code INSEE"] == "69273")
    assert corbas["Mois"] == "octobre 2026"
    assert (corbas["Reçues"], corbas["Dans le délai"], corbas["Part dans le délai (%)"]) == (
        "3",
        "2",
        "66,7",  # comma decimals a French spreadsheet reads as numbers; never « 0,667 »
    )
    assert (corbas["Délai médian (jours)"], corbas["Délai maximal (jours)"]) == ("5", "20")
    assert corbas["Numéros en retard"] == "ME-2026-0000003 ME-2026-0000004"
    availability = corbas["Disponibilité de l’extranet (%)"]
    assert (corbas["Détruites"], availability) == ("1", "75")
    bron = next(r for r in rows if r["Code INSEE"] == "69029")
    assert (bron["Reçues"], bron["En retard"], bron["Disponibilité de l’extranet (%)"]) == (
        "0",
        "0",
        "",
    )
    # No figure with three digits after its comma, which a reader takes for a thousand.
    assert not re.search(r"\d,\d{3}\b", csv_bytes.decode("utf-8-sig"))

    (tmp_path / "r.pdf").write_bytes(pdf)
    text = poppler("pdftotext", "-layout", tmp_path / "r.pdf", "-")
    assert "Rapport mensuel - octobre 2026" in text
    line = next(line.split() for line in text.splitlines() if line.strip().startswith("Corbas"))
    assert line[:10] == ["Corbas", "69273", "3", "2", "67", "%", "5", "20", "2", "1"]
    assert "75 %" in " ".join(line)
    assert "Corbas (69273) : ME-2026-0000003, ME-2026-0000004" in text
    for legend in (
        "demandes récupérées ce jour-là",
        "délai médian de récupération",
        "jour du mois",
    ):
        assert legend in text  # one legend for the two scales, titled axes


def test_polls_count_in_the_lieus_month_not_utcs(engine, lieu_config):
    """00:30 in Paris on 1 November is 23:30 UTC on 31 October: November's poll."""
    with transaction(engine) as session:
        for moment, ok in (
            (at("2026-10-01T00:30:00+02:00"), True),  # 30 September 22:30 UTC: October's
            (at("2026-11-01T00:30:00+01:00"), False),  # 31 October 23:30 UTC: November's
        ):
            if ok:
                communes_store.record_success(session, "69273", moment, None, tz=PARIS)
            else:
                communes_store.record_error(session, "69273", moment, "http-500", "x", tz=PARIS)
    _, csv_bytes = Reports(lieu_config, engine).make(
        date(2026, 10, 1), at("2026-11-01T06:00:00+01:00")
    )
    rows = csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig")), delimiter=";")
    corbas = next(r for r in rows if r["Code INSEE"] == "69273")
    assert corbas["Disponibilité de l’extranet (%)"] == "100"  # one poll, answered


def test_the_months_missed_while_down_are_reported_at_the_next_start(tmp_path, caplog):
    """Running since November, down from late November to 10 February: November's,
    December's and January's reports are made at the restart, each emailed once, saying it
    comes late; March's, made on 1 March, says nothing of a delay."""
    from sqlmodel import select

    from intake.clock import FixedClock
    from intake.ops.duties import Duties
    from storage.models import OutboxMessage
    from tests.support.console import console_lieu
    from tests.support.lieu import NOW

    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)  # the trail begins in November 2026
    clock.instant = at("2027-02-10T09:00:00+01:00")
    with caplog.at_level("INFO", logger="intake.daemon"):
        Duties(app).guarded("rapport")
    assert [month for month, _ in app.reports.stored()] == ["2027-01", "2026-12", "2026-11"]
    assert "rapport mensuel 2026-11 établi en rattrapage : dû le 01/12/2026" in caplog.text
    assert "rapport mensuel 2027-01 établi en rattrapage : dû le 01/02/2027" in caplog.text
    with transaction(app.engine) as session:
        emails = list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "rapport")))
    assert sorted(m.report_month or "" for m in emails) == ["2026-11", "2026-12", "2027-01"]
    for email in emails:
        assert "Rapport établi en retard, le 10/02/2027" in email.text_body
    assert app.monthly_reports() == []  # once

    clock.instant = at("2027-03-01T06:00:00+01:00")  # on time
    (february,) = app.monthly_reports()
    assert (february.report.month, february.late_since) == ("2027-02", None)
    with transaction(app.engine) as session:
        email = session.exec(
            select(OutboxMessage).where(OutboxMessage.report_month == "2027-02")
        ).one()
    assert "établi en retard" not in email.text_body
