"""The `intake` command: argument parsing and printing only; the work is in the modules it calls.

Exit codes (cli.md): 0 done; 1 done, but some input was refused (or the audit
trail is broken); 2 usage or configuration error; 3 an external service
(here: the database) could not be reached.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import InterfaceError as SQLInterfaceError
from sqlalchemy.exc import OperationalError

from intake import config as configuration
from intake import coverage, deadlines, french, logs
from intake.access import AccessDenied, NotHeld, open_demande, write_private
from intake.app import App, ConventionEnded, Notified
from intake.attestations import SignatureRefused, Summary
from intake.cli import french_help
from intake.cli.calendar_cmd import (
    cmd_annexe1,
    cmd_calendar,
    configure_annexe1_parser,
    configure_calendar_parser,
)
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    UsageError,
    dump_json,
    load_app,
)
from intake.cli.console import cmd_staff, cmd_web, configure_console_parsers
from intake.cli.trust import cmd_audit, cmd_vault, configure_trust_parsers
from intake.clock import Clock, SystemClock
from intake.config import Config, ConfigError
from intake.demande_text import render
from intake.exports import EXPORT_WARNING, Selection, export, export_file
from intake.feed import FeedHeader
from intake.french import plural
from intake.pipeline import Line, Result
from intake.retention import PurgeOutcome
from intake.status import Health, health
from storage import attestations as attestation_store
from storage import demandes as store
from storage.db import transaction
from storage.locks import AlreadyRunning
from storage.models import DemandeRow, Status
from storage.vault import VaultError, generate_master_key_file

PASSPHRASE_ENV = "INTAKE_PKCS12_PASSPHRASE"  # noqa: S105  (a variable name)
STATUSES = [s.value for s in Status]
log = logging.getLogger("intake")


# --- parser --------------------------------------------------------------------------------------


class _FrenchParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"intake : erreur : {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("monenfant-intake")
    except PackageNotFoundError:
        return "inconnue (non installé)"


def build_parser() -> argparse.ArgumentParser:
    french_help.install()
    parser = _FrenchParser(
        prog="intake",
        description="Demandes de mode d'accueil mon-enfant.fr pour un lieu d'information.",
    )
    parser.add_argument("--version", action="version", version=f"intake {_version()}")
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

    init = commands.add_parser("init", help="crée la configuration, la clé et la base")
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
    check.add_argument(
        "--connect",
        action="store_true",
        help="se connecte aussi à l'extranet avec le compte configuré (mot de passe requis)",
    )

    ingest = commands.add_parser("ingest", help="intègre des flux téléchargés à la main")
    ingest.add_argument("paths", nargs="+", metavar="CHEMIN", help="fichier de flux XML ou dossier")
    ingest.add_argument(
        "--agent",
        metavar="COURRIEL",
        help="personne habilitée qui a téléchargé les fichiers (journal d'audit)",
    )

    listing = commands.add_parser(
        "demandes", help="les demandes détenues, sans données personnelles"
    )
    listing.add_argument("--commune", metavar="INSEE")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--json", action="store_true")

    show = commands.add_parser("show", help="une demande en entier, pour une personne habilitée")
    show.add_argument("numero", metavar="NUMERO")
    show.add_argument("--agent", required=True, metavar="COURRIEL")
    show.add_argument(
        "--pdf", type=Path, metavar="FICHIER", help="écrit aussi le PDF de la demande"
    )

    exporter = commands.add_parser(
        "export", help="les demandes en entier, pour le logiciel du lieu"
    )
    exporter.add_argument("--agent", required=True, metavar="COURRIEL")
    exporter.add_argument("--format", required=True, choices=["csv", "json"])
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

    commands.add_parser("run", help="le service : récupérations, boîte, échéances, courriels")

    deadline = commands.add_parser("deadlines", help="échéances de récupération")
    deadline.add_argument("--json", action="store_true")

    poll = commands.add_parser("poll", help="une récupération sur l'extranet, maintenant")
    poll.add_argument("--commune", metavar="INSEE")

    status = commands.add_parser("status", help="état : extranet, courriels, attestations, retards")
    status.add_argument("--json", action="store_true")

    sandbox = commands.add_parser(
        "sandbox", help="un extranet local pour essayer (familles fictives)"
    )
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

    purge = commands.add_parser(
        "purge", help="détruit ce que la règle des six mois impose, et prépare l'attestation"
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="montre ce qui serait détruit, sans rien changer"
    )
    purge.add_argument("--agent", metavar="COURRIEL", help="personne habilitée qui la lance")
    purge.add_argument("--json", action="store_true")

    listing_att = commands.add_parser(
        "attestations", help="attestations de destruction : état de signature et délai légal"
    )
    listing_att.add_argument("--json", action="store_true")

    attestation = commands.add_parser("attestation", help="une attestation de destruction")
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
    scanned.add_argument("--file", required=True, type=Path, metavar="SCAN.pdf")

    report = commands.add_parser("report", help="rapports")
    report_sub = report.add_subparsers(
        dest="report_command", required=True, metavar="RAPPORT", parser_class=_FrenchParser
    )
    monthly = report_sub.add_parser("monthly", help="le rapport mensuel, PDF et CSV")
    monthly.add_argument("--month", metavar="AAAA-MM", help="défaut : le mois précédent")
    monthly.add_argument("-o", "--output", required=True, type=Path, metavar="DOSSIER")

    convention = commands.add_parser("convention", help="la convention d'habilitation")
    convention_sub = convention.add_subparsers(
        dest="convention_command", required=True, metavar="ACTION", parser_class=_FrenchParser
    )
    configure_annexe1_parser(convention_sub)
    configure_calendar_parser(commands)
    end = convention_sub.add_parser(
        "end", help="fin de la convention : détruit toutes les données personnelles"
    )
    end.add_argument("--agent", required=True, metavar="COURRIEL")
    end.add_argument(
        "--yes",
        action="store_true",
        help="confirme sans question (obligatoire hors d'un terminal : cron, script)",
    )

    demo = commands.add_parser(
        "demo", help="tout le cycle sur des familles fictives, en une minute environ"
    )
    demo.add_argument("directory", nargs="?", default="demo", metavar="DOSSIER")
    demo.add_argument(
        "--sans-console",
        action="store_true",
        help="ne pas ouvrir la console web à la fin (elle s'ouvre dans un terminal)",
    )

    configure_trust_parsers(commands, _FrenchParser)
    configure_console_parsers(commands, _FrenchParser)
    french_help.describe(parser)
    return parser


# --- entry point ---------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None, *, clock: Clock | None = None, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    # Every file the program writes (database, WAL, exports, PDFs, set-aside feeds, anchors)
    # is its owner's alone, whatever umask the shell or the unit left.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    logs.configure(args.verbose, args.log_json, service=args.command in ("run", "web"))
    handler = _COMMANDS[args.command]
    try:
        return handler(args, clock or SystemClock(), out)
    except ConfigError as exc:
        where = f" ({exc.path})" if exc.path else ""
        print(f"Configuration invalide{where} :", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (
        UsageError,
        AccessDenied,
        VaultError,
        SignatureRefused,
        ConventionEnded,
        AlreadyRunning,
    ) as exc:
        print(f"intake : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `intake demandes | head`: the reader left, nothing more to say
        sys.stderr.close()
        return EXIT_OK
    except (OperationalError, SQLInterfaceError) as exc:
        log.debug("database error", exc_info=True)
        if _disk_full(exc.orig):
            print(
                "intake : disque plein : l'écriture en cours a été annulée, rien de ce qui était "
                "déjà enregistré n'est perdu ; libérez de la place puis relancez la commande.",
                file=sys.stderr,
            )
        else:
            # The driver's text may name the server and port, never a demande's content.
            print(
                f"intake : base de données injoignable ({type(exc.orig).__name__})",
                file=sys.stderr,
            )
        return EXIT_UNREACHABLE


def _disk_full(error: BaseException | None) -> bool:
    """SQLite's SQLITE_FULL (or the I/O error a refused write gives), PostgreSQL's 53100."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR_WRITE"):
        return True
    return getattr(error, "sqlstate", None) == "53100"


