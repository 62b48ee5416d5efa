"""A large feed read by worker processes gives what the one-process reading gives: the same
outcomes, in the same order, the same refusals, the same PDFs; and a large ingest stores it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from intake.feed import (
    Accepted,
    FeedHeader,
    FeedSchema,
    Outcome,
    Refused,
    RuleContext,
    parallel,
    read_feed,
)
from intake.feed.pdf import FolderPdfSource
from intake.pipeline import Line, Result
from intake.sources.mailbox import Notification
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, Status
from tests.support.feeds import Dem, every_violation, numero, write_feed
from tests.support.lieu import NOW, PARIS

CONTEXT = RuleContext(frozenset({"69273"}), PARIS, NOW)


def mixed_feed(folder: Path, valid: int) -> Path:
    """Valid demandes with every kind of refusal among them, a missing PDF and a PDF that is
    an HTML page."""
    demandes = [Dem(numero(i)) for i in range(1, valid + 1)]
    for offset, bad in enumerate(every_violation().values()):
        demandes.insert(offset * 7 + 3, bad)
    demandes.insert(5, Dem(numero(990), pdf=None, declared_pdf=("1" * 64, 1000)))
    html = b"%PDF-1.4\n<html><body>pas un PDF</body></html>"
    demandes.insert(11, Dem(numero(991), pdf=html))
    return write_feed(folder, demandes)


def summary(outcome: Outcome) -> tuple[object, ...]:
    if isinstance(outcome, Accepted):
        pdf = outcome.load_pdf()
        checked = pdf if isinstance(pdf, bytes) else summary(pdf)
        return ("accepted", outcome.position, outcome.numero, outcome.record, outcome.xml, checked)
    if isinstance(outcome, Refused):
        quarantine = outcome.quarantine
        kept = None if quarantine is None else (quarantine.xml, quarantine.pdf)
        return ("refused", outcome.position, outcome.numero, outcome.violations, kept)
    return (type(outcome).__name__, outcome)


def test_workers_decide_as_one_process_does(tmp_path: Path, schema: FeedSchema):
    feed = mixed_feed(tmp_path / "depot", valid=150)
    alone = [summary(o) for o in read_feed(feed, schema=schema, ctx=CONTEXT)]
    assert not parallel.worth_it(feed, FolderPdfSource(feed.parent))  # small: one process
    pooled = [
        summary(o) for o in parallel.read(feed, schema, CONTEXT, FolderPdfSource(feed.parent))
    ]
    assert pooled == alone
    kinds = [s[0] for s in alone]
    assert kinds.count("accepted") == 153 and kinds.count("refused") == 9
    assert isinstance(next(iter(read_feed(feed, schema=schema, ctx=CONTEXT))), FeedHeader)
    refused_pdfs = {s[2] for s in alone if s[0] == "accepted" and not isinstance(s[5], bytes)}
    assert refused_pdfs == {numero(909), numero(990), numero(991)}  # checked on load


def test_workers_refuse_hostile_values_as_one_process_does(tmp_path: Path, schema: FeedSchema):
    """A year of 11 digits, an offset that leaves Python's calendar, 4,000 attributes: each
    refuses its own demande only, in a worker as in one process."""
    crowded = "".join(f' a{i}="x"' for i in range(4000))
    hostile = [
        Dem(numero(801), depot="99999999999-11-02T20:41:00+01:00"),
        Dem(numero(802), transmission="9999-12-31T23:59:59-14:00"),
        Dem(numero(803), raw=Dem(numero(803)).xml().replace("<enfant>", f"<enfant{crowded}>")),
    ]
    demandes = [Dem(numero(i)) for i in range(1, 41)]
    for offset, bad in enumerate(hostile):
        demandes.insert(offset * 10 + 5, bad)
    feed = write_feed(tmp_path / "depot", demandes)
    alone = [summary(o) for o in read_feed(feed, schema=schema, ctx=CONTEXT)]
    pooled = [
        summary(o) for o in parallel.read(feed, schema, CONTEXT, FolderPdfSource(feed.parent))
    ]
    assert pooled == alone
    refused = {s[2]: s[3] for s in alone if s[0] == "refused"}
    assert set(refused) == {numero(801), numero(802), numero(803)}
    assert all(v.code == "schema-invalide" for violations in refused.values() for v in violations)
    assert [s[0] for s in alone].count("accepted") == 40


def _large_ingest(tmp_path: Path, ingestor, monkeypatch, *, threaded: bool) -> Path:
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1, 1201)])
    assert feed.stat().st_size >= parallel.PARALLEL_FROM_BYTES
    if parallel.workers() < 2:
        pytest.skip("one core: the feed is read in one process")
    pooled: list[str] = []
    read = parallel.read

    def spy(f: BinaryIO, *args: object) -> Iterator[Outcome]:
        pooled.append(f.name)  # the feed, opened once as a regular file
        yield from read(f, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(parallel, "read", spy)
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    if threaded:  # as in the daemon: the workers come from a forkserver
        other.start()
    try:
        lines = [line for line in ingestor.ingest_file(feed) if isinstance(line, Line)]
    finally:
        release.set()
        if threaded:
            other.join(timeout=5)
    assert pooled == [str(feed)]
    assert [line.numero for line in lines] == [numero(i) for i in range(1, 1201)]
    assert all(line.result == Result.INGESTED for line in lines)
    return feed


@pytest.mark.parametrize("threaded", [False, True], ids=["fork", "forkserver"])
def test_a_large_feed_goes_to_the_workers_and_is_stored(
    tmp_path: Path, ingestor, engine, vault, monkeypatch, threaded: bool
):
    """Decided by the workers, the demandes are stored whole: their secrets open with the
    lieu's vault to what the feed held."""
    feed = _large_ingest(tmp_path, ingestor, monkeypatch, threaded=threaded)
    expected = {
        o.numero: o
        for o in read_feed(feed, schema=ingestor.schema, ctx=CONTEXT)
        if isinstance(o, Accepted)
    }
    with transaction(engine) as session:
        for i in (1, 600, 1200):
            accepted = expected[numero(i)]
            row = store.get(session, numero(i))
            assert row is not None and row.fingerprint == vault.fingerprint(accepted.record)
            assert store.read_secret(session, vault, numero(i), BlobKind.RECORD) == accepted.record
            assert store.read_secret(session, vault, numero(i), BlobKind.XML) == accepted.xml
            assert store.read_secret(session, vault, numero(i), BlobKind.PDF) == accepted.load_pdf()


