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


def _q(name: str) -> str:
    return _NS + name


# An element's children by tag, read once: the decoders ask for a dozen names per element, and
# one pass in C costs less than a dozen `find`s.
_Kids = dict[str, etree._Element]


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


def parse_datetime(value: str) -> datetime:
    # xs:dateTime with a mandatory offset ("Z" or ±hh:mm); fromisoformat reads both in 3.11.
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        raise ValueError("date et heure sans décalage horaire")
    return parsed


def _date(value: str | None) -> date | None:
    # xs:date may carry a zone suffix; the calendar date is what the family meant.
    if value is None:
        return None
    value = value.strip()
    return date.fromisoformat(value[:10])


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
        rang=int(element.get("rang", "0")),
        civilite=_text(kids, "civilite"),
        nom=_required(kids, "nom"),
        prenom=_required(kids, "prenom"),
        date_naissance=_date(_text(kids, "dateNaissance")),
        adresse=_adresse(kids[_q("adresse")]),
        telephone=_text(kids, "telephone"),
        courriel=_text(kids, "courriel"),
        situation_professionnelle=_text(kids, "situationProfessionnelle"),
    )


def _enfant(element: etree._Element) -> Enfant | EnfantANaitre:
    kids = _kids(element)
    if element.tag == _q("enfantANaitre"):
        return EnfantANaitre(
            date_naissance_prevue=_date(_required(kids, "dateNaissancePrevue")),
            prenom=_text(kids, "prenom"),
        )
    return Enfant(
        prenom=_required(kids, "prenom"),
        nom=_text(kids, "nom"),
        date_naissance=_date(_required(kids, "dateNaissance")),
        sexe=_text(kids, "sexe"),
    )


def _accueil(element: etree._Element) -> Accueil:
    kids = _kids(element)
    planning = kids.get(_q("planning"))
    return Accueil(
        modes=tuple(
            Mode(rang=int(m.get("rang", "0")), mode=(m.text or ""))
            for m in element.iterfind(_q("mode"))
        ),
        date_debut=_date(_required(kids, "dateDebut")),
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
    notification = _text(kids, "dateNotification")
    return Demande(
        numero=element.get("numero", ""),
        date_depot=parse_datetime(_required(kids, "dateDepot")),
        date_transmission=parse_datetime(_required(kids, "dateTransmission")),
        date_notification=None if notification is None else parse_datetime(notification),
        commune_insee=commune.get("codeInsee", ""),
        commune_nom=commune.text or "",
        responsables=tuple(_responsable(r) for r in famille.iterfind(_q("responsable"))),
        allocataire=None
        if allocataire is None
        else Allocataire(numero=allocataire.text or "", regime=allocataire.get("regime", "")),
        nombre_enfants_foyer=None if foyer is None else int(foyer),
        enfants=tuple(_enfant(e) for e in kids[_q("enfants")] if isinstance(e.tag, str)),
        accueil=_accueil(kids[_q("accueilSouhaite")]),
        document=DocumentPdf(
            nom=document.get("nom", ""),
            sha256=document.get("sha256", ""),
            taille=int(document.get("taille", "0")),
        ),
    )
