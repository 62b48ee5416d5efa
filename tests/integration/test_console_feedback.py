"""Feedback over HTTP: a one-time French notice after each action (Post/Redirect/Get), form
errors next to their field with the input kept, an expired session that says so and leads
back to the page (never to another site), and French error pages."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient

from intake.app import App
from intake.clock import FixedClock
from intake.desk.accounts import Accounts
from intake.web.notice import COOKIE, safe_next
from tests.support.console import (
    AGENT,
    CSRF,
    PASSWORD,
    csrf_token,
    signed_in_client,
    web_client,
)
from tests.support.lieu import NOW

NUMERO = "ME-2026-0000102"


def sign_in(web: TestClient, suite: str | None = None):
    form = web.get("/connexion", params={"suite": suite} if suite else None)
    data = {"email": AGENT, "mot_de_passe": PASSWORD, "csrf": CSRF.search(form.text).group(1)}
    if suite is not None:
        data["suite"] = suite
    return web.post("/connexion", data=data, follow_redirects=False)


def test_an_action_says_it_was_done_once(lieu: App):
    web = signed_in_client(lieu, AGENT)
    token = csrf_token(web, f"/demandes/{NUMERO}")

    done = web.post(f"/demandes/{NUMERO}/traitee", data={"csrf": token}, follow_redirects=False)

    assert done.status_code == 303 and done.headers["location"] == f"/demandes/{NUMERO}"
    shown = web.get(f"/demandes/{NUMERO}").text
    assert 'role="status"' in shown and "Demande traitée" in shown
    assert f"La demande {NUMERO} est marquée comme traitée." in shown
    assert "Demande traitée" not in web.get(f"/demandes/{NUMERO}").text  # once only


def test_a_follow_up_records_with_a_notice(lieu: App):
    web = signed_in_client(lieu, AGENT)
    form = {"csrf": csrf_token(web), "issue": "orientee", "orientation": "crèche Les Lutins"}
    response = web.post(f"/demandes/{NUMERO}/suivi", data=form)
    assert response.status_code == 200
    assert "Suivi enregistré" in response.text


def test_a_refused_follow_up_shows_its_error_by_the_field_with_the_input_kept(lieu: App):
    web = signed_in_client(lieu, AGENT)
    form = {"csrf": csrf_token(web), "issue": "contactee", "moyen": "telephone",
            "orientation": "gardé tel quel"}  # fmt: skip

    response = web.post(f"/demandes/{NUMERO}/suivi", data=form, follow_redirects=False)

    assert response.status_code == 422
    page = response.text
    assert 'role="alert"' in page and "Suivi non enregistré" in page
    assert 'id="erreur-date_contact"' in page and 'aria-describedby="erreur-date_contact"' in page
    assert 'value="contactee" required checked' in page
    assert 'value="telephone" selected' in page
    assert 'value="gardé tel quel"' in page


def test_an_expired_session_says_so_and_leads_back_to_the_page(lieu: App, clock: FixedClock):
    web = signed_in_client(lieu, AGENT)
    clock.instant = NOW + timedelta(minutes=31)

    asked = web.get("/demandes?commune=69273&traitement=a-traiter", follow_redirects=False)

    assert asked.status_code == 303
    assert asked.headers["location"].startswith("/connexion?suite=")
    form = web.get(asked.headers["location"]).text
    assert "Session expirée" in form and 'role="status"' in form
    assert 'name="suite" value="/demandes?commune=69273&amp;traitement=a-traiter"' in form
    back = sign_in(web, "/demandes?commune=69273&traitement=a-traiter")
    assert back.headers["location"] == "/demandes?commune=69273&traitement=a-traiter"


def test_a_form_sent_after_expiry_leads_back_to_its_page(lieu: App, clock: FixedClock):
    web = signed_in_client(lieu, AGENT)
    token = csrf_token(web, f"/demandes/{NUMERO}")
    clock.instant = NOW + timedelta(minutes=31)

    sent = web.post(f"/demandes/{NUMERO}/traitee", data={"csrf": token}, follow_redirects=False)

    assert sent.headers["location"] == f"/connexion?suite=/demandes/{NUMERO}"
    assert COOKIE in sent.cookies


def test_a_first_visit_is_not_called_expired(lieu: App):
    response = web_client(lieu).get("/export", follow_redirects=False)
    assert response.headers["location"] == "/connexion?suite=/export"
    assert COOKIE not in response.cookies


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
     "http:evil.example", "/\t/evil.example", "evil.example", "/connexion", "javascript:x"],
)  # fmt: skip
def test_signing_in_never_leads_to_another_site(lieu: App, target: str):
    web = web_client(lieu)
    assert 'name="suite" value="/"' in web.get("/connexion", params={"suite": target}).text
    response = sign_in(web, target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert safe_next(target) == "/"


def test_a_forged_notice_cookie_shows_nothing(lieu: App):
    web = signed_in_client(lieu, AGENT)
    web.cookies.set(COOKIE, "traitee:<script>alert(1)</script>")
    page = web.get("/").text
    assert "<script>alert" not in page and "Demande traitée" not in page


def test_the_sign_in_keeps_the_address_typed_not_the_password(lieu: App):
    web = web_client(lieu)
    token = CSRF.search(web.get("/connexion").text).group(1)
    data = {"email": AGENT, "mot_de_passe": "mauvais mot de passe", "csrf": token}
    refused = web.post("/connexion", data=data)
    assert refused.status_code == 401
    assert f'value="{AGENT}"' in refused.text and "mauvais mot de passe" not in refused.text
    assert 'role="alert"' in refused.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nulle-part", 404), ("GET", "/deconnexion", 405), ("GET", "/demandes?page=x", 422),
     ("POST", "/export", 403)],
)  # fmt: skip
def test_errors_are_french_pages_in_the_console(lieu: App, method: str, path: str, status: int):
    web = signed_in_client(lieu, AGENT)
    response = web.request(method, path, data={"csrf": "faux"} if method == "POST" else None)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text and "Se déconnecter" in response.text


def test_the_way_back_goes_through_the_code_step(lieu: App, clock: FixedClock):
    uri = Accounts(lieu.config, lieu.engine, lieu.vault, clock).enable_totp(AGENT)
    web = web_client(lieu)

    first = sign_in(web, "/export")

    assert first.headers["location"] == "/connexion/code?suite=/export"
    form = web.get(first.headers["location"]).text
    assert 'name="suite" value="/export"' in form
    code = pyotp.parse_uri(uri).at(clock.now())
    data = {"code": code, "csrf": CSRF.search(form).group(1), "suite": "//evil.example"}
    assert (
        web.post("/connexion/code", data=data, follow_redirects=False).headers["location"] == "/"
    )  # a forged way back is dropped at this step too
