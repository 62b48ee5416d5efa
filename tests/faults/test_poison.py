"""One poisoned item never blocks the ones behind it: random bytes (hypothesis, bounded) and
known killers driven through each way in — a mailbox message, a dropped file, an extranet
feed, a PDF — and the next valid item is still processed."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from intake.app import App
from intake.clock import FixedClock
from intake.convention.notices import Notices
from intake.pipeline import Line, MailboxPass, Poller, Result
from intake.pipeline import mailbox as mailbox_pass
from intake.sandbox.state import SandboxState, notification_email
from intake.sources.dropbox import Dropbox
from intake.sources.extranet import Feed
from intake.sources.mailbox import Fetched, MailboxSettings
from storage import communes as communes_store
from storage import demandes as store
from storage.db import transaction
from storage.models import OutboxMessage, Status
from tests.support.feeds import SAMPLE_PDF, SAMPLES, Dem, feed_xml, numero, write_feed
from tests.support.lieu import NOW

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SENDER = "ne-pas-repondre@monenfant.example"
KILLERS = [
    # An unknown charset: LookupError out of get_content() on every pass, before the fix.
    (
        f"From: {SENDER}\r\nDate: Mon, 23 Nov 2026 06:00:00 +0100\r\n"
        "Message-ID: <poison@monenfant.example>\r\n"
        "Subject: [mon-enfant.fr] Nouvelle demande d'accueil ME-2026-0000001 - Corbas (69273)\r\n"
        "Content-Type: text/plain; charset=x-inconnu-42\r\n\r\nNum\xe9ro de demande\r\n"
    ).encode("latin-1"),
    f"From: {SENDER}\r\nContent-Type: multipart/mixed; boundary=\r\n\r\n--\r\n".encode(),
    f"From: {SENDER}\r\nDate: 99 Foo 2026 99:99\r\nSubject: =?x-bad?q?=ZZ?=\r\n\r\n".encode(),
]


# --- the mailbox ----------------------------------------------------------------------------


SERIALS = itertools.count(1)


def _valid_notification() -> tuple[str, bytes]:
    """A notification of a demande never seen before in this session."""
    state = SandboxState(communes={"69273": "Corbas"}, now=lambda: NOW - timedelta(hours=2))
    state.serial = next(SERIALS) * 10
    (demande,) = state.add_demandes(1, "69273")
    return demande.numero, notification_email(demande, ["a@b.example"]).as_bytes()


@contextmanager
def _mailbox_holding(monkeypatch: pytest.MonkeyPatch, messages: list[tuple[int, bytes]]):
    monkeypatch.setattr(
        mailbox_pass.mailbox, "fetch_new", lambda *_: Fetched(uidvalidity=7, messages=messages)
    )
    yield MailboxSettings("127.0.0.1", 1, "boite", "x", sender=SENDER)


def _read_past(ingestor, lieu_config, monkeypatch, poison: bytes, uid: int):
    numero_, valid = _valid_notification()
    with _mailbox_holding(monkeypatch, [(uid, poison), (uid + 1, valid)]) as box:
        report = MailboxPass(ingestor, box, Notices(lieu_config)).run()
    with transaction(ingestor.engine) as session:
        position = communes_store.mailbox_position(session, box.key)
        held = store.get(session, numero_)
    return report, numero_, position, held


@pytest.mark.parametrize("poison", KILLERS, ids=["charset", "multipart", "headers"])
def test_a_poisoned_email_is_reported_once_and_the_next_one_is_read(
    ingestor, engine, lieu_config, monkeypatch, poison
):
    report, numero_, position, held = _read_past(ingestor, lieu_config, monkeypatch, poison, 1)
    assert report.notified == [numero_]
    assert position is not None and position.last_uid == 2  # moved past the poison
    assert held is not None and held.status == Status.NOTIFIED
    with transaction(engine) as session:
        alerts = [m for m in session.exec(select(OutboxMessage)) if "illisible" in m.dedupe_key]
    if report.unreadable:
        (alert,) = alerts
        assert "courriel-illisible:7:1" == alert.dedupe_key


@BOUNDED
@given(noise=st.binary(max_size=400))
def test_random_bytes_in_the_mailbox_never_stop_the_pass(ingestor, lieu_config, monkeypatch, noise):
    poison = f"From: {SENDER}\r\n".encode() + noise
    uid = next(SERIALS) * 10
    report, numero_, position, _ = _read_past(ingestor, lieu_config, monkeypatch, poison, uid)
    assert numero_ in report.notified and position.last_uid == uid + 1


# --- the drop folder ------------------------------------------------------------------------


def _drop(folder: Path, poison: bytes) -> Dropbox:
    folder.mkdir(exist_ok=True)
    (folder / "a-poison.xml").write_bytes(poison)
    for sample in SAMPLES.glob("*"):
        if sample.suffix in (".xml", ".pdf"):
            shutil.copy(sample, folder / sample.name)
    newest = max(p.stat().st_mtime for p in folder.iterdir())
    box = Dropbox(folder, settle_seconds=0, wall_clock=lambda: newest + 10)
    box.ready()  # the first look only records the folder
    return box


def _dropped_pass(lieu_config, folder: Path, poison: bytes) -> list[Line]:
    return App(lieu_config, FixedClock(NOW)).ingest_dropbox(_drop(folder, poison))


HUGE_PDF = feed_xml([Dem(numero(1), declared_pdf=("0" * 64, 10**30))]).encode()


@pytest.mark.parametrize("poison", [HUGE_PDF, b"\xff\xfe<\x00", b"<?xml version='1.0'?><a/>"])
def test_a_poisoned_dropped_file_is_set_aside_and_the_next_is_ingested(
    lieu_config, tmp_path, poison
):
    folder = tmp_path / "depot"
    lines = _dropped_pass(lieu_config, folder, poison)
    assert {line.numero for line in lines if line.result == Result.INGESTED} == {
        "ME-2026-0000101",
        "ME-2026-0000102",
        "ME-2026-0000103",
    }
    # Nothing in clear: the poison is in the vault (a refused demande), or deleted.
    assert list(folder.iterdir()) == []


def test_a_file_that_crashes_the_reader_is_set_aside(lieu_config, tmp_path, monkeypatch):
    from intake import feed

    real = feed.check_document

    def crash_on_poison(source):
        if Path(str(getattr(source, "name", ""))).name == "a-poison.xml":
            raise RuntimeError("bug of the reader")
        return real(source)

    monkeypatch.setattr(feed, "check_document", crash_on_poison)
    folder = tmp_path / "depot"
    lines = _dropped_pass(lieu_config, folder, b"<x/>")
    assert len([line for line in lines if line.result == Result.INGESTED]) == 3
    assert list(folder.iterdir()) == []  # deleted, not kept in clear


@BOUNDED
@given(noise=st.binary(max_size=300))
def test_random_dropped_bytes_never_stop_the_folder(lieu_config, tmp_path_factory, noise):
    folder = tmp_path_factory.mktemp("depot")
    lines = _dropped_pass(lieu_config, folder, noise)
    assert len([line for line in lines if line.result != Result.REFUSED]) == 3
    assert list(folder.iterdir()) == []


def test_a_pdf_under_another_name_does_not_stay_in_clear(lieu_config, tmp_path):
    folder = tmp_path / "depot"
    pdf = SAMPLE_PDF
    dem = Dem(numero(5))
    path = write_feed(folder, [dem])
    (folder / f"{dem.numero}.pdf").rename(folder / "scan-famille.pdf")
    text = path.read_text().replace(f'nom="{dem.numero}.pdf"', 'nom="scan-famille.pdf"')
    path.write_text(text)
    (folder / "notes-agent.pdf").write_bytes(pdf)  # named by no feed
    newest = max(p.stat().st_mtime for p in folder.iterdir())
    box = Dropbox(folder, settle_seconds=0, wall_clock=lambda: newest + 10)
    box.ready()
    (line,) = App(lieu_config, FixedClock(NOW)).ingest_dropbox(box)
    assert line.result == Result.INGESTED
    assert list(folder.iterdir()) == []  # the stray PDF too: deleted, and noted


# --- an extranet feed, and a PDF --------------------------------------------------------------


class FakeExtranet:
    """Feeds as given, the sample PDF for any demande; every acknowledgement recorded."""

    def __init__(self, feeds: dict[str, bytes], pdfs: dict[str, bytes] | None = None) -> None:
        self.feeds, self.pdfs, self.acknowledged = feeds, pdfs or {}, []

    def sign_in(self) -> None: ...

    def sign_out(self) -> None: ...

    def deadline(self, seconds: float):
        from contextlib import nullcontext

        return nullcontext()

    def overdue(self) -> bool:
        return False

    def feed(self, insee: str, etag: str | None) -> Feed:
        return Feed(True, None, self.feeds[insee])

    def pdf(self, numero_: str, document) -> bytes:
        return self.pdfs.get(numero_, SAMPLE_PDF)

    def acknowledge(self, numero_: str) -> None:
        self.acknowledged.append(numero_)


def _poll(ingestor, extranet: FakeExtranet):
    ingestor = replace(ingestor, communes=frozenset({"69029", "69273"}))
    poller = Poller(ingestor, lambda: extranet, ["69029", "69273"], "agent@x.example", "mark")
    return poller.poll()


@BOUNDED
@given(noise=st.binary(max_size=400))
def test_a_random_feed_from_one_commune_never_stops_the_next(ingestor, noise):
    good = feed_xml([Dem(numero(7))]).encode()
    extranet = FakeExtranet({"69029": noise, "69273": good})
    _poll(ingestor, extranet)
    assert numero(7) in extranet.acknowledged


@BOUNDED
@given(noise=st.binary(max_size=2000))
def test_a_random_pdf_is_refused_and_the_next_demande_is_stored(ingestor, noise):
    bad = b"%PDF-1.7\n" + noise
    dems = [
        Dem(numero(8), declared_pdf=(hashlib.sha256(bad).hexdigest(), len(bad))),
        Dem(numero(9)),
    ]
    feeds = {"69029": feed_xml([], "69029").encode(), "69273": feed_xml(dems).encode()}
    extranet = FakeExtranet(feeds, {numero(8): bad})
    _poll(ingestor, extranet)
    assert numero(9) in extranet.acknowledged
