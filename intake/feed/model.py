"""A demande as the worker holds it, independent of the feed version that carried it.

These records are personal data: they exist in clear only in memory, and are
stored only inside the vault (serialised with `RECORD.dump_json`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Adresse(_Record):
    lignes: tuple[str, ...]
    code_postal: str
    ville: str


class Responsable(_Record):
    rang: int
    civilite: str | None = None
    nom: str
    prenom: str
    date_naissance: date | None = None
    adresse: Adresse
    telephone: str | None = None
    courriel: str | None = None
    situation_professionnelle: str | None = None


class Allocataire(_Record):
    numero: str
    regime: str


class Enfant(_Record):
    kind: Literal["enfant"] = "enfant"
    prenom: str
    nom: str | None = None
    date_naissance: date
    sexe: str | None = None


class EnfantANaitre(_Record):
    kind: Literal["enfant-a-naitre"] = "enfant-a-naitre"
    date_naissance_prevue: date
    prenom: str | None = None


class Mode(_Record):
    rang: int
    mode: str


class Creneau(_Record):
    jour: str
    debut: str
    fin: str


class Accueil(_Record):
    modes: tuple[Mode, ...]
    date_debut: date
    frequence: str
    planning: tuple[Creneau, ...] = ()
    commentaire: str | None = None


class DocumentPdf(_Record):
    nom: str
    sha256: str
    taille: int


class Demande(_Record):
    numero: str
    date_depot: datetime
    date_transmission: datetime
    date_notification: datetime | None = None
    commune_insee: str
    commune_nom: str
    responsables: tuple[Responsable, ...]
    allocataire: Allocataire | None = None
    nombre_enfants_foyer: int | None = None
    enfants: tuple[Annotated[Enfant | EnfantANaitre, Field(discriminator="kind")], ...]
    accueil: Accueil
    document: DocumentPdf


RECORD = TypeAdapter(Demande)
