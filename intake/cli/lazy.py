"""A command's handler named by its module and imported only when that command runs.

The parser knows every command; importing every handler with it made `intake --version`
load SQLAlchemy, the pipeline and the extranet client (0.6 s, 80 MB) for nothing. Each
handler module is imported by the command that needs it, and only by it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol, TextIO

from intake.clock import Clock


class Handler(Protocol):
    def __call__(self, args: argparse.Namespace, clock: Clock, out: TextIO) -> int: ...


@dataclass(frozen=True)
class Lazy:
    """`intake.cli.<module>.<name>`, imported on the first call."""

    module: str
    name: str

    def __call__(self, args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
        handler: Handler = getattr(import_module(f"intake.cli.{self.module}"), self.name)
        return handler(args, clock, out)
