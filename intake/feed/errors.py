"""Refusal codes of flux-demandes-v1.md ("Rules beyond the XSD"), in the spec's order."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Code(StrEnum):
    XML_DANGEREUX = "xml-dangereux"
    XML_MALFORME = "xml-malforme"
    SCHEMA_INVALIDE = "schema-invalide"
    COMMUNE_NON_HABILITEE = "commune-non-habilitee"
    DATES_INCOHERENTES = "dates-incoherentes"
    ENFANT_TROP_AGE = "enfant-trop-age"
    NAISSANCE_PREVUE_INCOHERENTE = "naissance-prevue-incoherente"
    MODES_INCOHERENTS = "modes-incoherents"
    CRENEAU_INVALIDE = "creneau-invalide"
    CONTACT_MANQUANT = "contact-manquant"
    PDF_INVALIDE = "pdf-invalide"
    DEJA_EXPIREE = "deja-expiree"
    DOUBLON_DIVERGENT = "doublon-divergent"


# Refusals after which nothing personal may be kept, not even in quarantine.
NOTHING_PERSONAL = frozenset({Code.COMMUNE_NON_HABILITEE, Code.DEJA_EXPIREE})

_ORDER = {code: i for i, code in enumerate(Code)}


@dataclass(frozen=True)
class Violation:
    """One broken rule. The message is French and never carries personal data."""

    code: Code
    message: str

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def ordered(violations: list[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: _ORDER[v.code])
