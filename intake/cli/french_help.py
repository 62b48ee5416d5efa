"""argparse in French: its own words (usage, sections, errors) translated, a description for
every option left without one, examples under each command.

argparse looks its messages up through the module-level `_` (gettext) each time it needs
one; `install` replaces that lookup with this table, so usage lines, section titles and
error messages come out in French whatever the machine's locale.
"""

from __future__ import annotations

import argparse

FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "affiche cette aide et s'arrête",
    "show program's version number and exit": "affiche la version et s'arrête",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (au choix : %(choices)s)"
    ),
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "expected %s argument": "%s valeur attendue",
    "expected %s arguments": "%s valeurs attendues",
}

# An option's meaning by its destination, for the options declared without a description.
DESCRIPTIONS = {
    "json": "résultat en JSON (jamais de données personnelles, sauf export)",
    "agent": "votre adresse, telle que dans [[staff]] (inscrite au journal d'audit)",
    "commune": "code INSEE de la commune",
    "status": "statut : notified (annoncée), received (reçue), quarantined (en "
    "quarantaine), purged (détruite)",
    "numero": "numéro de la demande (ME-AAAA-NNNNNNN)",
    "directory": "dossier",
    "id": "numéro de l'attestation",
    "signer": "votre adresse de signataire, telle que dans [[staff]]",
    "file": "la copie signée, numérisée en PDF",
    "format": "format du fichier",
    "output": "fichier (ou dossier) à écrire",
    "seed": "graine du hasard (mêmes familles fictives à chaque fois)",
    "port": "port d'écoute",
    "email": "adresse d'une personne de [[staff]]",
    "path": "fichier à écrire",
}

EXAMPLES = {
    "init": ["intake init /etc/intake", "intake init ."],
    "check-config": ["intake check-config", "intake check-config --connect"],
    "ingest": [
        "intake ingest flux-69273.xml --agent l.feuga@ville-corbas.fr",
        "intake ingest telechargements/",
    ],
    "demandes": ["intake demandes", "intake demandes --commune 69273 --status received --json"],
    "show": ["intake show ME-2026-0000101 --agent l.feuga@ville-corbas.fr --pdf demande.pdf"],
    "export": ["intake export --agent l.feuga@ville-corbas.fr --format csv -o demandes.csv"],
    "run": ["intake -c /etc/intake/intake.toml run"],
    "deadlines": ["intake deadlines", "intake deadlines --json"],
    "poll": ["INTAKE_EXTRANET_PASSWORD=… intake poll --commune 69273"],
    "status": ["intake status   # 0 tout va bien, 1 attention, 2 critique (supervision)"],
    "purge": ["intake purge --dry-run", "intake purge --agent l.feuga@ville-corbas.fr"],
    "attestations": ["intake attestations"],
    "attestation": [
        "intake attestation show 1 -o attestation-1.pdf",
        "intake attestation sign 1 --signer l.feuga@ville-corbas.fr --pkcs12 moi.p12",
    ],
    "report": ["intake report monthly --month 2026-10 -o rapports/"],
    "convention": [
        "intake convention annexe1 -o annexe1.pdf",
        "intake convention end --agent directrice@ville-corbas.fr",
    ],
    "calendar": ["intake calendar", "intake calendar --json"],
    "audit": ["intake audit verify", "intake audit verify --json"],
    "vault": ["intake vault new-key nouvelle.key", "intake vault rotate --new-key nouvelle.key"],
    "backup": [
        "intake backup -o /srv/sauvegardes/intake-2026-12-03.db",
        "intake backup --cles -o /media/cle-usb/cles-2026-12-03.bin",
    ],
    "restore": [
        "intake restore /srv/sauvegardes/intake-2026-12-03.db --agent l.feuga@ville-corbas.fr",
        "intake restore --agent l.feuga@ville-corbas.fr   (après pg_restore)",
        "intake restore --cles /media/cle-usb/cles-2026-12-03.bin",
    ],
    "web": ["intake web", "intake web --listen 127.0.0.1:8081"],
    "staff": ["intake staff password l.feuga@ville-corbas.fr", "intake staff list"],
    "demo": ["intake demo", "intake demo essai/ --sans-console"],
    "sandbox": ["intake sandbox --demandes 5 --every 30 --account moi@ville.fr:secret"],
}


def _translate(message: str) -> str:
    return FRENCH.get(message, message)


def install() -> None:
    # argparse finds its messages through its module's `_` (gettext), with no public hook.
    argparse._ = _translate  # type: ignore[attr-defined]


def describe(parser: argparse.ArgumentParser, name: str | None = None) -> None:
    """Give every option a description and every command its examples, recursively."""
    for action in parser._actions:
        if action.help is None and action.dest in DESCRIPTIONS:
            action.help = DESCRIPTIONS[action.dest]
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                describe(sub, command if name is None else name)
    if name is not None and name in EXAMPLES and parser.epilog is None:
        parser.epilog = "exemples :\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def undescribed(parser: argparse.ArgumentParser, path: str = "intake") -> list[str]:
    """Options still without a description (a test keeps this list empty)."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                missing += undescribed(sub, f"{path} {command}")
        elif action.help is None:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing
