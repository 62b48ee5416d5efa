"""The dropbox: files taken once settled, stored, then gone from the folder; never twice."""

from __future__ import annotations

import os
import shutil
import stat
import threading
from pathlib import Path

from intake.app import App
from intake.clock import FixedClock
from intake.sources.dropbox import Dropbox
from tests.support.feeds import SAMPLE_PDF, SAMPLES, Dem, numero, write_feed
from tests.support.lieu import NOW


class Wall:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_a_settled_feed_is_ingested_once_and_removed(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    folder.mkdir()
    for sample in SAMPLES.glob("*"):
        if sample.suffix in (".xml", ".pdf"):
            shutil.copy(sample, folder / sample.name)
    newest = max(p.stat().st_mtime for p in folder.iterdir())
    wall = Wall(newest + 1)
    dropbox = Dropbox(folder, settle_seconds=5, wall_clock=wall)
    app = App(lieu_config, FixedClock(NOW))

    assert app.ingest_dropbox(dropbox) == []  # first look: maybe still being copied
    assert app.ingest_dropbox(dropbox) == []  # unchanged, but too fresh
    wall.now += 10
    lines = app.ingest_dropbox(dropbox)
    assert [(line.numero, line.result) for line in lines] == [
        ("ME-2026-0000101", "ingested"),
        ("ME-2026-0000102", "ingested"),
        ("ME-2026-0000103", "ingested"),
    ]
    assert sorted(p.name for p in folder.iterdir()) == []  # clear copies gone
    assert app.ingest_dropbox(dropbox) == [] and app.ingest_dropbox(dropbox) == []


def test_a_file_still_growing_waits(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    folder.mkdir()
    partial = folder / "flux.xml"
    partial.write_bytes(b"<?xml version='1.0'?><fluxDemandes")
    wall = Wall(partial.stat().st_mtime + 60)
    dropbox = Dropbox(folder, wall_clock=wall)
    assert dropbox.ready() == []
    partial.write_bytes(partial.read_bytes() + b" version='1.0'>")  # the copy goes on
    assert dropbox.ready() == []
    wall.now = partial.stat().st_mtime + 60
    assert dropbox.ready() == [partial]


def test_a_document_refused_whole_is_deleted_noted_and_the_admins_told(lieu_config, tmp_path):
    """A refused feed never stays in clear on disk: it is deleted at once, and what the agents
    need to act (name, reason, date; commune when read) is a refusal row and an email
    (issue 25, item 5)."""
    from sqlmodel import select

    from storage.db import transaction
    from storage.models import OutboxMessage, Refusal

    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "bombe.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><fluxDemandes/>'
    )
    wall = Wall((folder / "bombe.xml").stat().st_mtime + 60)
    dropbox = Dropbox(folder, wall_clock=wall)
    app = App(lieu_config, FixedClock(NOW))
    app.ingest_dropbox(dropbox)
    (line,) = app.ingest_dropbox(dropbox)
    assert line.result == "refused" and line.numero is None
    assert list(folder.iterdir()) == []  # no `refuses/`: nothing kept in clear
    with transaction(app.engine) as session:
        (alert,) = session.exec(select(OutboxMessage)).all()
        (refusal,) = session.exec(select(Refusal)).all()
    assert (refusal.source, refusal.code) == ("bombe.xml", "xml-dangereux")
    assert "bombe.xml refusé" in alert.subject and "dsi@ville-corbas.fr" in alert.recipients
    assert "supprimé du dossier" in alert.text_body and "7 jours" not in alert.text_body


def test_what_earlier_versions_kept_in_refuses_is_deleted(tmp_path):
    folder = tmp_path / "depot"
    legacy = folder / "refuses"
    legacy.mkdir(parents=True)
    (legacy / "flux-refuse.xml").write_bytes(b"<famille>...</famille>")
    outside = tmp_path / "garde.pdf"
    outside.write_bytes(b"%PDF-")
    (legacy / "lien.pdf").symlink_to(outside)
    assert Dropbox(folder).clean_legacy() == 2
    assert list(folder.iterdir()) == [] and outside.exists()
    assert Dropbox(folder).clean_legacy() == 0


# --- hostile entries: links, tubes, names (issue 21, item 1) ----------------------------------


def _settled(folder: Path) -> Dropbox:
    """A dropbox whose next pass takes what the folder holds (links and tubes included)."""
    newest = max(os.lstat(p).st_mtime for p in folder.iterdir())
    box = Dropbox(folder, settle_seconds=0, wall_clock=lambda: newest + 10)
    box.ready()  # the first look only records the folder
    return box


def _secret(tmp_path: Path, size: int) -> Path:
    """A file outside the folder, the master key's stand-in: 0640, dated a year back."""
    secret = tmp_path / "master.key"
    secret.write_bytes(b"K" * size)
    secret.chmod(0o640)
    os.utime(secret, (1_700_000_000, 1_700_000_000))
    return secret


def _untouched(secret: Path, size: int) -> None:
    info = secret.stat()
    assert secret.read_bytes() == b"K" * size
    assert stat.S_IMODE(info.st_mode) == 0o640 and info.st_mtime == 1_700_000_000


def _quarantined_pdfs(app: App) -> list[bytes]:
    from sqlmodel import select

    from storage import demandes as store
    from storage.db import transaction
    from storage.models import BlobKind, DemandeBlob

    with transaction(app.engine) as session:
        numeros = session.exec(
            select(DemandeBlob.numero).where(DemandeBlob.kind == BlobKind.QUARANTINE_PDF)
        ).all()
        return [
            store.read_secret(session, app.vault, numero, BlobKind.QUARANTINE_PDF) or b""
            for numero in numeros
        ]


def test_a_link_named_like_the_pdf_never_brings_its_target_in(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    dem = Dem(numero(7))
    write_feed(folder, [dem])
    secret = _secret(tmp_path, len(SAMPLE_PDF))  # the declared size: only its hash differs
    pdf = folder / f"{dem.numero}.pdf"
    pdf.unlink()
    pdf.symlink_to(secret)
    app = App(lieu_config, FixedClock(NOW))

    (line,) = app.ingest_dropbox(_settled(folder))

    assert (line.numero, line.result, line.code) == (dem.numero, "refused", "pdf-invalide")
    assert _quarantined_pdfs(app) == []  # the console has nothing of it to serve
    assert list(folder.iterdir()) == []  # the link went, by its own name
    _untouched(secret, len(SAMPLE_PDF))


def test_a_link_no_feed_claims_is_removed_and_its_target_left_alone(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    folder.mkdir()
    secret = _secret(tmp_path, 32)
    (folder / "notes.pdf").symlink_to(secret)
    (folder / "dossier.pdf").symlink_to(tmp_path)  # a link to a folder is no folder of ours
    app = App(lieu_config, FixedClock(NOW))

    assert app.ingest_dropbox(_settled(folder)) == []

    _untouched(secret, 32)  # neither its mode nor its date changed through the link
    assert list(folder.iterdir()) == []


def test_a_linked_feed_is_refused_unread(lieu_config, tmp_path):
    elsewhere = tmp_path / "ailleurs"
    target = write_feed(elsewhere, [Dem(numero(8))])
    folder = tmp_path / "depot"
    folder.mkdir()
    (folder / "flux.xml").symlink_to(target)
    app = App(lieu_config, FixedClock(NOW))

    (line,) = app.ingest_dropbox(_settled(folder))

    assert (line.result, line.code, line.numero) == ("refused", "xml-malforme", None)
    assert "lien symbolique" in (line.message or "")
    assert list(folder.iterdir()) == [] and target.exists()
    assert (elsewhere / f"{numero(8)}.pdf").exists()


def test_tubes_in_the_folder_never_block_the_pass(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    write_feed(folder, [Dem(numero(9))])
    os.mkfifo(folder / "a-tube.xml")
    os.mkfifo(folder / "tube.pdf")
    app = App(lieu_config, FixedClock(NOW))
    box = _settled(folder)
    lines: list = []
    worker = threading.Thread(target=lambda: lines.extend(app.ingest_dropbox(box)), daemon=True)

    worker.start()
    worker.join(120)  # a bound on a hang, not on speed: a pass takes well under a second

    assert not worker.is_alive(), "a FIFO blocked the drop folder's pass"
    assert sorted((line.label, line.result) for line in lines) == [
        (numero(9), "ingested"),
        ("a-tube.xml", "refused"),
    ]
    assert list(folder.iterdir()) == []


def test_a_hard_link_is_read_as_a_file_and_kept_only_if_it_is_the_pdf(lieu_config, tmp_path):
    """A hard link is a regular file (Linux's protected_hardlinks stops anyone linking a file
    they cannot read): its bytes must be the declared PDF, else nothing of them is kept, and
    removing it leaves the other name alone."""
    folder = tmp_path / "depot"
    dem = Dem(numero(10))
    write_feed(folder, [dem])
    secret = _secret(tmp_path, len(SAMPLE_PDF))
    pdf = folder / f"{dem.numero}.pdf"
    pdf.unlink()
    os.link(secret, pdf)
    app = App(lieu_config, FixedClock(NOW))

    (line,) = app.ingest_dropbox(_settled(folder))

    assert (line.result, line.code) == ("refused", "pdf-invalide")
    assert _quarantined_pdfs(app) == []
    assert list(folder.iterdir()) == []
    _untouched(secret, len(SAMPLE_PDF))


def test_a_name_out_of_the_folder_is_never_deleted(tmp_path):
    folder = tmp_path / "depot"
    folder.mkdir()
    outside = tmp_path / "ailleurs.pdf"
    outside.write_bytes(b"%PDF-")
    xml = folder / "flux.xml"
    xml.write_bytes(b"<x/>")
    Dropbox(folder).done(xml, [], ["../ailleurs.pdf", str(outside), ".."])
    assert outside.exists() and not xml.exists()


def test_a_quarantined_pdf_kept_by_an_earlier_version_is_served_only_if_declared(
    lieu_config, tmp_path
):
    """Before the fix, bytes of the declared size were kept (the master key behind a link):
    a database holding such a copy must not serve it (issue 21, item 1)."""
    from sqlmodel import delete

    from intake.desk.access import open_demande
    from intake.pipeline import Line
    from storage import demandes as store
    from storage.db import transaction
    from storage.models import BlobKind, DemandeBlob
    from tests.support.feeds import every_violation

    too_old = every_violation()["enfant-trop-age"]  # quarantined with its real PDF
    app = App(lieu_config, FixedClock(NOW))
    feed = write_feed(tmp_path / "depot", [too_old])
    lines = [x for x in app.ingestor("système:test").ingest_file(feed) if isinstance(x, Line)]
    assert [line.code for line in lines] == ["enfant-trop-age"]
    agent = "l.feuga@ville-corbas.fr"
    opened = open_demande(
        app.engine, app.vault, app.config, too_old.numero, agent, NOW, with_pdf=True
    )
    assert opened.pdf == SAMPLE_PDF

    with transaction(app.engine) as session:
        session.exec(
            delete(DemandeBlob).where(
                DemandeBlob.numero == too_old.numero, DemandeBlob.kind == BlobKind.QUARANTINE_PDF
            )
        )
        store.add_secret(
            session, app.vault, too_old.numero, BlobKind.QUARANTINE_PDF, b"K" * len(SAMPLE_PDF)
        )
    opened = open_demande(
        app.engine, app.vault, app.config, too_old.numero, agent, NOW, with_pdf=True
    )
    assert opened.pdf is None
