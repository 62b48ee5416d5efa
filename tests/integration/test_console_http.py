"""The console over plain HTTP: every route, every refusal, the session rules, the headers.
The browser tests (tests/e2e/test_console_browser.py) drive the same pages in Chromium."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient
from sqlmodel import select

from intake.app import App
from intake.clock import FixedClock
from intake.desk.accounts import Accounts
from intake.web.app import create_app
from storage.db import transaction
from storage.models import AuditEvent, DemandeRow
from tests.support.console import AGENT, BRON, BRON_NUMERO, CSRF, DSI, PASSWORD, console_lieu
from tests.support.feeds import SAMPLES
from tests.support.lieu import NOW

NUMERO = "ME-2026-0000102"  # Thảo Nguyễn's family, Corbas
PAGES = ["/", "/demandes", f"/demandes/{NUMERO}", f"/demandes/{NUMERO}/pdf", "/export",
         "/journal", "/journal.csv", "/attestations", "/rapports"]  # fmt: skip


def client(app: App, base_url: str = "http://127.0.0.1") -> TestClient:
    return TestClient(create_app(app), base_url=base_url)


def sign_in(web: TestClient, email: str, password: str = PASSWORD, expect: int = 303):
    form = web.get("/connexion")
    token = CSRF.search(form.text).group(1)
    response = web.post(
        "/connexion",
        data={"email": email, "mot_de_passe": password, "csrf": token},
        follow_redirects=False,
    )
    assert response.status_code == expect, response.text
    return response


def signed_in(app: App, email: str = AGENT) -> TestClient:
    web = client(app)
    sign_in(web, email)
    return web


def csrf_of(web: TestClient, path: str = "/") -> str:
    return CSRF.search(web.get(path).text).group(1)


def events(app: App, action: str) -> list[AuditEvent]:
    with transaction(app.engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)))


# --- without a session --------------------------------------------------------------------------


def test_every_page_asks_to_sign_in_first(lieu: App):
    web = client(lieu)
    for path in PAGES:
        response = web.get(path, follow_redirects=False)
        # and back to the page asked for once signed in (tests/integration/test_console_feedback)
        expected = "/connexion" if path == "/" else f"/connexion?suite={path}"
        assert (response.status_code, response.headers["location"]) == (303, expected), path
    for path in (f"/demandes/{NUMERO}/traitee", "/export", "/deconnexion"):
        assert web.post(path, follow_redirects=False).status_code == 303


def test_headers_protect_every_page(lieu: App):
    web = signed_in(lieu)
    for path in ("/connexion", "/", f"/demandes/{NUMERO}"):
        headers = web.get(path).headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        policy = headers["content-security-policy"]
        assert "script-src 'none'" in policy and "unsafe-inline" not in policy
    assert "no-store" not in web.get("/static/console.css").headers.get("cache-control", "")


def test_the_session_cookie(tmp_path: Path, clock: FixedClock):
    app = console_lieu(tmp_path, clock, insecure_http=False)
    cookie = sign_in(client(app, "https://127.0.0.1"), AGENT).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie


# --- signing in ---------------------------------------------------------------------------------


def test_a_wrong_password_then_the_right_one(lieu: App):
    web = client(lieu)
    refused = sign_in(web, AGENT, "pas le bon mot de passe", expect=401)
    assert "incorrect" in refused.text
    sign_in(web, AGENT)
    assert "Tableau de bord" in web.get("/").text
    assert [e.actor for e in events(lieu, "connexion")] == [AGENT]
    assert events(lieu, "connexion-refusee")[0].actor == AGENT


def test_an_address_outside_staff_is_refused_and_not_recorded(lieu: App):
    refused = sign_in(client(lieu), "intrus@ailleurs.fr", expect=401)
    assert "incorrect" in refused.text  # the same words as a wrong password
    (event,) = events(lieu, "connexion-refusee")
    assert event.actor == "inconnu:non-habilite" and "intrus" not in event.detail


def test_five_failures_slow_the_account_down(lieu: App, clock: FixedClock):
    web = client(lieu)
    for _ in range(5):
        sign_in(web, AGENT, "mauvais mot de passe", expect=401)
    slowed = sign_in(web, AGENT, expect=401)  # even the right password, in the same words
    assert "incorrect" in slowed.text and "verrouillé" not in slowed.text
    assert len(events(lieu, "compte-verrouille")) == 1
    clock.instant += timedelta(minutes=1, seconds=1)  # the first delay: one minute
    sign_in(web, AGENT)


def test_a_login_post_without_its_token_is_refused(lieu: App):
    web = client(lieu)
    web.get("/connexion")
    response = web.post("/connexion", data={"email": AGENT, "mot_de_passe": PASSWORD})
    assert response.status_code == 403


def test_the_session_times_out_after_thirty_idle_minutes(lieu: App, clock: FixedClock):
    web = signed_in(lieu)
    clock.instant += timedelta(minutes=29)
    assert web.get("/", follow_redirects=False).status_code == 200  # and refreshed
    clock.instant += timedelta(minutes=29)
    assert web.get("/", follow_redirects=False).status_code == 200
    clock.instant += timedelta(minutes=31)
    assert web.get("/", follow_redirects=False).headers["location"] == "/connexion"


def test_a_session_ends_after_twelve_hours_however_active(lieu: App, clock: FixedClock):
    web = signed_in(lieu)
    for _ in range(25):
        clock.instant += timedelta(minutes=29)
        response = web.get("/", follow_redirects=False)
    assert response.status_code == 303


def test_a_new_session_id_at_each_sign_in_and_sign_out_ends_it(lieu: App):
    web = client(lieu)
    first = sign_in(web, AGENT).cookies["intake_session"]
    second = sign_in(web, AGENT).cookies["intake_session"]
    assert first != second
    old = client(lieu)
    old.cookies.set("intake_session", first)
    assert old.get("/", follow_redirects=False).status_code == 303  # replaced
    token = csrf_of(web)
    web.post("/deconnexion", data={"csrf": token})
    assert web.get("/", follow_redirects=False).status_code == 303
    assert events(lieu, "deconnexion")


def test_totp_is_asked_when_enabled(lieu: App, clock: FixedClock):
    uri = Accounts(lieu.config, lieu.engine, lieu.vault, clock).enable_totp(AGENT)
    totp = pyotp.parse_uri(uri)
    web = client(lieu)
    assert sign_in(web, AGENT).headers["location"] == "/connexion/code"
    assert web.get("/", follow_redirects=False).status_code == 303  # not signed in yet
    token = csrf_of(web, "/connexion/code")
    wrong = web.post("/connexion/code", data={"code": "000000", "csrf": token})
    assert wrong.status_code == 401
    good = totp.at(clock.now())
    response = web.post(
        "/connexion/code", data={"code": good, "csrf": token}, follow_redirects=False
    )
    assert response.headers["location"] == "/"
    assert "Tableau de bord" in web.get("/").text


# --- the pages ----------------------------------------------------------------------------------


def test_the_front_page(lieu: App):
    page = signed_in(lieu).get("/").text
    assert "Corbas (69273)" in page and "Bron" not in page  # her communes only
    assert "Le service est arrêté" in page


def test_the_list_shows_only_the_persons_communes(lieu: App):
    corbas = signed_in(lieu).get("/demandes").text
    assert "ME-2026-0000101" in corbas and BRON_NUMERO not in corbas
    assert "Corbas (69273)" in corbas and "reçue" in corbas
    bron = signed_in(lieu, BRON).get("/demandes").text
    assert BRON_NUMERO in bron and "ME-2026-0000101" not in bron
    everyone = signed_in(lieu, DSI).get("/demandes?commune=69029").text
    assert BRON_NUMERO in everyone and "ME-2026-0000101" not in everyone


def test_filters_and_pages(lieu: App):
    web = signed_in(lieu, DSI)
    assert "4 demandes" in web.get("/demandes").text
    assert "0 demande" in web.get("/demandes?statut=quarantined").text
    assert "4 demandes" in web.get("/demandes?traitement=a-traiter").text
    assert "0 demande" in web.get("/demandes?du=2027-01-01").text
    assert "0 demande" in web.get("/demandes?traitement=traitees").text


def test_reading_a_demande_and_its_pdf_are_audited(lieu: App):
    web = signed_in(lieu)
    page = web.get(f"/demandes/{NUMERO}").text
    assert "Nguyễn" in page and "Horaires décalés le mercredi." in page
    pdf = web.get(f"/demandes/{NUMERO}/pdf")
    assert pdf.content == (SAMPLES / f"{NUMERO}.pdf").read_bytes()
    assert pdf.headers["content-type"] == "application/pdf"
    readings = events(lieu, "lecture")
    assert [(e.actor, e.numero, json.loads(e.detail)["pdf"]) for e in readings] == [
        (AGENT, NUMERO, False),
        (AGENT, NUMERO, True),
    ]


def test_another_communes_demande_is_refused_and_audited(lieu: App):
    web = signed_in(lieu, BRON)
    response = web.get(f"/demandes/{NUMERO}")
    assert response.status_code == 403 and "Nguyễn" not in response.text
    assert web.get(f"/demandes/{NUMERO}/pdf").status_code == 403
    assert [(e.actor, e.numero) for e in events(lieu, "acces-refuse")] == [(BRON, NUMERO)] * 2
    assert signed_in(lieu).get("/demandes/ME-2099-0000001").status_code == 404


def test_mark_treated_and_record_the_follow_up(lieu: App):
    web = signed_in(lieu)
    token = csrf_of(web)
    assert web.post(f"/demandes/{NUMERO}/traitee", data={}).status_code == 403
    assert web.post(f"/demandes/{NUMERO}/traitee", data={"csrf": "faux"}).status_code == 403
    web.post(f"/demandes/{NUMERO}/traitee", data={"csrf": token})
    follow = {"csrf": token, "issue": "orientee", "orientation": "Crèche Les Lutins"}
    assert web.post(f"/demandes/{NUMERO}/suivi", data=follow).status_code == 200
    bad = web.post(f"/demandes/{NUMERO}/suivi", data={"csrf": token, "issue": "contactee"})
    # shown next to its field, the input kept (tests/integration/test_console_feedback.py)
    assert bad.status_code == 422 and "date et le moyen" in bad.text
    page = web.get(f"/demandes/{NUMERO}").text
    assert "orientée vers : Crèche Les Lutins" in page and "traitée le" in page
    assert "traitées" in web.get("/demandes?traitement=traitees").text
    with transaction(lieu.engine) as session:
        row = session.get(DemandeRow, NUMERO)
    assert (row.treated_by, row.followup) == (AGENT, "orientee")
    assert events(lieu, "traitee")[0].actor == AGENT
    assert "Lutins" not in events(lieu, "suivi")[0].detail  # the free text stays in the vault


def test_the_export_is_a_french_csv_and_is_audited(lieu: App):
    web = signed_in(lieu)
    token = csrf_of(web, "/export")
    assert web.post("/export", data={"etendue": "tout"}).status_code == 403
    response = web.post("/export", data={"csrf": token, "etendue": "depuis"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Numéro", "Commune (INSEE)", "Commune"]
    assert sorted(r[0] for r in rows[1:]) == [f"ME-2026-000010{i}" for i in (1, 2, 3)]
    assert all(r[2] == "Corbas" for r in rows[1:])
    again = web.post("/export", data={"csrf": token, "etendue": "depuis"})  # nothing new since
    assert len(again.content.decode("utf-8-sig").splitlines()) == 1
    assert len(events(lieu, "export")) == 3 and len(events(lieu, "export-fichier")) == 2


def test_the_journal_is_for_admins(lieu: App):
    web = signed_in(lieu, BRON)
    assert web.get("/journal").status_code == 403
    assert web.get("/journal.csv").status_code == 403
    assert events(lieu, "acces-refuse")[0].actor == BRON
    admin = signed_in(lieu, DSI)
    page = admin.get(f"/journal?personne={BRON}").text
    assert "accès refusé" in page
    exported = admin.get("/journal.csv?action=connexion").content.decode("utf-8-sig")
    lines = exported.splitlines()
    assert lines[0].startswith("N°;Date et heure;Personne;Action")
    assert len(lines) == 1 + 2  # the two sign-ins


def test_attestations_are_listed_and_signed_by_a_signatory(tmp_path: Path, clock: FixedClock):
    from intake.sandbox.certificates import signatory

    app = console_lieu(tmp_path, clock)
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    outcome = app.retention("système:test").purge()
    assert outcome.attestation == 1
    bron = signed_in(app, BRON)
    page = bron.get("/attestations").text
    assert "à signer" in page and "Signer l'attestation" not in page  # not a signatory
    web = signed_in(app)
    token = csrf_of(web, "/attestations")
    assert web.get("/attestations/1/pdf").content.startswith(b"%PDF")
    p12 = signatory(
        "Laetitia Feuga", AGENT, clock.now() - timedelta(days=30), passphrase="s3cret"
    ).pkcs12
    refused = web.post(
        "/attestations/1/signature",
        data={"csrf": token, "phrase": "mauvaise"},
        files={"certificat": ("moi.p12", p12, "application/x-pkcs12")},
    )
    assert refused.status_code == 422  # the reason by the certificate's field, the list kept
    assert 'id="erreur-certificat-1"' in refused.text
    signed = web.post(
        "/attestations/1/signature",
        data={"csrf": token, "phrase": "s3cret"},
        files={"certificat": ("moi.p12", p12, "application/x-pkcs12")},
    )
    assert signed.status_code == 200 and "signée électroniquement par" in signed.text
    assert b"/ByteRange" in web.get("/attestations/1/pdf").content
    assert events(app, "signature-attestation")[0].actor == AGENT


def test_a_scan_upload_takes_this_attestation_only(tmp_path: Path, clock: FixedClock):
    """Issue 25: a family's demande PDF was accepted as the signed copy and sent to the Caf."""
    from tests.support.scans import needs_zbar, scanned

    needs_zbar()
    app = console_lieu(tmp_path, clock)
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert app.retention("système:test").purge().attestation == 1
    web = signed_in(app)
    token = csrf_of(web, "/attestations")
    draft = web.get("/attestations/1/pdf").content
    family = (SAMPLES / "ME-2026-0000101.pdf").read_bytes()
    refused = web.post(
        "/attestations/1/scan",
        data={"csrf": token},
        files={"scan": ("scan.pdf", family, "application/pdf")},
    )
    assert refused.status_code == 422 and 'id="erreur-scan-1"' in refused.text
    assert "ne porte pas le code de l&#39;attestation n° 1" in refused.text
    assert web.get("/attestations/1/pdf").content == draft  # nothing kept
    copy = scanned(draft, dpi=150, angle=-2.5, kind="jpeg")
    accepted = web.post(
        "/attestations/1/scan",
        data={"csrf": token},
        files={"scan": ("scan.jpg", copy, "image/jpeg")},
    )
    assert accepted.status_code == 200 and "signée à la main par" in accepted.text
    kept = web.get("/attestations/1/pdf").content
    assert kept != draft and kept.startswith(b"%PDF-")


