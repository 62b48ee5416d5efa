"""Hostile and broken feeds, each with the refusal code it must get. Built at test time: the
canary file and the listener's address differ at every run."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.e2e.test_hostile import hostile_documents
from tests.support.feeds import SAMPLE_PDF, Dem, feed_xml, numero

GOOD = feed_xml([Dem(numero(1))])


def _swap(old: str, new: str, xml: str = GOOD) -> bytes:
    assert old in xml, old
    return xml.replace(old, new, 1).encode("utf-8")


def _pdf_case(pdf: bytes, declared: tuple[str, int] | None = None) -> tuple[bytes, bytes]:
    dem = Dem(numero(1), pdf=pdf, declared_pdf=declared)
    return feed_xml([dem]).encode("utf-8"), pdf


def corpus(canary: Path, url: str) -> dict[str, tuple[bytes, bytes | None, str]]:
    """name -> (feed bytes, PDF written beside it or None, expected code)."""
    hostile = {k: v.encode("utf-8") for k, v in hostile_documents(canary, url).items()}
    deep = "<x>" * 5000 + "</x>" * 5000
    html = b"<html><body>Ceci n'est pas un PDF</body></html>"
    cases: dict[str, tuple[bytes, bytes | None, str]] = {
        # entities, DTDs and inclusions: refused whole, nothing fetched, nothing read
        "xxe-fichier": (hostile["xxe"], SAMPLE_PDF, "xml-dangereux"),
        "milliard-de-rires": (hostile["billion-laughs"], SAMPLE_PDF, "xml-dangereux"),
        "dtd-distante": (hostile["remote-dtd"], SAMPLE_PDF, "xml-dangereux"),
        "entite-parametre": (hostile["parameter-entity"], SAMPLE_PDF, "xml-dangereux"),
        "dtd-interne-vide": (
            _swap("<fluxDemandes", "<!DOCTYPE fluxDemandes []><fluxDemandes"),
            SAMPLE_PDF,
            "xml-dangereux",
        ),
        "xxe-sans-dtd": (_swap("Corbas</commune>", "&ext;</commune>"), SAMPLE_PDF, "xml-malforme"),
        "instruction-de-traitement": (
            _swap("<fluxDemandes", '<?xml-stylesheet href="x"?><fluxDemandes'),
            SAMPLE_PDF,
            "xml-dangereux",
        ),
        "xinclude": (hostile["xinclude"], SAMPLE_PDF, "schema-invalide"),
        "espace-de-noms-trompeur": (hostile["bad-namespace-uri"], SAMPLE_PDF, "schema-invalide"),
        # sizes and shapes
        "imbrication-profonde": (
            _swap("<dateDebut>", f"{deep}<dateDebut>"),
            SAMPLE_PDF,
            "xml-dangereux",
        ),
        "attribut-enorme": (
            _swap('version="1.0" genereLe', f'version="{"9" * 5_000_000}" genereLe'),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        "texte-enorme": (
            _swap("<dateDebut>", f"<commentaire>{'a' * 3_000_000}</commentaire><dateDebut>"),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        "racine-inconnue": (b'<?xml version="1.0"?><flux/>', None, "schema-invalide"),
        "espace-de-noms-inconnu": (
            GOOD.replace("urn:monenfant-intake:flux-demandes:1", "urn:autre").encode(),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        # broken bytes
        "vide": (b"", None, "xml-malforme"),
        "declaration-seule": (b'<?xml version="1.0" encoding="UTF-8"?>\n', None, "xml-malforme"),
        "tronque": (GOOD.encode()[: len(GOOD) // 2], SAMPLE_PDF, "xml-malforme"),
        "utf8-invalide": (
            GOOD.encode().replace(b"Corbas</commune>", b"Corb\xc3\x28s</commune>"),
            SAMPLE_PDF,
            "xml-malforme",
        ),
        "octet-nul": (
            GOOD.encode().replace(b"Corbas</commune>", b"Cor\x00bas</commune>"),
            SAMPLE_PDF,
            "xml-malforme",
        ),
        "reference-caractere-nul": (
            _swap("Corbas</commune>", "Cor&#0;bas</commune>"),
            SAMPLE_PDF,
            "xml-malforme",
        ),
        "utf16-annonce": (
            GOOD.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode(),
            SAMPLE_PDF,
            "xml-malforme",
        ),
        "deux-racines": ((GOOD + GOOD).encode(), SAMPLE_PDF, "xml-malforme"),
        "balise-non-fermee": (_swap("</fluxDemandes>", "<demande>"), SAMPLE_PDF, "xml-malforme"),
        "attribut-sans-guillemets": (
            _swap('version="1.0"', "version=1.0"),
            SAMPLE_PDF,
            "xml-malforme",
        ),
        "binaire": (bytes(range(256)) * 8, None, "xml-malforme"),
        # values the schema or the rules refuse, one demande at a time
        "numero-chiffres-arabes-orientaux": (
            _swap(numero(1), "ME-2026-٠٠٠٠٠٠١"),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        "date-impossible": (
            _swap("2026-11-02T20:41:00+01:00", "2026-13-45T99:00:00+01:00"),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        "nom-pdf-chemin": (
            _swap(f'nom="{numero(1)}.pdf"', 'nom="../secret.pdf"'),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        "nom-pdf-absolu": (
            _swap(f'nom="{numero(1)}.pdf"', f'nom="{canary}"'),
            SAMPLE_PDF,
            "schema-invalide",
        ),
        # PDFs
        "pdf-en-html": (*_pdf_case(html), "pdf-invalide"),
        "pdf-taille-2-go": (
            *_pdf_case(SAMPLE_PDF, (hashlib.sha256(SAMPLE_PDF).hexdigest(), 2 * 1024**3)),
            "pdf-invalide",
        ),
        "pdf-empreinte-fausse": (
            *_pdf_case(SAMPLE_PDF, ("0" * 64, len(SAMPLE_PDF))),
            "pdf-invalide",
        ),
        "pdf-absent": (GOOD.encode(), None, "pdf-invalide"),
        "pdf-vide": (*_pdf_case(b""), "schema-invalide"),  # taille="0" is not a size
        "pdf-tronque": (*_pdf_case(SAMPLE_PDF[: len(SAMPLE_PDF) // 3]), "pdf-invalide"),
        "pdf-entete-seule": (*_pdf_case(b"%PDF-1.7\n%%EOF\n"), "pdf-invalide"),
    }
    return cases
