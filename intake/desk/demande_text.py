"""A demande as the text an agent reads (`intake show`): French, complete, for one person."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from intake import vocabulary as words
from intake.desk.access import Opened
from intake.feed.model import Enfant
from intake.french import long_day


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    return "—" if value is None else value.astimezone(tz).strftime("%d/%m/%Y à %H:%M")


def render(opened: Opened, tz: ZoneInfo) -> str:
    row, d = opened.row, opened.demande
    lines = [f"Demande {row.numero} — commune {row.commune} — {words.status(row.status)}"]
    if d is None:
        lines += [
            f"Refusée (règle « {words.rule(row.refusal_code)} ») : copie conservée en quarantaine.",
            "",
            (opened.quarantine_xml or b"").decode("utf-8", "replace"),
        ]
        return "\n".join(lines) + "\n"
    lines += [
        f"Déposée le {_when(d.date_depot, tz)}, transmise le {_when(d.date_transmission, tz)}, "
        f"notifiée le {_when(d.date_notification, tz)}",
        f"À récupérer au plus tard le {long_day(row.retrieval_due)} ; "
        f"données détruites au plus tard le {long_day(row.purge_due)}",
        "",
    ]
    for r in d.responsables:
        lines.append(
            f"Responsable {r.rang} : "
            + " ".join(p for p in (words.civilite(r.civilite), r.prenom, r.nom) if p)
        )
        if r.date_naissance:
            lines.append(f"  né(e) le {long_day(r.date_naissance)}")
        lines.append(
            f"  adresse : {', '.join(r.adresse.lignes)}, {r.adresse.code_postal} {r.adresse.ville}"
        )
        for label, value in (
            ("téléphone", r.telephone),
            ("courriel", r.courriel),
            ("situation", words.situation(r.situation_professionnelle)),
        ):
            if value:
                lines.append(f"  {label} : {value}")
    if d.allocataire:
        regime = words.regime(d.allocataire.regime)
        lines.append(f"Allocataire n° {d.allocataire.numero} ({regime})")
    if d.nombre_enfants_foyer is not None:
        lines.append(f"Enfants au foyer : {d.nombre_enfants_foyer}")
    lines.append("")
    for i, child in enumerate(d.enfants, start=1):
        if isinstance(child, Enfant):
            name = " ".join(p for p in (child.prenom, child.nom) if p)
            lines.append(
                f"Enfant {i} : {name}, né(e) le {long_day(child.date_naissance)}"
                + (f", {words.sexe(child.sexe)}" if child.sexe else "")
            )
        else:
            lines.append(
                f"Enfant {i} à naître le {long_day(child.date_naissance_prevue)}"
                + (f" ({child.prenom})" if child.prenom else "")
            )
    accueil = d.accueil
    lines += [
        "",
        "Accueil souhaité : "
        + ", ".join(
            f"{m.rang}. {words.mode(m.mode)}" for m in sorted(accueil.modes, key=lambda m: m.rang)
        ),
    ]
    lines.append(
        f"  à partir du {long_day(accueil.date_debut)}, "
        f"fréquence {words.frequence(accueil.frequence)}"
    )
    for slot in accueil.planning:
        lines.append(f"  {slot.jour} {slot.debut}–{slot.fin}")
    if accueil.commentaire:
        lines.append(f"  commentaire : {accueil.commentaire}")
    lines.append(f"Document : {d.document.nom} ({d.document.taille} octets)")
    return "\n".join(lines) + "\n"
