"""Feeds handed to `intake ingest`: once their demandes are stored, their clear copies may go.

The XML and the PDFs an agent downloaded hold the families' personal data; the command says
so, and with `--supprimer` deletes the files of the demandes stored (or already held). The
XML goes only when every demande of it is stored or held: a refused demande's file stays for
the agent to act on. Names are removed themselves (a link goes, never what it points to), and
only names directly in the feed's folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from intake.feed import FeedHeader
from intake.files import RefusedFileError, open_regular, remove, within
from intake.pipeline.writes import Line, Result

if TYPE_CHECKING:
    from intake.pipeline.ingest import Ingestor

_STORED = (Result.INGESTED, Result.HELD)


@dataclass
class Cleared:
    deleted: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # feeds with a demande not stored


def clear_stored(feed: Path, lines: Sequence[Line], cleared: Cleared) -> None:
    """Delete the PDFs of `feed`'s stored demandes, and the feed once all of them are."""
    for line in lines:
        if line.result not in _STORED or line.numero is None:
            continue
        try:
            pdf = within(feed.parent, line.pdf_name or f"{line.numero}.pdf")
        except RefusedFileError:
            continue
        if remove(pdf):
            cleared.deleted.append(pdf)
    if all(line.result in _STORED for line in lines):
        if remove(feed):
            cleared.deleted.append(feed)
    else:
        cleared.kept.append(feed)


@dataclass(frozen=True)
class Unreadable:
    path: Path
    problem: str  # in French


@dataclass(frozen=True)
class Header:
    path: Path
    header: FeedHeader


@dataclass
class Handed:
    """What `ingest_handed` did, once it is done."""

    counts: dict[Result, int] = field(default_factory=lambda: dict.fromkeys(Result, 0))
    read: list[Path] = field(default_factory=list)
    cleared: Cleared = field(default_factory=Cleared)


def ingest_handed(
    ingestor: Ingestor, paths: Sequence[str], delete: bool, handed: Handed
) -> Iterator[Unreadable | Header | Line]:
    """Each feed named (or each *.xml of a folder named) ingested, each outcome as it comes;
    with `delete`, the files of the stored demandes deleted (`clear_stored`)."""
    for path, problem in feed_files(paths):
        if problem is not None:
            handed.counts[Result.REFUSED] += 1
            yield Unreadable(path, problem)
            continue
        lines: list[Line] = []
        for line in ingestor.ingest_file(path):
            if isinstance(line, FeedHeader):
                yield Header(path, line)
                continue
            lines.append(line)
            handed.counts[line.result] += 1
            yield line
        handed.read.append(path)
        if delete:
            clear_stored(path, lines, handed.cleared)


def feed_files(paths: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Each path, or each *.xml of a folder; a path that cannot be read gets its French reason.
    Only regular files are taken: a link or a FIFO is refused unread."""
    found: list[tuple[Path, str | None]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += [(p, _unreadable(p)) for p in sorted(path.glob("*.xml"))]
        else:
            found.append((path, _unreadable(path)))
    return found


def _unreadable(path: Path) -> str | None:
    try:
        with open_regular(path):
            return None
    except FileNotFoundError:
        return "fichier introuvable"
    except RefusedFileError as exc:
        return exc.strerror
    except OSError as exc:
        return f"fichier illisible ({exc.strerror})"
