"""The lieu's letters to families: the shipped ones render for a real demande, a lieu's file
replaces or adds one, and a placeholder can name only the fixed set of values (no attribute,
no index, no expression, no second expansion of what a family typed)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from intake.family import letters
from intake.family.letters import PLACEHOLDERS, LetterError
from intake.feed.model import Demande
from tests.support.feeds import SAMPLES

TODAY = date(2026, 11, 23)


def sample(numero: str = "ME-2026-0000101") -> Demande:
    from lxml import etree

    from intake.feed.decode import decode_demande  # the sample feed as the pipeline reads it

    tree = etree.parse(str(SAMPLES / "flux-69273-corbas.xml"))
    for element in tree.getroot().iter("{*}demande"):
        if element.get("numero") == numero:
            return decode_demande(element)
    raise AssertionError(numero)


def values(demande: Demande, **changes: str) -> dict[str, str]:
    found = letters.values(
        demande,
        commune="Corbas",
        lieu="CCAS de Corbas",
        lieu_phone="04 72 51 45 00",
        lieu_address="Place de la Mairie, 69960 Corbas",
        agent="Laetitia Feuga",
        today=TODAY,
    )
    return found | changes


def test_every_shipped_letter_renders_for_a_demande():
    shipped = letters.load(None)
    assert set(shipped.by_id) == {"accuse-reception", "proposition-rendez-vous", "orientation"}
    subject, text = shipped.render(shipped.get("accuse-reception"), values(sample()))
    assert subject == "Votre demande de mode d’accueil n° ME-2026-0000101"
    assert text.startswith("Bonjour Madame Bernard,\n")
    assert "pour Léo, déposée le\n2 novembre 2026" in text
    assert text.endswith("Laetitia Feuga\nCCAS de Corbas\nPlace de la Mairie, 69960 Corbas\n"
                         "04 72 51 45 00\n")  # fmt: skip
    assert "$" not in text


def test_missing_values_leave_no_hole():
    """No civilité, an unborn child without a first name, a lieu without phone or address."""
    demande = sample("ME-2026-0000102")
    shipped = letters.load(None)
    _, text = shipped.render(
        shipped.get("accuse-reception"), values(demande, lieu_telephone="", lieu_adresse="")
    )
    assert text.startswith("Bonjour Nguyễn,\n") and "pour votre enfant," in text
    assert "\n\n\n" not in text and text.endswith("CCAS de Corbas\n")


def test_the_family_address_is_the_first_responsable_s():
    assert letters.family_address(sample()) == "sophie.bernard@example.org"


@pytest.mark.parametrize(
    "text",
    [
        "a@example.org, autre@example.org",
        "a@example.org;autre@example.org",
        "a@example.org autre@example.org",
        "a@example.org\r\nBcc: autre@example.org",
        '"Nom" <a@example.org>',
        "<a@example.org>",
        "a@@example.org",
        "@example.org",
        "a@localhost",
        "",
    ],
)
def test_only_one_plain_address_is_usable(text: str):
    assert letters.usable_address(text) is None


def test_a_plain_address_is_usable():
    assert letters.usable_address(" claire.martin+creche@example.org ") == (
        "claire.martin+creche@example.org"
    )


def test_a_lieu_file_replaces_a_shipped_letter_and_adds_one(tmp_path: Path):
    (tmp_path / "accuse-reception.txt").write_text(
        "Modèle : Accusé maison\nObjet : Bien reçu, $numero\n\nBonjour,\n$signature\n", "utf-8"
    )
    (tmp_path / "relance.txt").write_text("Objet : Relance\n\nToujours intéressés ?\n", "utf-8")
    (tmp_path / "signature.txt").write_text("$agent, $lieu\n", "utf-8")
    (tmp_path / "notes.md").write_text("pas un modèle", "utf-8")
    own = letters.load(tmp_path)
    assert set(own.by_id) == {"accuse-reception", "proposition-rendez-vous", "orientation",
                              "relance"}  # fmt: skip
    assert own.get("relance").title == "relance"
    subject, text = own.render(own.get("accuse-reception"), values(sample()))
    assert subject == "Bien reçu, ME-2026-0000101"
    assert text == "Bonjour,\nLaetitia Feuga, CCAS de Corbas\n"


@pytest.mark.parametrize(
    "body",
    [
        "$config",  # a name outside the fixed set
        "${numero.__class__}",  # attribute access
        "${numero[0]}",  # indexing
        "{{ config.secret('smtp', 'password') }} $motdepasse",  # Jinja is not read, $name is
        "un $ seul",  # a bare dollar
    ],
)
def test_a_letter_naming_anything_else_is_refused(tmp_path: Path, body: str):
    (tmp_path / "piege.txt").write_text(f"Objet : Piège\n\nBonjour {body}\n", "utf-8")
    with pytest.raises(LetterError, match=r"piege\.txt") as refused:
        letters.load(tmp_path)
    assert "disponible" in str(refused.value) or "$$" in str(refused.value)


def test_jinja_syntax_is_plain_text():
    letter = letters.parse("jinja", "Objet : {{ 7 * 7 }}\n\n{% for x in y %}$numero{% endfor %}\n")
    subject, text = letters.Letters({}, "").render(letter, values(sample()))
    assert subject == "{{ 7 * 7 }}" and text == "{% for x in y %}ME-2026-0000101{% endfor %}\n"


def test_a_family_s_text_is_never_expanded_again():
    """A family named « $lieu_telephone » gets its name, not the lieu's phone: one pass."""
    demande = sample()
    shipped = letters.load(None)
    _, text = shipped.render(
        shipped.get("accuse-reception"), values(demande, nom_famille="${lieu_telephone}")
    )
    assert "Bonjour Madame ${lieu_telephone}," in text


def test_a_malformed_letter_says_what_it_lacks(tmp_path: Path):
    for text in ("Bonjour sans en-tête\n", "Objet : Sans texte\n\n", "Sujet : Faux\n\nTexte\n"):
        (tmp_path / "mauvais.txt").write_text(text, "utf-8")
        with pytest.raises(LetterError, match=r"mauvais\.txt"):
            letters.load(tmp_path)


def test_a_missing_folder_is_named():
    with pytest.raises(LetterError, match="n’existe pas"):
        letters.load(Path("/nulle/part"))


def test_the_configuration_template_lists_every_placeholder():
    from importlib import resources

    text = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    assert all(f"${name}" in text for name in PLACEHOLDERS)
