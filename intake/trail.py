"""The audit trail checked as a whole: its keyed chain, the store it must account for, and
the anchors kept outside the database. The one service behind `intake audit verify`; and
which events are anchored as soon as they are committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from intake.config import Config
from intake.convention import deadlines
from storage import anchors, audit, audit_coverage
from storage.db import transaction

if TYPE_CHECKING:  # the vault's anchoring imports this module: no emails' templates for it
    from intake.convention.notices import Notices
    from storage.vault import Vault

# Events that reveal personal data (a reading, with or without its PDF; an export; the
# journal of who read what) or change someone's rights: each is anchored outside the
# database (file and system journal) once committed, so that no cut after it goes unseen.
ANCHORED_ACTIONS = frozenset(
    {
        "lecture",
        "export",
        "export-fichier",
        "export-journal",
        "connexion",
        "deconnexion",
        "mot-de-passe",
        "totp-active",
        "compte-verrouille",
        "signature-attestation",
        "fin-de-convention",
        "cle-enregistree",
        "rotation-cle",
    }
)


def anchor_sensitive_events(vault: Vault, key_file: Path) -> None:
    """From now on, the vault's trail anchors every committed sensitive event."""
    vault.trail.anchoring = anchors.Anchoring(anchors.anchors_file(key_file), ANCHORED_ACTIONS)


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


INCIDENT_NOTICE = (
    "Projet de notification à la Caf (à compléter et envoyer au correspondant partenaires) : "
    "« Le lieu d'information {lieu} ({lieu_id}) a constaté le {day} que son journal d'audit "
    "des accès aux demandes mon-enfant.fr ne se vérifie plus ({count} anomalie(s)). Une "
    "analyse est en cours ; les accès aux données personnelles ont été / seront (rayer) "
    "suspendus. Nous vous tiendrons informés des conclusions. »"
)


def verify_and_alert(
    engine: Engine, vault: Vault, config: Config, notices: Notices, now: datetime
) -> TrailCheck:
    """The daily check: an altered trail is told to the admins once a day, with the
    problems found (numeros at most, nothing personal) and a notice for the Caf to adapt."""
    result = check_trail(engine, vault, config.key_file, now)
    if result.ok:
        return result
    day = deadlines.local_date(now, config.timezone)
    problems = result.problems()
    detail = "Anomalies : " + " ; ".join(problems[:10]) + (" ; …" if len(problems) > 10 else "")
    notice = INCIDENT_NOTICE.format(
        lieu=config.lieu.name, lieu_id=config.lieu.id, day=f"{day:%d/%m/%Y}", count=len(problems)
    )
    with transaction(engine) as session:
        notices.technical(
            session,
            now,
            f"journal-altere:{day.isoformat()}",
            "Journal d'audit altéré",
            f"{detail}\n\n{notice}",
            "vérifier le serveur (accès, sauvegardes restaurées) avec « intake audit verify », "
            "conserver les journaux du système, et prévenir la Caf avec le projet ci-dessus.",
        )
    return result
