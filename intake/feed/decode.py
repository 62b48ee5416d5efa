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


def _text(parent: etree._Element, name: str) -> str | None:
    child = parent.find(_q(name))
    return None if child is None else (child.text or "")


def _required(parent: etree._Element, name: str) -> str:
    value = _text(parent, name)
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
    return Adresse(
        lignes=tuple((e.text or "") for e in element.iterfind(_q("ligne"))),
        code_postal=_required(element, "codePostal"),
        ville=_required(element, "ville"),
    )


def _responsable(element: etree._Element) -> Responsable:
    return Responsable(
        rang=int(element.get("rang", "0")),
        civilite=_text(element, "civilite"),
        nom=_required(element, "nom"),
        prenom=_required(element, "prenom"),
        date_naissance=_date(_text(element, "dateNaissance")),
        adresse=_adresse(element.find(_q("adresse"))),
        telephone=_text(element, "telephone"),
        courriel=_text(element, "courriel"),
        situation_professionnelle=_text(element, "situationProfessionnelle"),
    )


def _enfant(element: etree._Element) -> Enfant | EnfantANaitre:
    if element.tag == _q("enfantANaitre"):
        return EnfantANaitre(
            date_naissance_prevue=_date(_required(element, "dateNaissancePrevue")),
            prenom=_text(element, "prenom"),
        )
    return Enfant(
        prenom=_required(element, "prenom"),
        nom=_text(element, "nom"),
        date_naissance=_date(_required(element, "dateNaissance")),
        sexe=_text(element, "sexe"),
    )


def _accueil(element: etree._Element) -> Accueil:
    planning = element.find(_q("planning"))
    return Accueil(
        modes=tuple(
            Mode(rang=int(m.get("rang", "0")), mode=(m.text or ""))
            for m in element.iterfind(_q("mode"))
        ),
        date_debut=_date(_required(element, "dateDebut")),
        frequence=_required(element, "frequence"),
        planning=()
        if planning is None
        else tuple(
            Creneau(jour=c.get("jour", ""), debut=c.get("debut", ""), fin=c.get("fin", ""))
            for c in planning.iterfind(_q("creneau"))
        ),
        commentaire=_text(element, "commentaire"),
    )


def decode_demande(element: etree._Element) -> Demande:
    famille = element.find(_q("famille"))
    commune = element.find(_q("communeConcernee"))
    allocataire = famille.find(_q("allocataire"))
    foyer = _text(famille, "nombreEnfantsFoyer")
    document = element.find(_q("documentPdf"))
    notification = _text(element, "dateNotification")
    return Demande(
        numero=element.get("numero", ""),
        date_depot=parse_datetime(_required(element, "dateDepot")),
        date_transmission=parse_datetime(_required(element, "dateTransmission")),
        date_notification=None if notification is None else parse_datetime(notification),
        commune_insee=commune.get("codeInsee", ""),
        commune_nom=commune.text or "",
        responsables=tuple(_responsable(r) for r in famille.iterfind(_q("responsable"))),
        allocataire=None
        if allocataire is None
        else Allocataire(numero=allocataire.text or "", regime=allocataire.get("regime", "")),
        nombre_enfants_foyer=None if foyer is None else int(foyer),
        enfants=tuple(_enfant(e) for e in element.find(_q("enfants")) if isinstance(e.tag, str)),
        accueil=_accueil(element.find(_q("accueilSouhaite"))),
        document=DocumentPdf(
            nom=document.get("nom", ""),
            sha256=document.get("sha256", ""),
            taille=int(document.get("taille", "0")),
        ),
    )
