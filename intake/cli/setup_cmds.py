"""`intake init` and `intake check-config`: a lieu set up, and its configuration checked."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import TextIO

from intake import config as configuration
from intake import coverage, deadlines
from intake.app import App
from intake.cli.common import (
    EXIT_OK,
    UsageError,
)
from intake.clock import Clock
from intake.config import ConfigError
from storage.vault import VaultError, generate_master_key_file


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
        "habilitées : ce sont ceux d'un exemple), supprimez sa ligne « exemple = true », puis "
        "lancez « intake check-config ».",
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
        f"Étape suivante : adaptez {done.config} (lieu, communes, personnes habilitées : ceux "
        "d'un exemple) et supprimez sa ligne « exemple = true », puis "
        f"« intake -c {done.target_config} check-config » et « systemctl enable --now intake "
        "intake-web ».",
    )
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    config = configuration.load(configuration.locate(args.config))
    problems = config.example_problems() + config.missing_secrets()
    from intake.family.service import letter_problems

    problems += letter_problems(config)
    gaps = coverage.uncovered(config, deadlines.local_date(clock.now(), config.timezone))
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
    from intake.sources.extranet_errors import ExtranetError

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
