"""`/depot` over HTTP: a feed downloaded by hand and its PDFs, uploaded as files or as one zip,
taken in as `intake ingest --agent` takes it; hostile archives and strangers' communes refused,
nothing left on disk."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from intake.app import App
from intake.clock import FixedClock
from notifier.render import render
from storage import demandes as store
from storage.db import transaction
from tests.support.console import (
    AGENT,
    BRON,
    audit_events,
    console_lieu,
    csrf_token,
    signed_in_client,
    web_client,
)
from tests.support.feeds import Dem, every_violation, numero, write_feed
from tests.support.lieu import NOW

Files = list[tuple[str, tuple[str, bytes, str]]]


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system's temporary folder, for this test alone: what the upload leaves is seen."""
    folder = tmp_path / "systmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def lieu(tmp_path: Path, private_tmp: Path) -> App:
    return console_lieu(tmp_path / "lieu", FixedClock(NOW))


def feed_files(folder: Path, demandes: list[Dem], commune: str = "69273") -> Files:
    feed = write_feed(folder, demandes, name=f"flux-{commune}.xml", commune=commune)
    files: Files = [("fichiers", (feed.name, feed.read_bytes(), "application/xml"))]
    for pdf in sorted(folder.glob("*.pdf")):
        files.append(("fichiers", (pdf.name, pdf.read_bytes(), "application/pdf")))
    return files


def zipped(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return buffer.getvalue()


def upload(web: TestClient, files: Files, csrf: str | None = None):
    token = csrf if csrf is not None else csrf_token(web, "/depot")
    return web.post("/depot", data={"csrf": token}, files=files, follow_redirects=False)


def held(app: App, number: str) -> bool:
    with transaction(app.engine) as session:
        return store.get(session, number) is not None


def test_an_agent_uploads_a_feed_and_sees_each_demande(lieu: App, tmp_path: Path, private_tmp):
    bad = every_violation()["dates-incoherentes"]
    files = feed_files(tmp_path / "telechargement", [Dem(numero(500)), Dem(numero(501)), bad])
    web = signed_in_client(lieu, AGENT)

    response = upload(web, files)

    assert response.status_code == 200, response.text
    page = response.text
    assert page.count("intégrée</td>") == 2
    assert "refusée</td>" in page and "incoh" in page  # the French rule, not a code alone
    assert 'role="status"' in page
    assert held(lieu, numero(500)) and held(lieu, numero(501))
    received = [e for e in audit_events(lieu, "reception") if e.numero == numero(500)]
    assert [e.actor for e in received] == [AGENT]  # audited as `intake ingest --agent`
    assert list(private_tmp.iterdir()) == []  # the clear copies are gone

    again = upload(web, files)
    assert again.text.count("déjà détenue</td>") == 2


def test_a_zip_is_taken_like_the_files(lieu: App, tmp_path: Path, private_tmp):
    files = feed_files(tmp_path / "zip", [Dem(numero(510))])
    archive = zipped([(name, content) for _, (name, content, _) in files])
    web = signed_in_client(lieu, AGENT)

    response = upload(web, [("fichiers", ("flux.zip", archive, "application/zip"))])

    assert response.status_code == 200, response.text
    assert "intégrée</td>" in response.text
    assert held(lieu, numero(510))
    assert list(private_tmp.iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../flux.xml", "dossier/flux.xml", "/etc/flux.xml", "..\\flux.xml", ".cache"]
)
def test_a_zip_with_paths_is_refused_whole(lieu: App, tmp_path: Path, private_tmp, name: str):
    files = feed_files(tmp_path / "z", [Dem(numero(520))])
    entries = [(n, c) for _, (n, c, _) in files]
    entries[0] = (name, entries[0][1])
    web = signed_in_client(lieu, AGENT)

    response = upload(web, [("fichiers", ("flux.zip", zipped(entries), "application/zip"))])

    assert response.status_code == 422
    assert "Dépôt refusé" in response.text and 'role="alert"' in response.text
    assert not held(lieu, numero(520))
    assert not (tmp_path / "flux.xml").exists()
    assert list(private_tmp.iterdir()) == []


def test_a_zip_bomb_is_stopped_while_decompressing(lieu: App, private_tmp):
    bomb = zipped([("flux.xml", b"\0" * (60 * 1024 * 1024))])  # 60 MB in some 60 KB
    assert len(bomb) < 1024 * 1024
    web = signed_in_client(lieu, AGENT)

    response = upload(web, [("fichiers", ("flux.zip", bomb, "application/zip"))])

    assert response.status_code == 422
    assert "trop volumineux" in response.text
    assert list(private_tmp.iterdir()) == []


def test_a_feed_of_a_commune_not_held_is_refused_whole(lieu: App, tmp_path: Path):
    files = feed_files(tmp_path / "corbas", [Dem(numero(530))])  # Corbas; Bron's agent uploads
    web = signed_in_client(lieu, BRON)

    response = upload(web, files)

    assert response.status_code == 200
    assert "pas habilité(e) pour la commune 69273" in response.text
    assert not held(lieu, numero(530))
    refusals = audit_events(lieu, "acces-refuse")
    assert refusals and refusals[-1].actor == BRON


def test_an_upload_needs_the_session_and_its_csrf(lieu: App, tmp_path: Path):
    files = feed_files(tmp_path / "c", [Dem(numero(540))])
    assert web_client(lieu).post("/depot", files=files, follow_redirects=False).status_code == 303
    web = signed_in_client(lieu, AGENT)
    assert upload(web, files, csrf="faux").status_code == 403
    assert not held(lieu, numero(540))


def test_an_upload_beyond_its_cap_is_refused_in_french(lieu: App):
    web = signed_in_client(lieu, AGENT)
    big = b"x" * (51 * 1024 * 1024)
    response = upload(web, [("fichiers", ("flux.xml", big, "application/xml"))], csrf="x")
    assert response.status_code == 413
    assert "50 Mo" in response.text


def test_nothing_but_pdfs_is_refused_with_what_to_do(lieu: App):
    web = signed_in_client(lieu, AGENT)
    response = upload(web, [("fichiers", ("a.pdf", b"%PDF-1.4", "application/pdf"))])
    assert response.status_code == 422
    assert "aucun fichier XML" in response.text


def test_the_deadline_email_links_to_the_upload_page():
    context = dict(
        lieu="Corbas", numero=numero(1), commune="69273", commune_name="Corbas",
        due="3/12", due_day="3 décembre 2026",
        days=15, remaining=2, overdue=False, reason=None,
    )  # fmt: skip
    with_console = render("deadline", console="https://intake.example", **context)
    assert "https://intake.example/depot" in with_console.text
    assert 'href="https://intake.example/depot"' in with_console.html
    assert "intake ingest" not in with_console.text
    assert "intake ingest" in render("deadline", **context).text