def test_reports_are_listed_and_downloaded(lieu: App, clock: FixedClock):
    from intake.reports import previous_month

    month = previous_month(NOW.date())
    lieu.reports.store_once(month, clock.now())
    web = signed_in(lieu)
    assert f"{month:%m/%Y}" in web.get("/rapports").text
    assert web.get(f"/rapports/{month:%Y-%m}.pdf").content.startswith(b"%PDF")
    assert web.get(f"/rapports/{month:%Y-%m}.csv").status_code == 200
    assert web.get("/rapports/1999-01.pdf").status_code == 404


def test_urls_carry_no_personal_data(lieu: App):
    web = signed_in(lieu, DSI)
    pages = [web.get(p).text for p in ("/demandes", "/journal")]
    links = [href for text in pages for href in re.findall(r'href="([^"]+)"', text)]
    assert links and not any(
        "Nguy" in link or "Lef" in link or "@example" in link for link in links
    )


def test_emails_link_to_the_console(lieu: App):
    from storage.models import OutboxMessage

    lieu.notify()
    with transaction(lieu.engine) as session:
        (message,) = [
            m for m in session.exec(select(OutboxMessage)) if m.kind == "nouvelles-demandes"
            and "Corbas" in m.subject
        ]  # fmt: skip
    link = "https://intake.ville-corbas.fr/demandes/ME-2026-0000101"
    assert link in message.text_body and f'href="{link}"' in message.html_body
    assert "--agent" not in message.text_body


