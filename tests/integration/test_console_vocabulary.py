"""One French vocabulary: no console page and no export shows a raw code of the feed or of
the product, an English word of Python's, or an ISO date; the journal tells sentences; the
XLSX export keeps codes as text and dates as dates."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from intake import french
from intake.app import App
from intake.clock import FixedClock
from intake.reports import previous_month
from storage.db import transaction
from storage.models import DemandeRow, Status
from tests.support.console import AGENT, CSRF, DSI, console_lieu, signed_in_client
from tests.support.lieu import NOW
from tests.support.vocabulary import CODED, RAW_CODES, coded_feed, raw_words, visible_text

NUMERO = "ME-2026-0000102"


@pytest.fixture
def lieu(tmp_path: Path) -> App:
    """The console's lieu, plus a demande with every kind of code, read, treated and followed
    up; a destroyed one; last month's report."""
    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)
    list(app.ingestor(AGENT).ingest_file(coded_feed(tmp_path / "codes")))
    with transaction(app.engine) as session:
        destroyed = session.get(DemandeRow, "ME-2026-0000103")
        destroyed.status, destroyed.purged_at = Status.PURGED, NOW
        session.add(destroyed)
    app.reports.store_once(previous_month(NOW.date()), clock.now())
    return app


def _token(web: TestClient, path: str = "/") -> str:
    return CSRF.search(web.get(path).text).group(1)


def _worked(app: App) -> TestClient:
    """The agent's day: reads, treats, follows up, exports in both formats."""
    web = signed_in_client(app, AGENT)
    token = _token(web)
    web.get(f"/demandes/{CODED}/pdf")
    web.post(f"/demandes/{CODED}/traitee", data={"csrf": token})
    follow = {"csrf": token, "issue": "contactee", "date_contact": "2026-11-20"}
    web.post(f"/demandes/{CODED}/suivi", data=follow | {"moyen": "telephone"})
    web.post(f"/demandes/{NUMERO}/suivi", data={"csrf": token, "issue": "sans-suite"})  # refused
    web.post(
        f"/demandes/{NUMERO}/suivi",
        data={"csrf": token, "issue": "sans-suite", "raison": "hors-secteur"},
    )
    return web


def _exports(web: TestClient) -> dict[str, str]:
    token = _token(web, "/export")
    texts = {}
    for fmt in ("csv", "xlsx"):
        response = web.post("/export", data={"csrf": token, "etendue": "tout", "format": fmt})
        assert response.status_code == 200
        if fmt == "csv":
            texts[fmt] = response.content.decode("utf-8-sig")
        else:
            book = openpyxl.load_workbook(io.BytesIO(response.content))
            texts[fmt] = "\n".join(
                str(c.value)
                for row in book.active.iter_rows()
                for c in row
                if isinstance(c.value, str)
            )
    return texts


def test_the_scan_knows_the_codes():
    # The scan must look for the codes people used to meet; a scan that finds nothing to look
    # for cannot fail.
    for code in ("creche-collective", "reguliere", "general", "recherche-emploi", "received",
                 "contactee", "sans-suite", "acces-refuse", "traitee"):  # fmt: skip
        assert code in RAW_CODES
    assert raw_words("régime general, le 2026-11-03, pdf : False") == [
        "general",
        "2026-11-03",
        "False",
    ]


def test_no_page_and_no_export_shows_a_code_an_english_word_or_an_iso_date(lieu: App):
    web = _worked(lieu)
    month = previous_month(NOW.date())
    agent_pages = ["/", "/demandes", "/demandes?traitement=a-traiter", "/demandes?statut=purged",
                   f"/demandes/{CODED}", f"/demandes/{NUMERO}", "/demandes/ME-2026-0000101",
                   "/export", "/attestations", "/rapports", "/journal"]  # fmt: skip
    found = {}
    for path in agent_pages:
        response = web.get(path)
        assert response.status_code == 200, path
        found[path] = raw_words(visible_text(response.text))
    for name, text in _exports(web).items():
        found[f"export {name}"] = raw_words(text)
    admin = signed_in_client(lieu, DSI)
    for path in ("/journal", "/journal.csv"):
        found[f"{path} (admin)"] = raw_words(visible_text(admin.get(path).text))
    found["rapport CSV"] = raw_words(web.get(f"/rapports/{month:%Y-%m}.csv").text)
    assert {where: words for where, words in found.items() if words} == {}


def test_the_demande_speaks_french(lieu: App):
    page = visible_text(_worked(lieu).get(f"/demandes/{CODED}").text)
    for said in ("M. Claire Martin", "en recherche d’emploi", "régime général", "garçon",
                 "assistant(e) maternel(le)", "garde à domicile", "fréquence régulière",
                 "famille contactée le 20 novembre 2026 (téléphone)", "01000"):  # fmt: skip
        assert said in page
    assert re.search(r"données détruites au plus tard le\s+\d{1,2}(er)? \w+ 2027", page)


