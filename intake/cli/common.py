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
    from datetime import datetime

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


def actor(config: Config, agent: str | None, now: datetime) -> str:
    """Who a command acts for: the system account, or a person habilitated at `now`."""
    from intake.desk.access import authorize

    if agent is None:
        return f"système:{getpass.getuser()}"
    return authorize(config, agent, now).email
