"""`intake demo` and `intake sandbox`: the whole cycle on fictitious families, and a local
extranet to try against."""

from __future__ import annotations

import argparse
import shutil
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
        demo = Demo(
            Path(args.directory), out, started=clock.now(), console=console, command=typed()
        )
        return demo.run()
    except FileExistsError as exc:
        raise UsageError(str(exc)) from None


def typed(argv0: str | None = None) -> str:
    """`intake` as the person can type it again: `intake` when the command found on PATH is
    this one (an activated environment, an installed package), else the script's path,
    relative to the current folder when it lies below it (`.venv/bin/intake`)."""
    script = Path(argv0 if argv0 is not None else sys.argv[0])
    if script.name != "intake":  # `python -m intake`, a test's launcher
        return "intake"
    found = shutil.which("intake")
    if found is not None and Path(found).absolute() == script.absolute():
        return "intake"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script.absolute())


def cmd_sandbox(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    from intake.sandbox import cli as sandbox_cli

    try:
        return sandbox_cli.run(args, out)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
