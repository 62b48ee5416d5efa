"""The console in a real browser: Debian's Chromium driven by Playwright, against the console
served by uvicorn on loopback. The screenshots of the main pages are taken on every run, and
kept in docs/console/ only when `scripts/screenshots` asks (INTAKE_SCREENSHOTS): a test run
leaves the working tree as it found it."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import uvicorn

from intake.app import App
from intake.clock import FixedClock
from intake.sandbox.certificates import signatory
from intake.web.app import create_app
from intake.web.server import listening_socket
from tests.support.console import AGENT, BRON, BRON_NUMERO, PASSWORD, console_lieu
from tests.support.feeds import SAMPLES
from tests.support.lieu import NOW
from tests.support.required import missing
from tests.support.smtp import SmtpServer

CHROMIUM = "/usr/bin/chromium"
# Where `scripts/screenshots` wants the pictures; elsewhere they are taken, then dropped.
SHOTS_ENV = "INTAKE_SCREENSHOTS"
NUMERO = "ME-2026-0000102"
# What a headless Chromium needs on a closed machine (as root, no sandbox, no background calls).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=fr-FR",
]


@dataclass
class Console:
    url: str
    app: App
    clock: FixedClock
    smtp: SmtpServer  # where the emails to families go


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    clock = FixedClock(NOW)
    smtp = SmtpServer().start()
    sender = "intake@ville-corbas.fr"
    extra = f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsender = "{sender}"\n'
    app = console_lieu(tmp_path, clock, extra=extra)
    listener = listening_socket("127.0.0.1", 0)
    config = uvicorn.Config(create_app(app), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the console did not start"
    yield Console(f"http://127.0.0.1:{listener.getsockname()[1]}", app, clock, smtp)
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()
    smtp.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        missing(CHROMIUM, "the browser tier; scripts/test-services installs chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, console: Console):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=console.url, accept_downloads=True, locale="fr-FR")
    opened = context.new_page()
    yield opened
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    picture = page.screenshot(full_page=True)
    assert picture.startswith(b"\x89PNG")
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{name}.png").write_bytes(picture)


def nav(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name=name, exact=True).click()
    page.wait_for_load_state()


def sign_in(page, email: str = AGENT, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto("/connexion")
    page.fill("#email", email)
    page.fill("#mot_de_passe", password)
    page.click("button[type=submit]")


def test_a_days_work(page, console: Console, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Sign in, the front page, the list, a demande and its PDF, mark it treated, record the
    follow-up, export."""
    page.goto("/")
    assert page.url.endswith("/connexion")
    shot(page, "connexion")
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"
    assert "Corbas (69273)" in page.content()
    shot(page, "tableau-de-bord")

    nav(page, "Demandes")
    rows = page.locator("table.liste tbody tr")
    assert rows.count() == 3
    shot(page, "demandes")

    page.click(f"text={NUMERO}")
    assert "Nguyễn" in page.content()
    with page.expect_download() as download:
        page.click("text=Télécharger le PDF de la demande")
    saved = tmp_path / "demande.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == (SAMPLES / f"{NUMERO}.pdf").read_bytes()

    page.click("text=Marquer comme traitée")
    assert "traitée le" in page.content()
    page.check("input[value=contactee]")
    page.fill("input[name=date_contact]", "2026-11-23")
    page.select_option("select[name=moyen]", "telephone")
    page.click("text=Enregistrer le suivi")
    assert "famille contactée le 23 novembre 2026 (téléphone)" in page.content()
    shot(page, "demande")

    page.goto("/demandes?traitement=traitees")
    assert page.locator("table.liste tbody tr").count() == 1

    nav(page, "Exporter")
    page.check("input[value=tout]")
    with page.expect_download() as download:
        page.click("text=Télécharger le fichier")  # XLSX, the format checked by default
    workbook = tmp_path / "export.xlsx"
    download.value.save_as(workbook)
    sheet = openpyxl.load_workbook(workbook).active
    assert sheet["A1"].value == "Numéro" and sheet.freeze_panes == "A2"
    assert "Lefèvre-Dupont" in [c.value for row in sheet.iter_rows() for c in row]
    page.check("input[value=csv]")
    with page.expect_download() as download:
        page.click("text=Télécharger le fichier")
    exported = tmp_path / "export.csv"
    download.value.save_as(exported)
    text = exported.read_text(encoding="utf-8-sig")
    assert text.startswith("Numéro;") and "Lefèvre-Dupont" in text


