"""A lieu for the console's tests: Corbas and Bron, three people each with a password,
the sample demandes of Corbas and one of Bron, the clock fixed at the suite's NOW."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import col, select

from intake import config as configuration
from intake.app import App
from intake.clock import FixedClock
from intake.desk.accounts import Accounts
from storage.db import transaction
from storage.models import AuditEvent
from storage.vault import generate_master_key_file
from tests.support.feeds import SAMPLES, Dem, numero, write_feed

AGENT = "l.feuga@ville-corbas.fr"  # every duty, Corbas only
BRON = "accueil@ville-bron.fr"  # recipient, Bron only
DSI = "dsi@ville-corbas.fr"  # admin, every commune
PASSWORD = "un mot de passe assez long"
BRON_NUMERO = numero(7)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def console_config(folder: Path, *, insecure_http: bool = True, extra: str = "") -> Path:
    """The lieu's intake.toml (and its master key), with Bron and the three people."""
    generate_master_key_file(folder / "secrets" / "master.key")
    text = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    text += (
        '\n[[communes]]\ninsee = "69029"\nname = "Bron"\n'
        f'\n[[staff]]\nname = "Agent Bron"\nemail = "{BRON}"\n'
        'duties = ["recipient"]\ncommunes = ["69029"]\n'
        f'\n[[staff]]\nname = "DSI"\nemail = "{DSI}"\nduties = ["admin"]\n'
        f"\n[web]\ninsecure_http = {'true' if insecure_http else 'false'}\n"
        'base_url = "https://intake.ville-corbas.fr"\n' + extra
    )
    (folder / "intake.toml").write_text(text, encoding="utf-8")
    return folder / "intake.toml"


def console_lieu(
    folder: Path, clock: FixedClock, *, insecure_http: bool = True, extra: str = ""
) -> App:
    path = console_config(folder, insecure_http=insecure_http, extra=extra)
    app = App(configuration.load(path, {}), clock)
    accounts = Accounts(app.config, app.engine, app.vault, clock)
    for email in (AGENT, BRON, DSI):
        accounts.set_password(email, PASSWORD)
    list(app.ingestor(AGENT).ingest_file(SAMPLES / "flux-69273-corbas.xml"))
    bron = write_feed(folder / "bron", [Dem(BRON_NUMERO, commune="69029")], commune="69029")
    list(app.ingestor(AGENT).ingest_file(bron))
    return app


# --- driving the console over HTTP (fastapi's TestClient) ----------------------------------------


def web_client(app: App, base_url: str = "http://127.0.0.1") -> TestClient:
    from intake.web.app import create_app

    return TestClient(create_app(app), base_url=base_url)


def signed_in_client(app: App, email: str) -> TestClient:
    web = web_client(app)
    token = CSRF.search(web.get("/connexion").text)
    assert token is not None
    response = web.post(
        "/connexion",
        data={"email": email, "mot_de_passe": PASSWORD, "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return web


def csrf_token(web: TestClient, path: str = "/") -> str:
    found = CSRF.search(web.get(path).text)
    assert found is not None, path
    return found.group(1)


def audit_events(app: App, action: str) -> list[AuditEvent]:
    with transaction(app.engine) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.exec(query.order_by(col(AuditEvent.seq))))
