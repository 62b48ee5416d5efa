"""The PDF of a demande: found beside the feed (or given by the extranet), checked against
its `documentPdf` declaration, and readable by a real PDF reader."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

from intake.feed.errors import Code, Violation
from intake.feed.model import DocumentPdf
from intake.files import read_regular, within

# The largest PDF taken in: a demande's form is one or two pages (some 30 KB). A declared size
# above this is refused before anything is read, so no feed can make us allocate gigabytes.
MAX_PDF_BYTES = 20 * 1024 * 1024


class PdfMissingError(Exception):
    pass


class PdfSource(Protocol):
    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        """The PDF, at most `document.taille + 1` bytes of it; PdfMissingError if absent."""
        ...


class FolderPdfSource:
    """PDFs dropped beside the feed file, as an agent downloads them by hand: regular files
    directly in the folder only (never a link, a FIFO, or a name leading elsewhere)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        try:
            # Never read more than one byte past the declared size, whatever the file holds.
            return read_regular(within(self.folder, document.nom), document.taille + 1)
        except FileNotFoundError:
            raise PdfMissingError(document.nom) from None
        except OSError as exc:
            raise PdfMissingError(f"{document.nom} ({exc.strerror})") from None


def check_pdf(document: DocumentPdf, content: bytes) -> Violation | None:
    if len(content) != document.taille:
        more = "plus grand" if len(content) > document.taille else "plus petit"
        return Violation(
            Code.PDF_INVALIDE,
            f"{document.nom} est {more} que la taille déclarée ({document.taille} octets)",
        )
    if hashlib.sha256(content).hexdigest() != document.sha256:
        return Violation(Code.PDF_INVALIDE, f"{document.nom} : empreinte SHA-256 différente")
    if not content.startswith(b"%PDF-"):
        return Violation(Code.PDF_INVALIDE, f"{document.nom} n'est pas un PDF")
    # PDFium (the reader of Chromium, in C, some 25 µs a form) opens the document and counts
    # its pages: an HTML page posing as a PDF or a truncated file is refused. Imported only
    # once a PDF comes: an idle worker does without.
    import pypdfium2

    try:
        reader = pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError:
        return Violation(Code.PDF_INVALIDE, f"{document.nom} n'est pas un PDF lisible")
    try:
        if len(reader) < 1:
            return Violation(Code.PDF_INVALIDE, f"{document.nom} ne contient aucune page")
    finally:
        reader.close()
    return None


def load_checked_pdf(
    pdfs: PdfSource, document: DocumentPdf, numero: str
) -> tuple[bytes | None, Violation | None]:
    """The PDF and None, or what was read (never to be kept: it is not the declared PDF) and
    its violation."""
    if document.taille > MAX_PDF_BYTES:  # decided before a single byte is read
        return None, Violation(
            Code.PDF_INVALIDE,
            f"{document.nom} : taille déclarée ({document.taille} octets) au-delà de la limite "
            f"de {MAX_PDF_BYTES // (1024 * 1024)} Mo",
        )
    try:
        content = pdfs.fetch(document, numero)
    except PdfMissingError as missing:
        return None, Violation(Code.PDF_INVALIDE, f"PDF introuvable : {missing}")
    return content, check_pdf(document, content)
