"""The lieu's letters to families: plain French text files with a few named placeholders.

A letter is `<id>.txt`: header lines (`Modèle : …`, the name agents choose from; `Objet : …`,
the subject), a blank line, then the body; `signature.txt` is the lieu's signature, put where
a letter says `$signature`. The shipped letters (`intake/family/modeles/`) are the defaults; a
file of the same name in the lieu's folder (`[family_emails] templates`) replaces one, a new
name adds one.

Placeholders are `string.Template`'s `$name`: a name is looked up in a fixed table of values
and nothing else (no attribute, no index, no expression), and a letter naming anything outside
`PLACEHOLDERS` is refused whole, with the names it may use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.errors import HeaderParseError
from email.headerregistry import Address
from importlib import resources
from pathlib import Path
from string import Template

from intake.errors import IntakeError
from intake.feed.model import Demande, Enfant, Responsable
from intake.french import long_day

# name → what it holds, in French (the configuration's template lists them too)
PLACEHOLDERS: dict[str, str] = {
    "civilite": "Madame ou Monsieur selon la demande (rien si elle ne le dit pas)",
    "nom_famille": "le nom du premier responsable",
    "prenom_responsable": "le prénom du premier responsable",
    "enfant": "le prénom du premier enfant (« votre enfant » sans prénom)",
    "numero": "le numéro de la demande",
    "date_demande": "le jour du dépôt de la demande",
    "date_debut_accueil": "le jour où l’accueil est souhaité",
    "date_du_jour": "le jour de l’envoi",
    "commune": "la commune de la demande",
    "lieu": "le nom du lieu d’information",
    "lieu_telephone": "le téléphone du lieu ([lieu] phone)",
    "lieu_adresse": "l’adresse du lieu ([lieu] address)",
    "agent": "le nom de la personne qui envoie",
    "signature": "la signature du lieu (signature.txt)",
}
SIGNATURE = "signature"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_HEADER = re.compile(r"(?P<key>Modèle|Objet)\s*:\s*(?P<value>.*)")
MAX_FILE = 20_000  # characters of one letter file
_SPACES = re.compile(r"(?<=\S) {2,}")
_CIVILITE = {"M": "Monsieur", "Mme": "Madame"}


class LetterError(IntakeError):
    """A letter that cannot be used or sent, in French (never the family's data)."""


@dataclass(frozen=True)
class Letter:
    id: str
    title: str
    subject: str
    body: str


@dataclass(frozen=True)
class Letters:
    by_id: Mapping[str, Letter]
    signature: str

    def get(self, letter_id: str) -> Letter:
        letter = self.by_id.get(letter_id)
        if letter is None:
            raise LetterError(f"aucun modèle de courriel « {letter_id[:40]} »")
        return letter

    def render(self, letter: Letter, values: Mapping[str, str]) -> tuple[str, str]:
        """The subject (one line) and the body, every placeholder replaced."""
        table = dict(values)
        table[SIGNATURE] = _blank_lines_squeezed(Template(self.signature).substitute(table))
        subject = " ".join(Template(letter.subject).substitute(table).split())
        body = _blank_lines_squeezed(Template(letter.body).substitute(table))
        return subject, body


def _blank_lines_squeezed(text: str) -> str:
    """A placeholder left empty (no phone, say) leaves no hole of several blank lines."""
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    kept: list[str] = []
    for line in lines:
        line = _SPACES.sub(" ", line)  # « Bonjour $civilite $nom » without a civilité
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip("\n") + "\n"


def _checked_placeholders(name: str, text: str, allowed: set[str]) -> None:
    template = Template(text)
    if not template.is_valid():
        raise LetterError(
            f"modèle de courriel {name} : un « $ » ne précède pas un nom de donnée "
            "(écrivez « $$ » pour un dollar)"
        )
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if unknown:
        raise LetterError(
            f"modèle de courriel {name} : {', '.join('$' + u for u in unknown)} n’est pas une "
            f"donnée disponible (disponibles : {', '.join('$' + p for p in PLACEHOLDERS)})"
        )


def parse(letter_id: str, text: str) -> Letter:
    """One letter file, checked: its headers, its placeholders."""
    name = f"{letter_id}.txt"
    if len(text) > MAX_FILE:
        raise LetterError(f"modèle de courriel {name} : plus de {MAX_FILE} caractères")
    head, separator, body = text.replace("\r\n", "\n").partition("\n\n")
    headers: dict[str, str] = {}
    for line in head.splitlines():
        found = _HEADER.fullmatch(line.strip())
        if found is None:
            raise LetterError(
                f"modèle de courriel {name} : l’en-tête n’a que « Modèle : » et « Objet : », "
                "puis une ligne vide avant le texte"
            )
        headers[found["key"]] = found["value"].strip()
    if not separator or not body.strip() or not headers.get("Objet"):
        raise LetterError(
            f"modèle de courriel {name} : il faut une ligne « Objet : … », une ligne vide et "
            "le texte du courriel"
        )
    allowed = set(PLACEHOLDERS)
    _checked_placeholders(name, headers["Objet"], allowed - {SIGNATURE})
    _checked_placeholders(name, body, allowed)
    return Letter(letter_id, headers.get("Modèle") or letter_id, headers["Objet"], body)


def _files(folder: Path | None) -> dict[str, str]:
    shipped = resources.files("intake.family").joinpath("modeles")
    texts = {entry.name: entry.read_text("utf-8") for entry in shipped.iterdir() if entry.is_file()}
    if folder is not None:
        if not folder.is_dir():
            raise LetterError(
                f"[family_emails] templates : le dossier des modèles {folder} n’existe pas"
            )
        for path in sorted(folder.glob("*.txt")):
            texts[path.name] = path.read_text("utf-8")
    return texts


def load(folder: Path | None) -> Letters:
    """The shipped letters with the lieu's own over them, each checked."""
    letters: dict[str, Letter] = {}
    signature = ""
    for file_name, text in sorted(_files(folder).items()):
        stem = file_name.removesuffix(".txt")
        if not file_name.endswith(".txt") or _ID.fullmatch(stem) is None:
            continue
        if stem == SIGNATURE:
            _checked_placeholders(file_name, text, set(PLACEHOLDERS) - {SIGNATURE})
            signature = text
        else:
            letters[stem] = parse(stem, text)
    return Letters(letters, signature)


def _first_responsable(demande: Demande) -> Responsable:
    return min(demande.responsables, key=lambda r: r.rang)


def values(
    demande: Demande,
    *,
    commune: str,
    lieu: str,
    lieu_phone: str,
    lieu_address: str,
    agent: str,
    today: date,
) -> dict[str, str]:
    """The value of every placeholder for this demande (and nothing else of it)."""
    first = _first_responsable(demande)
    child = demande.enfants[0] if demande.enfants else None
    child_name = (child.prenom if isinstance(child, Enfant) else child and child.prenom) or ""
    return {
        "civilite": _CIVILITE.get(first.civilite or "", ""),
        "nom_famille": first.nom,
        "prenom_responsable": first.prenom,
        "enfant": child_name or "votre enfant",
        "numero": demande.numero,
        "date_demande": long_day(demande.date_depot.date()),
        "date_debut_accueil": long_day(demande.accueil.date_debut),
        "date_du_jour": long_day(today),
        "commune": commune,
        "lieu": lieu,
        "lieu_telephone": lieu_phone,
        "lieu_adresse": lieu_address,
        "agent": agent,
    }


def family_address(demande: Demande) -> str | None:
    """The family's own address: the first responsable's, else the next one's that gives one."""
    for responsable in sorted(demande.responsables, key=lambda r: r.rang):
        if responsable.courriel:
            return responsable.courriel.strip()
    return None


def usable_address(text: str) -> str | None:
    """`text` if it is one plain address (local@domain.tld), nothing more: no list, no name,
    no header folded in; else None."""
    text = text.strip()
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return None
    if address.addr_spec != text or "." not in address.domain.strip("."):
        return None
    return text
