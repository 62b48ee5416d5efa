"""What reading a feed gives: its header, and for each demande an acceptance or a refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from intake.feed.errors import Code, Violation
from intake.feed.model import DocumentPdf
from intake.feed.pdf import PdfSource, load_checked_pdf


@dataclass(frozen=True)
class FeedHeader:
    lieu_id: str
    commune: str
    generated_at: datetime | None


@dataclass(frozen=True)
class DocumentRefused:
    """The whole document is refused; nothing of it is stored."""

    violation: Violation


@dataclass(frozen=True)
class Accepted:
    """A demande that passed every rule but the PDF's, which is checked on `load_pdf()`:
    an identical demande already held needs no PDF, and the extranet is not asked again.
    It carries what storing needs (the decoded demande already serialised as `record`), so
    that a worker process can hand it over cheaply."""

    numero: str
    commune: str
    transmitted_at: datetime
    notified_at: datetime | None
    record: bytes  # the Demande, as the vault keeps it (RECORD.dump_json)
    xml: bytes
    position: int
    document: DocumentPdf | None  # None once `loaded`
    pdfs: PdfSource | None = field(default=None, repr=False)
    # What `load_pdf` gives, read and checked ahead (by a worker, from a folder).
    loaded: bytes | Refused | None = field(default=None, repr=False)
    pdf_name: str | None = None  # the declared PDF's file name, kept once `document` goes

    def load_pdf(self) -> bytes | Refused:
        """The checked PDF, or the demande's refusal (with its quarantine copy)."""
        if self.loaded is not None:
            return self.loaded
        assert self.pdfs is not None and self.document is not None
        pdf, violation = load_checked_pdf(self.pdfs, self.document, self.numero)
        if violation is None and pdf is not None:
            return pdf
        assert violation is not None
        # Bytes that are not the declared PDF are not the family's: whatever stood under its
        # name (a link to the master key, say) is never kept, not even encrypted.
        return Refused(
            self.position,
            self.numero,
            self.commune,
            (violation,),
            Quarantine(self.transmitted_at, self.xml, None),
        )


@dataclass(frozen=True)
class Quarantine:
    """An encrypted copy kept for the agents, under the same retention as any demande."""

    transmitted_at: datetime
    xml: bytes
    pdf: bytes | None


@dataclass(frozen=True)
class Refused:
    position: int
    numero: str | None
    commune: str | None
    violations: tuple[Violation, ...]
    quarantine: Quarantine | None = field(default=None, repr=False)

    @property
    def code(self) -> Code:
        return self.violations[0].code

    @property
    def label(self) -> str:
        return self.numero or f"demande n° {self.position} du flux"


Outcome = FeedHeader | DocumentRefused | Accepted | Refused
