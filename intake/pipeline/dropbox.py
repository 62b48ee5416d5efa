"""One pass over the drop folder: each settled feed ingested, then its clear copies gone.

A feed that crashes the reader, or is refused whole, is that file's problem only: it goes to
`refuses/` with the PDFs no other feed claimed, the admins get one email naming the file, and
the next file is read. A database error is not the file's fault: it stops the pass, and the
files wait for the next one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from intake.clock import Clock
from intake.feed.model import DocumentPdf
from intake.feed.pdf import FolderPdfSource
from intake.notices import Notices
from intake.pipeline.ingest import Ingestor, Line, Result
from intake.sources.dropbox import REFUSED_DAYS, Dropbox
from storage import demandes as store
from storage.db import transaction

log = logging.getLogger(__name__)

UNREADABLE = "fichier-illisible"


class _ClaimingFolder(FolderPdfSource):
    """The folder's PDFs, remembering which ones a feed asked for."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.claimed: set[str] = set()

    def fetch(self, document: DocumentPdf, numero: str) -> bytes:
        self.claimed.add(document.nom)
        return super().fetch(document, numero)


@dataclass
class DropboxPass:
    ingestor: Ingestor
    dropbox: Dropbox
    notices: Notices
    clock: Clock

    @property
    def engine(self) -> Engine:
        return self.ingestor.engine

    def run(self) -> list[Line]:
        ready = self.dropbox.ready()
        if not ready:
            self._set_aside(self.dropbox.stale_orphans(), None)
            return []
        lines: list[Line] = []
        for xml in ready:
            lines += self._one(xml)
        # Whatever no feed claimed would stay in clear: it goes where the admins look.
        self._set_aside(self.dropbox.others(), None)
        return lines

    def _one(self, xml: Path) -> list[Line]:
        pdfs = _ClaimingFolder(xml.parent)
        try:
            document = [
                line for line in self.ingestor.ingest_file(xml, pdfs=pdfs) if isinstance(line, Line)
            ]
        except DBAPIError:
            raise
        except Exception as exc:
            log.warning("dropped file unreadable (%s)", type(exc).__name__)
            self._unreadable(xml, type(exc).__name__)
            return []
        whole = next(
            (line for line in document if line.label == xml.name and line.result == Result.REFUSED),
            None,
        )
        if whole is not None:
            moved = self.dropbox.refused(xml)
            self._tell(xml.name, whole.code or "", moved.parent)
        else:
            numeros = {line.numero for line in document if line.numero}
            self.dropbox.done(xml, numeros, pdfs.claimed)
        return document

    def _unreadable(self, xml: Path, reason: str) -> None:
        now = self.clock.now()
        moved = self.dropbox.refused(xml)
        message = f"fichier illisible ({reason}) : rien n'en a été interprété"
        with transaction(self.engine) as session:
            store.record_refusal(
                session,
                at=now,
                source=xml.name,
                numero=None,
                commune=None,
                code=UNREADABLE,
                message=message,
            )
            self.ingestor.vault.trail.record(
                session,
                at=now,
                actor=self.ingestor.actor,
                action="refus-flux",
                detail={"fichier": xml.name, "code": UNREADABLE},
            )
        self._tell(xml.name, UNREADABLE, moved.parent)

    def _set_aside(self, paths: list[Path], code: str | None) -> None:
        for path in paths:
            moved = self.dropbox.refused(path)
            self._tell(path.name, code or "sans-flux", moved.parent)

    def _tell(self, name: str, code: str, where: Path) -> None:
        now = self.clock.now()
        with transaction(self.engine) as session:
            self.notices.technical(
                session,
                now,
                f"depot-refuse:{name}:{now.date().isoformat()}",
                f"Dépôt : fichier {name} refusé ({code})",
                f"Le fichier déposé {name} a été refusé ({code}) ; il est gardé "
                f"{REFUSED_DAYS} jours dans {where}, lisible par le service seul, puis supprimé.",
                "le télécharger de nouveau sur l'extranet et le redéposer, avec ses PDF.",
            )
