"""Reading and exporting demandes in full: only for an identified habilitated agent, and
every reading recorded in the audit trail (who, what, when; never the content)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from intake.config import Config, StaffSection
from intake.feed.model import RECORD, Demande, Enfant
from storage import audit
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault


class AccessDenied(Exception):
    pass


class NotHeld(Exception):
    pass


def authorize(config: Config, email: str, commune: str | None = None) -> StaffSection:
    member = config.staff_member(email)
    if member is None:
        raise AccessDenied(
            f"{email} n'est pas une personne habilitée de la configuration ([[staff]])"
        )
    if commune is not None and commune not in config.staff_communes(member):
        raise AccessDenied(f"{member.email} n'est pas habilité(e) pour la commune {commune}")
    return member


@dataclass(frozen=True)
class Opened:
    row: DemandeRow
    demande: Demande | None  # None for a quarantined demande (only its XML is kept)
    quarantine_xml: bytes | None
    pdf: bytes | None


def open_demande(
    engine: Engine,
    vault: Vault,
    config: Config,
    numero: str,
    agent: str,
    now: datetime,
    *,
    with_pdf: bool = False,
) -> Opened:
    with transaction(engine) as session:
        row = store.get(session, numero)
        if row is None:
            raise NotHeld(f"{numero} : aucune demande de ce numéro n'est détenue")
        member = authorize(config, agent, row.commune)
        if row.status == Status.PURGED:
            raise NotHeld(
                f"{numero} : données détruites le {row.purged_at:%d/%m/%Y} ({row.purge_reason})"
                if row.purged_at
                else f"{numero} : données détruites"
            )
        if row.status == Status.NOTIFIED:
            raise NotHeld(f"{numero} : annoncée par courriel mais pas encore récupérée")
        record = store.read_secret(session, vault, numero, BlobKind.RECORD)
        quarantine = store.read_secret(session, vault, numero, BlobKind.QUARANTINE_XML)
        pdf = None
        if with_pdf:
            pdf = store.read_secret(session, vault, numero, BlobKind.PDF) or store.read_secret(
                session, vault, numero, BlobKind.QUARANTINE_PDF
            )
        audit.record(
            session,
            at=now,
            actor=member.email,
            action="lecture",
            numero=numero,
            detail={"pdf": bool(with_pdf and pdf is not None)},
        )
        demande = RECORD.validate_json(record) if record is not None else None
        return Opened(row, demande, quarantine, pdf)


def write_private(path: Path, content: bytes) -> None:
    """Personal data leaves the vault only into files that the owner alone can read."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(content)
    os.chmod(path, 0o600)


# --- the text an agent reads ---------------------------------------------------------------

_MODES = {
    "creche-collective": "crèche collective",
    "assistante-maternelle": "assistant(e) maternel(le)",
    "garde-a-domicile": "garde à domicile",
}


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "—" if value is None else value.astimezone(tz).strftime("%d/%m/%Y à %H:%M")


def render(opened: Opened, tz: ZoneInfo) -> str:
    row, d = opened.row, opened.demande
    lines = [f"Demande {row.numero} — commune {row.commune} — statut {row.status}"]
    if d is None:
        lines += [
            f"Refusée ({row.refusal_code}) : copie conservée en quarantaine.",
            "",
            (opened.quarantine_xml or b"").decode("utf-8", "replace"),
        ]
        return "\n".join(lines) + "\n"
    lines += [
        f"Déposée le {_when(d.date_depot, tz)}, transmise le {_when(d.date_transmission, tz)}, "
        f"notifiée le {_when(d.date_notification, tz)}",
        f"À récupérer au plus tard le {row.retrieval_due:%d/%m/%Y} ; "
        f"données détruites au plus tard le {row.purge_due:%d/%m/%Y}",
        "",
    ]
    for r in d.responsables:
        lines.append(
            f"Responsable {r.rang} : {' '.join(p for p in (r.civilite, r.prenom, r.nom) if p)}"
        )
        if r.date_naissance:
            lines.append(f"  né(e) le {r.date_naissance:%d/%m/%Y}")
        lines.append(
            f"  adresse : {', '.join(r.adresse.lignes)}, {r.adresse.code_postal} {r.adresse.ville}"
        )
        for label, value in (
            ("téléphone", r.telephone),
            ("courriel", r.courriel),
            ("situation", r.situation_professionnelle),
        ):
            if value:
                lines.append(f"  {label} : {value}")
    if d.allocataire:
        lines.append(f"Allocataire n° {d.allocataire.numero} (régime {d.allocataire.regime})")
    if d.nombre_enfants_foyer is not None:
        lines.append(f"Enfants au foyer : {d.nombre_enfants_foyer}")
    lines.append("")
    for i, child in enumerate(d.enfants, start=1):
        if isinstance(child, Enfant):
            name = " ".join(p for p in (child.prenom, child.nom) if p)
            lines.append(
                f"Enfant {i} : {name}, né(e) le {child.date_naissance:%d/%m/%Y}"
                + (f", {child.sexe}" if child.sexe else "")
            )
        else:
            lines.append(
                f"Enfant {i} à naître le {child.date_naissance_prevue:%d/%m/%Y}"
                + (f" ({child.prenom})" if child.prenom else "")
            )
    accueil = d.accueil
    lines += [
        "",
        "Accueil souhaité : "
        + ", ".join(
            f"{m.rang}. {_MODES.get(m.mode, m.mode)}"
            for m in sorted(accueil.modes, key=lambda m: m.rang)
        ),
    ]
    frequency = {"reguliere": "régulière", "occasionnelle": "occasionnelle"}.get(
        accueil.frequence, accueil.frequence
    )
    lines.append(f"  à partir du {accueil.date_debut:%d/%m/%Y}, fréquence {frequency}")
    for slot in accueil.planning:
        lines.append(f"  {slot.jour} {slot.debut}–{slot.fin}")
    if accueil.commentaire:
        lines.append(f"  commentaire : {accueil.commentaire}")
    lines.append(f"Document : {d.document.nom} ({d.document.taille} octets)")
    return "\n".join(lines) + "\n"


