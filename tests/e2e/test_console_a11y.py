"""Every page of the console, on an office screen and on a phone held upright, in Debian's
Chromium with axe-core: no serious or critical violation, and no page wider than the screen
(issue 22, item 5). The keyboard reaches the skip link first; the accessibility statement is
open to anyone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from intake.desk.account_admin import AccountAdmin
from intake.reports import previous_month
from storage.db import transaction
from storage.models import OutboxMessage
from tests.support.browser import PHONE, SCREENS, Console, Screen, Window, check, sign_in
from tests.support.console import AGENT, BRON, DSI, PASSWORD
from tests.support.feeds import SAMPLES, every_violation, write_feed
from tests.support.lieu import NOW

NUMERO = "ME-2026-0000102"
QUARANTINED = every_violation()["enfant-trop-age"]


def _password_link(console: Console, email: str) -> str:
    """A one-time link to choose a password, as the colleague's email carries it."""
    app = console.app
    admin = AccountAdmin(app.config, app.engine, app.vault, app.clock)
    admin.send_password_link(DSI, email)  # to the configured [web] base_url
    with transaction(app.engine) as session:
        messages = [m for m in session.exec(select(OutboxMessage)) if m.kind == "mot-de-passe"]
    found = re.search(r"(/mot-de-passe/[A-Za-z0-9_-]+)", messages[-1].text_body)
    assert found is not None
    return found.group(1)


def _visit(page: Any, screen: Screen, path: str, what: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response and response.status)
    check(page, screen, what)


@pytest.mark.parametrize("screen", SCREENS)
def test_every_page_passes_axe_and_fits_the_screen(
    open_window: Window, console: Console, screen: Screen, tmp_path: Path
):
    app = console.app
    list(app.ingestor(AGENT).ingest_file(write_feed(tmp_path / "regle", [QUARANTINED])))
    app.reports.store_once(previous_month(NOW.date()), console.clock.now())

    # Signed out: the sign-in page, refused, the statement, a one-time password link.
    visitor = open_window(screen)
    _visit(visitor, screen, "/connexion", "la connexion")
    sign_in(visitor, AGENT, "ce n'est pas le bon")
    assert "Connexion refusée" in visitor.content()
    check(visitor, screen, "la connexion refusée")
    _visit(visitor, screen, "/accessibilite", "la déclaration d’accessibilité (sans session)")
    assert "est non conforme" in " ".join(visitor.locator("main").inner_text().split())
    assert visitor.get_by_role("navigation", name="Menu principal").count() == 0
    _visit(visitor, screen, _password_link(console, BRON), "le choix d’un mot de passe")
    visitor.fill("#mot_de_passe", "un mot de passe assez long")
    visitor.fill("#confirmation", "un autre mot de passe long")
    visitor.get_by_role("button", name="Enregistrer").click()
    assert "Mot de passe non enregistré" in visitor.content()
    check(visitor, screen, "le mot de passe refusé")

    # A person with a second factor: the page asking for the code.
    admin = AccountAdmin(app.config, app.engine, app.vault, app.clock)
    admin.enrol_totp(AGENT, DSI)
    second = open_window(screen)
    sign_in(second, DSI, PASSWORD)
    assert second.url.endswith("/connexion/code")
    check(second, screen, "le code à usage unique")

    # The agent, who holds every duty: each page of the menu and those below it.
    page = open_window(screen)
    sign_in(page)
    for path, what in [
        ("/", "le tableau de bord"),
        ("/demandes", "les demandes"),
        ("/demandes?traitement=a-traiter&tri=recentes", "la file de travail"),
        (f"/demandes/{NUMERO}", "une demande"),
        (f"/demandes/{QUARANTINED.numero}", "une demande en quarantaine"),
        (f"/demandes/{NUMERO}/courriel", "l’écriture à la famille"),
        (f"/demandes/{NUMERO}/courriel?modele=accuse-reception", "l’aperçu d’un courriel"),
        ("/export", "l’export"),
        ("/depot", "le dépôt d’un flux"),
        ("/attestations", "les attestations (aucune)"),
        ("/rapports", "les rapports"),
        ("/journal", "le journal d’audit"),
        ("/comptes", "les comptes"),
        ("/accessibilite", "la déclaration d’accessibilité"),
    ]:
        _visit(page, screen, path, what)
    _visit(page, screen, "/nulle-part", "une page qui n’existe pas", status=404)

    page.goto(f"/demandes/{NUMERO}")
    page.check("input[value=contactee]")
    page.get_by_role("button", name="Enregistrer le suivi").click()  # no day: refused
    assert "Suivi non enregistré" in page.content()
    check(page, screen, "le suivi refusé")

    page.goto("/depot")
    page.set_input_files("#fichiers", str(SAMPLES / "flux-69273-corbas.xml"))
    page.get_by_role("button", name="Déposer et intégrer").click()
    assert "Dépôt traité" in page.content()
    check(page, screen, "le résultat d’un dépôt")

    page.goto("/comptes")
    page.get_by_role("button", name="Activer le second facteur").first.click()
    assert "Second facteur activé" in page.content()
    check(page, screen, "les comptes et le code QR d’un second facteur")

    # Six months on, the demandes are destroyed: an attestation awaits its signature.
    console.clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert app.retention("système:test").purge().attestation == 1
    sign_in(page)
    _visit(page, screen, "/attestations", "une attestation à signer")
    _visit(page, screen, "/demandes?statut=purged", "les demandes détruites")


