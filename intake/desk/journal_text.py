"""An audit event as a French sentence: « Laetitia Feuga a lu la demande ME-2026-0000101 ».
Names come from [[staff]]; the worker's own events speak of « le service ». Details are
told in words (oui/non, dates jj/mm/aaaa, labels of codes), never as `clé : True`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from intake import french
from intake.vocabulary import ACCESSES, ACTIONS, MOTIFS, OUTCOMES, RULES, SIGNATURES, label

Detail = dict[str, Any]
UNKNOWN = "inconnu:non-habilite"


def who(actor: str, names: Mapping[str, str]) -> str:
    if actor in names:
        return names[actor]
    if actor == UNKNOWN:
        return "Une personne non habilitée"
    if actor.startswith("système"):
        return "Le service"
    return actor


def _n(detail: Detail, key: str) -> int:
    value = detail.get(key)
    return value if isinstance(value, int) else 0


def _demande(numero: str | None) -> str:
    return f"la demande {numero}" if numero else "une demande"


def _motif(detail: Detail) -> str:
    motif = detail.get("motif")
    return f" ({label(MOTIFS, str(motif))})" if motif else ""


def _rule(detail: Detail) -> str:
    code = detail.get("code")
    return f" (règle « {label(RULES, str(code))} »)" if code else ""


def _day(value: object) -> str:
    try:
        return french.long_day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _month(value: object) -> str:
    try:
        return french.month_name(date.fromisoformat(f"{value}-01"))
    except ValueError:
        return str(value)


def _att(detail: Detail) -> str:
    number = detail.get("attestation")
    return f"l’attestation n° {number}" if number is not None else "une attestation"


Phrase = Callable[[str | None, Detail], str]
PHRASES: dict[str, Phrase] = {
    "lecture": lambda n, d: f"a lu {_demande(n)}" + (" et son PDF" if d.get("pdf") else ""),
    "export": lambda n, d: f"a exporté {_demande(n)} ({str(d.get('format', '')).upper()})",
    "export-fichier": lambda n, d: (
        f"a téléchargé un export {str(d.get('format', '')).upper()} de "
        + french.plural(_n(d, "demandes"), "demande")
    ),
    "acces-refuse": lambda n, d: (
        "s’est vu refuser "
        + (_demande(n) if n else label(ACCESSES, str(d.get("demande", ""))) or "un accès")
        + _motif(d)
    ),
    "traitee": lambda n, d: f"a marqué {_demande(n)} comme traitée",
    "suivi": lambda n, d: (
        f"a enregistré le suivi de {_demande(n)} : {label(OUTCOMES, d.get('issue'))}"
    ),
    "courriel-famille": lambda n, d: (
        f"a écrit à la famille de {_demande(n)} (modèle « {d.get('modele', '')} »)"
    ),
    "reception": lambda n, d: f"a reçu {_demande(n)}",
    "quarantaine": lambda n, d: f"a mis {_demande(n)} en quarantaine{_rule(d)}",
    "refus": lambda n, d: f"a refusé {_demande(n)}{_rule(d)}",
    "refus-flux": lambda n, d: f"a refusé le fichier {d.get('fichier', '')}{_rule(d)}",
    "notification": lambda n, d: f"a reçu la notification de {_demande(n)}",
    "accuse-reception": lambda n, d: f"a accusé réception de {_demande(n)} auprès de l’extranet",
    "destruction": lambda n, d: f"a détruit {_demande(n)}{_motif(d)}",
    "attestation": lambda n, d: (
        f"a établi {_att(d)} ("
        + french.plural(_n(d, "demandes"), "demande détruite", "demandes détruites")
        + (f", à signer au plus tard le {_day(d['signer_avant'])}" if "signer_avant" in d else "")
        + ")"
    ),
    "signature-attestation": lambda n, d: (
        f"a signé {_att(d)}"
        + (f", signature {label(SIGNATURES, str(d['signature']))}" if "signature" in d else "")
        + (
            ""
            if "dans_les_delais" not in d
            else " dans les délais"
            if d["dans_les_delais"]
            else " après le délai"
        )
    ),
    "connexion": lambda n, d: "s’est connecté(e) à la console",
    "connexion-refusee": lambda n, d: f"n’a pas pu se connecter{_motif(d)}",
    "compte-verrouille": lambda n, d: (
        f"a vu son compte ralenti après {french.plural(_n(d, 'echecs'), 'échec')}"
        + (f" ({french.plural(_n(d, 'minutes'), 'minute')})" if "minutes" in d else "")
    ),
    "deconnexion": lambda n, d: "s’est déconnecté(e)",
    "mot-de-passe": lambda n, d: "a défini son mot de passe",
    "totp-active": lambda n, d: "a activé son code à usage unique",
    "cle-enregistree": lambda n, d: (
        "a enregistré la clé maîtresse"
        + (
            f" et rechaîné {french.plural(_n(d, 'evenements_rechaines'), 'événement')}"
            if d.get("evenements_rechaines")
            else ""
        )
        + (
            ""
            if d.get("ancien_chainage_intact", True)
            else " ; l’ancien chaînage du journal était altéré"
        )
    ),
    "rotation-cle": lambda n, d: (
        "a changé la clé maîtresse"
        + (f" ({french.plural(_n(d, 'cles'), 'clé')} rechiffrées)" if "cles" in d else "")
    ),
    "cles-par-echeance": lambda n, d: (
        f"a rechiffré {french.plural(_n(d, 'cles_rechiffrees'), 'clé')} de demande par la clé "
        "de leur date de fin de conservation"
    ),
    "destruction-cles": lambda n, d: (
        f"a détruit {french.plural(_n(d, 'echeances'), 'clé')} d’échéance du magasin de clés"
        + (f" (du {_day(d['premiere'])} au {_day(d['derniere'])})" if "premiere" in d else "")
    ),
    "sauvegarde": lambda n, d: "a fait une copie de la base de données",
    "sauvegarde-cles": lambda n, d: (
        "a fait une copie chiffrée du magasin de clés"
        + (
            f", à détruire au plus tard le {_day(d['a_detruire_le'])}"
            if "a_detruire_le" in d
            else ""
        )
    ),
    "restauration": lambda n, d: (
        "a remis en place une copie de la base"
        + (
            f" ; {french.plural(_n(d, 'redetruites'), 'demande')} détruite(s) à nouveau"
            if d.get("redetruites")
            else ""
        )
    ),
    "elagage-journal": lambda n, d: (
        f"a élagué le journal ({french.plural(_n(d, 'evenements'), 'événement')} retirés)"
    ),
    "fin-de-convention": lambda n, d: "a constaté la fin de la convention",
    "export-journal": lambda n, d: (
        f"a exporté le journal ({french.plural(_n(d, 'evenements'), 'événement')})"
    ),
    "annexe1": lambda n, d: f"a enregistré la version {d.get('version', '')} de l’annexe 1",
    "rapport": lambda n, d: f"a consulté le rapport mensuel de {_month(d.get('mois', ''))}",
    "compte-arrete": lambda n, d: f"a trouvé le compte extranet arrêté{_rule(d)}",
    "compte-debloque": lambda n, d: f"a débloqué le compte de {d.get('compte', '')}",
    "lien-mot-de-passe": lambda n, d: (
        f"a envoyé à {d.get('compte', '')} un lien pour choisir son mot de passe"
    ),
    "totp-enrole": lambda n, d: f"a activé le code à usage unique de {d.get('compte', '')}",
    "sessions-fermees": lambda n, d: f"a fermé les sessions de {d.get('compte', '')}",
}


def sentence(
    actor: str, action: str, numero: str | None, detail: str, names: Mapping[str, str]
) -> str:
    """The event told in one French sentence (without a final period)."""
    try:
        values = json.loads(detail) if detail else {}
    except ValueError:
        values = {}
    if not isinstance(values, dict):
        values = {}
    phrase = PHRASES.get(action)
    said = phrase(numero, values) if phrase else f"— {label(ACTIONS, action)}"
    if phrase is None and numero:
        said += f", {_demande(numero)}"
    return re.sub(r"\s+", " ", f"{who(actor, names)} {said}").strip()
