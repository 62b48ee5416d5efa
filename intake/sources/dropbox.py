"""The dropbox: a folder where staff drop the feeds (XML and PDFs) they downloaded by hand.

A file is taken only once the whole folder has stood still between two scans and for
`settle_seconds`: a copy under way is never read half-written. After ingest the XML and the
PDFs of its demandes are deleted — the demandes now live encrypted in the database, and a
clear copy must not outlive them. A document refused whole or unreadable, and any file that
no feed of the pass claimed, is deleted too: a refused file never stays in clear on disk. What
the agents need to act on it (its name, the reason, the commune when known, the date) is the
caller's to note, without personal data.

Only regular files are ever read (`intake.files`): a symbolic link, a FIFO or a device is
listed so that it can be refused, and then only its own name is removed, never what it points
to; nothing in the folder has its mode or dates changed.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from intake.files import RefusedFileError, is_listed, remove, within

log = logging.getLogger(__name__)

# Where versions before 2026-12 kept refused files in clear for 7 days: emptied, then removed.
LEGACY_REFUSED_FOLDER = "refuses"
# PDFs dropped with no feed at all wait this long for theirs before being refused.
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

    def last_scan(self) -> dict[str, tuple[int, int]]:
        """The folder as the last look saw it (name: size, modification time in ns)."""
        return dict(self._last_scan or {})

    def resume(self, scan: dict[str, tuple[int, int]]) -> None:
        """Go on from a look taken elsewhere (the service's scheduler hands its own to the
        pass's process): the next look takes the feeds only if nothing moved since."""
        self._last_scan = {name: (int(size), int(mtime)) for name, (size, mtime) in scan.items()}

    def due(self) -> bool:
        """Whether a pass has work: feeds settled, or files left too long without one. The
        service's scheduler asks it every 30 seconds and starts a pass only then."""
        return bool(self.ready() or self.stale_orphans())

    def _files(self) -> Iterator[tuple[Path, os.stat_result]]:
        """Every entry but folders and hidden names, with its own `lstat` (never its target's)."""
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if is_listed(entry):
                    yield Path(entry.path), entry.stat(follow_symlinks=False)

    def others(self) -> list[Path]:
        """Every file of the folder but the feeds: PDFs, and whatever else was dropped."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p, _ in self._files() if not p.name.lower().endswith(".xml"))

    def stale_orphans(self) -> list[Path]:
        """Files left with no feed for `ORPHAN_SECONDS` (no feed is coming for them), and at
        once whatever is no regular file: no feed's PDF is ever read through it."""
        if not self.folder.is_dir():
            return []
        limit = self.wall_clock() - ORPHAN_SECONDS
        return sorted(
            path
            for path, info in self._files()
            if not path.name.lower().endswith(".xml")
            and (not stat.S_ISREG(info.st_mode) or info.st_mtime < limit)
        )

    def done(self, xml: Path, numeros: Iterable[str], names: Iterable[str] = ()) -> None:
        """The document is stored: its clear copies go (the PDFs it named, and those named
        after its demandes). A name leading out of the folder is no file of it."""
        for name in {*names, *(f"{numero}.pdf" for numero in numeros)}:
            try:
                remove(within(self.folder, name))
            except RefusedFileError:
                log.warning("dropbox: a PDF name leading out of the folder was left alone")
        remove(xml)
        self._last_scan = None

    def discard(self, path: Path) -> None:
        """A refused file goes, unread if it is not a regular file: its name only is removed."""
        remove(path)
        self._last_scan = None

    @staticmethod
    def is_regular(path: Path) -> bool:
        try:
            return stat.S_ISREG(os.lstat(path).st_mode)
        except FileNotFoundError:
            return False

    def clean_legacy(self) -> int:
        """Empty and remove `refuses/`, where earlier versions kept refused files in clear;
        how many files went. The folder is opened without following a link (a link named so
        is refused like any other entry), and its entries are removed by name."""
        legacy = self.folder / LEGACY_REFUSED_FOLDER
        try:
            descriptor = os.open(
                legacy, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
            )
        except OSError:  # absent, or no folder of ours
            return 0
        gone = 0
        try:
            with os.scandir(descriptor) as entries:
                names = [e.name for e in entries if not e.is_dir(follow_symlinks=False)]
            for name in names:
                os.unlink(name, dir_fd=descriptor)
                gone += 1
        finally:
            os.close(descriptor)
        try:
            legacy.rmdir()
        except OSError:
            log.warning("dropbox: %s/ still holds folders, left to the admins", legacy.name)
        return gone
