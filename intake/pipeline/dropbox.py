"""One pass over the drop folder: each settled feed ingested, then its clear copies gone.

A feed that crashes the reader, or is refused whole, is that file's problem only: it is
deleted with the PDFs no other feed claimed (a refused file never stays in clear on disk), its
refusal is noted without personal data (file name, reason, commune when known, date), the
admins get one email naming the file, and the next file is read. A database error is not the
file's fault: it stops the pass, and the files wait for the next one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from intake.clock import Clock
from intake.convention.notices import Notices
from intake.feed import FeedHeader
from intake.feed.model import DocumentPdf
from intake.feed.pdf import FolderPdfSource
from intake.files import NOT_REGULAR
from intake.pipeline.ingest import Ingestor
from intake.pipeline.writes import Line, Result
from intake.sources.dropbox import Dropbox
from storage import demandes as store
from storage.db import transaction

log = logging.getLogger(__name__)

UNREADABLE = "fichier-illisible"
UNCLAIMED = "sans-flux"
NOT_A_FILE = "fichier-non-ordinaire"


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
            self._set_aside(self.dropbox.stale_orphans())
            return []
        lines: list[Line] = []
        for xml in ready:
            lines += self._one(xml)
        # Whatever no feed claimed would stay in clear: it is deleted, and noted.
        self._set_aside(self.dropbox.others())
        return lines

    def _one(self, xml: Path) -> list[Line]:
        pdfs = _ClaimingFolder(xml.parent)
        try:
            read = list(self.ingestor.ingest_file(xml, pdfs=pdfs))
        except DBAPIError:
            raise
        except Exception as exc:
            log.warning("dropped file unreadable (%s)", type(exc).__name__)
            self.dropbox.discard(xml)
            message = f"fichier illisible ({type(exc).__name__}) : rien n'en a été interprété"
            self._note(xml.name, UNREADABLE, message)
            return []
        document = [line for line in read if isinstance(line, Line)]
        commune = next((h.commune for h in read if isinstance(h, FeedHeader)), None)
        whole = next(
            (line for line in document if line.label == xml.name and line.result == Result.REFUSED),
            None,
        )
        if whole is not None:  # its refusal is already noted, with its audit event
            self.dropbox.discard(xml)
            self._tell(xml.name, whole.code or "", whole.message, commune)
        else:
            numeros = {line.numero for line in document if line.numero}
            self.dropbox.done(xml, numeros, pdfs.claimed)
        return document

    def _set_aside(self, paths: list[Path]) -> None:
        """Files no feed claims (or that are no files at all): deleted unread, noted."""
        for path in paths:
            regular = self.dropbox.is_regular(path)
            self.dropbox.discard(path)
            if regular:
                self._note(path.name, UNCLAIMED, "fichier qu'aucun flux déposé ne nomme")
            else:
                self._note(path.name, NOT_A_FILE, NOT_REGULAR)

    def _note(self, name: str, code: str, message: str) -> None:
        """What the agents need to act on a deleted file, without personal data."""
        now = self.clock.now()
        with transaction(self.engine) as session:
            store.record_refusal(
                session, at=now, source=name, numero=None, commune=None, code=code, message=message
            )
            self.ingestor.vault.trail.record(
                session,
                at=now,
                actor=self.ingestor.actor,
                action="refus-flux",
                detail={"fichier": name, "code": code},
            )
        self._tell(name, code, message, None)

    def _tell(self, name: str, code: str, reason: str | None, commune: str | None) -> None:
        now = self.clock.now()
        of_commune = f" (commune {commune})" if commune else ""
        because = f" : {reason}" if reason else ""
        with transaction(self.engine) as session:
            self.notices.technical(
                session,
                now,
                f"depot-refuse:{name}:{now.date().isoformat()}",
                f"Dépôt : fichier {name} refusé ({code})",
                f"Le fichier déposé {name}{of_commune} a été refusé ({code}{because}). "
                "Il a été supprimé du dossier de dépôt : aucune copie n'en est gardée, seul le "
                "motif est noté (nom du fichier, motif, commune, date), sans donnée personnelle.",
                "le télécharger de nouveau sur l'extranet et le redéposer, avec ses PDF.",
            )
