"""The console's guards against a hostile browser (issue 21, items 6, 10, 11 and 12): bodies
capped before any parsing, error pages that keep the headers and echo nothing, refused
signatures audited, attestations and reports shown per commune. Each test replays an attack."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from starlette.formparsers import MultiPartParser

from intake.app import App
from intake.clock import FixedClock
from intake.reports import previous_month
from intake.sandbox.certificates import signatory
from intake.web.app import create_app
from intake.web.server import listening_socket
from tests.support.console import (
    AGENT,
    BRON,
    DSI,
    audit_events,
    console_lieu,
    csrf_token,
    signed_in_client,
    web_client,
)
from tests.support.lieu import NOW

SECRET = "Secr3t-Valeur-Soumise"  # a value the attacker submits: it must never come back


@pytest.fixture
def two_attestations(tmp_path: Path, clock: FixedClock) -> App:
    """N° 1 covers Corbas and Bron (both transmitted on 3 November), n° 2 Corbas only."""
    lieu = console_lieu(tmp_path, clock, extra='\n[retention]\npolicy = "daily"\n')
    for day in (3, 10):
        clock.instant = NOW.replace(year=2027, month=5, day=day)
        assert lieu.retention("système:test").purge().attestation is not None
    return lieu


@pytest.fixture
def served(lieu: App) -> Iterator[tuple[str, int]]:
    """The console served by uvicorn on loopback, as `intake web` serves it."""
    listener = listening_socket("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(lieu), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    for _ in range(300):  # bounded: some 15 s
        if server.started:
            break
        threading.Event().wait(0.05)
    assert server.started, "the console did not start"
    yield listener.getsockname()[:2]
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


def assert_guarded(response, *submitted: str) -> None:
    """An error answer as every page: the same headers, a French page, nothing echoed."""
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    headers = response.headers
    assert "script-src 'none'" in headers.get("content-security-policy", ""), where
    assert headers.get("cache-control") == "no-store", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers["content-type"].startswith("text/html"), where
    assert '<html lang="fr">' in response.text, where
    assert 'href="/static/console.css"' in response.text, where  # the console's layout
    assert "Traceback" not in response.text and "detail" not in response.text, where
    for value in submitted:
        assert value not in response.text, where


# --- 6: request bodies ---------------------------------------------------------------------------


def test_a_form_beyond_64_kb_is_refused_with_413_before_sign_in(lieu: App):
    web = web_client(lieu)
    token = csrf_token(web, "/connexion")
    body = {"email": AGENT, "mot_de_passe": SECRET + "x" * 200_000, "csrf": token}
    response = web.post("/connexion", data=body)
    assert response.status_code == 413
    assert "trop volumineu" in response.text
    assert_guarded(response, SECRET)


def test_a_body_without_content_length_is_counted(lieu: App):
    web = web_client(lieu)

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 64 × 8 KB = 512 KB, announced by no Content-Length
            yield b"mot_de_passe=" + b"a" * 8179

    response = web.post(
        "/connexion",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert_guarded(response)


def test_a_chunked_body_is_cut_off_before_it_ends(served: tuple[str, int]):
    """Over a real socket: 80 KB of chunks and no end; the 413 comes without waiting for
    the rest (a server that waited for the whole body would never answer)."""
    with socket.create_connection(served, timeout=20) as connection:
        connection.sendall(
            b"POST /connexion HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"a" * 8192
        for _ in range(10):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < 65536:
            received = connection.recv(4096)
            if not received:
                break
            answer += received
    head = answer.split(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 413"), head
    assert "cache-control: no-store" in head and "content-security-policy:" in head


def test_a_declared_length_beyond_the_limit_is_refused_unread(lieu: App):
    web = web_client(lieu)
    response = web.post(
        "/export",
        content=b"etendue=tout",
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "content-length": str(900 * 1024 * 1024),
        },
    )
    assert response.status_code == 413
    assert_guarded(response)


def test_an_upload_route_has_its_own_larger_limit(two_attestations: App):
    web = signed_in_client(two_attestations, AGENT)
    token = csrf_token(web, "/attestations")
    data = {"csrf": token, "phrase": "x"}
    small = web.post(
        "/attestations/2/signature",
        data=data,
        files={"certificat": ("moi.p12", b"\0" * 1024 * 1024, "application/x-pkcs12")},
    )
    assert small.status_code == 422 and "PKCS#12 illisible" in small.text  # read, then refused
    big = web.post(
        "/attestations/2/signature",
        data=data,
        files={"certificat": ("moi.p12", b"\0" * (21 * 1024 * 1024), "application/x-pkcs12")},
    )
    assert big.status_code == 413
    assert_guarded(big)


def test_a_multipart_body_is_not_parsed_before_the_session_is_checked(
    lieu: App, monkeypatch: pytest.MonkeyPatch
):
    parsed: list[int] = []
    original = MultiPartParser.parse

    async def spy(self: MultiPartParser):  # type: ignore[no-untyped-def]
        parsed.append(1)
        return await original(self)

    monkeypatch.setattr(MultiPartParser, "parse", spy)
    response = web_client(lieu).post(
        "/attestations/1/signature",
        data={"csrf": "x", "phrase": "x"},
        files={"certificat": ("a.p12", b"\0" * (2 * 1024 * 1024), "application/x-pkcs12")},
        follow_redirects=False,
    )
    location = (response.status_code, response.headers["location"])
    assert location == (303, "/connexion?suite=/attestations")
    assert parsed == []


# --- 10: error pages -----------------------------------------------------------------------------


def test_every_error_answer_keeps_the_headers_and_echoes_nothing(lieu: App):
    web = signed_in_client(lieu, AGENT)
    token = csrf_token(web, "/export")
    huge = "99999999999999999999999"
    cases = [
        ("GET", f"/attestations/{huge}/pdf", {}, 404, huge),
        ("GET", "/attestations/-1/pdf", {}, 404, "-1"),
        ("GET", f"/attestations/{SECRET}/pdf", {}, 404, SECRET),
        ("GET", f"/nulle-part-{SECRET}", {}, 404, SECRET),
        ("DELETE", "/demandes", {}, 405, SECRET),
        ("POST", "/rapports", {"data": {"csrf": token, "x": SECRET}}, 405, SECRET),
        ("GET", f"/demandes?page={SECRET}", {}, 422, SECRET),
        ("POST", "/export", {"data": {"csrf": token, "etendue": SECRET}}, 422, SECRET),
        (
            "POST",
            "/demandes/ME-2026-0000102/suivi",
            {"data": {"csrf": token, "issue": SECRET + "-trop-long-pour-le-champ"}},
            422,
            SECRET,
        ),
        ("POST", "/connexion", {"data": {"email": SECRET * 20, "csrf": "x"}}, 422, SECRET),
    ]
    for method, path, extra, status, submitted in cases:
        response = web.request(method, path, **extra)
        assert response.status_code == status, (method, path, response.status_code)
        assert_guarded(response, submitted)
        assert "Tableau de bord" in response.text  # the menu: she is signed in
    assert "allow" in web.request("DELETE", "/demandes").headers
    anonymous = web_client(lieu).get(f"/attestations/{huge}/pdf", follow_redirects=False)
    assert anonymous.status_code in (303, 404)
    assert "no-store" == anonymous.headers["cache-control"]


def test_an_internal_error_is_a_french_page_without_its_traceback(
    lieu: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from intake.reports.access import ReportAccess

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"l'erreur porte {SECRET}")

    monkeypatch.setattr(ReportAccess, "kept", broken)
    response = signed_in_client(lieu, AGENT).get("/rapports")
    assert response.status_code == 500
    assert "erreur interne" in response.text
    assert_guarded(response, SECRET, "RuntimeError")
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "intake.web"]
    assert "RuntimeError" in logged and SECRET not in logged  # its type and place, not its words


# --- 11: refused signatures ----------------------------------------------------------------------


def p12_of(email: str, clock: FixedClock) -> bytes:
    return signatory("Quelqu'un", email, clock.now() - timedelta(days=30), passphrase="s3").pkcs12


def test_a_refused_signature_is_audited(two_attestations: App, clock: FixedClock):
    app = two_attestations
    bron = signed_in_client(app, BRON)  # not a signatory, with her own certificate
    token = csrf_token(bron, "/attestations")
    refused = bron.post(
        "/attestations/1/signature",
        data={"csrf": token, "phrase": "s3"},
        files={"certificat": ("moi.p12", p12_of(BRON, clock), "application/x-pkcs12")},
    )
    # the reason next to the form, on the list (tests/integration/test_console_feedback.py)
    assert refused.status_code == 422 and "pas signataire" in refused.text
    scan = bron.post(
        "/attestations/1/scan",
        data={"csrf": token},
        files={"scan": ("scan.pdf", b"%PDF-1.4 scan", "application/pdf")},
    )
    assert scan.status_code == 422
    agent = signed_in_client(app, AGENT)  # a signatory, with the DSI's certificate
    token = csrf_token(agent, "/attestations")
    theirs = agent.post(
        "/attestations/1/signature",
        data={"csrf": token, "phrase": "s3"},
        files={"certificat": ("dsi.p12", p12_of(DSI, clock), "application/x-pkcs12")},
    )
    assert theirs.status_code == 422 and "pas celui de" in theirs.text
    assert 'aria-describedby="erreur-certificat-1"' in theirs.text
    assert 'class="champ-erreur" id="erreur-certificat-1"' in theirs.text
    refusals = [(e.actor, json.loads(e.detail)) for e in audit_events(app, "acces-refuse")]
    assert [(actor, d["demande"], d["motif"], d["attestation"]) for actor, d in refusals] == [
        (BRON, "signature-attestation", "role", 1),
        (BRON, "signature-attestation", "role", 1),
        (AGENT, "signature-attestation", "certificat", 1),
    ]
    assert all(DSI not in e.detail for e in audit_events(app, "acces-refuse"))
    assert audit_events(app, "signature-attestation") == []


# --- 12: who sees which attestation and report ---------------------------------------------------


def test_an_agent_sees_the_attestations_of_her_communes_only(two_attestations: App):
    app = two_attestations
    bron = signed_in_client(app, BRON)
    listing = bron.get("/attestations").text
    assert 'href="/attestations/1/pdf"' in listing
    assert 'href="/attestations/2/pdf"' not in listing  # Corbas only
    assert bron.get("/attestations/1/pdf").content.startswith(b"%PDF")
    refused = bron.get("/attestations/2/pdf")
    assert refused.status_code == 403 and not refused.content.startswith(b"%PDF")
    (event,) = audit_events(app, "acces-refuse")
    assert event.actor == BRON
    assert json.loads(event.detail) == {
        "demande": "attestation",
        "motif": "commune",
        "attestation": 2,
    }
    for email in (DSI, AGENT):  # an admin, a signatory (of Corbas only): every attestation
        web = signed_in_client(app, email)
        listing = web.get("/attestations").text
        assert 'href="/attestations/1/pdf"' in listing and 'href="/attestations/2/pdf"' in listing
        assert web.get("/attestations/2/pdf").content.startswith(b"%PDF")


def test_an_agent_gets_the_report_lines_of_her_communes_only(lieu: App, clock: FixedClock):
    month = previous_month(NOW.date())
    lieu.reports.store_once(month, clock.now())
    key = f"{month:%Y-%m}"
    bron = signed_in_client(lieu, BRON)
    page = bron.get("/rapports").text
    assert f'href="/rapports/{key}.csv"' in page and f'href="/rapports/{key}.pdf"' not in page
    lines = bron.get(f"/rapports/{key}.csv").content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mois;Commune;Code INSEE") and len(lines) == 2
    assert ";69029;" in lines[1] and "69273" not in "".join(lines)
    refused = bron.get(f"/rapports/{key}.pdf")
    assert refused.status_code == 403 and not refused.content.startswith(b"%PDF")
    (event,) = audit_events(lieu, "acces-refuse")
    assert (event.actor, json.loads(event.detail)["demande"]) == (BRON, "rapport")
    admin = signed_in_client(lieu, DSI)
    every = admin.get(f"/rapports/{key}.csv").content.decode("utf-8-sig").splitlines()
    assert len(every) == 3  # Corbas and Bron
    assert admin.get(f"/rapports/{key}.pdf").content.startswith(b"%PDF")
