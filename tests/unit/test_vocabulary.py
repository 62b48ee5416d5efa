"""The French vocabulary: every code of the feed's spec has its word, every journal action
its sentence, and `intake show` tells codes in words and days in sentences."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from intake import vocabulary
from intake.desk.access import Opened
from intake.desk.demande_text import render
from intake.desk.journal_text import PHRASES, sentence
from intake.feed.errors import Code
from intake.feed.model import Demande
from storage.models import DemandeRow, Status
from tests.support.vocabulary import raw_words

SPEC = Path("/work/shared/spec/flux-demandes-v1.md")
PARIS = ZoneInfo("Europe/Paris")
NAMES = {"l.feuga@ville-corbas.fr": "Laetitia Feuga"}


def test_every_refusal_rule_has_its_words():
    assert set(Code) <= set(vocabulary.RULES)


def test_every_action_has_its_label_and_its_sentence():
    assert set(vocabulary.ACTIONS) == set(PHRASES)


@pytest.mark.parametrize(
    ("table", "codes"),
    [
        (vocabulary.CIVILITE, {"M", "Mme"}),
        (vocabulary.SEXE, {"F", "M"}),
        (vocabulary.REGIME, {"general", "agricole", "autre"}),
        (
            vocabulary.SITUATION,
            {"emploi", "formation", "recherche-emploi", "conge-parental", "sans-activite", "autre"},
        ),
        (vocabulary.MODES, {"creche-collective", "assistante-maternelle", "garde-a-domicile"}),
        (vocabulary.FREQUENCE, {"reguliere", "occasionnelle"}),
    ],
)
def test_every_code_of_the_feed_has_its_word(table: dict[str, str], codes: set[str]):
    assert set(table) == codes
    if SPEC.exists():  # the spec names each code between backquotes
        text = SPEC.read_text(encoding="utf-8")
        assert all(f"`{code}`" in text for code in codes)


@pytest.mark.parametrize(
    ("action", "numero", "detail", "said"),
    [
        ("lecture", "ME-2026-0000101", {"pdf": False},
         "Laetitia Feuga a lu la demande ME-2026-0000101"),
        ("lecture", "ME-2026-0000101", {"pdf": True},
         "Laetitia Feuga a lu la demande ME-2026-0000101 et son PDF"),
        ("signature-attestation", None,
         {"attestation": 2, "signature": "pades", "dans_les_delais": True,
          "manifeste_sha256": "ab" * 32},
         "Laetitia Feuga a signé l’attestation n° 2, signature électronique (PAdES) "
         "dans les délais"),
        ("attestation", None, {"attestation": 1, "demandes": 3, "signer_avant": "2027-06-30"},
         "Laetitia Feuga a établi l’attestation n° 1 (3 demandes détruites, à signer au plus "
         "tard le 30 juin 2027)"),
        ("acces-refuse", "ME-2026-0000101", {"demande": "lecture", "motif": "commune"},
         "Laetitia Feuga s’est vu refuser la demande ME-2026-0000101 (commune hors de ses "
         "attributions)"),
        ("acces-refuse", None, {"demande": "journal", "motif": "role"},
         "Laetitia Feuga s’est vu refuser le journal (rôle insuffisant)"),
        ("suivi", "ME-2026-0000101", {"issue": "sans-suite"},
         "Laetitia Feuga a enregistré le suivi de la demande ME-2026-0000101 : sans suite"),
    ],
)  # fmt: skip
def test_the_journal_tells_sentences(action, numero, detail, said):  # type: ignore[no-untyped-def]
    told = sentence("l.feuga@ville-corbas.fr", action, numero, json.dumps(detail), NAMES)
    assert told == said


def test_no_sentence_shows_a_code_or_a_python_word():
    details = {
        "pdf": False, "format": "xlsx", "demandes": 2, "motif": "conservation-6-mois",
        "code": "pdf-invalide", "issue": "contactee", "attestation": 1, "signature": "pades",
        "dans_les_delais": False, "ancien_chainage_intact": True, "ancien_premier_defaut": None,
        "evenements_rechaines": 0, "signer_avant": "2027-01-31", "mois": "2026-10",
        "echecs": 5, "minutes": 2, "demande": "journal", "fichier": "flux.xml",
        "version": "3", "cles": 4, "evenements": 10, "jusqu_a": 12,
    }  # fmt: skip
    for action in PHRASES:
        told = sentence("système:intake-run", action, "ME-2026-0000101", json.dumps(details), {})
        assert told.startswith("Le service ") and raw_words(told) == [], (action, told)


def _demande() -> Demande:
    return Demande.model_validate(
        {
            "numero": "ME-2026-0000150",
            "date_depot": datetime(2026, 11, 2, 19, 41, tzinfo=UTC),
            "date_transmission": datetime(2026, 11, 3, 5, tzinfo=UTC),
            "commune_insee": "69273",
            "commune_nom": "Corbas",
            "responsables": [
                {
                    "rang": 1,
                    "civilite": "Mme",
                    "nom": "N’Diaye",
                    "prenom": "Awa",
                    "adresse": {
                        "lignes": ["1 rue Haute"],
                        "code_postal": "01000",
                        "ville": "Bourg",
                    },
                    "situation_professionnelle": "conge-parental",
                },
            ],
            "allocataire": {"numero": "0012345", "regime": "agricole"},
            "enfants": [
                {"kind": "enfant", "prenom": "Lou", "date_naissance": date(2025, 3, 1), "sexe": "F"}
            ],
            "accueil": {
                "modes": [{"rang": 1, "mode": "creche-collective"}],
                "date_debut": date(2027, 9, 1),
                "frequence": "occasionnelle",
            },
            "document": {"nom": "d.pdf", "sha256": "0" * 64, "taille": 10},
        }
    )


def test_show_tells_codes_in_words():
    row = DemandeRow(
        numero="ME-2026-0000150",
        commune="69273",
        status=Status.RECEIVED,
        retrieval_due=date(2026, 11, 18),
        purge_due=date(2027, 5, 3),
        created_at=datetime(2026, 11, 3, tzinfo=UTC),
        updated_at=datetime(2026, 11, 3, tzinfo=UTC),
    )
    text = render(Opened(row, _demande(), None, None), PARIS)
    for said in ("reçue", "Mme Awa N’Diaye", "en congé parental", "régime agricole",
                 "né(e) le 1er mars 2025, fille", "crèche collective", "occasionnelle",
                 "au plus tard le 3 mai 2027", "01000"):  # fmt: skip
        assert said in text
    assert raw_words(text) == [] and not re.search(r"\bstatut received\b", text)
