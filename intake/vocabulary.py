"""Every code a person could meet, in French: the feed's (civilité, sexe, régime, situation,
modes d'accueil, fréquence, refusal rules) and the product's (statuses, follow-up outcomes,
journal actions and their details). The console, the exports, the PDFs, the emails and the
CLI take their words from here, so that no page shows `creche-collective` or `True`."""

from __future__ import annotations

from collections.abc import Mapping

CIVILITE = {"M": "M.", "Mme": "Mme"}
SEXE = {"F": "fille", "M": "garçon"}
REGIME = {"general": "régime général", "agricole": "régime agricole", "autre": "autre régime"}
SITUATION = {
    "emploi": "en emploi",
    "formation": "en formation",
    "recherche-emploi": "en recherche d’emploi",
    "conge-parental": "en congé parental",
    "sans-activite": "sans activité",
    "autre": "autre situation",
}
MODES = {
    "creche-collective": "crèche collective",
    "assistante-maternelle": "assistant(e) maternel(le)",
    "garde-a-domicile": "garde à domicile",
}
FREQUENCE = {"reguliere": "régulière", "occasionnelle": "occasionnelle"}

STATUS = {
    "notified": "annoncée",
    "received": "reçue",
    "quarantined": "en quarantaine",
    "purged": "détruite",
}
OUTCOMES = {
    "contactee": "famille contactée",
    "orientee": "orientée",
    "sans-suite": "sans suite",
}
MEANS = {
    "telephone": "téléphone",
    "courriel": "courriel",
    "courrier": "courrier",
    "accueil": "à l’accueil",
}
NO_FOLLOW_UP = {
    "solution-trouvee": "la famille a trouvé une solution",
    "injoignable": "famille injoignable",
    "renonce": "la famille renonce",
    "hors-secteur": "hors du secteur du lieu",
    "doublon": "demande en double",
    "autre": "autre raison",
}
RULES = {
    "xml-dangereux": "XML dangereux",
    "xml-malforme": "XML mal formé",
    "schema-invalide": "non conforme au schéma",
    "commune-non-habilitee": "commune hors de la convention",
    "dates-incoherentes": "dates incohérentes",
    "enfant-trop-age": "enfant trop âgé",
    "naissance-prevue-incoherente": "naissance prévue incohérente",
    "modes-incoherents": "modes d’accueil incohérents",
    "creneau-invalide": "créneau invalide",
    "contact-manquant": "contact manquant",
    "pdf-invalide": "PDF invalide",
    "deja-expiree": "déjà expirée",
    "doublon-divergent": "doublon divergent",
}
ACTIONS = {
    "lecture": "lecture d’une demande",
    "export": "demande exportée",
    "export-fichier": "fichier d’export",
    "acces-refuse": "accès refusé",
    "traitee": "marquée comme traitée",
    "suivi": "suivi enregistré",
    "courriel-famille": "courriel à la famille",
    "reception": "demande reçue",
    "quarantaine": "mise en quarantaine",
    "refus": "demande refusée",
    "refus-flux": "fichier refusé",
    "notification": "notification reçue",
    "accuse-reception": "accusé de réception",
    "destruction": "destruction",
    "attestation": "attestation établie",
    "signature-attestation": "attestation signée",
    "connexion": "connexion",
    "connexion-refusee": "connexion refusée",
    "compte-verrouille": "compte ralenti (trop d’échecs)",  # the action's old name stays
    "deconnexion": "déconnexion",
    "mot-de-passe": "mot de passe défini",
    "totp-active": "code à usage unique activé",
    "cle-enregistree": "clé maîtresse enregistrée",
    "rotation-cle": "clé maîtresse changée",
    "cles-par-echeance": "clés de demande rechiffrées par échéance",
    "destruction-cles": "clés d’échéance détruites",
    "sauvegarde": "sauvegarde de la base",
    "sauvegarde-cles": "copie chiffrée du magasin de clés",
    "restauration": "sauvegarde restaurée",
    "elagage-journal": "élagage du journal",
    "fin-de-convention": "fin de la convention",
    "export-journal": "journal exporté",
    "annexe1": "annexe 1 enregistrée",
    "rapport": "rapport mensuel",
    "compte-arrete": "compte extranet arrêté",
    "compte-debloque": "compte débloqué par un administrateur",
    "lien-mot-de-passe": "lien de mot de passe envoyé",
    "totp-enrole": "code à usage unique activé par un administrateur",
    "sessions-fermees": "sessions fermées par un administrateur",
}
MOTIFS = {
    "commune": "commune hors de ses attributions",
    "role": "rôle insuffisant",
    "hors-staff": "personne non habilitée",
    "habilitation": "habilitation expirée ou pas encore ouverte",
    "ralenti": "compte ralenti après trop d’échecs",
    "mot-de-passe": "mot de passe erroné",
    "totp": "code à usage unique erroné",
    "code": "code à usage unique erroné",
    "identifiants": "identifiants erronés",
    "conservation-6-mois": "fin des 6 mois de conservation",
    "fin-de-convention": "fin de la convention",
}
ACCESSES = {  # what an « acces-refuse » event was refused
    "lecture": "la lecture d’une demande",
    "export": "l’export",
    "traitee": "le marquage comme traitée",
    "suivi": "le suivi",
    "courriel-famille": "un courriel à la famille",
    "journal": "le journal",
    "attestation": "une attestation",
    "signature-attestation": "la signature d’une attestation",
    "rapport": "un rapport",
    "depot": "le dépôt d’un flux",
    "comptes": "la page des comptes",
    "compte-debloque": "le déblocage d’un compte",
    "lien-mot-de-passe": "l’envoi d’un lien de mot de passe",
    "totp-enrole": "l’activation d’un code à usage unique",
    "sessions-fermees": "la fermeture de sessions",
}
SIGNATURES = {"pades": "électronique (PAdES)", "manuscrite": "manuscrite", "papier": "manuscrite"}

# Every table whose codes a person must never see raw (the vocabulary test scans for them).
TABLES: dict[str, Mapping[str, str]] = {
    "civilité": CIVILITE,
    "sexe": SEXE,
    "régime": REGIME,
    "situation": SITUATION,
    "modes": MODES,
    "fréquence": FREQUENCE,
    "statut": STATUS,
    "issue": OUTCOMES,
    "moyen": MEANS,
    "raison": NO_FOLLOW_UP,
    "règle": RULES,
    "action": ACTIONS,
}


def label(table: Mapping[str, str], code: str | None) -> str:
    """The French word of a code; an unknown code is shown as is (never silently dropped)."""
    if code is None:
        return ""
    return table.get(code, code)


def civilite(code: str | None) -> str:
    return label(CIVILITE, code)


def sexe(code: str | None) -> str:
    return label(SEXE, code)


def regime(code: str | None) -> str:
    return label(REGIME, code)


def situation(code: str | None) -> str:
    return label(SITUATION, code)


def mode(code: str | None) -> str:
    return label(MODES, code)


def frequence(code: str | None) -> str:
    return label(FREQUENCE, code)


def status(code: str | None) -> str:
    return label(STATUS, code)


def outcome(code: str | None) -> str:
    return label(OUTCOMES, code)


def rule(code: str | None) -> str:
    return label(RULES, code)


def action(code: str | None) -> str:
    return label(ACTIONS, code)


def yes_no(value: object) -> str:
    return "oui" if value else "non"
