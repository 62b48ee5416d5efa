"""`/comptes` over HTTP: the administrators see every account and its state, unlock a slowed
account, send a one-time password link, enrol a second factor, end a colleague's sessions;
everyone else is refused; every action is audited."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from intake.app import App
from intake.cli import main
from intake.clock import FixedClock
from storage.db import transaction
from storage.models import OutboxMessage, PasswordLink
from tests.support.console import (
    BRON,
    CSRF,
    DSI,
    PASSWORD,
    audit_events,
    csrf_token,
    signed_in_client,
    web_client,
)
from tests.support.lieu import NOW
from tests.support.vocabulary import raw_words, visible_text

NEW_PASSWORD = "un tout autre mot de passe"
LINK = re.compile(r"https://intake\.ville-corbas\.fr(/mot-de-passe/[A-Za-z0-9_-]+)")


def act(web: TestClient, action: str, email: str):
    data = {"csrf": csrf_token(web, "/comptes"), "compte": email}
    return web.post(f"/comptes/{action}", data=data, follow_redirects=False)


def try_sign_in(web: TestClient, email: str, password: str) -> int:
    token = CSRF.search(web.get("/connexion").text).group(1)
    data = {"email": email, "mot_de_passe": password, "csrf": token}
    return web.post("/connexion", data=data, follow_redirects=False).status_code


def slow_down(lieu: App, email: str) -> None:
    web = web_client(lieu)
    for _ in range(5):
        assert try_sign_in(web, email, "pas le bon mot de passe") == 401


def test_only_administrators_see_the_accounts(lieu: App):
    web = signed_in_client(lieu, BRON)
    assert web.get("/comptes").status_code == 403
    assert act(web, "debloquer", DSI).status_code == 403
    # the page twice (the form's token is read from it), the action once
    assert [e.actor for e in audit_events(lieu, "acces-refuse")] == [BRON, BRON, BRON]
    assert "/comptes" not in web.get("/").text


def test_an_administrator_sees_each_person_and_their_state(lieu: App):
    page = signed_in_client(lieu, DSI).get("/comptes").text
    assert "Agent Bron" in page and BRON in page and "destinataire" in page and "69029" in page
    assert "administrateur" in page and "toutes" in page
    assert "actif" in page and "second facteur : non" in page
    assert "<caption>" in page


def test_a_slowed_account_is_shown_so_and_unlocked(lieu: App):
    slow_down(lieu, BRON)
    admin = signed_in_client(lieu, DSI)
    assert "ralenti jusqu’à" in admin.get("/comptes").text
    out = io.StringIO()
    main(["--config", str(lieu.config.path), "staff", "list"], clock=lieu.clock, out=out)
    bron_line = next(line for line in out.getvalue().splitlines() if BRON in line)
    assert "actif" not in bron_line and "ralenties" in bron_line

    done = act(admin, "debloquer", BRON)

    assert done.status_code == 303
    assert "Compte débloqué" in admin.get("/comptes").text
    assert "ralenti jusqu’à" not in admin.get("/comptes").text
    assert try_sign_in(web_client(lieu), BRON, PASSWORD) == 303
    assert [e.actor for e in audit_events(lieu, "compte-debloque")] == [DSI]


def _sent_link(lieu: App) -> str:
    with transaction(lieu.engine) as session:
        messages = list(session.exec(select(OutboxMessage)))
    mine = [m for m in messages if m.recipients == BRON and m.kind == "mot-de-passe"]
    assert len(mine) == 1
    found = LINK.search(mine[0].text_body)
    assert found is not None
    return found.group(1)


def test_a_password_link_works_once_and_is_kept_hashed(lieu: App, clock: FixedClock):
    admin = signed_in_client(lieu, DSI)
    assert act(admin, "lien", BRON).status_code == 303
    path = _sent_link(lieu)
    token = path.rsplit("/", 1)[1]
    with transaction(lieu.engine) as session:
        rows = list(session.exec(select(PasswordLink)))
    assert [r.token_hash for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]
    assert [e.actor for e in audit_events(lieu, "lien-mot-de-passe")] == [DSI]

    web = web_client(lieu)
    form = web.get(path)
    assert form.status_code == 200 and "Agent Bron" in form.text
    csrf = CSRF.search(form.text).group(1)
    mismatch = {"csrf": csrf, "mot_de_passe": NEW_PASSWORD, "confirmation": "autre chose"}
    assert web.post(path, data=mismatch).status_code == 422
    good = {"csrf": csrf, "mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD}
    done = web.post(path, data=good, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/connexion"
    assert "Mot de passe enregistré" in web.get("/connexion").text
    assert try_sign_in(web_client(lieu), BRON, NEW_PASSWORD) == 303

    assert web.get(path).status_code == 410  # single use
    again = good | {"csrf": web.cookies["intake_csrf"]}  # the last form's token
    assert web.post(path, data=again).status_code == 410


def test_a_password_link_expires_after_30_minutes(lieu: App, clock: FixedClock):
    admin = signed_in_client(lieu, DSI)
    act(admin, "lien", BRON)
    path = _sent_link(lieu)
    clock.instant = NOW + timedelta(minutes=31)
    assert web_client(lieu).get(path).status_code == 410
    assert web_client(lieu).get("/mot-de-passe/../../etc").status_code == 404


def test_a_second_factor_is_enrolled_with_its_qr_code_shown_once(lieu: App):
    admin = signed_in_client(lieu, DSI)

    shown = act(admin, "totp", BRON)

    assert shown.status_code == 200
    assert 'src="data:image/svg+xml;charset=utf-8,%3Csvg' in shown.text
    assert "otpauth://totp/" in shown.text
    assert "data:image/svg+xml" not in admin.get("/comptes").text
    assert "second facteur : oui" in admin.get("/comptes").text
    assert [e.actor for e in audit_events(lieu, "totp-enrole")] == [DSI]
    web = web_client(lieu)
    token = CSRF.search(web.get("/connexion").text).group(1)
    data = {"email": BRON, "mot_de_passe": PASSWORD, "csrf": token}
    assert web.post("/connexion", data=data, follow_redirects=False).headers["location"] == (
        "/connexion/code"
    )


def test_an_administrator_ends_a_colleagues_sessions(lieu: App):
    colleague = signed_in_client(lieu, BRON)
    assert colleague.get("/", follow_redirects=False).status_code == 200
    admin = signed_in_client(lieu, DSI)

    assert act(admin, "sessions", BRON).status_code == 303

    assert colleague.get("/", follow_redirects=False).status_code == 303
    assert "Sessions fermées" in admin.get("/comptes").text
    assert [e.actor for e in audit_events(lieu, "sessions-fermees")] == [DSI]


def test_the_actions_need_the_forms_token(lieu: App):
    admin = signed_in_client(lieu, DSI)
    refused = admin.post("/comptes/sessions", data={"csrf": "faux", "compte": BRON})
    assert refused.status_code == 403
    assert audit_events(lieu, "sessions-fermees") == []


def test_the_accounts_page_and_the_journal_speak_french(lieu: App):
    slow_down(lieu, BRON)
    admin = signed_in_client(lieu, DSI)
    for action in ("debloquer", "lien", "totp", "sessions"):
        act(admin, action, BRON)
    assert raw_words(visible_text(admin.get("/comptes").text)) == []
    assert raw_words(visible_text(admin.get("/depot").text)) == []
    journal = " ".join(visible_text(admin.get("/journal").text).split())
    for said in (f"a débloqué le compte de {BRON}",
                 f"a envoyé à {BRON} un lien pour choisir son mot de passe",
                 f"a activé le code à usage unique de {BRON}",
                 f"a fermé les sessions de {BRON}"):  # fmt: skip
        assert f"DSI {said}" in journal
