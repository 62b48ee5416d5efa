"""A demande carrying a code of every kind the feed has (civilité, sexe, régime, situation,
modes, fréquence), a postal code starting with 0 and a comment that looks like a formula: what
the pages and the exports must tell in French, and keep as written."""

from __future__ import annotations

import html
import re
from pathlib import Path

from intake.vocabulary import TABLES
from tests.support.feeds import SAMPLE_PDF, Dem, feed_xml

CODED = "ME-2026-0000150"


def coded_feed(folder: Path) -> Path:
    dem = Dem(
        CODED,
        modes=[("1", "assistante-maternelle"), ("2", "garde-a-domicile")],
        creneaux=[("lundi", "08:00", "17:30")],
        commentaire="=1+1 souhaite un accueil le matin",
        enfants=[
            "<enfant><prenom>Léo</prenom><dateNaissance>2025-03-10</dateNaissance>"
            "<sexe>M</sexe></enfant>"
        ],
    )
    xml = (
        dem.xml()
        .replace("<nom>", "<civilite>M</civilite><nom>", 1)
        .replace("<codePostal>69960</codePostal>", "<codePostal>01000</codePostal>")
        .replace(
            "</courriel>",
            "</courriel><situationProfessionnelle>recherche-emploi</situationProfessionnelle>",
        )
        .replace(
            "</responsable>", '</responsable><allocataire regime="general">0012345</allocataire>'
        )
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{CODED}.pdf").write_bytes(SAMPLE_PDF)
    path = folder / "flux-codes.xml"
    path.write_text(feed_xml([Dem(CODED, raw=xml)]), encoding="utf-8")
    return path


def _raw_looking(code: str, label: str) -> bool:
    """A code a person must not meet: not a plain French word found in its own label."""
    return len(code) >= 4 and ("-" in code or code not in label)


RAW_CODES = sorted(
    {
        code
        for table in TABLES.values()
        for code, label in table.items()
        if _raw_looking(code, label)
    }
)
RAW = re.compile(
    r"(?<![\w-])(" + "|".join(map(re.escape, RAW_CODES)) + r")(?![\w-])"
    r"|\b(True|False|None)\b"  # Python's words
    r"|\b(\d{4}-\d{2}-\d{2})\b"  # ISO dates
)


def visible_text(page: str) -> str:
    """What a person reads of an HTML page: no tags, attributes, scripts, styles, nor the
    quarantined XML shown as is."""
    for element in ("script", "style", "pre"):
        page = re.sub(rf"<{element}\b.*?</{element}>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def raw_words(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in RAW.finditer(text)]
