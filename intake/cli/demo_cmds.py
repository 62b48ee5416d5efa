"""`intake demo` and `intake sandbox`: the whole cycle on fictitious families, and a local
extranet to try against."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from intake.cli.common import (
    UsageError,
)
from intake.clock import Clock


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