# --- init and check-config ---------------------------------------------------------------


def cmd_init(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    if args.system:
        return _init_system(args, clock, out)
    folder = Path(args.directory)
    config_path = folder / configuration.DEFAULT_CONFIG_NAME
    template = resources.files("intake").joinpath("templates/intake.toml").read_text("utf-8")
    key_path = folder / "secrets" / "master.key"
    existing = [p for p in (config_path, key_path) if p.exists()]
    if existing:
        raise UsageError(
            "refus d'écraser : " + ", ".join(str(p) for p in existing) + " existe déjà"
        )
    folder.mkdir(parents=True, exist_ok=True)
    with config_path.open("x", encoding="utf-8") as stream:
        stream.write(template)
    generate_master_key_file(key_path)
    config = configuration.load(config_path)
    App(config, clock).vault  # noqa: B018  (migrates, then records which key this base is for)
    _print_init(
        out,
        f"Configuration écrite : {config_path}",
        key_path,
        config.database_url,
        f"Étape suivante : adaptez {config_path} (lieu, communes de l'annexe 1, personnes "
        "habilitées), puis lancez « intake check-config ».",
    )
    return EXIT_OK


def _print_init(out: TextIO, written: str, key: Path, database_url: str, next_step: str) -> None:
    print(written, file=out)
    print(
        f"Clé maîtresse créée (0600) : {key} — sauvegardez-la à part des données ; "
        "sans elle, rien n'est lisible.",
        file=out,
    )
    print(f"Base de données prête : {database_url}", file=out)
    print(next_step, file=out)


def _init_system(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.install import InstallError, init_system

    try:
        done = init_system(Path(args.root), args.owner, clock)
    except InstallError as exc:
        raise UsageError(str(exc)) from None
    _print_init(
        out,
        f"Configuration écrite (root:{args.owner} 0640) : {done.config}",
        done.key,
        done.database_url,
        f"Étape suivante : adaptez {done.config}, puis « intake -c {done.config} check-config » "
        "et « systemctl enable --now intake intake-web ».",
    )
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    config = configuration.load(configuration.locate(args.config))
    problems = config.missing_secrets()
    gaps = coverage.uncovered(config)
    if gaps:
        problems.append(
            configuration.Problem(
                "extranet.accounts",
                "commune(s) de l'annexe 1 qu'aucun compte extranet ne récupère : "
                + ", ".join(gaps)
                + " ; ajoutez le compte d'une personne habilitée pour elle(s) "
                "([[extranet.accounts]])",
            )
        )
    app = App(config, clock)
    try:
        app.vault  # noqa: B018  (reads the master key and checks it is this database's)
    except VaultError as exc:
        problems.append(configuration.Problem("vault.key_file", str(exc)))
    if args.connect and not problems and config.raw.extranet is not None:
        problems += _extranet_sign_in_problems(app)
    if problems:
        raise ConfigError(config.path, problems)
    print(
        f"Configuration valide : {config.path} — lieu {config.lieu.id} ({config.lieu.name}), "
        f"{len(config.raw.communes)} commune(s), {len(config.raw.staff)} personne(s) habilitée(s).",
        file=out,
    )
    return EXIT_OK


def _extranet_sign_in_problems(app: App) -> list[configuration.Problem]:
    from intake.sources.extranet import ExtranetError

    problems = []
    for poller in app.pollers():
        client = poller.connect()
        try:
            client.sign_in()
            client.sign_out()
        except ExtranetError as exc:
            problems.append(
                configuration.Problem(
                    "extranet", f"{poller.account} : connexion refusée : {exc} [{exc.code}]"
                )
            )
    return problems


# --- ingest --------------------------------------------------------------------------------------

_RESULT_LABEL = {
    Result.INGESTED: "intégrée",
    Result.HELD: "déjà détenue",
    Result.REFUSED: "refusée",
}


def _feed_files(paths: Sequence[str]) -> list[tuple[Path, str | None]]:
    """Each path, or each *.xml of a folder; a path that cannot be read gets its French reason."""
    found: list[tuple[Path, str | None]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found += [(p, None) for p in sorted(path.glob("*.xml"))]
        elif not path.exists():
            found.append((path, "fichier introuvable"))
        elif not path.is_file():
            found.append((path, "ce n'est pas un fichier"))
        else:
            try:
                with path.open("rb"):
                    pass
                found.append((path, None))
            except OSError as exc:
                found.append((path, f"fichier illisible ({exc.strerror})"))
    return found


def cmd_ingest(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    actor = _actor(app.config, args.agent)
    ingestor = app.ingestor(actor)
    counts = {result: 0 for result in Result}
    for path, problem in _feed_files(args.paths):
        if problem is not None:
            print(f"{path} : refusé — {problem}", file=out)
            counts[Result.REFUSED] += 1
            continue
        for line in ingestor.ingest_file(path):
            if isinstance(line, FeedHeader):
                _print_header(app.config, path, line, out)
                continue
            counts[line.result] += 1
            print(_ingest_line(app, line, clock), file=out)
    print(
        f"Bilan : {counts[Result.INGESTED]} intégrée(s), {counts[Result.HELD]} déjà détenue(s), "
        f"{counts[Result.REFUSED]} refusée(s).",
        file=out,
    )
    return EXIT_REFUSED if counts[Result.REFUSED] else EXIT_OK


def _actor(config: Config, agent: str | None) -> str:
    if agent is None:
        return f"système:{getpass.getuser()}"
    member = config.staff_member(agent)
    if member is None:
        raise AccessDenied(
            f"{agent} n'est pas une personne habilitée de la configuration ([[staff]])"
        )
    return member.email


def _print_header(config: Config, path: Path, header: FeedHeader, out: TextIO) -> None:
    print(
        f"{path.name} : flux de la commune {header.commune} "
        f"({config.commune_name(header.commune)})",
        file=out,
    )
    if header.lieu_id != config.lieu.id:
        print(
            f"  attention : ce flux est adressé au lieu {header.lieu_id}, pas à {config.lieu.id}",
            file=out,
        )


def _ingest_line(app: App, line: Line, clock: Clock) -> str:
    label = f"{line.label}  {_RESULT_LABEL[line.result]}"
    if line.result == Result.REFUSED:
        return f"{label} [{line.code}] {line.message}"
    if line.retrieval_due is None:
        return label
    today = deadlines.local_date(clock.now(), app.config.timezone)
    timing = "dans le délai" if today <= line.retrieval_due else "délai de récupération dépassé"
    return f"{label} — {timing} (échéance {line.retrieval_due:%d/%m/%Y})"


# --- demandes ------------------------------------------------------------------------------------


def _iso(value: datetime | date | None, app: App) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(app.config.timezone).isoformat()
    return value.isoformat()


def cmd_demandes(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    tz = app.config.timezone
    items: list[dict[str, Any]] = []
    with transaction(app.engine) as session:
        for row in store.listing(session, commune=args.commune, status=args.status):
            met = (
                deadlines.retrieval_met(row.retrieved_at, row.retrieval_due, tz)
                if row.retrieval_due and row.status == Status.RECEIVED
                else None
            )
            items.append(
                {
                    "numero": row.numero,
                    "commune": row.commune,
                    "status": row.status,
                    "transmitted_at": _iso(row.transmitted_at, app),
                    "notified_at": _iso(_notified(row), app),
                    "retrieved_at": _iso(row.retrieved_at, app),
                    "retrieval_due": _iso(row.retrieval_due, app),
                    "retrieval_met": met,
                    "purge_due": _iso(row.purge_due, app),
                }
            )
    if args.json:
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    _print_table(items, out, app.config)
    return EXIT_OK


def _notified(row: DemandeRow) -> datetime | None:
    known = [t for t in (row.mail_notified_at, row.notified_at) if t is not None]
    return min(known) if known else None


def _fr_date(value: str | None) -> str:
    return "—" if not value else date.fromisoformat(value[:10]).strftime("%d/%m/%Y")


def _print_table(items: list[dict[str, Any]], out: TextIO, config: Config) -> None:
    if not items:
        print("Aucune demande.", file=out)
        return
    met_label = {True: "dans le délai", False: "en retard", None: "—"}
    header = (
        "Numéro",
        "Commune",
        "Statut",
        "Transmise le",
        "À récupérer avant",
        "Récupérée",
        "Détruite avant",
    )
    rows = [
        (
            i["numero"],
            f"{config.commune_name(i['commune'])} ({i['commune']})",
            french.status(i["status"]),
            _fr_date(i["transmitted_at"]),
            _fr_date(i["retrieval_due"]),
            met_label[i["retrieval_met"]],
            _fr_date(i["purge_due"]),
        )
        for i in items
    ]
    widths = [max(len(str(r[c])) for r in [header, *rows]) for c in range(len(header))]
    for r in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip(), file=out)
    print(f"{plural(len(items), 'demande')}.", file=out)


# --- show and export -----------------------------------------------------------------------------


def cmd_show(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    try:
        opened = open_demande(
            app.engine,
            app.vault,
            app.config,
            args.numero,
            args.agent,
            clock.now(),
            with_pdf=args.pdf is not None,
        )
    except NotHeld as exc:
        print(f"intake : {exc}", file=sys.stderr)
        return EXIT_REFUSED
    out.write(render(opened, app.config.timezone))
    if args.pdf is not None:
        if opened.pdf is None:
            print("Aucun PDF conservé pour cette demande.", file=sys.stderr)
            return EXIT_REFUSED
        write_private(args.pdf, opened.pdf)
        print(f"PDF écrit (lisible par vous seul) : {args.pdf}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    try:
        since = date.fromisoformat(args.since) if args.since else None
    except ValueError:
        raise UsageError(f"--since : date attendue (AAAA-MM-JJ), pas « {args.since} »") from None
    selection = Selection(
        since=deadlines.day_range(since, None, app.config.timezone)[0], commune=args.commune
    )
    if args.output == "-":
        done = export(
            app.engine, app.vault, app.config, args.agent, args.format, clock.now(),
            _to_stdout, selection,
        )  # fmt: skip
        where, report = "sur la sortie standard", sys.stderr
    else:
        done = export_file(
            app.engine, app.vault, app.config, args.agent, args.format, Path(args.output),
            clock.now(), selection,
        )  # fmt: skip
        where, report = f"dans {args.output} (lisible par vous seul)", out
    print(
        f"{plural(done.demandes, 'demande exportée', 'demandes exportées')} {where}.", file=report
    )
    if done.past_retention:
        print(
            f"{done.past_retention} demande(s) non exportée(s) : leur durée de conservation a "
            "pris fin, elles doivent être détruites : une destruction est due (intake purge).",
            file=sys.stderr,
        )
    print(EXPORT_WARNING, file=sys.stderr)
    return EXIT_OK


def _to_stdout(content: bytes) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(content)
    sys.stdout.buffer.flush()


# --- audit ---------------------------------------------------------------------------------------


# --- extranet ----------------------------------------------------------------------------------


def cmd_poll(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    try:
        pollers = app.pollers(args.commune)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # The notification emails first: their clock runs even when the extranet is down.
    mail = app.mailbox_pass()
    mail_report = mail.run() if mail is not None else None
    if mail_report is not None:
        if mail_report.error:
            print(f"Boîte aux lettres : {mail_report.error}", file=out)
        else:
            print(
                f"Boîte aux lettres : {len(mail_report.notified)} notification(s) nouvelle(s)"
                + (f", {mail_report.unreadable} illisible(s)" if mail_report.unreadable else ""),
                file=out,
            )
    unreachable = refused = False
    for poller in pollers:
        report = poller.poll()
        unreachable, refused = unreachable or report.unreachable, refused or report.refused
        _print_pass(app, poller.account, report, clock, out)
    _print_notified(app.notify(), out)
    if unreachable:
        return EXIT_UNREACHABLE
    return EXIT_REFUSED if refused else EXIT_OK


def _print_pass(app: App, account: str, report: Any, clock: Clock, out: TextIO) -> None:
    if report.sign_in_error is not None and not report.communes:
        print(
            f"Extranet ({account}) : {report.sign_in_error} [{report.sign_in_error.code}]",
            file=out,
        )
    for commune in report.communes:
        name = f"{commune.insee} ({app.config.commune_name(commune.insee)})"
        if commune.error is not None:
            print(f"{name} : erreur [{commune.error.code}] {commune.error}", file=out)
        elif commune.unchanged or not commune.lines:
            print(f"{name} : aucune nouvelle demande", file=out)
        else:
            print(
                f"{name} : {len(commune.lines)} demande(s) dans le flux, "
                f"{commune.acknowledged} acquittée(s)",
                file=out,
            )
        for line in commune.lines:
            print("  " + _ingest_line(app, line, clock), file=out)


_STATE_LABEL = {
    "overdue": "en retard",
    "due-soon": "bientôt dues",
    "pending": "à venir",
    "met": "récupérées dans le délai",
    "late": "récupérées en retard",
}


def cmd_deadlines(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    tz = app.config.timezone
    today = deadlines.local_date(clock.now(), tz)
    soon = max(app.config.raw.alerts.before_deadline, default=0)
    items = []
    with transaction(app.engine) as session:
        for row in store.listing(session):
            if row.retrieval_due is None or row.status == Status.PURGED:
                continue
            retrieved = row.retrieved_at if row.status == Status.RECEIVED else None
            items.append(
                {
                    "numero": row.numero,
                    "commune": row.commune,
                    "status": row.status,
                    "retrieval_due": row.retrieval_due.isoformat(),
                    "state": deadlines.retrieval_state(
                        retrieved, row.retrieval_due, today, soon, tz
                    ),
                }
            )
    if args.json:
        json.dump(items, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return EXIT_OK
    for commune in app.config.raw.communes:
        mine = [i for i in items if i["commune"] == commune.insee]
        counts = ", ".join(
            f"{sum(i['state'] == s for i in mine)} {label}" for s, label in _STATE_LABEL.items()
        )
        print(f"{commune.insee} ({commune.name}) : {counts}", file=out)
        for item in mine:
            if item["state"] in ("overdue", "due-soon"):
                print(
                    f"  {item['numero']}  {_STATE_LABEL[item['state']]} — à récupérer au plus "
                    f"tard le {_fr_date(item['retrieval_due'])}",
                    file=out,
                )
    return EXIT_OK


def _print_notified(notified: Notified, out: TextIO) -> None:
    line = (
        f"Courriels : {notified.announced} annonce(s) de nouvelles demandes, "
        f"{notified.alerts} alerte(s) d'échéance mise(s) en file"
    )
    delivery = notified.delivery
    if delivery is None:
        line += " ; pas de [smtp] configuré : ils restent en file d'attente"
    else:
        line += f" ; {len(delivery.sent)} envoyé(s)"
        if delivery.deferred or delivery.failed:
            line += f", {len(delivery.deferred)} à réessayer, {len(delivery.failed)} en échec" + (
                f" ({delivery.error})" if delivery.error else ""
            )
    print(line + ".", file=out)


def cmd_status(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    """Exit 0, 1 or 2 as a monitoring plugin, the verdict on the first line."""
    app = load_app(args, clock)
    result = health(app.engine, app.config, clock.now())
    if args.json:
        dump_json(_status_json(app, result), out)
        return result.code
    print(result.summary(), file=out)
    for commune in result.communes:
        line = f"{commune.name} ({commune.insee}) : "
        line += f"dernier succès {_fr_datetime(_iso(commune.last_success, app))}"
        if commune.failing_since:
            line += (
                f", en erreur depuis {_fr_datetime(_iso(commune.failing_since, app))} "
                f"[{commune.error_code}]"
            )
        print(line, file=out)
    print(f"Demandes en retard de récupération : {result.overdue}", file=out)
    print(f"Attestations de destruction à signer : {result.unsigned}", file=out)
    print(_SERVICE_FR[result.service](result.workers, app), file=out)
    print(
        f"Courriels en file : {result.queued}, en échec : {result.failed}"
        + ("" if app.config.raw.smtp else " (pas de [smtp] configuré : ils restent en file)"),
        file=out,
    )
    return result.code


def _status_json(app: App, result: Health) -> dict[str, Any]:
    return {
        "exit": result.code,
        "summary": result.summary(),
        "communes": [
            {
                "insee": c.insee,
                "name": c.name,
                "last_success": _iso(c.last_success, app),
                "last_error": _iso(c.last_error, app),
                "last_error_code": c.error_code,
                "failing_since": _iso(c.failing_since, app),
            }
            for c in result.communes
        ],
        "outbox": {"queued": result.queued, "failed": result.failed},
        "attestations_pending": result.unsigned,
        "overdue": result.overdue,
        "service": result.service,
        "workers": [
            {
                "worker": w.worker,
                "started_at": _iso(w.started_at, app),
                "beat_at": _iso(w.beat_at, app),
            }
            for w in result.workers
        ],
    }


_SERVICE_FR: dict[str, Callable[[list[Any], App], str]] = {
    "stopped": lambda w, app: "Service (intake run) : arrêté ou jamais démarré.",
    "running": lambda w, app: (
        f"Service (intake run) : en marche, {len(w)} instance(s), dernier signe de vie "
        f"{_fr_datetime(_iso(w[0].beat_at, app))}."
    ),
    "silent": lambda w, app: (
        f"Service (intake run) : SILENCIEUX depuis {_fr_datetime(_iso(w[0].beat_at, app))} "
        "(bloqué ou arrêté brutalement) : vérifiez-le (systemctl status intake)."
    ),
}


def _fr_datetime(value: str | None) -> str:
    return "jamais" if not value else datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")


# --- purge, attestations, end of the convention ---------------------------------------------


def cmd_purge(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    retention = app.retention(_actor(app.config, args.agent))
    if args.dry_run:
        return _print_purge_plan(app, retention.plan(), args.json, out)
    outcome = retention.purge()
    notified = app.notify() if outcome.attestation else None
    if args.json:
        dump_json(
            {
                "purged": outcome.purged,
                "attestation": outcome.attestation,
                "next_purge": _iso(outcome.next_purge, app),
            },
            out,
        )
        return EXIT_OK
    _print_purge(app, outcome, out)
    if notified is not None:
        _print_notified(notified, out)
    return EXIT_OK


def _print_purge_plan(app: App, planned: list[Any], as_json: bool, out: TextIO) -> int:
    if as_json:
        dump_json(
            {
                "dry_run": True,
                "would_purge": [
                    {
                        "numero": p.numero,
                        "commune": p.commune,
                        "status": p.status,
                        "purge_due": p.purge_due.isoformat(),
                        "goes_on": p.goes_on.isoformat(),
                    }
                    for p in planned
                ],
            },
            out,
        )
        return EXIT_OK
    if not planned:
        print("Simulation : rien ne serait détruit aujourd'hui. Rien n'a été modifié.", file=out)
        return EXIT_OK
    print(f"Simulation : {len(planned)} demande(s) seraient détruites aujourd'hui :", file=out)
    for p in planned:
        print(
            f"  {p.numero} — {app.config.commune_name(p.commune)} ({p.commune}), "
            f"conservation jusqu'au {p.purge_due:%d/%m/%Y}, état {p.status}",
            file=out,
        )
    print("Rien n'a été modifié (relancez sans --dry-run pour détruire).", file=out)
    return EXIT_OK


def _print_purge(app: App, outcome: PurgeOutcome, out: TextIO) -> None:
    if outcome.purged or outcome.attestation:
        line = f"{outcome.purged} demande(s) détruite(s) (clés et contenus chiffrés supprimés)"
        with transaction(app.engine) as session:
            drafted = attestation_store.get(session, outcome.attestation or 0)
        if drafted is not None and drafted.sign_by is not None:
            line += (
                f" ; attestation n° {drafted.id} à faire signer au plus tard le "
                f"{drafted.sign_by:%d/%m/%Y} (intake attestation show {drafted.id} -o FICHIER)"
            )
        print(line + ".", file=out)
    else:
        print("Rien à détruire aujourd'hui.", file=out)
    if outcome.next_purge:
        print(f"Prochaine destruction prévue le {outcome.next_purge:%d/%m/%Y}.", file=out)
    else:
        print("Aucune donnée personnelle détenue.", file=out)


_STATE_FR = {"pending": "à signer", "signed": "signée", "late": "EN RETARD"}


def cmd_attestations(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    summaries = app.attestations.listing()
    if args.json:
        dump_json([_summary_json(s) for s in summaries], out)
        return EXIT_OK
    if not summaries:
        print("Aucune attestation : rien n'a encore été détruit.", file=out)
    for s in summaries:
        print(_summary_line(s), file=out)
    return EXIT_OK


def _summary_json(s: Summary) -> dict[str, Any]:
    return {
        "id": s.id,
        "created_at": s.created_at,
        "demandes": s.demandes,
        "sign_by": s.sign_by.isoformat(),
        "state": s.state,
        "signed_by": s.signed_by,
        "signed_at": s.signed_at,
        "reason": s.reason,
        "signature": s.signature_kind,
    }


def _summary_line(s: Summary) -> str:
    line = (
        f"N° {s.id} — {s.demandes} demande(s) détruite(s), établie le "
        f"{_fr_datetime(s.created_at)}, à signer au plus tard le {s.sign_by:%d/%m/%Y} : "
        f"{_STATE_FR[s.state]}"
    )
    if s.signed_by:
        kind = "électroniquement" if s.signature_kind == "pades" else "à la main"
        line += f" {kind} par {s.signed_by} le {_fr_datetime(s.signed_at)}"
    return line


def cmd_attestation(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    attestations = app.attestations
    if args.attestation_command == "show":
        document = attestations.document(args.id)
        args.output.write_bytes(document)
        print(f"Attestation n° {args.id} écrite : {args.output}", file=out)
        return EXIT_OK
    if args.attestation_command == "sign":
        passphrase = os.environ.get(PASSPHRASE_ENV)
        if passphrase is None and sys.stdin.isatty():
            passphrase = getpass.getpass("Phrase secrète du certificat : ")
        data = _read_input(args.pkcs12)
        summary = attestations.sign(args.id, args.signer, data, passphrase)
    else:
        summary = attestations.record_signed(args.id, args.signer, _read_input(args.file))
    print(_summary_line(summary) + ".", file=out)
    return EXIT_OK


def _read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path} : fichier illisible ({exc.strerror})") from None


def cmd_report(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.reports import parse_month, previous_month

    app = load_app(args, clock)
    now = clock.now()
    try:
        month = (
            parse_month(args.month)
            if args.month
            else previous_month(deadlines.local_date(now, app.config.timezone))
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    pdf, csv_bytes = app.reports.make(month, now)
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"rapport-{month:%Y-%m}"
    stem.with_suffix(".pdf").write_bytes(pdf)
    stem.with_suffix(".csv").write_bytes(csv_bytes)
    print(f"Rapport de {month:%m/%Y} : {stem}.pdf et {stem}.csv", file=out)
    return EXIT_OK


def cmd_convention(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    if args.convention_command == "annexe1":
        return cmd_annexe1(args, clock, out)
    app = load_app(args, clock)
    member = app.config.staff_member(args.agent)
    if member is None or not {"signatory", "admin"} & set(member.duties):
        raise AccessDenied(
            f"{args.agent} ne peut pas mettre fin à la convention : il faut une personne de "
            "[[staff]] avec le rôle « signatory » ou « admin »"
        )
    if not args.yes and not sys.stdin.isatty():
        raise UsageError(
            "fin de la convention : toutes les données personnelles seraient détruites ; "
            "hors d'un terminal, confirmez avec --yes"
        )
    if not args.yes:
        answer = input(
            "Fin de la convention : toutes les données personnelles vont être détruites "
            "et plus rien ne sera reçu. Tapez FIN pour confirmer : "
        )
        if answer.strip() != "FIN":
            print("Abandon : rien n'a été modifié.", file=out)
            return EXIT_USAGE
    from intake.convention import end_convention

    now = clock.now()
    outcome = end_convention(app, member.email, now)
    print(f"Convention terminée le {now.astimezone(app.config.timezone):%d/%m/%Y}.", file=out)
    _print_purge(app, outcome, out)
    _print_notified(app.notify(), out)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    import threading

    from intake.daemon import Daemon, install_stop_signals

    stop = threading.Event()
    install_stop_signals(stop)  # a stop during start-up (migrations...) is a clean stop too
    app = load_app(args, clock)
    missing = app.config.missing_secrets()  # the service uses every one of them
    if missing:
        raise ConfigError(app.config.path, missing)
    app.ensure_open()  # also migrates and reaches the database before the first job
    app.vault  # noqa: B018  (a wrong key file stops the service before any job runs)
    if stop.is_set():
        return EXIT_OK
    daemon = Daemon(app, stop=stop)
    code = daemon.run()
    if daemon.abandoned:
        # The scheduler's worker threads are joined at exit: one stuck in a system call would
        # hold the process past systemd's stop timeout. Whatever it was doing is not committed,
        # so it is simply done again at the next start.
        logging.shutdown()
        sys.stdout.flush()
        os._exit(code)
    return code


def cmd_demo(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.demo import Demo

    try:
        console = not args.sans_console and sys.stdout.isatty()
        return Demo(Path(args.directory), out, started=clock.now(), console=console).run()
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None


def cmd_sandbox(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.sandbox import cli as sandbox_cli

    try:
        return sandbox_cli.run(args, out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


_COMMANDS: dict[str, Callable[[argparse.Namespace, Clock, TextIO], int]] = {
    "init": cmd_init,
    "check-config": cmd_check_config,
    "ingest": cmd_ingest,
    "demandes": cmd_demandes,
    "show": cmd_show,
    "export": cmd_export,
    "audit": cmd_audit,
    "vault": cmd_vault,
    "calendar": cmd_calendar,
    "web": cmd_web,
    "staff": cmd_staff,
    "poll": cmd_poll,
    "deadlines": cmd_deadlines,
    "run": cmd_run,
    "status": cmd_status,
    "purge": cmd_purge,
    "attestations": cmd_attestations,
    "attestation": cmd_attestation,
    "convention": cmd_convention,
    "report": cmd_report,
    "sandbox": cmd_sandbox,
    "demo": cmd_demo,
}
