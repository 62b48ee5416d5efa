"""A large feed read by worker processes gives what the one-process reading gives: the same
outcomes, in the same order, the same refusals, the same PDFs; and a large ingest stores it."""

from __future__ import annotations

import threading
from pathlib import Path

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


def test_a_large_feed_goes_to_the_workers_and_is_stored(tmp_path: Path, ingestor, monkeypatch):
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1, 1201)])
    assert feed.stat().st_size >= parallel.PARALLEL_FROM_BYTES
    if parallel.workers() < 2:
        pytest.skip("one core: the feed is read in one process")
    pooled: list[Path] = []
    read = parallel.read
    monkeypatch.setattr(parallel, "read", lambda f, *a: pooled.append(f) or read(f, *a))
    lines = [line for line in ingestor.ingest_file(feed) if isinstance(line, Line)]
    assert pooled == [feed]
    assert [line.numero for line in lines] == [numero(i) for i in range(1, 1201)]
    assert all(line.result == Result.INGESTED for line in lines)


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
