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
    A large file with its PDFs beside it is decided by worker processes (same outcomes, in
    the same order)."""
    if pdfs is None:
        if isinstance(source, bytes):
            raise ValueError("a feed in memory needs a PdfSource")
        pdfs = FolderPdfSource(source.parent)
    guard = check_document(source)
    if guard.violation is not None:
        yield DocumentRefused(guard.violation)
        return
    if parallel.worth_it(source, pdfs):
        assert isinstance(source, Path) and isinstance(pdfs, FolderPdfSource)
        yield from parallel.read(source, schema, ctx, pdfs)
        return
    for item in elements(source, schema):
        if isinstance(item, tuple):
            position, element, header = item
            yield decide(element, position, header, schema, ctx, pdfs)
        else:
            yield item
