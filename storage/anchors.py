"""The audit chain's head, anchored outside the database.

An append-only text file beside the master key (`audit-anchors.log`) receives the head
(sequence and link) each time an attestation or a monthly report is made and each time
the trail is verified; the same head is printed in those documents. Whoever rewrites the
database cannot make the trail extend a link it never had: `check` finds a trail that was
cut short, wiped or rewritten since an anchor was taken.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from storage.models import AuditCheckpoint, AuditEvent, AuditHead

FILE_NAME = "audit-anchors.log"
_LINE = re.compile(r"(?P<at>\S+) seq=(?P<seq>\d+) lien=(?P<link>[0-9a-f]{64}) motif=(?P<why>\S+)")


@dataclass(frozen=True)
class Anchor:
    at: str
    seq: int
    link: str
    why: str


def anchors_file(key_file: Path) -> Path:
    return key_file.parent / FILE_NAME


def append(path: Path, head: tuple[int, str], why: str, now: datetime) -> None:
    """One line, appended and synced; the file is the service's alone (0600)."""
    seq, link = head
    line = f"{now.isoformat(timespec='seconds')} seq={seq} lien={link} motif={why}\n"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("ascii"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read(path: Path) -> tuple[list[Anchor], list[str]]:
    """The anchors, and a French problem per line that is not one."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return [], []
    anchors, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.fullmatch(line.strip())
        if match is None:
            if line.strip():
                problems.append(f"{path.name}, ligne {number} : ancre illisible")
            continue
        anchors.append(Anchor(match["at"], int(match["seq"]), match["link"], match["why"]))
    return anchors, problems


def check(session: Session, anchors: list[Anchor]) -> list[str]:
    """Whether the trail extends every anchor: French problems, empty when it does."""
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head else 0
    checkpoint = session.get(AuditCheckpoint, 1)
    problems: list[str] = []
    for anchor in anchors:
        where = f"ancre du {anchor.at} ({anchor.why})"
        if anchor.seq == 0:
            continue
        if anchor.seq > head_seq:
            problems.append(
                f"le journal s'arrête à l'événement {head_seq} mais l'{where} atteste "
                f"l'événement {anchor.seq} : des événements ont été supprimés"
            )
            continue
        if checkpoint is not None and anchor.seq <= checkpoint.seq:
            if anchor.seq == checkpoint.seq and checkpoint.hash != anchor.link:
                problems.append(f"le point de départ du journal ne correspond plus à l'{where}")
            continue  # pruned after a year, behind the sealed checkpoint
        event = session.get(AuditEvent, anchor.seq)
        if event is None:
            problems.append(f"l'événement {anchor.seq} de l'{where} a disparu")
        elif event.hash != anchor.link:
            problems.append(f"l'événement {anchor.seq} ne correspond plus à l'{where}")
    return problems
