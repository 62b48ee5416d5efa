"""The `intake` command: argument parsing and printing only; the work is in the modules it calls.

Exit codes (cli.md): 0 done; 1 done, but some input was refused (or the audit
trail is broken); 2 usage or configuration error; 3 an external service
(here: the database) could not be reached.
"""

from __future__ import annotations

import argparse
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
from intake.access import NotHeld, open_demande, write_private
from intake.app import App
from intake.cli.calendar_cmd import (
    cmd_calendar,
)
from intake.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    UsageError,
    actor,
    load_app,
)
from intake.cli.console import cmd_staff, cmd_web
from intake.cli.parser import build_parser
from intake.cli.printing import _fr_date, _ingest_line, _iso
from intake.cli.retention_cmds import (
    cmd_attestation,
    cmd_attestations,
    cmd_convention,
    cmd_purge,
    cmd_report,
)
from intake.cli.service_cmds import cmd_deadlines, cmd_poll, cmd_status
from intake.cli.trust import cmd_audit, cmd_vault
from intake.clock import Clock, SystemClock
from intake.config import Config, ConfigError
from intake.demande_text import render
from intake.errors import IntakeError
from intake.exports import EXPORT_WARNING, Selection, export, export_file
from intake.feed import FeedHeader
from intake.french import plural
from intake.pipeline import Result
from storage import demandes as store
from storage.db import transaction
from storage.errors import StorageError
from storage.models import DemandeRow, Status
from storage.vault import VaultError, generate_master_key_file

log = logging.getLogger("intake")


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
    except (IntakeError, StorageError) as exc:  # a refusal the person can act on
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
    who = actor(app.config, args.agent)
    ingestor = app.ingestor(who)
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


# --- demandes ------------------------------------------------------------------------------------


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
