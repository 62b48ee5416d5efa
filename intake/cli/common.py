"""What every command handler shares: exit codes, the usage error, the app, JSON output."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from intake import config as configuration
from intake.app import App
from intake.clock import Clock

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class UsageError(Exception):
    pass


def load_app(args: argparse.Namespace, clock: Clock) -> App:
    return App(configuration.load(configuration.locate(args.config)), clock)


def dump_json(value: object, out: TextIO) -> None:
    json.dump(value, out, ensure_ascii=False, indent=2)
    out.write("\n")
