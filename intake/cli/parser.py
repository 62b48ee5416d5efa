"""The command line: every command, option and help text (in French)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from intake import __version__
from intake.cli import french_help
from intake.cli.admin_parsers import (
    configure_annexe1_parser,
    configure_backup_parsers,
    configure_calendar_parser,
    configure_console_parsers,
    configure_trust_parsers,
)
from intake.cli.exit_codes import EXIT_USAGE
from intake.cli.lazy import Lazy
from intake.ops.job_names import JOB_NAMES, PREPARATION
from storage.status import Status

STATUSES = [s.value for s in Status]


# --------------------------------------------------------------------------------------


class _FrenchParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"intake : erreur : {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    french_help.install()
    parser = _FrenchParser(
        prog="intake",
        description="Demandes de mode d'accueil mon-enfant.fr pour un lieu d'information.",
    )
    parser.add_argument("--version", action="version", version=f"intake {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        help="fichier de configuration (défaut : $INTAKE_CONFIG, sinon ./intake.toml)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé sur stderr")
    parser.add_argument(
        "--log-json", action="store_true", help="journal en JSON, un objet par ligne"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMANDE", parser_class=_FrenchParser
    )

    configure_setup_parsers(commands)
    configure_reading_parsers(commands)
    configure_service_parsers(commands)
    configure_retention_parsers(commands)
    configure_calendar_parser(commands)
    configure_demo_parsers(commands)
    configure_trust_parsers(commands, _FrenchParser)
    configure_console_parsers(commands, _FrenchParser)
    configure_backup_parsers(commands)
    french_help.describe(parser)
    return parser


def configure_setup_parsers(commands: Any) -> None:
    """`init` and `check-config`."""
    init = commands.add_parser("init", help="crée la configuration, la clé et la base")
    init.set_defaults(func=Lazy("setup_cmds", "cmd_init"))
    init.add_argument("directory", nargs="?", default=".", metavar="DOSSIER")
    init.add_argument(
        "--system",
        action="store_true",
        help="installation serveur : /etc/intake/intake.toml (root:intake 0640), données, clé "
        "et dépôt dans /var/lib/intake (0700, au compte intake)",
    )
    init.add_argument("--owner", default="intake", help="compte du service (défaut : intake)")
    init.add_argument(
        "--root", default="/", metavar="DOSSIER", help="racine de l'installation (défaut : /)"
    )

    check = commands.add_parser(
        "check-config",
        help="vérifie la configuration : clés, secrets, clé maîtresse ; tous les problèmes "
        "d'un coup",
    )
    check.set_defaults(func=Lazy("setup_cmds", "cmd_check_config"))
    check.add_argument(
        "--connect",
        action="store_true",
        help="se connecte aussi à l'extranet avec le compte configuré (mot de passe requis)",
    )


def configure_reading_parsers(commands: Any) -> None:
    """`ingest`, `demandes`, `show` and `export`."""
    ingest = commands.add_parser("ingest", help="intègre des flux téléchargés à la main")
    ingest.set_defaults(func=Lazy("reading_cmds", "cmd_ingest"))
    ingest.add_argument("paths", nargs="+", metavar="CHEMIN", help="fichier de flux XML ou dossier")
    ingest.add_argument(
        "--agent",
        metavar="COURRIEL",
        help="personne habilitée qui a téléchargé les fichiers (journal d'audit)",
    )
    ingest.add_argument(
        "--supprimer",
        action="store_true",
        help="supprime les fichiers (XML et PDF) des demandes enregistrées ; un flux dont une "
        "demande est refusée est gardé",
    )

    listing = commands.add_parser(
        "demandes", help="les demandes détenues, sans données personnelles"
    )
    listing.set_defaults(func=Lazy("reading_cmds", "cmd_demandes"))
    listing.add_argument("--commune", metavar="INSEE")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="une demande en entier, pour une personne habilitée")
    show.set_defaults(func=Lazy("reading_cmds", "cmd_show"))
    show.add_argument("numero", metavar="NUMERO")
    show.add_argument("--agent", required=True, metavar="COURRIEL")
    show.add_argument(
        "--pdf", type=Path, metavar="FICHIER", help="écrit aussi le PDF de la demande"
    )

    exporter = commands.add_parser(
        "export", help="les demandes en entier, pour le logiciel du lieu"
    )
    exporter.set_defaults(func=Lazy("reading_cmds", "cmd_export"))
    exporter.add_argument("--agent", required=True, metavar="COURRIEL")
    exporter.add_argument("--format", required=True, choices=["csv", "xlsx", "json"])
    exporter.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FICHIER",
        help="fichier à écrire (lisible par vous seul) ; « - » : la sortie standard",
    )
    exporter.add_argument(
        "--since",
        metavar="AAAA-MM-JJ",
        help="seulement les demandes récupérées depuis ce jour (inclus)",
    )
    exporter.add_argument(
        "--commune", metavar="INSEE", help="seulement cette commune (parmi les vôtres)"
    )


def configure_service_parsers(commands: Any) -> None:
    """`run`, `deadlines`, `poll` and `status`."""
    run = commands.add_parser("run", help="le service : récupérations, boîte, échéances, courriels")
    run.set_defaults(func=Lazy("service_cmds", "cmd_run"))
    # Jobs of the service in a process of their own, started by the service itself.
    run.add_argument(
        "--tache", action="append", choices=(PREPARATION, *JOB_NAMES), help=argparse.SUPPRESS
    )

    deadline = commands.add_parser("deadlines", help="échéances de récupération")
    deadline.set_defaults(func=Lazy("service_cmds", "cmd_deadlines"))
    deadline.add_argument("--json", action="store_true")

    poll = commands.add_parser("poll", help="une récupération sur l'extranet, maintenant")
    poll.set_defaults(func=Lazy("service_cmds", "cmd_poll"))
    poll.add_argument("--commune", metavar="INSEE")

    status = commands.add_parser("status", help="état : extranet, courriels, attestations, retards")
    status.set_defaults(func=Lazy("status_cmd", "cmd_status"))
    status.add_argument("--json", action="store_true")


def configure_retention_parsers(commands: Any) -> None:
    """`purge`, `attestations`, `attestation`, `report` and `convention`."""
    purge = commands.add_parser(
        "purge", help="détruit ce que la règle des six mois impose, et prépare l'attestation"
    )
    purge.set_defaults(func=Lazy("retention_cmds", "cmd_purge"))
    purge.add_argument(
        "--dry-run", action="store_true", help="montre ce qui serait détruit, sans rien changer"
    )
    purge.add_argument("--agent", metavar="COURRIEL", help="personne habilitée qui la lance")
    purge.add_argument("--json", action="store_true")

    listing_att = commands.add_parser(
        "attestations", help="attestations de destruction : état de signature et délai légal"
    )
    listing_att.set_defaults(func=Lazy("retention_cmds", "cmd_attestations"))
    listing_att.add_argument("--json", action="store_true")

    attestation = commands.add_parser("attestation", help="une attestation de destruction")
    attestation.set_defaults(func=Lazy("retention_cmds", "cmd_attestation"))
    attestation_sub = attestation.add_subparsers(
        dest="attestation_command", required=True, metavar="ACTION", parser_class=_FrenchParser
    )
    show_att = attestation_sub.add_parser("show", help="écrit le PDF de l'attestation")
    show_att.add_argument("id", type=int, metavar="ID")
    show_att.add_argument("-o", "--output", required=True, type=Path, metavar="FICHIER")
    sign = attestation_sub.add_parser("sign", help="la signe électroniquement (PAdES)")
    sign.add_argument("id", type=int, metavar="ID")
    sign.add_argument("--signer", required=True, metavar="COURRIEL")
    sign.add_argument(
        "--pkcs12",
        required=True,
        type=Path,
        metavar="FICHIER",
        help="certificat et clé (.p12) ; phrase secrète dans $INTAKE_PKCS12_PASSPHRASE ou demandée",
    )
    scanned = attestation_sub.add_parser(
        "record-signed", help="enregistre une copie signée à la main"
    )
    scanned.add_argument("id", type=int, metavar="ID")
    scanned.add_argument("--signer", required=True, metavar="COURRIEL")
    scanned.add_argument(
        "--file",
        required=True,
        type=Path,
        metavar="SCAN.pdf",
        help="la copie numérisée : PDF de ses pages, ou la page de signature en PNG ou JPEG ; "
        "chaque page doit porter le code QR de cette attestation",
    )

    report = commands.add_parser("report", help="rapports")
    report.set_defaults(func=Lazy("retention_cmds", "cmd_report"))
    report_sub = report.add_subparsers(
        dest="report_command", required=True, metavar="RAPPORT", parser_class=_FrenchParser
    )
    monthly = report_sub.add_parser("monthly", help="le rapport mensuel, PDF et CSV")
    monthly.add_argument("--month", metavar="AAAA-MM", help="défaut : le mois précédent")
    monthly.add_argument("-o", "--output", required=True, type=Path, metavar="DOSSIER")

    convention = commands.add_parser("convention", help="la convention d'habilitation")
    convention.set_defaults(func=Lazy("retention_cmds", "cmd_convention"))
    convention_sub = convention.add_subparsers(
        dest="convention_command", required=True, metavar="ACTION", parser_class=_FrenchParser
    )
    configure_annexe1_parser(convention_sub)
    end = convention_sub.add_parser(
        "end", help="fin de la convention : détruit toutes les données personnelles"
    )
    end.add_argument("--agent", required=True, metavar="COURRIEL")
    end.add_argument(
        "--yes",
        action="store_true",
        help="confirme sans question (obligatoire hors d'un terminal : cron, script)",
    )


def configure_demo_parsers(commands: Any) -> None:
    """`sandbox` and `demo`."""
    sandbox = commands.add_parser(
        "sandbox", help="un extranet local pour essayer (familles fictives)"
    )
    sandbox.set_defaults(func=Lazy("demo_cmds", "cmd_sandbox"))
    sandbox.add_argument("--host", default="127.0.0.1", help="adresse locale (défaut 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8765)
    sandbox.add_argument(
        "--commune",
        action="append",
        metavar="INSEE:NOM",
        default=[],
        help="commune servie (répétable ; défaut 69273:Corbas)",
    )
    sandbox.add_argument(
        "--account",
        action="append",
        metavar="COURRIEL:MOTDEPASSE[:INSEE,…]",
        default=[],
        help="compte habilité (répétable)",
    )
    sandbox.add_argument(
        "--accounts",
        type=Path,
        metavar="FICHIER",
        help="comptes en TOML : [[accounts]] email, password, communes, state",
    )
    sandbox.add_argument(
        "--demandes", type=int, default=5, metavar="N", help="demandes disponibles au démarrage"
    )
    sandbox.add_argument(
        "--every",
        type=float,
        default=0,
        metavar="SECONDES",
        help="une nouvelle demande toutes les N secondes",
    )
    sandbox.add_argument(
        "--smtp",
        metavar="HOTE:PORT",
        help="envoie le courriel de notification de chaque nouvelle demande",
    )
    sandbox.add_argument(
        "--lmtp",
        metavar="HOTE:PORT",
        help="dépose ces courriels par LMTP (dans dovecot, par exemple)",
    )
    sandbox.add_argument(
        "--fault",
        action="append",
        metavar="NOM=VALEUR",
        default=[],
        help="défaut injecté : error500, maintenance, rate_limit, slow, reset, "
        "truncate, expire (probabilités 0 à 1), retry_after, slow_seconds, "
        "ack_delay (secondes)",
    )
    sandbox.add_argument("--seed", type=int, default=0)

    demo = commands.add_parser(
        "demo", help="tout le cycle sur des familles fictives, en une minute environ"
    )
    demo.set_defaults(func=Lazy("demo_cmds", "cmd_demo"))
    demo.add_argument("directory", nargs="?", default="demo", metavar="DOSSIER")
    demo.add_argument(
        "--sans-console",
        action="store_true",
        help="ne pas ouvrir la console web à la fin (elle s'ouvre dans un terminal)",
    )
