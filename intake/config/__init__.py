"""The TOML configuration of cli.md: loading, validation, and every problem named by its key.

Secrets never sit in the file: it names the environment variable (`*_env`) or
the file (`*_file`) that holds them. Relative paths are relative to the file's
own folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from intake.config.checks import (
    key_file_problems,
    problem_from_pydantic,
    resolve_database_url,
    resolved,
    secret_problems,
    semantic_problems,
)
from intake.config.sections import (
    _SECTION_KEYS,
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    ExtranetAccountSection,
    LieuSection,
    RawConfig,
    StaffSection,
)
from intake.errors import ConfigError, Problem

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "Config",
    "ConfigError",
    "ExtranetAccountSection",
    "LieuSection",
    "Problem",
    "RawConfig",
    "StaffSection",
    "key_file_problems",
    "load",
    "locate",
    "parse",
    "resolve_database_url",
]


@dataclass(frozen=True)
class Config:
    """A validated configuration, with paths resolved against the file's folder."""

    path: Path
    raw: RawConfig
    timezone: ZoneInfo
    database_url: str
    key_file: Path
    keys_dir: Path  # the key store: one key per purge day, never inside the database
    text: str = ""  # as read: the service hands it to its jobs, which never read the file again

    @property
    def lieu(self) -> LieuSection:
        return self.raw.lieu

    @property
    def retrieval_days(self) -> int:
        return self.raw.convention.retrieval_days

    @property
    def commune_codes(self) -> frozenset[str]:
        return frozenset(c.insee for c in self.raw.communes)

    def commune_name(self, insee: str) -> str:
        return next((c.name for c in self.raw.communes if c.insee == insee), insee)

    def staff_member(self, email: str) -> StaffSection | None:
        wanted = email.strip().casefold()
        return next((s for s in self.raw.staff if s.email.casefold() == wanted), None)

    def staff_communes(self, member: StaffSection) -> frozenset[str]:
        return frozenset(member.communes) if member.communes is not None else self.commune_codes

    def resolve_path(self, value: str) -> Path:
        return resolved(self.path.resolve().parent, value)

    def secret(
        self, section: BaseModel, name: str, environ: Mapping[str, str] = os.environ
    ) -> str | None:
        """The secret that `<name>_env` or `<name>_file` of a section points to, read only
        by the command that uses it: a command that does not connect never asks for it (so
        nobody is pushed to hand the account holder's password around). ConfigError when
        it is configured but missing; None when the section names none."""
        key = _SECTION_KEYS.get(type(section), type(section).__name__)
        problems = secret_problems(key, section.model_dump(), self.path.resolve().parent,
                                    environ, name, require=True)  # fmt: skip
        if problems:
            raise ConfigError(self.path, problems)
        values = section.model_dump()
        if values.get(f"{name}_env"):
            return environ.get(values[f"{name}_env"])
        if values.get(f"{name}_file"):
            # Only the line break an editor adds is dropped: a secret may hold spaces.
            text = self.resolve_path(values[f"{name}_file"]).read_text(encoding="utf-8")
            return text.rstrip("\r\n")
        return None

    def example_problems(self) -> list[Problem]:
        """The template's example still in place (`exemple = true`): the commands that act
        for the lieu (`check-config`, `run`, `poll`) refuse it rather than serve the example's
        communes under the example's name."""
        if not self.raw.exemple:
            return []
        lieu, staff = self.raw.lieu, self.raw.staff[0]
        return [
            Problem(
                "exemple",
                f"ce fichier est encore le modèle : le lieu {lieu.id} ({lieu.name}), ses "
                f"communes et ses personnes habilitées ({staff.name}…) sont ceux d'un exemple. "
                "Remplacez-les par ceux de votre convention, puis supprimez la ligne "
                "« exemple = true »",
            )
        ]

    def refuse_example(self) -> None:
        problems = self.example_problems()
        if problems:
            raise ConfigError(self.path, problems)

    def missing_secrets(self, environ: Mapping[str, str] = os.environ) -> list[Problem]:
        """Every configured secret that cannot be read now (for `check-config`)."""
        base, raw = self.path.resolve().parent, self.raw
        problems: list[Problem] = []
        accounts = raw.extranet.all_accounts() if raw.extranet else []
        sections: list[tuple[str, BaseModel | None, tuple[str, ...]]] = [
            (f"extranet.accounts[{i}]" if raw.extranet and raw.extranet.accounts else "extranet",
             account, ("password",))
            for i, account in enumerate(accounts)
        ]  # fmt: skip
        for key, section, names in (
            *sections,
            ("smtp", raw.smtp, ("username", "password")),
            ("mailbox", raw.mailbox, ("username", "password")),
        ):
            if section is not None:
                for name in names:
                    problems += secret_problems(
                        key, section.model_dump(), base, environ, name, require=True
                    )
        return problems


# --- loading -------------------------------------------------------------------------------------


def locate(explicit: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    if explicit:
        return Path(explicit)
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return Path(DEFAULT_CONFIG_NAME)


def load(path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """Read and validate; raises ConfigError listing every problem found."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, [Problem(str(path), "fichier de configuration introuvable")]
        ) from None
    except OSError as exc:
        raise ConfigError(
            path, [Problem(str(path), f"lecture impossible ({exc.strerror or exc})")]
        ) from None
    except UnicodeDecodeError:  # it has no strerror: reading it was an AttributeError
        raise ConfigError(
            path, [Problem(str(path), "lecture impossible (le fichier n'est pas en UTF-8)")]
        ) from None
    return parse(text, path, environ)


def parse(text: str, path: Path, environ: Mapping[str, str] = os.environ) -> Config:
    """Validate the text of a configuration as if read from `path` (its relative paths are
    relative to the path's folder); raises ConfigError listing every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [Problem(str(path), f"TOML invalide : {exc}")]) from None
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [problem_from_pydantic(e) for e in exc.errors()]) from None
    base = path.resolve().parent
    problems = semantic_problems(raw, base, environ)
    if problems:
        raise ConfigError(path, problems)
    return Config(
        path=path,
        raw=raw,
        timezone=ZoneInfo(raw.lieu.timezone),
        database_url=resolve_database_url(raw.database.url, base),
        key_file=resolved(base, raw.vault.key_file),
        keys_dir=(
            resolved(base, raw.vault.keys_dir)
            if raw.vault.keys_dir
            else resolved(base, raw.vault.key_file).parent / "cles"
        ),
        text=text,
    )
