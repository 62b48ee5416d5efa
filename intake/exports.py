"""Exports for the lieu's own software: only a habilitated agent's communes, every demande
exported recorded in the audit trail with the file, cells that no spreadsheet runs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from intake import deadlines
from intake.access import authorize_audited
from intake.config import Config
from intake.feed.model import RECORD, Demande, Enfant
from intake.files import RefusedFileError, write_private
from storage import audit
from storage import demandes as store
from storage.db import transaction
from storage.models import BlobKind, DemandeRow, Status
from storage.vault import Vault

EXPORT_WARNING = (
    "Attention : ce fichier contient des données personnelles. C'est la copie du lieu "
    "d'information, soumise aux mêmes obligations que la convention : usage limité au "
    "traitement des demandes, confidentialité, destruction au plus tard 6 mois après "
    "la transmission de chaque demande."
)

CSV_COLUMNS = (
    "Numéro",
    "Commune (INSEE)",
    "Commune",
    "Déposée le",
    "Transmise le",
    "Notifiée le",
    "À récupérer avant le",
    "À détruire au plus tard le",
    *(
        f"Responsable {rank} : {label}"
        for rank in (1, 2)
        for label in (
            "civilité",
            "nom",
            "prénom",
            "date de naissance",
            "adresse",
            "code postal",
            "ville",
            "téléphone",
            "courriel",
            "situation professionnelle",
        )
    ),
    "N° allocataire",
    "Régime",
    "Enfants au foyer",
    "Enfants",
    "Modes d'accueil souhaités",
    "À partir du",
    "Fréquence",
    "Planning",
    "Commentaire",
    "Document PDF",
)


@dataclass(frozen=True)
class Exported:
    demandes: int
    past_retention: int  # held past their purge day: left out, a purge is due


def _export_rows(
    engine: Engine, vault: Vault, communes: frozenset[str], today: date, selection: Selection
) -> tuple[list[tuple[DemandeRow, Demande]], int]:
    with transaction(engine) as session:
        rows = [
            r
            for r in store.listing(session, status=Status.RECEIVED, communes=communes)
            if (selection.since is None or (r.retrieved_at and r.retrieved_at >= selection.since))
            and (selection.until is None or (r.retrieved_at and r.retrieved_at < selection.until))
            and (selection.after is None or (r.retrieved_at and r.retrieved_at > selection.after))
            and (selection.commune is None or r.commune == selection.commune)
        ]
    readable = [r for r in rows if r.purge_due is None or today < r.purge_due]
    return list(_decrypted(engine, vault, readable)), len(rows) - len(readable)


def _decrypted(
    engine: Engine, vault: Vault, rows: list[DemandeRow]
) -> Iterator[tuple[DemandeRow, Demande]]:
    for row in rows:
        with transaction(engine) as session:
            record = store.read_secret(session, vault, row.numero, BlobKind.RECORD)
        if record is not None:
            yield row, RECORD.validate_json(record)


# What a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell no spreadsheet runs: one starting like a formula is marked as text with a
    leading apostrophe, which spreadsheets hide, so a phone number keeps its visible « + »."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(row: DemandeRow, d: Demande, commune_name: str) -> list[str]:
    cells: list[object] = [
        row.numero,
        row.commune,
        commune_name,
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
    return [safe_cell(c) for c in cells]


@dataclass(frozen=True)
class Selection:
    """Which demandes: retrieved in [since, until) and after `after`; all by default."""

    since: datetime | None = None
    until: datetime | None = None
    after: datetime | None = None  # « depuis la dernière exportation »: strictly after it
    commune: str | None = None  # one of the agent's communes only


def last_export(engine: Engine, agent: str) -> datetime | None:
    """When this person last exported: « depuis la dernière exportation » starts there."""
    with transaction(engine) as session:
        return audit.last_event_at(session, actor=agent, action="export-fichier")


def export(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    fmt: Literal["csv", "json"],
    now: datetime,
    write: Callable[[bytes], None],
    selection: Selection = Selection(),
) -> Exported:
    """The agent's communes' demandes, written by `write` inside the transaction that records
    each of them in the audit trail: the file and its events stand or fall together."""
    member = authorize_audited(engine, vault, config, agent, now, action="export")
    communes = config.staff_communes(member)
    today = deadlines.local_date(now, config.timezone)
    pairs, past_retention = _export_rows(engine, vault, communes, today, selection)
    with transaction(engine) as session:
        for row, _ in pairs:
            vault.trail.record(
                session,
                at=now,
                actor=member.email,
                action="export",
                numero=row.numero,
                detail={"format": fmt},
            )
        vault.trail.record(
            session,
            at=now,
            actor=member.email,
            action="export-fichier",
            detail={"format": fmt, "demandes": len(pairs)},
        )
        write(_content(fmt, pairs, config))
    return Exported(len(pairs), past_retention)


def export_file(
    engine: Engine,
    vault: Vault,
    config: Config,
    agent: str,
    fmt: Literal["csv", "json"],
    output: Path,
    now: datetime,
    selection: Selection = Selection(),
) -> Exported:
    """`export` into a file that its owner alone can read ("-": standard output)."""

    def write(content: bytes) -> None:
        try:
            write_private(output, content)
        except RefusedFileError:
            raise  # not ours to delete
        except BaseException:
            output.unlink(missing_ok=True)
            raise

    return export(engine, vault, config, agent, fmt, now, write, selection)


def _content(fmt: str, pairs: list[tuple[DemandeRow, Demande]], config: Config) -> bytes:
    if fmt == "csv":
        stream = io.StringIO()
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(CSV_COLUMNS)
        for row, d in pairs:
            writer.writerow(_csv_row(row, d, config.commune_name(row.commune)))
        return ("\ufeff" + stream.getvalue()).encode("utf-8")  # the BOM: Excel reads UTF-8
    documents = []
    for row, d in pairs:
        document = json.loads(RECORD.dump_json(d))
        document.update(
            retrieval_due=row.retrieval_due.isoformat() if row.retrieval_due else None,
            purge_due=row.purge_due.isoformat() if row.purge_due else None,
        )
        documents.append(document)
    return json.dumps(documents, ensure_ascii=False, indent=2).encode("utf-8")