def test_a_demande_announced_by_mail_is_completed_by_a_pooled_ingest(
    tmp_path: Path, ingestor, engine, vault, monkeypatch
):
    """A row that exists already (announced by the notification email) is not new: it is
    completed through the one-by-one path, inside the group of the others."""
    announced = Notification(
        numero=numero(7),
        commune="69273",
        commune_name="Corbas",
        sent_at=NOW,
        available_at=NOW,
        message_id="<m@x>",
    )
    with transaction(engine) as session:
        assert ingestor.writer.record_notification(session, announced, NOW)
    _large_ingest(tmp_path, ingestor, monkeypatch, threaded=False)
    with transaction(engine) as session:
        row = store.get(session, numero(7))
        assert row is not None and row.status == Status.RECEIVED and row.mail_notified_at
        xml = store.read_secret(session, vault, numero(7), BlobKind.XML)
    assert xml is not None and numero(7).encode() in xml


def test_a_threaded_process_gets_its_workers_from_a_forkserver(tmp_path: Path, schema, monkeypatch):
    """The daemon has threads (scheduler, console): forking it could copy a held lock, so
    its workers come from a forkserver, and decide the same."""
    feed = mixed_feed(tmp_path / "depot", valid=40)
    methods: list[str] = []
    real = parallel.multiprocessing.get_context
    monkeypatch.setattr(
        parallel.multiprocessing, "get_context", lambda m: methods.append(m) or real(m)
    )
    alone = [summary(o) for o in read_feed(feed, schema=schema, ctx=CONTEXT)]
    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    try:
        pooled = [
            summary(o) for o in parallel.read(feed, schema, CONTEXT, FolderPdfSource(feed.parent))
        ]
    finally:
        release.set()
        other.join(timeout=5)
    assert methods == ["forkserver"]
    assert pooled == alone