def test_writing_to_a_family(page, console: Console):  # type: ignore[no-untyped-def]
    """From the demande: choose the lieu's letter, preview it, complete it, send it; it goes
    to the family's address and to it only, and the follow-up says so."""
    sign_in(page)
    page.goto(f"/demandes/{NUMERO}")
    page.click("text=Écrire à la famille")
    page.select_option("select[name=modele]", "proposition-rendez-vous")
    page.click("text=Prévisualiser")
    text = page.locator("textarea[name=texte]")
    assert text.input_value().startswith("Bonjour Nguyễn,\n")
    text.fill(text.input_value().replace("le [jour] à [heure]", "le lundi 30 novembre à 10 h"))
    shot(page, "courriel-famille")
    page.click("text=Envoyer à thao.nguyen@example.org")
    assert "Courriel envoyé" in page.content()
    assert "« Proposition de rendez-vous », par l.feuga@ville-corbas.fr" in page.content()
    ((_, recipients, _),) = console.smtp.sink.envelopes
    assert recipients == ["thao.nguyen@example.org"]
    (message,) = console.smtp.parsed()
    assert "le lundi 30 novembre à 10 h" in message.get_content()


def test_signing_an_attestation_with_the_demo_certificate(page, console: Console, tmp_path: Path):  # type: ignore[no-untyped-def]
    console.clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert console.app.retention("système:test").purge().attestation == 1
    certificate = tmp_path / "laetitia.p12"
    certificate.write_bytes(
        signatory(
            "Laetitia Feuga", AGENT, console.clock.now() - timedelta(days=30), passphrase="demo"
        ).pkcs12
    )
    sign_in(page)
    nav(page, "Attestations")
    assert "à signer" in page.content()
    shot(page, "attestations")
    page.set_input_files("input[name=certificat]", str(certificate))
    page.fill("input[name=phrase]", "demo")
    page.click("text=Signer l’attestation n° 1")
    assert "signée électroniquement par l.feuga@ville-corbas.fr" in page.content()
    with page.expect_download() as download:
        page.click("text=PDF signé")
    signed = tmp_path / "signee.pdf"
    download.value.save_as(signed)
    assert b"/ByteRange" in signed.read_bytes()
    if shutil.which("pdfsig"):
        import subprocess

        checked = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True)
        assert "Signature is Valid" in checked.stdout


def test_the_session_times_out_after_thirty_minutes(page, console: Console):  # type: ignore[no-untyped-def]
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"
    console.clock.instant += timedelta(minutes=29)
    page.reload()
    assert page.locator("h1").inner_text() == "Tableau de bord"
    console.clock.instant += timedelta(minutes=31)
    page.reload()
    assert page.url.endswith("/connexion")


def test_a_post_without_the_forms_token_is_refused(page, console: Console):  # type: ignore[no-untyped-def]
    sign_in(page)
    forged = page.request.post(f"/demandes/{NUMERO}/traitee", form={"csrf": "venu-d-ailleurs"})
    assert forged.status == 403
    missing = page.request.post("/export", form={"etendue": "tout"})
    assert missing.status == 403 and "venu d&#39;ailleurs" in missing.text()


def test_five_failures_slow_the_account_down(page, console: Console):  # type: ignore[no-untyped-def]
    for _ in range(5):
        sign_in(page, password="ce n'est pas le bon")
        assert "incorrect" in page.content()
    sign_in(page)  # the right password, refused in the same words while the delay runs
    assert "incorrect" in page.content() and page.url.endswith("/connexion")
    console.clock.instant += timedelta(minutes=2)
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"


def test_a_person_of_one_commune_sees_only_it(page, console: Console):  # type: ignore[no-untyped-def]
    sign_in(page, BRON)
    assert "Bron (69029)" in page.content() and "Corbas (69273)" not in page.content()
    page.goto("/demandes")
    assert page.locator("table.liste tbody tr").count() == 1 and BRON_NUMERO in page.content()
    response = page.goto(f"/demandes/{NUMERO}")
    assert response is not None and response.status == 403
    assert "Journal" not in page.locator("nav").inner_text()


def test_the_journal_for_an_admin(page, console: Console):  # type: ignore[no-untyped-def]
    sign_in(page)
    page.goto(f"/demandes/{NUMERO}")
    nav(page, "Journal")
    assert f"Laetitia Feuga a lu la demande {NUMERO}" in page.content()
    shot(page, "journal")