# --- exports -------------------------------------------------------------------------------------

EXPORT_WARNING = (
    "Attention : ce fichier contient des données personnelles. C'est la copie du lieu "
    "d'information, soumise aux mêmes obligations que la convention : usage limité au "
    "traitement des demandes, confidentialité, destruction au plus tard 6 mois après "
    "la transmission de chaque demande."
)

CSV_COLUMNS = (
    "numero",
    "commune",
    "date_depot",
    "date_transmission",
    "date_notification",
    "retrieval_due",
    "purge_due",
    "r1_civilite",
    "r1_nom",
    "r1_prenom",
    "r1_date_naissance",
    "r1_adresse",
    "r1_code_postal",
    "r1_ville",
    "r1_telephone",
    "r1_courriel",
    "r1_situation",
    "r2_civilite",
    "r2_nom",
    "r2_prenom",
    "r2_date_naissance",
    "r2_adresse",
    "r2_code_postal",
    "r2_ville",
    "r2_telephone",
    "r2_courriel",
    "r2_situation",
    "allocataire",
    "allocataire_regime",
    "nombre_enfants_foyer",
    "enfants",
    "modes",
    "date_debut",
    "frequence",
    "planning",
    "commentaire",
    "document_pdf",
)


def _export_rows(
    engine: Engine, vault: Vault, communes: frozenset[str]
) -> Iterator[tuple[DemandeRow, Demande]]:
    with transaction(engine) as session:
        rows = list(store.listing(session, status=Status.RECEIVED, communes=communes))
    for row in rows:
        with transaction(engine) as session:
            record = store.read_secret(session, vault, row.numero, BlobKind.RECORD)
        if record is not None:
            yield row, RECORD.validate_json(record)


def _safe_cell(value: object) -> str:
    # A cell starting with = or @ would run as a formula in a spreadsheet; + and - are kept
    # because phone numbers and names legitimately start with them.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "@", "\t", "\r") else text


def _csv_row(row: DemandeRow, d: Demande) -> list[str]:
    cells: list[object] = [
        row.numero,
        row.commune,
        d.date_depot.isoformat(),
        d.date_transmission.isoformat(),
        d.date_notification.isoformat() if d.date_notification else "",
        row.retrieval_due,
        row.purge_due,
    ]
    for rank in (1, 2):
        r = next((x for x in d.responsables if x.rang == rank), None)
        cells += (
            ["", "", "", "", "", "", "", "", "", ""]
            if r is None
            else [
                r.civilite,
                r.nom,
                r.prenom,
                r.date_naissance,
                " / ".join(r.adresse.lignes),
                r.adresse.code_postal,
                r.adresse.ville,
                r.telephone,
                r.courriel,
                r.situation_professionnelle,
            ]
        )
    cells += [
        d.allocataire.numero if d.allocataire else "",
        d.allocataire.regime if d.allocataire else "",
        d.nombre_enfants_foyer,
        " | ".join(
            f"{c.prenom} {c.nom or ''} {c.date_naissance}".strip()
            if isinstance(c, Enfant)
            else f"à naître {c.date_naissance_prevue} {c.prenom or ''}".strip()
            for c in d.enfants
        ),
        " | ".join(f"{m.rang}:{m.mode}" for m in d.accueil.modes),
        d.accueil.date_debut,
        d.accueil.frequence,
        " | ".join(f"{s.jour} {s.debut}-{s.fin}" for s in d.accueil.planning),
        d.accueil.commentaire,
        d.document.nom,
    ]
    return [_safe_cell(c) for c in cells]


def export(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    fmt: Literal["csv", "json"],
    output: Path,
    now: datetime,
) -> int:
    member = authorize(config, agent)
    communes = config.staff_communes(member)
    pairs = list(_export_rows(engine, vault, communes))
    # The audit events and the file stand or fall together: no export goes unrecorded.
    with transaction(engine) as session:
        for row, _ in pairs:
            audit.record(
                session,
                at=now,
                actor=member.email,
                action="export",
                numero=row.numero,
                detail={"format": fmt},
            )
        audit.record(
            session,
            at=now,
            actor=member.email,
            action="export-fichier",
            detail={"format": fmt, "demandes": len(pairs)},
        )
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as stream:
                _write(stream, fmt, pairs)
            os.chmod(output, 0o600)
        except BaseException:
            output.unlink(missing_ok=True)
            raise
    return len(pairs)


def _write(stream: IO[str], fmt: str, pairs: list[tuple[DemandeRow, Demande]]) -> None:
    if fmt == "csv":
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(CSV_COLUMNS)
        for row, d in pairs:
            writer.writerow(_csv_row(row, d))
        return
    documents = []
    for row, d in pairs:
        document = json.loads(RECORD.dump_json(d))
        document.update(
            retrieval_due=row.retrieval_due.isoformat() if row.retrieval_due else None,
            purge_due=row.purge_due.isoformat() if row.purge_due else None,
        )
        documents.append(document)
    json.dump(documents, stream, ensure_ascii=False, indent=2)
