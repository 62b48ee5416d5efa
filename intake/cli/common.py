"""What every command handler shares: exit codes, the usage error, the app, JSON output."""

from __future__ import annotations

import argparse
import getpass
import json
from typing import TYPE_CHECKING, TextIO

from intake import config as configuration
from intake.app import App
from intake.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE
from intake.clock import Clock
from intake.errors import IntakeError

if TYPE_CHECKING:
    from intake.config import Config

__all__ = [
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "UsageError",
    "actor",
    "dump_json",
    "load_app",
]


class UsageError(IntakeError):
    pass


def load_app(args: argparse.Namespace, clock: Clock) -> App:
    return App(configuration.load(configuration.locate(args.config)), clock)


def dump_json(value: object, out: TextIO) -> None:
    json.dump(value, out, ensure_ascii=False, indent=2)
    out.write("\n")


def actor(config: Config, agent: str | None) -> str:
    from intake.access import AccessDenied

    if agent is None:
        return f"système:{getpass.getuser()}"
    member = config.staff_member(agent)
    if member is None:
        raise AccessDenied(
            f"{agent} n'est pas une personne habilitée de la configuration ([[staff]])"
        )
    return member.email
