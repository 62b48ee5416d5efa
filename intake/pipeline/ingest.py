"""One feed's outcomes, stored in bounded groups (the writes themselves are `writes.py`'s).

Demandes are stored in small groups, one transaction each (at most `BATCH_DEMANDES` demandes
or `BATCH_BYTES` of PDFs): each demande's record, XML and PDF together with its audit event,
or nothing of the group at all. An outcome is reported only once its group is committed, so
nothing is acknowledged before it is stored. Ingesting the same demande again changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from intake.clock import Clock
from intake.feed import (
    Accepted,
    DocumentRefused,
    FeedHeader,
    FeedSchema,
    Outcome,
    Refused,
    RuleContext,
    read_feed,
)
from intake.feed.pdf import PdfSource
from intake.pipeline.writes import DemandeWriter, Group, Line, Result
from storage import demandes as store
from storage.db import transaction
from storage.models import DemandeRow, Status
from storage.vault import Vault
from storage.writer import NewDemandes

log = logging.getLogger(__name__)

# One transaction (one fsync) per group rather than per demande: the group is bounded so that
# memory stays flat on a huge feed and a crash costs at most one group, fetched again.
BATCH_DEMANDES = 500
BATCH_BYTES = 16 * 1024 * 1024


def _run(
    step: Line | FeedHeader | _Write,
    session: Session,
    group: Group,
) -> Line | FeedHeader:
    if isinstance(step, _Store):
        careful = step.numero in group.twice
        return step(session, None if careful else group)
    if isinstance(step, _Write):
        group.new.write(session)  # in order: the audit chain follows the feed
        return step(session)
    return step


@dataclass(frozen=True)
class _Store:
    """A valid demande with its checked PDF, ready to be written."""

    writer: DemandeWriter
    accepted: Accepted
    record: bytes
    fingerprint: str
    pdf: bytes
    source: str

    @property
    def numero(self) -> str:
        return self.accepted.numero

    @property
    def size(self) -> int:
        return len(self.pdf)

    def __call__(self, session: Session, group: Group | None = None) -> Line:
        line = self.writer.store(
            session, self.accepted, self.record, self.fingerprint, self.pdf, self.source, group
        )
        return replace(line, pdf_name=self.accepted.pdf_name)


@dataclass(frozen=True)
class _Refuse:
    """A refusal to record: of one demande, or of the whole document."""

    writer: DemandeWriter
    file_name: str
    refused: Refused | DocumentRefused

    @property
    def numero(self) -> str | None:
        return self.refused.numero if isinstance(self.refused, Refused) else None

    def __call__(self, session: Session) -> Line:
        if isinstance(self.refused, Refused):
            return self.writer.refuse(session, self.file_name, self.refused)
        return self.writer.refuse_document(session, self.file_name, self.refused)


_Write = _Store | _Refuse  # one step of a group's transaction


@dataclass(frozen=True)
class Ingestor:
    engine: Engine
    vault: Vault
    schema: FeedSchema
    clock: Clock
    communes: frozenset[str]
    timezone: ZoneInfo
    retrieval_days: int
    actor: str

    @cached_property
    def writer(self) -> DemandeWriter:
        return DemandeWriter(
            self.vault,
            self.clock,
            self.communes,
            self.timezone,
            self.retrieval_days,
            self.actor,
        )

    def ingest_file(
        self, path: Path, *, source: str = "depot", pdfs: PdfSource | None = None
    ) -> Iterator[Line | FeedHeader]:
        yield from self.ingest(path, path.name, source=source, pdfs=pdfs)

    def ingest(
        self,
        feed: Path | bytes,
        name: str,
        *,
        source: str,
        pdfs: PdfSource | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[Line | FeedHeader]:
        """Every outcome of one feed, in order, each reported once its group is committed.
        Once `stop` is set, what is ready is stored and nothing more is begun: the caller
        must then treat the feed as unfinished."""
        stop = stop or threading.Event()
        ctx = RuleContext(self.communes, self.timezone, self.clock.now())
        outcomes = read_feed(feed, schema=self.schema, ctx=ctx, pdfs=pdfs)
        while not stop.is_set() and (chunk := list(islice(outcomes, BATCH_DEMANDES))):
            yield from self._ingest_chunk(chunk, name, source, stop)

    def _ingest_chunk(
        self, chunk: list[Outcome], name: str, source: str, stop: threading.Event
    ) -> Iterator[Line | FeedHeader]:
        held = self._held([o.numero for o in chunk if isinstance(o, Accepted)])
        pending: list[Line | FeedHeader | _Write] = []
        size = 0
        for outcome in chunk:
            if stop.is_set():
                break
            if isinstance(outcome, FeedHeader):
                pending.append(outcome)
            elif isinstance(outcome, DocumentRefused | Refused):
                pending.append(_Refuse(self.writer, name, outcome))
            else:
                try:
                    step = self._prepare(outcome, held, source, name)
                except Exception:
                    # A PDF source that failed (the extranet account stopped, say): what was
                    # ready is stored, not reported, and acknowledged on the next pass.
                    list(self._commit(pending))
                    raise
                pending.append(step)
                size += len(outcome.xml) + (step.size if isinstance(step, _Store) else 0)
                if size >= BATCH_BYTES:
                    yield from self._commit(pending)
                    pending, size = [], 0
        yield from self._commit(pending)

    def _commit(self, pending: list[Line | FeedHeader | _Write]) -> Iterator[Line | FeedHeader]:
        writes = sum(isinstance(step, _Write) for step in pending)
        if writes == 0:
            yield from (step for step in pending if not isinstance(step, _Write))
            return
        numeros = Counter(step.numero for step in pending if isinstance(step, _Write))
        try:
            with transaction(self.engine) as session:
                # The group's rows in one locked read, for the steps to find their own there;
                # a numero met twice in the group is read again by its steps, which then see
                # what the earlier ones wrote.
                twice = {numero for numero, seen in numeros.items() if numero and seen > 1}
                once = [numero for numero in numeros if numero and numero not in twice]
                known = {row.numero: row for row in store.get_many(session, once, lock=True)}
                group = Group(known, twice, NewDemandes(self.vault, self.actor))
                done = [_run(step, session, group) for step in pending]
                group.new.write(session)
        except Exception as exc:
            if writes == 1:
                raise
            # One demande spoils the group: store the others one by one, up to that one.
            log.warning("group of %d writes failed (%s), one at a time", writes, type(exc).__name__)
            for step in pending:
                if isinstance(step, _Write):
                    with transaction(self.engine) as session:
                        step = step(session)
                yield step
            return
        yield from done

    def _held(self, numeros: list[str]) -> dict[str, DemandeRow]:
        """The demandes of a chunk already received, by numero (one read for the chunk)."""
        if not numeros:
            return {}
        with transaction(self.engine) as session:
            rows = store.get_many(session, numeros)
        return {row.numero: row for row in rows if row.status == Status.RECEIVED}

    # --- whole documents --------------------------------------------------------------------

    def _prepare(
        self, accepted: Accepted, held: dict[str, DemandeRow], source: str, file_name: str
    ) -> Line | _Write:
        """Everything that needs no write: the record, whether it is already held, the PDF
        (which may come over the network, so never inside a write transaction)."""
        record = accepted.record
        fingerprint = self.vault.fingerprint(record)
        row = held.get(accepted.numero)
        if row is not None and row.fingerprint == fingerprint:  # re-sent, or polled again
            numero = row.numero
            due = row.retrieval_due
            return Line(
                numero,
                Result.HELD,
                numero,
                row.commune,
                retrieval_due=due,
                pdf_name=accepted.pdf_name,
            )
        pdf = accepted.load_pdf()
        if isinstance(pdf, Refused):
            return _Refuse(self.writer, file_name, pdf)
        return _Store(self.writer, accepted, record, fingerprint, pdf, source)
