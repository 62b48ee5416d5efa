"""Parse, guard and validate one feed: XML in, accepted demandes or refusals out.

Nothing outside this package depends on version 1's element names.
The document is read twice: once by the guard (whole-document safety, constant
memory), then streamed one `demande` at a time, each validated by the XSD,
decoded, checked against the rules and matched with its PDF. One bad demande
never blocks the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from intake.feed import parallel
from intake.feed.decide import decide, elements
from intake.feed.errors import Code, Violation
from intake.feed.guard import check_document
from intake.feed.outcomes import (
    Accepted,
    DocumentRefused,
    FeedHeader,
    Outcome,
    Quarantine,
    Refused,
)
from intake.feed.pdf import FolderPdfSource, PdfSource
from intake.feed.rules import RuleContext
from intake.feed.schema import FeedSchema
from intake.files import open_regular

__all__ = [
    "Accepted",
    "Code",
    "DocumentRefused",
    "FeedHeader",
    "FeedSchema",
    "FolderPdfSource",
    "Outcome",
    "Quarantine",
    "Refused",
    "RuleContext",
    "Violation",
    "read_feed",
]


def read_feed(
    source: Path | bytes, *, schema: FeedSchema, ctx: RuleContext, pdfs: PdfSource | None = None
) -> Iterator[Outcome]:
    """`source` is a feed file (PDFs beside it by default) or a feed in memory (give `pdfs`).
    A file is opened once, as a regular file only (never through a link, never a FIFO), and
    both passes read that one open file. A large file with its PDFs beside it is decided by
    worker processes (same outcomes, in the same order)."""
    if pdfs is None:
        if isinstance(source, bytes):
            raise ValueError("a feed in memory needs a PdfSource")
        pdfs = FolderPdfSource(source.parent)
    if isinstance(source, bytes):
        yield from _read(source, schema, ctx, pdfs)
        return
    try:
        stream = open_regular(source)
    except OSError as exc:
        yield DocumentRefused(Violation(Code.XML_MALFORME, f"fichier illisible ({exc.strerror})"))
        return
    with stream:
        yield from _read(stream, schema, ctx, pdfs)


def _read(
    source: bytes | BinaryIO, schema: FeedSchema, ctx: RuleContext, pdfs: PdfSource
) -> Iterator[Outcome]:
    guard = check_document(source)
    if guard.violation is not None:
        yield DocumentRefused(guard.violation)
        return
    if not isinstance(source, bytes):
        source.seek(0)
        if parallel.worth_it(source, pdfs):
            assert isinstance(pdfs, FolderPdfSource)
            yield from parallel.read(source, schema, ctx, pdfs)
            return
    for item in elements(source, schema):
        if isinstance(item, tuple):
            position, element, header = item
            yield decide(element, position, header, schema, ctx, pdfs)
        else:
            yield item