def test_the_journal_tells_sentences(lieu: App):
    _exports(_worked(lieu))
    admin = signed_in_client(lieu, DSI)
    page = " ".join(visible_text(admin.get("/journal").text).split())
    assert f"Laetitia Feuga a lu la demande {CODED} et son PDF" in page
    assert f"Laetitia Feuga a marqué la demande {CODED} comme traitée" in page
    assert f"Laetitia Feuga a enregistré le suivi de la demande {NUMERO} : sans suite" in page
    assert "a téléchargé un export XLSX de 3 demandes" in page
    assert " : False" not in page and "pdf :" not in page
    rows = list(
        csv.reader(io.StringIO(admin.get("/journal.csv").text.lstrip("\ufeff")), delimiter=";")
    )
    assert rows[0][5] == "Événement"
    assert any(r[5] == f"Laetitia Feuga a lu la demande {CODED} et son PDF" for r in rows)


def test_the_xlsx_export_keeps_codes_as_text_and_dates_as_dates(lieu: App):
    web = signed_in_client(lieu, AGENT)
    token = _token(web, "/export")
    response = web.post("/export", data={"csrf": token, "etendue": "tout", "format": "xlsx"})
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="demandes-' in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["Numéro", "Commune (INSEE)", "Commune"]
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 15
    line = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == CODED)
    cell = dict(zip(headers, line, strict=True))
    postal = cell["Responsable 1 : code postal"]
    assert (postal.value, postal.data_type, postal.number_format) == ("01000", "s", "@")
    assert cell["N° allocataire"].value == "0012345"
    assert cell["Commune (INSEE)"].value == "69273"
    due = cell["À détruire au plus tard le"]
    assert isinstance(due.value, datetime | date) and due.is_date
    assert due.number_format == "DD/MM/YYYY"
    assert isinstance(cell["Déposée le"].value, datetime)
    comment = cell["Commentaire"]
    assert (comment.value, comment.data_type) == ("=1+1 souhaite un accueil le matin", "s")
    assert cell["Régime"].value == "régime général"
    assert cell["Modes d’accueil souhaités"].value == (
        "1. assistant(e) maternel(le) | 2. garde à domicile"
    )


def test_a_day_in_a_sentence():
    assert french.long_day(date(2026, 12, 3)) == "3 décembre 2026"
    assert french.long_day(date(2027, 3, 1)) == "1er mars 2027"


def test_after_a_purge_and_its_signature_no_page_shows_a_code(tmp_path: Path):
    from intake.sandbox.certificates import signatory

    clock = FixedClock(NOW)
    app = console_lieu(tmp_path, clock)
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert app.retention("système:test").purge().attestation == 1
    web = signed_in_client(app, AGENT)
    p12 = signatory(
        "Laetitia Feuga", AGENT, clock.now() - timedelta(days=30), passphrase="s3cret"
    ).pkcs12
    signed = web.post(
        "/attestations/1/signature",
        data={"csrf": _token(web, "/attestations"), "phrase": "s3cret"},
        files={"certificat": ("moi.p12", p12, "application/x-pkcs12")},
    )
    assert signed.status_code == 200
    found = {}
    for path in ("/", "/demandes", "/attestations", "/journal"):
        response = web.get(path)
        assert response.status_code == 200, path
        found[path] = raw_words(visible_text(response.text))
    assert {where: words for where, words in found.items() if words} == {}
    journal = " ".join(visible_text(web.get("/journal").text).split())
    assert (
        "Le service a détruit la demande ME-2026-0000101 (fin des 6 mois de conservation)"
        in journal
    )
    assert "Laetitia Feuga a signé l’attestation n° 1, signature électronique (PAdES)" in journal


def test_the_deadline_email_says_its_day_in_words(lieu: App):
    from sqlmodel import select

    from intake.convention.notices import Notices
    from storage.models import OutboxMessage

    with transaction(lieu.engine) as session:
        session.add(
            DemandeRow(
                numero="ME-2026-0000190",
                commune="69273",
                status=Status.QUARANTINED,
                refusal_code="pdf-invalide",
                retrieval_due=date(2026, 11, 21),
                purge_due=date(2027, 5, 3),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with transaction(lieu.engine) as session:
        assert Notices(lieu.config).deadline_alerts(session, NOW, (3,)) == 1
        (message,) = [m for m in session.exec(select(OutboxMessage)) if m.kind == "echeance"]
    assert "au plus tard le 21 novembre 2026" in message.text_body
    assert "règle « PDF invalide »" in message.text_body
    assert raw_words(message.text_body) == [] and raw_words(visible_text(message.html_body)) == []
