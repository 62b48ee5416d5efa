"""Feeds handed to `intake ingest`: once their demandes are stored, their clear copies may go.

The XML and the PDFs an agent downloaded hold the families' personal data; the command says
so, and with `--supprimer` deletes the files of the demandes stored (or already held). The
XML goes only when every demande of it is stored or held: a refused demande's file stays for
the agent to act on. Names are removed themselves (a link goes, never what it points to), and
only names directly in the feed's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from intake.files import RefusedFileError, remove, within
from intake.pipeline.writes import Line, Result

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
