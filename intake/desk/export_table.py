"""The table of an export, one line per demande, typed: what the CSV writes as French text
and the XLSX keeps as text, dates and numbers. Codes of the feed are told in words
(`intake.vocabulary`); postal codes, INSEE codes and allocataire numbers stay text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from intake import vocabulary as words
from intake.feed.model import Demande, Enfant, EnfantANaitre, Responsable
from storage.models import DemandeRow

Kind = Literal["text", "code", "date", "instant", "number"]


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = "text"  # « code »: digits that must stay text (01000, 0012345)
    width: int = 18


RESPONSABLE = (
    Column("civilité", width=9),
    Column("nom"),
    Column("prénom"),
    Column("date de naissance", "date", 12),
    Column("adresse", width=30),
    Column("code postal", "code", 8),
    Column("ville"),
    Column("téléphone", "code", 16),
    Column("courriel", width=28),
    Column("situation professionnelle", width=22),
)

COLUMNS: tuple[Column, ...] = (
    Column("Numéro", "code", 17),
    Column("Commune (INSEE)", "code", 9),
    Column("Commune"),
    Column("Déposée le", "instant", 16),
    Column("Transmise le", "instant", 16),
    Column("Notifiée le", "instant", 16),
    Column("À récupérer avant le", "date", 12),
    Column("À détruire au plus tard le", "date", 12),
    *(
        Column(f"Responsable {rank} : {c.header}", c.kind, c.width)
        for rank in (1, 2)
        for c in RESPONSABLE
    ),
    Column("N° allocataire", "code", 10),
    Column("Régime"),
    Column("Enfants au foyer", "number", 8),
    Column("Enfants", width=40),
    Column("Modes d’accueil souhaités", width=40),
    Column("À partir du", "date", 12),
    Column("Fréquence", width=12),
    Column("Planning", width=30),
    Column("Commentaire", width=40),
    Column("Document PDF", width=24),
)
HEADERS = tuple(c.header for c in COLUMNS)

Cell = str | int | date | datetime | None


def _local(value: datetime | None, tz: ZoneInfo) -> datetime | None:
    """The lieu's wall-clock time, without zone (spreadsheets know none)."""
    return None if value is None else value.astimezone(tz).replace(tzinfo=None)


def _responsable(r: Responsable | None) -> list[Cell]:
    if r is None:
        return [None] * len(RESPONSABLE)
    return [
        words.civilite(r.civilite),
        r.nom,
        r.prenom,
        r.date_naissance,
        " / ".join(r.adresse.lignes),
        r.adresse.code_postal,
        r.adresse.ville,
        r.telephone,
        r.courriel,
        words.situation(r.situation_professionnelle),
    ]


def _child(child: Enfant | EnfantANaitre) -> str:
    if isinstance(child, Enfant):
        name = " ".join(p for p in (child.prenom, child.nom) if p)
        sexe = f", {words.sexe(child.sexe)}" if child.sexe else ""
        return f"{name}, né(e) le {child.date_naissance:%d/%m/%Y}{sexe}"
    prenom = f" ({child.prenom})" if child.prenom else ""
    return f"à naître le {child.date_naissance_prevue:%d/%m/%Y}{prenom}"


def cells(row: DemandeRow, d: Demande, commune_name: str, tz: ZoneInfo) -> list[Cell]:
    """One demande's line, in the order of COLUMNS."""
    line: list[Cell] = [
        row.numero,
        row.commune,
        commune_name,
        _local(d.date_depot, tz),
        _local(d.date_transmission, tz),
        _local(d.date_notification, tz),
        row.retrieval_due,
        row.purge_due,
    ]
    for rank in (1, 2):
        line += _responsable(next((x for x in d.responsables if x.rang == rank), None))
    accueil = d.accueil
    line += [
        d.allocataire.numero if d.allocataire else None,
        words.regime(d.allocataire.regime) if d.allocataire else None,
        d.nombre_enfants_foyer,
        " | ".join(_child(c) for c in d.enfants),
        " | ".join(
            f"{m.rang}. {words.mode(m.mode)}" for m in sorted(accueil.modes, key=lambda m: m.rang)
        ),
        accueil.date_debut,
        words.frequence(accueil.frequence),
        " | ".join(f"{s.jour} {s.debut}–{s.fin}" for s in accueil.planning),
        accueil.commentaire,
        d.document.nom,
    ]
    return line


def as_text(value: Cell) -> str:
    """A cell as the CSV writes it: dates jj/mm/aaaa, instants jj/mm/aaaa hh:mm."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)
