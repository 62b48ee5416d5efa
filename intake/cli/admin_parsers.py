"""The parsers of the trust (`audit`, `vault`), console (`web`, `staff`), calendar
(`calendar`, `convention annexe1`) and backup (`backup`, `restore`) commands; their
handlers are imported when they run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from intake.cli.lazy import Lazy


def configure_trust_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    audit_cmd = commands.add_parser("audit", help="journal d'audit")
    audit_cmd.set_defaults(func=Lazy("trust", "cmd_audit"))
    audit_sub = audit_cmd.add_subparsers(
        dest="audit_command", required=True, metavar="ACTION", parser_class=parser_class
    )
    verify = audit_sub.add_parser(
        "verify",
        help="vérifie le chaînage du journal, qu'il rend compte de tout ce qui est détenu et "
        "qu'il prolonge les ancres consignées hors de la base",
    )
    verify.add_argument("--json", action="store_true", help="résultat en JSON")

    vault = commands.add_parser("vault", help="la clé maîtresse du coffre")
    vault.set_defaults(func=Lazy("trust", "cmd_vault"))
    vault_sub = vault.add_subparsers(
        dest="vault_command", required=True, metavar="ACTION", parser_class=parser_class
    )
    rotate = vault_sub.add_parser(
        "rotate",
        help="rechiffre toutes les clés de demande sous une nouvelle clé maîtresse, en une "
        "seule transaction, puis installe la nouvelle clé à la place de l'ancienne",
    )
    rotate.add_argument(
        "--new-key",
        required=True,
        type=Path,
        metavar="FICHIER",
        help="la nouvelle clé (créée par exemple par « intake vault new-key FICHIER »)",
    )
    rotate.add_argument("--agent", metavar="COURRIEL", help="personne habilitée qui la lance")
    new_key = vault_sub.add_parser("new-key", help="crée un fichier de clé maîtresse neuve (0600)")
    new_key.add_argument("path", type=Path, metavar="FICHIER")


def configure_console_parsers(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    web = commands.add_parser(
        "web",
        help="la console web des personnes habilitées (chacune avec son compte)",
        description="Sert la console web : tableau de bord, demandes, suivi, export, journal, "
        "attestations, rapports. À placer derrière un serveur HTTPS (nginx, Apache).",
    )
    web.add_argument(
        "--listen",
        metavar="HOTE:PORT",
        help="adresse d'écoute (défaut : [web] listen, sinon 127.0.0.1:8080)",
    )
    web.set_defaults(func=Lazy("console", "cmd_web"))
    staff = commands.add_parser("staff", help="les comptes de la console web")
    staff.set_defaults(func=Lazy("console", "cmd_staff"))
    staff_sub = staff.add_subparsers(
        dest="staff_command", required=True, metavar="ACTION", parser_class=parser_class
    )
    password = staff_sub.add_parser(
        "password",
        help="définit le mot de passe d'une personne de [[staff]] (demandé deux fois au "
        "terminal, sinon lu sur l'entrée standard)",
    )
    password.add_argument("email", metavar="COURRIEL")
    staff_sub.add_parser("list", help="qui a un compte, et sa dernière connexion")
    totp = staff_sub.add_parser(
        "totp", help="active le code à usage unique (application d'authentification)"
    )
    totp.add_argument("email", metavar="COURRIEL")


def configure_calendar_parser(commands: Any) -> None:
    listing = commands.add_parser(
        "calendar",
        help="les échéances de la convention : personnes à déclarer à la Caf, comptes "
        "extranet inutilisés, reconduction et dénonciation",
    )
    listing.add_argument("--json", action="store_true", help="résultat en JSON")
    listing.set_defaults(func=Lazy("calendar_cmd", "cmd_calendar"))


def configure_annexe1_parser(convention_sub: Any) -> None:
    annexe = convention_sub.add_parser(
        "annexe1", help="l'annexe 1 à jour (personnes habilitées), à envoyer à la Caf"
    )
    annexe.add_argument("-o", "--output", type=Path, metavar="FICHIER.pdf", help="en PDF")


def configure_backup_parsers(commands: Any) -> None:
    backup = commands.add_parser(
        "backup",
        help="copie cohérente de la base, service en marche (elle ne contient aucune clé) ; "
        "avec --cles, copie chiffrée du magasin de clés",
    )
    backup.set_defaults(func=Lazy("backup_cmds", "cmd_backup"))
    backup.add_argument("-o", "--output", required=True, type=Path, metavar="FICHIER")
    backup.add_argument(
        "--cles",
        action="store_true",
        help="copie le magasin de clés (clés d'échéance), chiffrée par une phrase de passe "
        "demandée (terminal, ou première ligne de l'entrée standard)",
    )
    backup.add_argument(
        "--agent",
        metavar="COURRIEL",
        help="personne habilitée qui la fait (avec --cles : son mot de passe de la console, "
        "puis son code, sont demandés avant la phrase de passe)",
    )

    restore = commands.add_parser(
        "restore",
        help="remet une copie de la base et la réconcilie avec le magasin de clés : ce que les "
        "purges ont détruit depuis est détruit à nouveau",
    )
    restore.set_defaults(func=Lazy("backup_cmds", "cmd_restore"))
    restore.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FICHIER",
        help="copie faite par « intake backup » (SQLite) ; sans fichier : réconcilie "
        "seulement la base en place (après un pg_restore, par exemple)",
    )
    restore.add_argument(
        "--cles",
        action="store_true",
        help="FICHIER est une copie du magasin de clés : remet les clés qui manquent, jamais "
        "une clé qu'une purge a détruite",
    )
    restore.add_argument(
        "--agent",
        metavar="COURRIEL",
        help="personne habilitée qui la fait (son mot de passe de la console, puis son code, "
        "sont demandés)",
    )
