"""`intake init` and `intake check-config`: a lieu set up, and its configuration checked."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from intake import config as configuration
from intake.app import App
from intake.cli.common import (
    EXIT_OK,
    UsageError,
)
from intake.clock import Clock
from intake.config import ConfigError


def cmd_init(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    if args.system:
        return _init_system(args, clock, out)
    from intake.ops.install import init_folder

    done = init_folder(Path(args.directory), clock)
    _print_init(
        out,
        f"Configuration écrite : {done.config}",
        done.key,
        done.database_url,
        f"Étape suivante : adaptez {done.config} (lieu, communes de l'annexe 1, personnes "
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
    from intake.ops.install import InstallError, init_system

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
    from intake.ops.install import problems

    config = configuration.load(configuration.locate(args.config))
    found = problems(App(config, clock), args.connect)
    if found:
        raise ConfigError(config.path, found)
    print(
        f"Configuration valide : {config.path} — lieu {config.lieu.id} ({config.lieu.name}), "
        f"{len(config.raw.communes)} commune(s), {len(config.raw.staff)} personne(s) habilitée(s).",
        file=out,
    )
    return EXIT_OK
