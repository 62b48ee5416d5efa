"""The audit trail checked as a whole: its keyed chain, the store it must account for, and
the anchors kept outside the database. The one service behind `intake audit verify`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from storage import anchors, audit, audit_coverage
from storage.db import transaction
from storage.vault import Vault


@dataclass(frozen=True)
class TrailCheck:
    chain: audit.Verification
    uncovered: list[str]
    anchors: list[str]
    anchors_checked: int
    head: tuple[int, str]

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.uncovered and not self.anchors

    def problems(self) -> list[str]:
        found = [] if self.chain.ok else [self.chain.reason or "chaîne rompue"]
        return found + self.uncovered + self.anchors


def check_trail(engine: Engine, vault: Vault, key_file: Path, now: datetime) -> TrailCheck:
    """Check everything; an intact trail's head becomes a new anchor."""
    path = anchors.anchors_file(key_file)
    recorded, unreadable = anchors.read(path)
    with transaction(engine) as session:
        chain = vault.trail.verify(session)
        uncovered = audit_coverage.uncovered(session)
        anchor_problems = unreadable + anchors.check(session, recorded)
        head = audit.head(session)
    result = TrailCheck(chain, uncovered, anchor_problems, len(recorded), head)
    if result.ok:
        anchors.append(path, head, "verification", now)
    return result
