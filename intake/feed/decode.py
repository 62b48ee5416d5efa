"""Version-1 XML (already valid against the XSD) into a version-independent Demande."""

from __future__ import annotations

from datetime import date, datetime

from lxml import etree

from intake.feed.model import (
    Accueil,
    Adresse,
    Allocataire,
    Creneau,
    Demande,
    DocumentPdf,
    Enfant,
    EnfantANaitre,
    Mode,
    Responsable,
)
from intake.feed.schema import NAMESPACE_V1

_NS = f"{{{NAMESPACE_V1}}}"


_RESPONSABLE = "/demande/famille/responsable"
_ACCUEIL = "/demande/accueilSouhaite"


def _q(name: str) -> str:
    return _NS + name


# An element's children by tag, read once: the decoders ask for a dozen names per element, and
# one pass in C costs less than a dozen `find`s. Keys are tags: strings, but a comment's tag
# is the etree.Comment function.
_Kids = dict[object, etree._Element]


def _kids(parent: etree._Element) -> _Kids:
    kids: _Kids = {}
    for child in parent:
        kids.setdefault(child.tag, child)  # the first of a name, as `find` gives it
    return kids


def _text(kids: _Kids, name: str) -> str | None:
    child = kids.get(_NS + name)
    return None if child is None else (child.text or "")


def _required(kids: _Kids, name: str) -> str:
    value = _text(kids, name)
    if value is None:  # the XSD makes this unreachable
        raise ValueError(f"élément {name} manquant")
    return value


# The XSD accepts any year (99999999999, -0042): the worker reads only the years in which the
# convention's arithmetic (6 years back, 6 months on, offsets of 14 hours, in any zone) stays
# within Python's calendar (years 1 to 9999). Anything outside is refused as unreadable.
FIRST_YEAR, LAST_YEAR = 1000, 8999
# The largest integer read from a feed: the feed's numbers are ranks, counts and a size in
# bytes; a longer one is an attack on the arithmetic, not data.
MAX_INTEGER_DIGITS = 18


class Unreadable(ValueError):
    """A value the XSD allows and the worker cannot read. The message is French, names the
    element by its path and what was expected, and never quotes the value."""


def parse_datetime(value: str) -> datetime:
    """xs:dateTime with a mandatory offset ("Z" or ±hh:mm), within the readable years."""
    parsed = datetime.fromisoformat(value.strip())  # reads both offset forms in 3.11
    if parsed.tzinfo is None:
        raise ValueError("date et heure sans décalage horaire")
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise ValueError("année hors des limites")
    return parsed


def _moment(kids: _Kids, name: str, path: str) -> datetime | None:
    value = _text(kids, name)
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise Unreadable(
            f"{path}/{name} : date et heure illisible ou hors des limites (années "
            f"{FIRST_YEAR} à {LAST_YEAR}, avec décalage horaire)"
        ) from None


def _required_moment(kids: _Kids, name: str, path: str) -> datetime:
    value = _moment(kids, name, path)
    if value is None:  # the XSD makes this unreachable
        raise Unreadable(f"{path}/{name} : élément manquant")
    return value


def _date(kids: _Kids, name: str, path: str) -> date | None:
    # xs:date may carry a zone suffix; the calendar date is what the family meant.
    value = _text(kids, name)
    if value is None:
        return None
    try:
        day = date.fromisoformat(value.strip()[:10])
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise Unreadable(
            f"{path}/{name} : date illisible ou hors des limites (années "
            f"{FIRST_YEAR} à {LAST_YEAR})"
        )
    return day


def _required_date(kids: _Kids, name: str, path: str) -> date:
    day = _date(kids, name, path)
    if day is None:  # the XSD makes this unreachable
        raise Unreadable(f"{path}/{name} : élément manquant")
    return day


def _integer(value: str, path: str) -> int:
    digits = value.strip().lstrip("+-").lstrip("0")
    if len(digits) > MAX_INTEGER_DIGITS:
        raise Unreadable(
            f"{path} : nombre hors des limites (au plus {MAX_INTEGER_DIGITS} chiffres)"
        )
    try:
        return int(value)
    except ValueError:
        raise Unreadable(f"{path} : nombre illisible") from None


