"""The audit chain's head, anchored outside the database.

An append-only text file beside the master key (`audit-anchors.log`) receives the head
(sequence and link) each time an attestation or a monthly report is made and each time
the trail is verified; the same head is printed in those documents. Whoever rewrites the
database cannot make the trail extend a link it never had: `check` finds a trail that was
cut short, wiped or rewritten since an anchor was taken.

Every transaction that appends an event revealing personal data (a reading, a PDF, an
export) or changing rights is anchored too, once committed (`Anchoring`): its head goes to
the file and to the system journal (syslog's socket, which journald serves where systemd
runs and rsyslog elsewhere; a journal the service account cannot rewrite). Deleting the
newest reading and moving the head back then contradicts the anchor written for it.
"""

from __future__ import annotations

import os
import re
import syslog
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, col, select

from storage.errors import StorageError
from storage.models import AuditCheckpoint, AuditEvent, AuditHead

FILE_NAME = "audit-anchors.log"
SYSLOG_IDENT = "intake-audit"
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


def line_of(head: tuple[int, str], why: str) -> str:
    """The anchor as the system journal receives it: no personal data, the head only."""
    return f"ancre du journal d'audit seq={head[0]} lien={head[1]} motif={why}"


@cache
def _open_syslog() -> None:
    facility = getattr(syslog, "LOG_AUTHPRIV", syslog.LOG_AUTH)  # root-readable on most systems
    syslog.openlog(SYSLOG_IDENT, syslog.LOG_PID, facility)


def to_syslog(line: str) -> None:
    """One line to syslog's socket (journald or rsyslog); dropped by the C library, not
    raised, on a machine that runs neither."""
    _open_syslog()
    syslog.syslog(syslog.LOG_NOTICE, line)


_PENDING = "audit_anchor_pending"
_LISTENING = "audit_anchor_listening"


class AnchorError(StorageError):
    """An anchor that could not be written: what it covers is not shown."""


class Anchoring:
    """Anchors the head after the commit of each transaction that appended one of `actions`.

    After the commit, not before: an anchor of a head that was rolled back would accuse an
    intact trail. A failure to write it is raised from the commit, so the service that read
    a demande returns nothing (its event is committed; the next anchor covers it)."""

    def __init__(
        self,
        path: Path,
        actions: Collection[str],
        journal: Callable[[str], None] | None = to_syslog,
    ) -> None:
        self.path = path
        self.actions = frozenset(actions)
        self.journal = journal

    def note(
        self, session: Session, head: tuple[int, str], actions: Sequence[str], at: datetime
    ) -> None:
        """Called at each append: the transaction's newest head, if it is to be anchored."""
        pending = session.info.get(_PENDING)
        why = pending[1] if pending else next((a for a in actions if a in self.actions), None)
        if why is None:
            return
        session.info[_PENDING] = (head, why, at)
        if not session.info.get(_LISTENING):
            event.listen(session, "after_commit", self._committed)
            event.listen(session, "after_rollback", self._rolled_back)
            session.info[_LISTENING] = True

    def _committed(self, session: Session) -> None:
        pending = session.info.pop(_PENDING, None)
        if pending is not None:
            self.anchor(*pending)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)

    def anchor(self, head: tuple[int, str], why: str, at: datetime) -> None:
        try:
            append(self.path, head, why, at)
        except OSError as exc:
            raise AnchorError(
                f"ancre du journal d'audit impossible à écrire dans {self.path.name} "
                f"({exc.strerror or type(exc).__name__}) : accès suspendu"
            ) from None
        if self.journal is not None:
            self.journal(line_of(head, why))


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
    links = _links(session, {a.seq for a in anchors if 0 < a.seq <= head_seq})
    problems: list[str] = []
    # A database copy put back (`intake restore`) starts the trail again from the copy's
    # head: the restore's own event names the head it replaced, and its anchor is the one
    # from which the trail is checked.
    restored = [i for i, a in enumerate(anchors) if a.why == "restauration"]
    if restored:
        anchors = anchors[restored[-1] :]
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
        link = links.get(anchor.seq)
        if link is None:
            problems.append(f"l'événement {anchor.seq} de l'{where} a disparu")
        elif link != anchor.link:
            problems.append(f"l'événement {anchor.seq} ne correspond plus à l'{where}")
    return problems


def _links(session: Session, seqs: set[int]) -> dict[int, str]:
    """The links of these events, in chunks: an anchor per reading makes thousands a year."""
    ordered, found = sorted(seqs), dict[int, str]()
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.update(
            session.exec(
                select(AuditEvent.seq, AuditEvent.hash).where(col(AuditEvent.seq).in_(chunk))
            ).all()
        )
    return found
