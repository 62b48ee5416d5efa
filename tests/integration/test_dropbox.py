"""The dropbox: files taken once settled, stored, then gone from the folder; never twice."""

from __future__ import annotations

import shutil

from intake.app import App
from intake.clock import FixedClock
from intake.sources.dropbox import REFUSED_FOLDER, Dropbox
from tests.support.feeds import SAMPLES
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


def test_a_document_refused_whole_is_set_aside_and_the_admins_told(lieu_config, tmp_path):
    from sqlmodel import select

    from storage.db import transaction
    from storage.models import OutboxMessage

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
    assert [p.name for p in (folder / REFUSED_FOLDER).iterdir()] == ["bombe.xml"]
    with transaction(app.engine) as session:
        (alert,) = session.exec(select(OutboxMessage)).all()
    assert "bombe.xml refusé" in alert.subject and "dsi@ville-corbas.fr" in alert.recipients
    wall.now += 8 * 86400
    assert dropbox.clean_refused() == 1
    assert list((folder / REFUSED_FOLDER).iterdir()) == []
