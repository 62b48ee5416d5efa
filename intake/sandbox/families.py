"""Made-up families for the sandbox extranet: varied names (French and from elsewhere), one or
two parents, born and unborn children, every mode of care. None of them exists."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fpdf import FPDF
from lxml import etree
from lxml.builder import ElementMaker

NS = "urn:monenfant-intake:flux-demandes:1"
E = ElementMaker(namespace=NS, nsmap={None: NS})

SURNAMES = [
    "Martin",
    "Bernard",
    "Lefèvre-Dupont",
    "N'Diaye",
    "Nguyễn",
    "Œlschläger",
    "Da Silva",
    "Benali",
    "Kowalski",
    "Traoré",
    "Yılmaz",
    "Rakotomalala",
    "Le Goff",
    "Dubois",
    "Hoarau",
    "Moreau",
    "Haddad",
    "Petitjean",
    "Ødegård",
    "Schmitt",
    "Tran",
    "Fofana",
    "Giraud",
    "Zhāng",
]
GIVEN = [
    "Sophie",
    "Julien",
    "Anaïs",
    "Thảo",
    "Mamadou",
    "Inès",
    "Zoé",
    "Léo",
    "Aïcha",
    "Joël",
    "Émilie",
    "François",
    "Nour",
    "Kévin",
    "Maëlys",
    "Björn",
    "Chloé",
    "Yasmine",
    "Hugo",
    "Mei",
    "Loïc",
    "Fatoumata",
    "Noémie",
    "Éloïse",
]
STREETS = [
    "rue des Marronniers",
    "avenue Jean Jaurès",
    "place de la Mairie",
    "chemin des Vignes",
    "allée des Tilleuls",
    "rue Victor-Hugo",
]
MODES = ["creche-collective", "assistante-maternelle", "garde-a-domicile"]
DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi"]
COMMENTS = [
    "Horaires décalés le mercredi.",
    "Deux enfants : une place pour chacun si possible 🙏",
    "Travail de nuit une semaine sur deux.",
    "Besoin à partir de la rentrée.",
]
SITUATIONS = ["emploi", "formation", "recherche-emploi", "conge-parental", "sans-activite", "autre"]


@dataclass(frozen=True)
class SandboxDemande:
    numero: str
    commune: str
    commune_name: str
    transmitted_at: datetime
    notified_at: datetime
    element: bytes  # the demande's XML
    pdf: bytes


def _pdf(numero: str, lines: list[str]) -> bytes:
    document = FPDF()
    document.set_creator("intake sandbox")
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(0, 10, f"Demande de mode d'accueil {numero}", new_x="LMARGIN", new_y="NEXT")
    for line in lines:
        # Helvetica is Latin-1: names from other scripts are written as their numero instead.
        safe = line.encode("latin-1", "replace").decode("latin-1")
        document.cell(0, 8, safe, new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def _responsable(rng: random.Random, rank: int, surname: str) -> etree._Element:
    given = rng.choice(GIVEN)
    children: list[etree._Element] = []
    if rng.random() < 0.8:
        children.append(E.civilite(rng.choice(["M", "Mme"])))
    children += [E.nom(surname), E.prenom(given)]
    if rng.random() < 0.3:
        children.append(
            E.dateNaissance(f"{rng.randint(1975, 2002)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}")
        )
    children.append(
        E.adresse(
            E.ligne(f"{rng.randint(1, 120)} {rng.choice(STREETS)}"),
            E.codePostal("69960"),
            E.ville("Corbas"),
        )
    )
    if rank == 1 or rng.random() < 0.5:
        children.append(
            E.telephone(
                f"06 {rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} {rng.randint(10, 99)}"
            )
        )
    if rank == 1 and rng.random() < 0.7:
        ascii_name = (
            surname.encode("ascii", "ignore").decode().lower().replace(" ", "") or "famille"
        )
        children.append(E.courriel(f"{ascii_name}.{rng.randint(1, 999)}@example.org"))
    children.append(E.situationProfessionnelle(rng.choice(SITUATIONS)))
    return E.responsable(*children, rang=str(rank))


def make_demande(
    rng: random.Random, serial: int, commune: str, commune_name: str, transmitted_at: datetime
) -> SandboxDemande:
    numero = f"ME-{transmitted_at.year}-{serial:07d}"
    deposited = transmitted_at - timedelta(hours=rng.randint(1, 30))
    notified = transmitted_at + timedelta(minutes=rng.randint(1, 5))
    surname = rng.choice(SURNAMES)
    parents = [_responsable(rng, 1, surname)]
    if rng.random() < 0.5:
        parents.append(_responsable(rng, 2, rng.choice([surname, rng.choice(SURNAMES)])))
    famille = E.famille(*parents)
    if rng.random() < 0.6:
        famille.append(
            E.allocataire(
                f"{rng.randint(0, 9_999_999):07d}",
                regime=rng.choice(["general", "agricole", "autre"]),
            )
        )
    day = deposited.date()
    children = []
    for _ in range(rng.choice([1, 1, 1, 2])):
        if rng.random() < 0.3:
            children.append(
                E.enfantANaitre(
                    E.dateNaissancePrevue((day + timedelta(days=rng.randint(20, 250))).isoformat())
                )
            )
        else:
            born = day - timedelta(days=rng.randint(30, 5 * 365))
            children.append(
                E.enfant(
                    E.prenom(rng.choice(GIVEN)),
                    E.dateNaissance(born.isoformat()),
                    E.sexe(rng.choice(["F", "M"])),
                )
            )
    modes = rng.sample(MODES, rng.randint(1, 3))
    accueil = E.accueilSouhaite(
        *[E.mode(m, rang=str(i)) for i, m in enumerate(modes, start=1)],
        E.dateDebut((day + timedelta(days=rng.randint(60, 300))).isoformat()),
        E.frequence(rng.choice(["reguliere", "occasionnelle"])),
    )
    if rng.random() < 0.5:
        accueil.append(
            E.planning(
                *[
                    E.creneau(jour=d, debut="08:30", fin="17:30")
                    for d in rng.sample(DAYS, rng.randint(1, 5))
                ]
            )
        )
    if rng.random() < 0.4:
        accueil.append(E.commentaire(rng.choice(COMMENTS)))
    pdf = _pdf(
        numero,
        [
            f"Commune : {commune_name} ({commune})",
            f"Famille : {surname}",
            f"Transmise le {transmitted_at:%d/%m/%Y}",
        ],
    )
    element = E.demande(
        E.dateDepot(deposited.isoformat()),
        E.dateTransmission(transmitted_at.isoformat()),
        E.dateNotification(notified.isoformat()),
        E.communeConcernee(commune_name, codeInsee=commune),
        famille,
        E.enfants(*children),
        accueil,
        E.documentPdf(
            nom=f"{numero}.pdf", sha256=hashlib.sha256(pdf).hexdigest(), taille=str(len(pdf))
        ),
        numero=numero,
    )
    return SandboxDemande(
        numero,
        commune,
        commune_name,
        transmitted_at,
        notified,
        etree.tostring(element, encoding="utf-8"),
        pdf,
    )


def feed_document(
    lieu_id: str,
    lieu_name: str,
    commune: str,
    commune_name: str,
    demandes: list[SandboxDemande],
    generated_at: datetime,
) -> bytes:
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<fluxDemandes xmlns="{NS}" version="1.0" '
        f'genereLe="{generated_at.isoformat(timespec="seconds")}">'
    ).encode()
    envelope = etree.tostring(E.lieuInformation(lieu_name, identifiant=lieu_id)) + etree.tostring(
        E.commune(commune_name, codeInsee=commune)
    )
    # Each demande was serialised alone and carries its own xmlns declaration: same namespace.
    return head + envelope + b"".join(d.element for d in demandes) + b"</fluxDemandes>\n"


def today_minus(now: datetime, days: int) -> date:
    return (now - timedelta(days=days)).date()
