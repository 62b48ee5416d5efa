"""The console in a real browser, as people use it: the agent's day, the signatory's
signature, the administrator's unlocking of a colleague, each on an office screen and on a
phone held upright, with axe-core run on every page shown (tests/support/browser.py). The
screenshots of the README are taken here, and kept only when `scripts/screenshots` asks."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from intake.sandbox.certificates import signatory
from tests.support.browser import (
    DESKTOP,
    SCREENS,
    Console,
    Screen,
    Window,
    check,
    nav,
    shot,
    sign_in,
)
from tests.support.console import AGENT, BRON, BRON_NUMERO, DSI
from tests.support.feeds import SAMPLES
from tests.support.lieu import NOW

NUMERO = "ME-2026-0000102"


@pytest.fixture
def page(open_window: Window) -> Any:
    """The office screen's page, for the tests that are not about the layout."""
    return open_window(DESKTOP)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_days_work(open_window: Window, console: Console, screen: Screen, tmp_path: Path) -> None:
    """Sign in, the dashboard, the work queue it links to, a demande and its PDF, mark it
    treated, record the follow-up, back by the breadcrumbs, export."""
    page = open_window(screen)
    page.goto("/")
    assert page.url.endswith("/connexion")
    check(page, screen, "la connexion")
    shot(page, f"connexion{screen.name}")
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"
    assert "Corbas (69273)" in page.content()
    check(page, screen, "le tableau de bord")
    shot(page, f"tableau-de-bord{screen.name}")

    page.get_by_role("link", name="3 demandes à traiter").click()
    assert page.url.endswith("/demandes?traitement=a-traiter")
    assert page.locator("table.liste tbody tr").count() == 3
    check(page, screen, "la file de travail")
    shot(page, f"demandes{screen.name}")

    page.get_by_role("link", name=NUMERO).click()
    assert "Nguyễn" in page.content()
    check(page, screen, "une demande")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF de la demande").click()
    saved = tmp_path / "demande.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == (SAMPLES / f"{NUMERO}.pdf").read_bytes()

    page.get_by_role("button", name="Marquer comme traitée").click()
    assert "traitée le" in page.content()
    page.get_by_role("radio", name="Famille contactée").check()
    page.get_by_label("contactée le").fill("2026-11-23")
    page.get_by_label("par", exact=True).select_option("telephone")
    page.get_by_role("button", name="Enregistrer le suivi").click()
    assert "famille contactée le 23 novembre 2026 (téléphone)" in page.content()
    check(page, screen, "une demande suivie")
    shot(page, f"demande{screen.name}")

    page.get_by_role("navigation", name="Fil d’Ariane").get_by_role("link", name="Demandes").click()
    page.get_by_label("Traitement").select_option("traitees")
    page.get_by_role("button", name="Filtrer").click()
    assert page.locator("table.liste tbody tr").count() == 1

    nav(page, "Exporter")
    check(page, screen, "l’export")
    shot(page, f"export{screen.name}")
    page.get_by_role("radio", name="Toutes les demandes détenues").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le fichier").click()  # XLSX by default
    workbook = tmp_path / "export.xlsx"
    download.value.save_as(workbook)
    sheet = openpyxl.load_workbook(workbook).active
    assert sheet["A1"].value == "Numéro" and sheet.freeze_panes == "A2"
    assert "Lefèvre-Dupont" in [c.value for row in sheet.iter_rows() for c in row]
    page.get_by_role("radio", name="CSV, pour un autre logiciel").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger le fichier").click()
    exported = tmp_path / "export.csv"
    download.value.save_as(exported)
    text = exported.read_text(encoding="utf-8-sig")
    assert text.startswith("Numéro;") and "Lefèvre-Dupont" in text

    page.get_by_role("link", name="Accessibilité : non conforme").click()
    assert page.locator("h1").inner_text() == "Déclaration d’accessibilité"
    check(page, screen, "la déclaration d’accessibilité")
    shot(page, f"accessibilite{screen.name}")


