"""The dropbox: a folder where staff drop the feeds (XML and PDFs) they downloaded by hand.

A file is taken only once the whole folder has stood still between two scans and for
`settle_seconds`: a copy under way is never read half-written. After ingest the XML and the
PDFs of its demandes are deleted — the demandes now live encrypted in the database, and a
clear copy must not outlive them. A document refused whole or unreadable, and any file that
no feed of the pass claimed, goes to `refuses/` (0600), kept `REFUSED_DAYS` days for the
admins to look at, then deleted: nothing personal stays in the folder itself after a pass.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

REFUSED_FOLDER = "refuses"
REFUSED_DAYS = 7
# PDFs dropped with no feed at all wait this long for theirs before going to `refuses/`.
ORPHAN_SECONDS = 3600


@dataclass
class Dropbox:
    folder: Path
    settle_seconds: float = 5.0
    wall_clock: Callable[[], float] = time.time  # file times are the filesystem's own clock
    _last_scan: dict[str, tuple[int, int]] | None = field(default=None, init=False)

    def ready(self) -> list[Path]:
        """The XML files to ingest now, oldest first: none while anything is still moving."""
        if not self.folder.is_dir():
            return []
        snapshot = {p.name: (s.st_size, s.st_mtime_ns) for p, s in self._files()}
        previous, self._last_scan = self._last_scan, snapshot
        if previous != snapshot or not snapshot:
            return []
        newest = max(mtime for _, mtime in snapshot.values()) / 1e9
        if self.wall_clock() - newest < self.settle_seconds:
            return []
        xmls = [self.folder / name for name in snapshot if name.lower().endswith(".xml")]
        return sorted(xmls, key=lambda p: (snapshot[p.name][1], p.name))

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        for path in self.folder.iterdir():
            if path.is_file() and not path.name.startswith("."):
                yield path, path.stat()

    def others(self) -> list[Path]:
        """Every file of the folder but the feeds: PDFs, and whatever else was dropped."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p, _ in self._files() if not p.name.lower().endswith(".xml"))

    def stale_orphans(self) -> list[Path]:
        """Files left with no feed for `ORPHAN_SECONDS`: no feed is coming for them."""
        limit = self.wall_clock() - ORPHAN_SECONDS
        return [p for p in self.others() if p.stat().st_mtime < limit]

    def done(self, xml: Path, numeros: Iterable[str], names: Iterable[str] = ()) -> None:
        """The document is stored: its clear copies go (the PDFs it named, and those named
        after its demandes)."""
        for name in {*names, *(f"{numero}.pdf" for numero in numeros)}:
            (self.folder / name).unlink(missing_ok=True)
        xml.unlink(missing_ok=True)
        self._last_scan = None

    def refused(self, path: Path) -> Path:
        """Out of the folder into `refuses/`, readable by the service's account alone."""
        target = self.folder / REFUSED_FOLDER
        target.mkdir(mode=0o700, exist_ok=True)
        os.chmod(target, 0o700)
        moved = target / path.name
        path.replace(moved)
        os.chmod(moved, 0o600)
        os.utime(moved)  # its days in `refuses/` count from now
        self._last_scan = None
        return moved

    def clean_refused(self) -> int:
        """Delete the refused documents older than `REFUSED_DAYS` days; how many went."""
        target = self.folder / REFUSED_FOLDER
        if not target.is_dir():
            return 0
        limit = self.wall_clock() - REFUSED_DAYS * 86400
        gone = 0
        for path in target.iterdir():
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                gone += 1
        return gone
