"""The one base of the refusals a person can act on.

An `IntakeError`'s message is French, says what was refused and why, and holds nothing
personal: the command line prints it and exits 2, the console shows it on an error page.
Storage's own refusals (a wrong master key, a database already in use) derive from
`storage.errors.StorageError`, storage knowing nothing of this package.

The configuration's refusal lives here too, not in `intake.config`: the command line
catches it for every command, and importing the configuration's schema (pydantic,
SQLAlchemy's URL parser) is the work of the commands that read one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class IntakeError(Exception):
    """A refusal whose message is for the person (French, nothing personal)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the configuration, named by its key."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} : {self.message}"


class ConfigError(IntakeError):
    def __init__(self, path: Path | None, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{len(problems)} problème(s) de configuration")
