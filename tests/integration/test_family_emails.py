"""Writing to a family from the console, through a real SMTP server on loopback: the message
reaches the family's address from the demande and no other; the follow-up and the audit trail
keep when, which letter and by whom, never the text; the purge leaves nothing of it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from intake.app import App
from intake.clock import FixedClock
from storage.db import transaction
from storage.models import AuditEvent, DemandeBlob, OutboxMessage
from tests.support.console import (
    AGENT,
    BRON,
    audit_events,
    console_lieu,
    csrf_token,
    signed_in_client,
)
from tests.support.feeds import Dem, Resp, numero, write_feed
from tests.support.lieu import NOW
from tests.support.smtp import SmtpServer

NUMERO = "ME-2026-0000101"  # Sophie Bernard's family, Corbas
FAMILY = "sophie.bernard@example.org"
NO_ADDRESS = numero(908)
PAGE = f"/demandes/{NUMERO}/courriel"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def smtp_section(server: SmtpServer) -> str:
    sender = "intake@ville-corbas.fr"
    return f'\n[smtp]\nhost = "127.0.0.1"\nport = {server.port}\nsender = "{sender}"\n'


@pytest.fixture
def lieu(tmp_path: Path, clock: FixedClock, smtp: SmtpServer) -> App:
    app = console_lieu(tmp_path, clock, extra=smtp_section(smtp))
    silent = Dem(NO_ADDRESS, responsables=[Resp(courriel=None)])
    list(app.ingestor(AGENT).ingest_file(write_feed(tmp_path / "sans", [silent])))
    return app


def send(web, numero: str = NUMERO, **fields: str):
    form = {"csrf": csrf_token(web), "modele": "accuse-reception", "objet": "Bien reçu",
            "texte": "Bonjour Madame Bernard,\nÀ bientôt.\n"} | fields  # fmt: skip
    return web.post(f"/demandes/{numero}/courriel", data=form, follow_redirects=False)


def every_detail(app: App) -> str:
    with transaction(app.engine) as session:
        return " ".join(e.detail for e in session.exec(select(AuditEvent)))


def test_choose_preview_edit_send(lieu: App, smtp: SmtpServer):
    web = signed_in_client(lieu, AGENT)
    demande = web.get(f"/demandes/{NUMERO}").text
    assert f'href="{PAGE}"' in demande
    choice = web.get(PAGE).text
    assert FAMILY in choice and "Accusé de réception" in choice and "Orientation" in choice
    assert "Envoyer" not in choice  # nothing to send before a letter is chosen
    preview = web.get(PAGE, params={"modele": "accuse-reception"}).text
    assert "Bonjour Madame Bernard," in preview and "pour Léo" in preview
    assert "Laetitia Feuga" in preview and f"Envoyer à {FAMILY}" in preview

    # The agent edits the text, and writes other addresses into it: they stay words.
    edited = "Bonjour Madame Bernard,\nCopie à autre@example.org, svp.\nBcc: espion@example.org\n"
    response = send(web, objet="Votre demande\nBcc: espion@example.org", texte=edited)
    assert response.status_code == 303 and response.headers["location"] == f"/demandes/{NUMERO}"

    ((sender, recipients, _),) = smtp.sink.envelopes
    assert (sender, recipients) == ("intake@ville-corbas.fr", [FAMILY])
    (message,) = smtp.parsed()
    assert message["To"] == FAMILY and message["Cc"] is None and message["Bcc"] is None
    assert message["Subject"] == "Votre demande Bcc: espion@example.org"  # one line, a subject
    assert message["From"] == "CCAS de Corbas <intake@ville-corbas.fr>"
    assert message.get_content().replace("\r\n", "\n") == edited

    (event,) = audit_events(lieu, "courriel-famille")
    assert (event.actor, event.numero, json.loads(event.detail)) == (
        AGENT, NUMERO, {"modele": "accuse-reception"}
    )  # fmt: skip
    details = every_detail(lieu)
    assert "Bernard" not in details and "sophie" not in details and "bientôt" not in details
    with transaction(lieu.engine) as session:
        outbox = " ".join(m.text_body + m.subject for m in session.exec(select(OutboxMessage)))
    assert "Bernard" not in outbox  # it never waited in the outbox

    page = web.get(f"/demandes/{NUMERO}").text
    assert "Courriel envoyé" in page  # the notice
    assert "Courriels envoyés à la famille" in page and "« Accusé de réception », par" in page
    journal = web.get("/journal").text
    assert "a écrit à la famille de la demande" in journal


def test_an_agent_of_another_commune_cannot_write(lieu: App, smtp: SmtpServer):
    web = signed_in_client(lieu, BRON)
    assert web.get(PAGE, params={"modele": "accuse-reception"}).status_code == 403
    assert send(web).status_code == 403
    assert smtp.sink.envelopes == [] and audit_events(lieu, "courriel-famille") == []
    refused = [json.loads(e.detail)["demande"] for e in audit_events(lieu, "acces-refuse")]
    assert refused == ["lecture", "courriel-famille"]


def test_a_demande_without_an_address_cannot_be_written_to(lieu: App, smtp: SmtpServer):
    web = signed_in_client(lieu, AGENT)
    page = web.get(f"/demandes/{NO_ADDRESS}/courriel").text
    assert "Aucune adresse électronique" in page and "Prévisualiser" not in page
    refused = send(web, NO_ADDRESS)
    assert refused.status_code == 422
    assert "ne donne aucune adresse électronique de la famille" in refused.text
    assert smtp.sink.envelopes == [] and audit_events(lieu, "courriel-famille") == []


def test_a_refused_sending_keeps_the_text_and_records_nothing(lieu: App, smtp: SmtpServer):
    web = signed_in_client(lieu, AGENT)
    smtp.stop()
    refused = send(web, texte="Mon texte soigneusement relu\n")
    assert refused.status_code == 422
    assert "rien n’est parti" in refused.text and "Mon texte soigneusement relu" in refused.text
    assert audit_events(lieu, "courriel-famille") == []
    assert "Courriels envoyés" not in web.get(f"/demandes/{NUMERO}").text
    for unknown in ({"modele": "inconnu"}, {"objet": " "}):
        assert send(web, **unknown).status_code in (400, 422)


def test_without_smtp_the_console_says_so(tmp_path: Path, clock: FixedClock):
    web = signed_in_client(console_lieu(tmp_path, clock), AGENT)
    refused = send(web)
    assert refused.status_code == 422 and "aucun serveur de courriel" in refused.text


def test_the_purge_leaves_nothing_of_the_message(lieu: App, smtp: SmtpServer, clock: FixedClock):
    web = signed_in_client(lieu, AGENT)
    assert send(web).status_code == 303
    assert lieu.family_emails.sent(NUMERO)[0].letter == "accuse-reception"
    clock.instant = NOW.replace(year=2027, month=5, day=20)
    assert lieu.retention("système:test").purge().attestation == 1
    with transaction(lieu.engine) as session:
        left = session.exec(select(DemandeBlob).where(col(DemandeBlob.numero) == NUMERO)).all()
    assert left == [] and lieu.family_emails.sent(NUMERO) == []
    assert "Bernard" not in every_detail(lieu)
    (event,) = audit_events(lieu, "courriel-famille")  # the fact stays, without content
    assert json.loads(event.detail) == {"modele": "accuse-reception"}
    web = signed_in_client(lieu, AGENT)
    assert web.get(PAGE).status_code in (404, 410)
    assert send(web).status_code in (404, 410)
    assert len(smtp.sink.envelopes) == 1