def test_the_monthly_report_counts_the_follow_ups(lieu: App, clock: FixedClock):
    web = signed_in(lieu)
    token = csrf_of(web)
    for numero, outcome in ((NUMERO, "sans-suite"), ("ME-2026-0000101", "orientee")):
        web.post(f"/demandes/{numero}/traitee", data={"csrf": token})
        web.post(
            f"/demandes/{numero}/suivi",
            data={"csrf": token, "issue": outcome, "raison": "renonce", "orientation": "RAM"},
        )
    _, csv_bytes = lieu.reports.make(NOW.date().replace(day=1), clock.now())
    header, corbas = csv_bytes.decode("utf-8-sig").splitlines()[:2]
    counts = dict(zip(header.split(";"), corbas.split(";"), strict=True))
    assert (counts["Traitées"], counts["Orientées"], counts["Sans suite"]) == ("2", "1", "1")


def test_the_dashboard_says_what_the_convention_made_overdue(lieu: App, clock: FixedClock):
    clock.instant = NOW + timedelta(days=200)  # the samples' purge days (May 2027) are past
    page = signed_in(lieu).get("/").text
    assert '<ul class="alertes" role="alert">' in page
    assert re.search(r"Urgent : purge en retard : \d+ demande\(s\) conservée\(s\)", page)
    assert "À surveiller : " in page and "rapport(s) mensuel(s) manquant(s)" in page
