"""A large feed's demandes decided by worker processes, one per core.

The main process streams the document (the guard has already passed it) and hands each
demande's XML to the pool in small batches; the workers parse it again with the hardened
parser, validate it, decode it, apply the rules and read and check its PDF from the folder:
the per-demande work that used to keep one core busy while the other waited. Outcomes come
back in the feed's order, with at most `WINDOW` batches in flight, so memory stays bounded
whatever the feed's size. Only for a feed file with its PDFs beside it: PDFs fetched from the
extranet are fetched by the caller, one connection, as before.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from lxml import etree

from intake.feed.decide import decide, elements
from intake.feed.errors import Code, Violation
from intake.feed.guard import hardened_parser_options
from intake.feed.outcomes import Accepted, FeedHeader, Outcome, Refused
from intake.feed.pdf import MAX_PDF_BYTES, FolderPdfSource, PdfSource
from intake.feed.rules import RuleContext
from intake.feed.schema import NAMESPACE_V1, FeedSchema

# Below this size (some 1,100 demandes) the pool's start costs about what it saves.
PARALLEL_FROM_BYTES = 1024 * 1024
BATCH_DEMANDES = 64
BATCH_PDF_BYTES = 8 * 1024 * 1024  # declared sizes: a batch's results stay small
# In flight: enough for the workers to go on while the caller commits a group (up to 500
# demandes), never more than this many bytes of PDFs held for the caller.
WINDOW_BATCHES = 16
WINDOW_PDF_BYTES = 64 * 1024 * 1024

_DOCUMENT = f"{{{NAMESPACE_V1}}}documentPdf"

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# A worker's own schema, rule context and folder, set once by `_start`.
_state: tuple[FeedSchema, RuleContext, FolderPdfSource] | None = None


def workers() -> int:
    return len(os.sched_getaffinity(0))


def worth_it(source: Path | bytes | BinaryIO, pdfs: PdfSource) -> bool:
    return (
        not isinstance(source, bytes)
        and type(pdfs) is FolderPdfSource
        and workers() > 1
        and _size(source) >= PARALLEL_FROM_BYTES
    )


def _size(source: Path | BinaryIO) -> int:
    return source.stat().st_size if isinstance(source, Path) else os.fstat(source.fileno()).st_size


def read(
    source: Path | BinaryIO, schema: FeedSchema, ctx: RuleContext, pdfs: FolderPdfSource
) -> Iterator[Outcome]:
    """The outcomes of `read_feed`, the same and in the same order."""
    # Forking is the cheapest start (the workers inherit the loaded modules) and is safe in a
    # process with one thread, as `intake ingest` is; a daemon with threads gets a forkserver.
    # (A forkserver's children die with the forkserver, which ends with this process.)
    forking = threading.active_count() == 1
    pool = ProcessPoolExecutor(
        workers(),
        mp_context=multiprocessing.get_context("fork" if forking else "forkserver"),
        initializer=_start,
        initargs=(schema.xsd_name, ctx, pdfs.folder, os.getpid() if forking else None),
    )
    pending: deque[tuple[Future[list[Accepted | Refused]], int]] = deque()
    batch: list[tuple[int, bytes]] = []
    size = 0
    try:
        for item in elements(source, schema):
            if not isinstance(item, tuple):  # the header, or the document refused midway
                yield from _drain(pending, everything=True)
                yield item
                continue
            position, element, header = item
            batch.append((position, etree.tostring(element)))
            size += _declared_size(element)
            if len(batch) >= BATCH_DEMANDES or size >= BATCH_PDF_BYTES:
                pending.append((pool.submit(_decide, header, batch), size))
                batch, size = [], 0
                yield from _drain(pending)
        if batch:
            pending.append((pool.submit(_decide, header, batch), size))
        yield from _drain(pending, everything=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _drain(
    pending: deque[tuple[Future[list[Accepted | Refused]], int]],
    *,
    everything: bool = False,
) -> Iterator[Outcome]:
    """The oldest batches' outcomes, until the window is respected (or nothing is left)."""
    while pending and (
        everything
        or len(pending) > WINDOW_BATCHES
        or sum(size for _, size in pending) > WINDOW_PDF_BYTES
    ):
        future, _ = pending.popleft()
        yield from future.result()


def _declared_size(element: etree._Element) -> int:
    document = element.find(_DOCUMENT)
    try:
        declared = int(document.get("taille", "0")) if document is not None else 0
    except ValueError:
        return 0
    return min(max(declared, 0), MAX_PDF_BYTES)


def _start(xsd_name: str, ctx: RuleContext, folder: Path, parent: int | None) -> None:
    global _state
    _die_with_parent(parent)
    _state = (FeedSchema(xsd_name), ctx, FolderPdfSource(folder))


def _die_with_parent(parent: int | None) -> None:
    """A worker whose ingest was killed (`kill -9`, the OOM killer) must not wait forever
    on its queue: the kernel kills it with its parent (prctl PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent is not None and os.getppid() != parent:  # it died before the line above
        os._exit(1)


def _decide(header: FeedHeader, batch: list[tuple[int, bytes]]) -> list[Accepted | Refused]:
    """In a worker: each demande of the batch, decided as `read_feed` decides it, its PDF
    read and checked ahead."""
    assert _state is not None
    schema, ctx, pdfs = _state
    parser = etree.XMLParser(**hardened_parser_options())
    outcomes: list[Accepted | Refused] = []
    for position, raw in batch:
        try:
            element = etree.fromstring(raw, parser)  # lxml wrote it: it parses
        except etree.LxmlError:  # and should it not, only this demande is refused
            outcomes.append(_unparsable(position))
            continue
        outcome = decide(element, position, header, schema, ctx, pdfs, raw)
        if isinstance(outcome, Accepted):  # sent back light: no model, no source
            outcome = replace(outcome, document=None, pdfs=None, loaded=outcome.load_pdf())
        outcomes.append(outcome)
    return outcomes


def _unparsable(position: int) -> Refused:
    return Refused(
        position,
        None,
        None,
        (Violation(Code.SCHEMA_INVALIDE, f"demande n° {position} du flux illisible"),),
    )