def _adresse(element: etree._Element) -> Adresse:
    kids = _kids(element)
    return Adresse(
        lignes=tuple((e.text or "") for e in element.iterfind(_q("ligne"))),
        code_postal=_required(kids, "codePostal"),
        ville=_required(kids, "ville"),
    )


def _responsable(element: etree._Element) -> Responsable:
    kids = _kids(element)
    return Responsable(
        rang=_integer(element.get("rang", "0"), f"{_RESPONSABLE}/@rang"),
        civilite=_text(kids, "civilite"),
        nom=_required(kids, "nom"),
        prenom=_required(kids, "prenom"),
        date_naissance=_date(kids, "dateNaissance", _RESPONSABLE),
        adresse=_adresse(kids[_q("adresse")]),
        telephone=_text(kids, "telephone"),
        courriel=_text(kids, "courriel"),
        situation_professionnelle=_text(kids, "situationProfessionnelle"),
    )


def _enfant(element: etree._Element) -> Enfant | EnfantANaitre:
    kids = _kids(element)
    if element.tag == _q("enfantANaitre"):
        return EnfantANaitre(
            date_naissance_prevue=_required_date(
                kids, "dateNaissancePrevue", "/demande/enfants/enfantANaitre"
            ),
            prenom=_text(kids, "prenom"),
        )
    return Enfant(
        prenom=_required(kids, "prenom"),
        nom=_text(kids, "nom"),
        date_naissance=_required_date(kids, "dateNaissance", "/demande/enfants/enfant"),
        sexe=_text(kids, "sexe"),
    )


def _accueil(element: etree._Element) -> Accueil:
    kids = _kids(element)
    planning = kids.get(_q("planning"))
    return Accueil(
        modes=tuple(
            Mode(rang=_integer(m.get("rang", "0"), f"{_ACCUEIL}/mode/@rang"), mode=(m.text or ""))
            for m in element.iterfind(_q("mode"))
        ),
        date_debut=_required_date(kids, "dateDebut", _ACCUEIL),
        frequence=_required(kids, "frequence"),
        planning=()
        if planning is None
        else tuple(
            Creneau(jour=c.get("jour", ""), debut=c.get("debut", ""), fin=c.get("fin", ""))
            for c in planning.iterfind(_q("creneau"))
        ),
        commentaire=_text(kids, "commentaire"),
    )


def decode_demande(element: etree._Element) -> Demande:
    kids = _kids(element)
    famille = kids[_q("famille")]
    family = _kids(famille)
    commune = kids[_q("communeConcernee")]
    allocataire = family.get(_q("allocataire"))
    foyer = _text(family, "nombreEnfantsFoyer")
    document = kids[_q("documentPdf")]
    return Demande(
        numero=element.get("numero", ""),
        date_depot=_required_moment(kids, "dateDepot", "/demande"),
        date_transmission=_required_moment(kids, "dateTransmission", "/demande"),
        date_notification=_moment(kids, "dateNotification", "/demande"),
        commune_insee=commune.get("codeInsee", ""),
        commune_nom=commune.text or "",
        responsables=tuple(_responsable(r) for r in famille.iterfind(_q("responsable"))),
        allocataire=None
        if allocataire is None
        else Allocataire(numero=allocataire.text or "", regime=allocataire.get("regime", "")),
        nombre_enfants_foyer=None
        if foyer is None
        else _integer(foyer, "/demande/famille/nombreEnfantsFoyer"),
        enfants=tuple(_enfant(e) for e in kids[_q("enfants")] if isinstance(e.tag, str)),
        accueil=_accueil(kids[_q("accueilSouhaite")]),
        document=DocumentPdf(
            nom=document.get("nom", ""),
            sha256=document.get("sha256", ""),
            taille=_integer(document.get("taille", "0"), "/demande/documentPdf/@taille"),
        ),
    )