@pytest.mark.parametrize("screen", SCREENS)
def test_writing_to_a_family(open_window: Window, console: Console, screen: Screen) -> None:
    """From the demande: choose the lieu's letter, preview it, complete it, send it; it goes
    to the family's address and to it only, and the follow-up says so."""
    page = open_window(screen)
    sign_in(page)
    page.goto(f"/demandes/{NUMERO}")
    page.get_by_role("link", name="Écrire à la famille").click()
    check(page, screen, "l’écriture à la famille")
    page.get_by_label("Modèle").select_option("proposition-rendez-vous")
    page.get_by_role("button", name="Prévisualiser").click()
    text = page.get_by_label("Texte")
    assert text.input_value().startswith("Bonjour Nguyễn,\n")
    text.fill(text.input_value().replace("le [jour] à [heure]", "le lundi 30 novembre à 10 h"))
    check(page, screen, "l’aperçu du courriel à la famille")
    shot(page, f"courriel-famille{screen.name}")
    page.get_by_role("button", name="Envoyer à thao.nguyen@example.org").click()
    assert "Courriel envoyé" in page.content()
    assert "« Proposition de rendez-vous », par l.feuga@ville-corbas.fr" in page.content()
    ((_, recipients, _),) = console.smtp.sink.envelopes
    assert recipients == ["thao.nguyen@example.org"]
    (message,) = console.smtp.parsed()
    assert "le lundi 30 novembre à 10 h" in message.get_content()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_signatory_signs_an_attestation(
    open_window: Window, console: Console, screen: Screen, tmp_path: Path
) -> None:
    console.clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert console.app.retention("système:test").purge().attestation == 1
    certificate = tmp_path / "laetitia.p12"
    certificate.write_bytes(
        signatory(
            "Laetitia Feuga", AGENT, console.clock.now() - timedelta(days=30), passphrase="demo"
        ).pkcs12
    )
    page = open_window(screen)
    sign_in(page)
    nav(page, "Attestations")
    assert "à signer" in page.content()
    check(page, screen, "une attestation à signer")
    shot(page, f"attestations{screen.name}")
    page.get_by_label("Certificat (.p12)").set_input_files(str(certificate))
    page.get_by_label("Phrase secrète").fill("demo")
    page.get_by_role("button", name="Signer l’attestation n° 1").click()
    assert "signée électroniquement par l.feuga@ville-corbas.fr" in page.content()
    check(page, screen, "une attestation signée")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF signé de l’attestation n° 1").click()
    signed = tmp_path / "signee.pdf"
    download.value.save_as(signed)
    assert b"/ByteRange" in signed.read_bytes()
    if shutil.which("pdfsig"):
        checked = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True)
        assert "Signature is Valid" in checked.stdout


@pytest.mark.parametrize("screen", SCREENS)
def test_the_administrator_unlocks_a_colleague(
    open_window: Window, console: Console, screen: Screen
) -> None:
    colleague = open_window(screen)
    for _ in range(5):
        sign_in(colleague, BRON, "ce n'est pas le bon")
    sign_in(colleague, BRON)
    assert colleague.url.endswith("/connexion")  # slowed down: refused for a minute

    page = open_window(screen)
    sign_in(page, DSI)
    nav(page, "Comptes")
    assert "ralenti jusqu’à" in page.content()
    check(page, screen, "les comptes")
    shot(page, f"comptes{screen.name}")
    page.get_by_role("button", name="Débloquer").click()
    assert "Compte débloqué" in page.content() and "ralenti jusqu’à" not in page.content()
    check(page, screen, "les comptes, un compte débloqué")

    sign_in(colleague, BRON)  # at once, the clock not moved
    assert colleague.locator("h1").inner_text() == "Tableau de bord"

    # Then a second factor for the colleague: its QR code is shown once, to this admin only.
    row = page.locator("tr", has_text=BRON)
    row.get_by_role("button", name="Activer le second facteur").click()
    assert "Second facteur activé" in page.content()
    assert page.get_by_role("img", name=f"QR code du second facteur de {BRON}").is_visible()
    check(page, screen, "les comptes, un second facteur activé")
    page.goto("/comptes")
    assert "Second facteur activé" not in page.content()  # shown once
    assert "second facteur : oui" in page.locator("tr", has_text=BRON).inner_text()


def test_the_session_times_out_after_thirty_minutes(page: Any, console: Console) -> None:
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"
    console.clock.instant += timedelta(minutes=29)
    page.reload()
    assert page.locator("h1").inner_text() == "Tableau de bord"
    console.clock.instant += timedelta(minutes=31)
    page.reload()
    assert page.url.endswith("/connexion")


def test_a_post_without_the_forms_token_is_refused(page: Any, console: Console) -> None:
    sign_in(page)
    forged = page.request.post(f"/demandes/{NUMERO}/traitee", form={"csrf": "venu-d-ailleurs"})
    assert forged.status == 403
    missing = page.request.post("/export", form={"etendue": "tout"})
    assert missing.status == 403 and "venu d&#39;ailleurs" in missing.text()


def test_five_failures_slow_the_account_down(page: Any, console: Console) -> None:
    for _ in range(5):
        sign_in(page, password="ce n'est pas le bon")
        assert "incorrect" in page.content()
    sign_in(page)  # the right password, refused in the same words while the delay runs
    assert "incorrect" in page.content() and page.url.endswith("/connexion")
    console.clock.instant += timedelta(minutes=2)
    sign_in(page)
    assert page.locator("h1").inner_text() == "Tableau de bord"


def test_a_person_of_one_commune_sees_only_it(page: Any, console: Console) -> None:
    sign_in(page, BRON)
    assert "Bron (69029)" in page.content() and "Corbas (69273)" not in page.content()
    page.goto("/demandes")
    assert page.locator("table.liste tbody tr").count() == 1 and BRON_NUMERO in page.content()
    response = page.goto(f"/demandes/{NUMERO}")
    assert response is not None and response.status == 403
    assert "Journal" not in page.get_by_role("navigation", name="Menu principal").inner_text()


@pytest.mark.parametrize("screen", SCREENS)
def test_the_journal_for_an_admin(open_window: Window, console: Console, screen: Screen) -> None:
    page = open_window(screen)
    sign_in(page)
    page.goto(f"/demandes/{NUMERO}")
    nav(page, "Journal")
    assert f"Laetitia Feuga a lu la demande {NUMERO}" in page.content()
    check(page, screen, "le journal d’audit")
    shot(page, f"journal{screen.name}")