@pytest.mark.parametrize("screen", SCREENS)
def test_the_keyboard_reaches_the_skip_link_first(
    open_window: Window, console: Console, screen: Screen
) -> None:
    page = open_window(screen)
    sign_in(page)
    page.goto("/demandes")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Aller au contenu")
    assert skip.evaluate("link => link === document.activeElement")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # shown once it has the focus
    page.keyboard.press("Enter")
    assert page.url.endswith("/demandes#contenu")
    page.keyboard.press("Tab")  # the next stop is in the page's content, past the menu
    assert page.evaluate("() => document.activeElement.closest('main') !== null")


def test_the_name_of_the_signed_in_person_shows_on_a_phone(
    open_window: Window, console: Console
) -> None:
    """At 390 px the band wraps: the name and the way out stay within it, and in sight."""
    page = open_window(PHONE)
    sign_in(page)
    band = page.locator("header").bounding_box()
    for element in (page.locator(".who"), page.get_by_role("button", name="Se déconnecter")):
        assert element.is_visible()
        box = element.bounding_box()
        assert box is not None and band is not None
        assert band["y"] <= box["y"] and box["y"] + box["height"] <= band["y"] + band["height"]
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE.width
    assert page.locator(".who").inner_text() == "Laetitia Feuga"


def test_breadcrumbs_lead_back_from_a_demande(open_window: Window, console: Console) -> None:
    page = open_window()
    sign_in(page)
    page.goto(f"/demandes/{NUMERO}")
    trail = page.get_by_role("navigation", name="Fil d’Ariane")
    steps = [" ".join(step.split()) for step in trail.locator("li").all_inner_texts()]
    assert steps == ["Tableau de bord", "Demandes", f"Demande {NUMERO}"]
    assert trail.locator("[aria-current=page]").inner_text() == f"Demande {NUMERO}"
    trail.get_by_role("link", name="Demandes").click()
    assert page.url.endswith("/demandes")


def test_a_day_typed_by_hand_filters_as_the_picker_s(open_window: Window, console: Console) -> None:
    """A browser without a date picker sends what the person typed, as the hint asks."""
    page = open_window()
    sign_in(page)
    page.goto("/demandes")
    assert page.locator("label[for=champ-du]").inner_text().endswith("jj/mm/aaaa")
    typed = page.request.get("/demandes?du=07/11/2026")
    picked = page.request.get("/demandes?du=2026-11-07")
    total = re.compile(r'data-total="(\d+)"')
    assert total.findall(typed.text()) == total.findall(picked.text()) != ["3"]
