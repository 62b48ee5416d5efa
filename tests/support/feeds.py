"""Build feeds for tests: realistic demandes (made-up families) with their PDFs, any rule broken."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO.parent / "shared" / "samples"
NS = "urn:monenfant-intake:flux-demandes:1"
SAMPLE_PDF = (SAMPLES / "ME-2026-0000101.pdf").read_bytes()


@dataclass
class Resp:
    rang: str = "1"
    nom: str = "Martin"
    prenom: str = "Claire"
    telephone: str | None = "06 00 00 00 01"
    courriel: str | None = "claire.martin@example.org"

    def xml(self) -> str:
        parts = [
            f'<responsable rang="{self.rang}"><nom>{escape(self.nom)}</nom>'
            f"<prenom>{escape(self.prenom)}</prenom>",
            "<adresse><ligne>3 place de la Mairie</ligne><codePostal>69960</codePostal>"
            "<ville>Corbas</ville></adresse>",
        ]
        if self.telephone:
            parts.append(f"<telephone>{escape(self.telephone)}</telephone>")
        if self.courriel:
            parts.append(f"<courriel>{escape(self.courriel)}</courriel>")
        parts.append("</responsable>")
        return "".join(parts)


@dataclass
class Dem:
    numero: str
    depot: str = "2026-11-02T20:41:00+01:00"
    transmission: str = "2026-11-03T06:00:00+01:00"
    notification: str | None = "2026-11-03T06:02:00+01:00"
    commune: str = "69273"
    responsables: list[Resp] = field(default_factory=lambda: [Resp()])
    enfants: list[str] = field(
        default_factory=lambda: [
            "<enfant><prenom>Léo</prenom><dateNaissance>2025-03-10</dateNaissance></enfant>"
        ]
    )
    modes: list[tuple[str, str]] = field(default_factory=lambda: [("1", "creche-collective")])
    creneaux: list[tuple[str, str, str]] = field(default_factory=list)
    commentaire: str | None = None
    pdf: bytes | None = SAMPLE_PDF  # None: no file written beside the feed
    declared_pdf: tuple[str, int] | None = None  # (sha256, taille) overriding the real ones
    raw: str | None = None  # replaces the whole element

    def xml(self) -> str:
        if self.raw is not None:
            return self.raw
        content = self.pdf if self.pdf is not None else SAMPLE_PDF
        sha, size = self.declared_pdf or (hashlib.sha256(content).hexdigest(), len(content))
        modes = "".join(f"<mode rang={quoteattr(r)}>{m}</mode>" for r, m in self.modes)
        planning = ""
        if self.creneaux:
            planning = (
                "<planning>"
                + "".join(
                    f'<creneau jour="{j}" debut="{d}" fin="{f}"/>' for j, d, f in self.creneaux
                )
                + "</planning>"
            )
        notification = (
            f"<dateNotification>{self.notification}</dateNotification>" if self.notification else ""
        )
        comment = (
            f"<commentaire>{escape(self.commentaire)}</commentaire>" if self.commentaire else ""
        )
        return (
            f'<demande numero="{self.numero}"><dateDepot>{self.depot}</dateDepot>'
            f"<dateTransmission>{self.transmission}</dateTransmission>{notification}"
            f'<communeConcernee codeInsee="{self.commune}">Corbas</communeConcernee>'
            f"<famille>{''.join(r.xml() for r in self.responsables)}</famille>"
            f"<enfants>{''.join(self.enfants)}</enfants>"
            f"<accueilSouhaite>{modes}"
            f"<dateDebut>2027-09-01</dateDebut><frequence>reguliere</frequence>{planning}{comment}"
            f"</accueilSouhaite>"
            f'<documentPdf nom="{self.numero}.pdf" sha256="{sha}" taille="{size}"/></demande>'
        )


def feed_xml(demandes: list[Dem], commune: str = "69273") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<fluxDemandes xmlns="{NS}" version="1.0" '
        f'genereLe="2026-11-20T06:00:00+01:00"><lieuInformation identifiant="LI-69-0042">'
        f'CCAS de Corbas</lieuInformation><commune codeInsee="{commune}">Corbas</commune>'
        + "".join(d.xml() for d in demandes)
        + "</fluxDemandes>\n"
    )


def write_feed(
    folder: Path, demandes: list[Dem], name: str = "flux.xml", commune: str = "69273"
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in demandes:
        if d.pdf is not None and d.raw is None:
            (folder / f"{d.numero}.pdf").write_bytes(d.pdf)
    path = folder / name
    path.write_text(feed_xml(demandes, commune), encoding="utf-8")
    return path


def numero(i: int) -> str:
    return f"ME-2026-{i:07d}"


# One demande per rule of the spec's table, each breaking only that rule.
def every_violation() -> dict[str, Dem]:
    return {
        "schema-invalide": Dem(numero(901), responsables=[Resp(nom="Dup0nt")]),
        "commune-non-habilitee": Dem(numero(902), commune="69259"),
        "dates-incoherentes": Dem(numero(903), depot="2026-11-04T10:00:00+01:00"),
        "enfant-trop-age": Dem(
            numero(904),
            enfants=[
                "<enfant><prenom>Inès</prenom><dateNaissance>2020-11-01</dateNaissance></enfant>"
            ],
        ),
        "naissance-prevue-incoherente": Dem(
            numero(905),
            enfants=[
                "<enfantANaitre><dateNaissancePrevue>2027-09-05</dateNaissancePrevue></enfantANaitre>"
            ],
        ),
        "modes-incoherents": Dem(
            numero(906), modes=[("1", "creche-collective"), ("2", "creche-collective")]
        ),
        "creneau-invalide": Dem(numero(907), creneaux=[("lundi", "18:00", "08:00")]),
        "contact-manquant": Dem(numero(908), responsables=[Resp(telephone=None, courriel=None)]),
        "pdf-invalide": Dem(numero(909), declared_pdf=("0" * 64, len(SAMPLE_PDF))),
        "deja-expiree": Dem(
            numero(910),
            depot="2026-04-01T10:00:00+02:00",
            transmission="2026-04-02T06:00:00+02:00",
            notification="2026-04-02T06:01:00+02:00",
        ),
    }


# Every personal datum of the samples and of the test feeds: no byte of them may be found
# in clear anywhere the worker writes.
PERSONAL = [
    "Bernard",
    "Sophie",
    "Julien",
    "Nguyễn",
    "Thảo",
    "Lefèvre-Dupont",
    "Anaïs",
    "Marronniers",
    "sophie.bernard@example.org",
    "thao.nguyen@example.org",
    "1234567",
    "06 12 34 56 78",
    "Horaires décalés",
    "Œlschläger",
    "Vũ-Hoàng",
]
