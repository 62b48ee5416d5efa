"""Every committed event that reveals personal data or changes rights anchors the head
outside the database (file and system journal), so that cutting the newest reading and
moving the head back is caught without any verification in between; on both engines."""

from __future__ import annotations

import syslog
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from intake.trail import ANCHORED_ACTIONS
from storage import anchors
from storage.db import transaction
from storage.vault import Vault

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = "l.feuga@ville-corbas.fr"


def anchored(vault: Vault, path: Path) -> list[str]:
    """The vault's trail anchoring into `path`; the lines its system journal received."""
    journal: list[str] = []
    vault.trail.anchoring = anchors.Anchoring(path, ANCHORED_ACTIONS, journal.append)
    return journal


def record(engine: Engine, vault: Vault, *actions: str) -> None:
    with transaction(engine) as session:
        for action in actions:
            vault.trail.record(session, at=T0, actor=AGENT, action=action, numero="ME-2026-0000101")


def head(engine: Engine) -> tuple[int, str]:
    with engine.connect() as connection:
        return tuple(connection.execute(text("SELECT seq, hash FROM audit_head")).one())


def check(engine: Engine, path: Path) -> list[str]:
    recorded, unreadable = anchors.read(path)
    assert not unreadable
    with transaction(engine) as session:
        return anchors.check(session, recorded)


def test_a_reading_is_anchored_in_the_file_and_the_journal_once_committed(engine, vault, tmp_path):
    path = tmp_path / anchors.FILE_NAME
    journal = anchored(vault, path)
    record(engine, vault, "reception", "lecture")
    seq, link = head(engine)
    assert seq == 2
    assert path.read_text() == f"2026-11-23T09:00:00+00:00 seq=2 lien={link} motif=lecture\n"
    assert journal == [f"ancre du journal d'audit seq=2 lien={link} motif=lecture"]
    assert "ME-2026" not in path.read_text() + journal[0] and AGENT not in journal[0]


def test_the_newest_reading_cut_with_the_head_moved_back_is_caught(engine, vault, tmp_path):
    path = tmp_path / anchors.FILE_NAME
    anchored(vault, path)
    record(engine, vault, "reception")
    before = head(engine)
    record(engine, vault, "lecture")
    assert check(engine, path) == []
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE seq = 2"))
        connection.execute(
            text("UPDATE audit_head SET seq = :seq, hash = :hash"),
            {"seq": before[0], "hash": before[1]},
        )
    (problem,) = check(engine, path)
    assert "atteste l'événement 2 : des événements ont été supprimés" in problem
    assert "(lecture)" in problem


def test_events_that_reveal_nothing_are_not_anchored_one_by_one(engine, vault, tmp_path):
    path = tmp_path / anchors.FILE_NAME
    journal = anchored(vault, path)
    record(engine, vault, "reception", "acquittement", "connexion-refusee")
    assert not path.exists() and journal == []


def test_a_rolled_back_reading_leaves_no_anchor(engine, vault, tmp_path):
    path = tmp_path / anchors.FILE_NAME
    journal = anchored(vault, path)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        vault.trail.record(session, at=T0, actor=AGENT, action="lecture")
        raise RuntimeError("la lecture échoue")
    record(engine, vault, "reception")  # the same kind of session, later: nothing left pending
    assert not path.exists() and journal == []
    assert check(engine, path) == []


def test_one_anchor_per_transaction_at_its_newest_head(engine, vault, tmp_path):
    path = tmp_path / anchors.FILE_NAME
    anchored(vault, path)
    record(engine, vault, "export", "export", "export-fichier", "reception")
    (anchor,), _ = anchors.read(path)
    assert (anchor.seq, anchor.link, anchor.why) == (*head(engine), "export")


def test_an_anchor_that_cannot_be_written_stops_what_it_covers(engine, vault, tmp_path):
    path = tmp_path / "absent" / anchors.FILE_NAME
    journal = anchored(vault, path)
    with pytest.raises(anchors.AnchorError, match="accès suspendu"):
        record(engine, vault, "lecture")
    assert journal == []
    assert head(engine)[0] == 1  # the reading's event stays: a later anchor covers it
    (path.parent).mkdir()
    record(engine, vault, "lecture")
    (anchor,), _ = anchors.read(path)
    assert anchor.seq == 2


def test_the_system_journal_is_syslog(monkeypatch):
    sent: list[tuple[int, str]] = []
    opened: list[tuple[str, int, int]] = []
    monkeypatch.setattr(syslog, "syslog", lambda priority, line: sent.append((priority, line)))
    monkeypatch.setattr(syslog, "openlog", lambda *args: opened.append(args))
    anchors._open_syslog.cache_clear()
    anchors.to_syslog("ancre du journal d'audit seq=3 lien=ab motif=lecture")
    anchors.to_syslog("ancre du journal d'audit seq=4 lien=cd motif=export")
    anchors._open_syslog.cache_clear()
    assert [ident for ident, *_ in opened] == ["intake-audit"]  # opened once per process
    assert sent[0] == (syslog.LOG_NOTICE, "ancre du journal d'audit seq=3 lien=ab motif=lecture")
    assert len(sent) == 2


def test_the_console_shows_nothing_when_the_anchor_cannot_be_written(tmp_path):
    from fastapi.testclient import TestClient

    from intake.clock import FixedClock
    from intake.web.app import create_app
    from tests.support.console import AGENT, CSRF, PASSWORD, console_lieu

    app = console_lieu(tmp_path, FixedClock(T0))
    web = TestClient(create_app(app), base_url="http://127.0.0.1")
    token = CSRF.search(web.get("/connexion").text).group(1)
    web.post("/connexion", data={"email": AGENT, "mot_de_passe": PASSWORD, "csrf": token})
    shown = web.get("/demandes/ME-2026-0000101")
    assert shown.status_code == 200 and "Bernard" in shown.text
    anchoring = app.vault.trail.anchoring
    assert anchoring is not None
    anchoring.path = tmp_path / "absent" / anchors.FILE_NAME  # as a full or read-only disk
    page = web.get("/demandes/ME-2026-0000101")
    assert page.status_code == 503 and "impossible à écrire" in page.text
    assert "Bernard" not in page.text
