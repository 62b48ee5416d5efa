"""The TOML configuration of cli.md: loading, validation, and every problem named by its key.

Secrets never sit in the file: it names the environment variable (`*_env`) or
the file (`*_file`) that holds them. Relative paths are relative to the file's
own folder.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from intake.errors import IntakeError

CONFIG_ENV = "INTAKE_CONFIG"
DEFAULT_CONFIG_NAME = "intake.toml"

# Metropolitan departments 01-95 (Corsica as 2A/2B, never 20), overseas 971-976.
INSEE_CODE = re.compile(r"(?:0[1-9]|1[0-9]|2[1-9AB]|[3-8][0-9]|9[0-5])[0-9]{3}|97[1-6][0-9]{2}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Duty = Literal["recipient", "signatory", "admin"]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LieuSection(_Section):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9-]{1,32}$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    timezone: str = "Europe/Paris"


class ConventionSection(_Section):
    signed_on: date
    retrieval_days: int = Field(default=15, ge=1, le=365)
    # Renewed tacitly each year on its anniversary; ended with this much notice.
    renewal_notice_months: int = Field(default=3, ge=0, le=12)


class CommuneSection(_Section):
    insee: str
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class StaffSection(_Section):
    name: NonEmpty
    function: str = ""
    email: str
    duties: list[Duty] = Field(min_length=1)
    communes: list[str] | None = None
    since: date | None = None  # habilitated from (the Caf is told within 15 days)
    until: date | None = None  # habilitation ended (the Caf is told within 15 days)


class DatabaseSection(_Section):
    url: str = "sqlite:///data/intake.db"


class VaultSection(_Section):
    key_file: str = "secrets/master.key"


class ExtranetAccountSection(_Section):
    """One habilitated person's extranet account and the communes it retrieves."""

    account: str
    password_env: str | None = None
    password_file: str | None = None
    communes: list[str] | None = None  # default: the person's communes in [[staff]]


class ExtranetSection(_Section):
    url: str
    # One account (account + password_*), or several ([[extranet.accounts]]) when no single
    # habilitated person's account covers every commune of annexe 1.
    account: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    accounts: list[ExtranetAccountSection] = []
    ca_bundle: str | None = None
    poll_minutes: int = Field(default=30, ge=1, le=1440)

    def all_accounts(self) -> list[ExtranetAccountSection]:
        if self.accounts:
            return list(self.accounts)
        if self.account is None:
            return []
        return [
            ExtranetAccountSection(
                account=self.account,
                password_env=self.password_env,
                password_file=self.password_file,
            )
        ]


class SmtpSection(_Section):
    host: NonEmpty
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    starttls: bool = False
    ca_bundle: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    password_file: str | None = None


class MailboxSection(_Section):
    host: NonEmpty
    port: int = Field(default=993, ge=1, le=65535)
    ssl: bool = True
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    folder: NonEmpty = "INBOX"
    sender: str
    ca_bundle: str | None = None


class AlertsSection(_Section):
    before_deadline: list[Annotated[int, Field(ge=0, le=60)]] = [5, 1]  # days before
    unreachable_hours: float = Field(default=4.0, gt=0, le=168)  # silence before an outage alert


class DropboxSection(_Section):
    path: NonEmpty


class RetentionSection(_Section):
    # "monthly": on the 1st, everything whose purge day falls in the month goes, so the
    # month's attestation has the whole month to be signed; "daily": each on its own day.
    policy: Literal["monthly", "daily"] = "monthly"


class CafSection(_Section):
    email: str  # the Caf's partner contact: signed attestations are sent to it


class WebSection(_Section):
    # Where `intake web` listens; behind a reverse proxy (HTTPS), keep it on loopback.
    listen: Annotated[str, StringConstraints(pattern=r"^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$")] = (
        "127.0.0.1:8080"
    )
    base_url: str | None = None  # the console's address as staff reach it (links in emails)
    insecure_http: bool = False  # cookies without Secure: for trials on 127.0.0.1 only


_SECTION_KEYS: dict[type, str] = {}  # filled below: the TOML name of each secret's section


class RawConfig(_Section):
    lieu: LieuSection
    convention: ConventionSection
    communes: list[CommuneSection] = Field(min_length=1)
    staff: list[StaffSection] = Field(min_length=1)
    database: DatabaseSection = DatabaseSection()
    vault: VaultSection = VaultSection()
    extranet: ExtranetSection | None = None
    smtp: SmtpSection | None = None
    mailbox: MailboxSection | None = None
    dropbox: DropboxSection | None = None
    alerts: AlertsSection = AlertsSection()
    retention: RetentionSection = RetentionSection()
    web: WebSection = WebSection()
    caf: CafSection | None = None


_SECTION_KEYS.update(
    {
        ExtranetSection: "extranet",
        ExtranetAccountSection: "extranet.accounts",
        SmtpSection: "smtp",
        MailboxSection: "mailbox",
    }
)


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} : {self.message}"


class ConfigError(IntakeError):
    def __init__(self, path: Path | None, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{len(problems)} problème(s) de configuration")


@dataclass(frozen=True)
class Config:
    """A validated configuration, with paths resolved against the file's folder."""

    path: Path
    raw: RawConfig
    timezone: ZoneInfo
    database_url: str
    key_file: Path

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
        return _resolve(self.path.resolve().parent, value)

    def secret(
        self, section: BaseModel, name: str, environ: Mapping[str, str] = os.environ
    ) -> str | None:
        """The secret that `<name>_env` or `<name>_file` of a section points to, read only
        by the command that uses it: a command that does not connect never asks for it (so
        nobody is pushed to hand the account holder's password around). ConfigError when
        it is configured but missing; None when the section names none."""
        key = _SECTION_KEYS.get(type(section), type(section).__name__)
        problems = _secret_problems(key, section.model_dump(), self.path.resolve().parent,
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
                    problems += _secret_problems(
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
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            path, [Problem(str(path), "fichier de configuration introuvable")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            path, [Problem(str(path), f"lecture impossible ({exc.strerror or exc})")]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [Problem(str(path), f"TOML invalide : {exc}")]) from None
    try:
        raw = RawConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [_problem_from_pydantic(e) for e in exc.errors()]) from None
    base = path.resolve().parent
    problems = _semantic_problems(raw, base, environ)
    if problems:
        raise ConfigError(path, problems)
    return Config(
        path=path,
        raw=raw,
        timezone=ZoneInfo(raw.lieu.timezone),
        database_url=resolve_database_url(raw.database.url, base),
        key_file=_resolve(base, raw.vault.key_file),
    )


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def resolve_database_url(url: str, base: Path) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return parsed.set(database=str(_resolve(base, parsed.database))).render_as_string(
            hide_password=False
        )
    return url


# --- semantic checks: what a schema cannot say ---------------------------------------------------


def _semantic_problems(raw: RawConfig, base: Path, environ: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    problems += _timezone_problems(raw)
    problems += _commune_problems(raw)
    problems += _staff_problems(raw)
    problems += _database_problems(raw)
    problems += _key_file_problems(_resolve(base, raw.vault.key_file))
    problems += _optional_section_problems(raw, base, environ)
    problems += _web_problems(raw.web)
    if raw.caf is not None and not EMAIL.fullmatch(raw.caf.email):
        problems.append(Problem("caf.email", "adresse électronique invalide"))
    return problems


def _web_problems(web: WebSection) -> list[Problem]:
    if web.base_url is not None and not re.fullmatch(
        r"https?://[^\s/?#]+(/[^\s?#]*)?", web.base_url
    ):
        return [Problem("web.base_url", "URL http(s) attendue, sans paramètres")]
    return []


def _timezone_problems(raw: RawConfig) -> list[Problem]:
    try:
        ZoneInfo(raw.lieu.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return [Problem("lieu.timezone", f"fuseau horaire IANA inconnu « {raw.lieu.timezone} »")]
    return []


def _commune_problems(raw: RawConfig) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, commune in enumerate(raw.communes):
        key = f"communes[{i}].insee"
        if not INSEE_CODE.fullmatch(commune.insee):
            problems.append(Problem(key, f"« {commune.insee} » n'est pas un code INSEE de commune"))
        elif commune.insee in seen:
            problems.append(Problem(key, f"la commune {commune.insee} est déclarée deux fois"))
        seen.add(commune.insee)
    return problems


def _staff_problems(raw: RawConfig) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    codes = {c.insee for c in raw.communes}
    for i, member in enumerate(raw.staff):
        if not EMAIL.fullmatch(member.email):
            problems.append(Problem(f"staff[{i}].email", "adresse électronique invalide"))
        elif member.email.casefold() in seen:
            problems.append(
                Problem(
                    f"staff[{i}].email",
                    "adresse déjà utilisée par une autre personne "
                    "(chaque personne habilitée a sa propre adresse)",
                )
            )
        seen.add(member.email.casefold())
        if len(set(member.duties)) != len(member.duties):
            problems.append(Problem(f"staff[{i}].duties", "rôle répété"))
        for code in member.communes or []:
            if code not in codes:
                problems.append(
                    Problem(
                        f"staff[{i}].communes", f"la commune {code} n'est pas dans [[communes]]"
                    )
                )
    for duty in ("recipient", "signatory", "admin"):
        if not any(duty in m.duties for m in raw.staff):
            problems.append(Problem("staff", f"aucune personne n'a le rôle « {duty} »"))
    return problems


def _database_problems(raw: RawConfig) -> list[Problem]:
    try:
        backend = make_url(raw.database.url).get_backend_name()
    except ArgumentError:
        return [Problem("database.url", "URL de base de données illisible")]
    if backend not in ("sqlite", "postgresql"):
        return [
            Problem(
                "database.url", f"moteur « {backend} » non pris en charge (sqlite ou postgresql)"
            )
        ]
    return []


def key_file_problems(path: Path) -> list[Problem]:
    """Problems of the master key file; shared with `intake init` and the vault."""
    return _key_file_problems(path)


def _key_file_problems(path: Path) -> list[Problem]:
    key = "vault.key_file"
    try:
        info = path.stat()
    except FileNotFoundError:
        return [Problem(key, f"fichier de clé introuvable : {path}")]
    except OSError as exc:
        return [Problem(key, f"fichier de clé illisible : {path} ({exc.strerror})")]
    if not stat.S_ISREG(info.st_mode):
        return [Problem(key, f"{path} n'est pas un fichier")]
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            Problem(
                key,
                f"{path} est accessible à d'autres utilisateurs "
                f"(droits {stat.filemode(info.st_mode)}) ; faites chmod 600",
            )
        ]
    return []


def _secret_problems(
    section: str,
    values: Mapping[str, Any],
    base: Path,
    environ: Mapping[str, str],
    name: str,
    *,
    require: bool = False,
) -> list[Problem]:
    """What is wrong with how a secret is configured; with `require`, also whether it can be
    read now (the variable set, the file there)."""
    env_key, file_key = f"{name}_env", f"{name}_file"
    env_name, file_name = values.get(env_key), values.get(file_key)
    if env_name and file_name:
        return [Problem(f"{section}.{name}_env", f"choisir {env_key} ou {file_key}, pas les deux")]
    if env_name:
        if not ENV_NAME.fullmatch(env_name):
            return [Problem(f"{section}.{env_key}", "nom de variable d'environnement invalide")]
        if require and env_name not in environ:
            return [
                Problem(
                    f"{section}.{env_key}",
                    f"la variable d'environnement {env_name} n'est pas définie",
                )
            ]
    if require and file_name and not _resolve(base, file_name).is_file():
        return [Problem(f"{section}.{file_key}", f"fichier introuvable : {file_name}")]
    return []


def _extranet_account_problems(
    raw: RawConfig, ex: ExtranetSection, base: Path, environ: Mapping[str, str]
) -> list[Problem]:
    if ex.accounts and ex.account:
        return [Problem("extranet.account", "choisir account ou [[extranet.accounts]]")]
    if not ex.all_accounts():
        return [Problem("extranet.account", "un compte (account) ou [[extranet.accounts]]")]
    problems: list[Problem] = []
    declared = {c.insee for c in raw.communes}
    for i, account in enumerate(ex.all_accounts()):
        key = f"extranet.accounts[{i}]" if ex.accounts else "extranet"
        member = next(
            (m for m in raw.staff if m.email.casefold() == account.account.casefold()), None
        )
        if member is None:
            problems.append(
                Problem(
                    f"{key}.account",
                    "le compte doit être celui d'une personne habilitée de [[staff]] "
                    "(la convention interdit les comptes partagés ou techniques)",
                )
            )
        if not (account.password_env or account.password_file):
            problems.append(
                Problem(
                    f"{key}.password_env",
                    "mot de passe : password_env ou password_file obligatoire",
                )
            )
        problems += _secret_problems(key, account.model_dump(), base, environ, "password")
        allowed = set(member.communes or declared) if member else declared
        for insee in account.communes or []:
            if insee not in declared or insee not in allowed:
                problems.append(
                    Problem(
                        f"{key}.communes",
                        f"{insee} : commune hors de l'annexe 1 ou hors des communes de "
                        f"{account.account} dans [[staff]]",
                    )
                )
    return problems


def _optional_section_problems(
    raw: RawConfig, base: Path, environ: Mapping[str, str]
) -> list[Problem]:
    problems: list[Problem] = []
    if raw.extranet is not None:
        ex = raw.extranet
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", ex.url):
            problems.append(Problem("extranet.url", "URL http(s) attendue"))
        problems += _extranet_account_problems(raw, ex, base, environ)
        if ex.ca_bundle and not _resolve(base, ex.ca_bundle).is_file():
            problems.append(Problem("extranet.ca_bundle", f"fichier introuvable : {ex.ca_bundle}"))
    if raw.smtp is not None:
        if not EMAIL.fullmatch(raw.smtp.sender):
            problems.append(Problem("smtp.sender", "adresse électronique invalide"))
        problems += _secret_problems("smtp", raw.smtp.model_dump(), base, environ, "password")
        if raw.smtp.ca_bundle and not _resolve(base, raw.smtp.ca_bundle).is_file():
            problems.append(
                Problem("smtp.ca_bundle", f"fichier introuvable : {raw.smtp.ca_bundle}")
            )
        problems += _secret_problems("smtp", raw.smtp.model_dump(), base, environ, "username")
    if raw.mailbox is not None:
        if not EMAIL.fullmatch(raw.mailbox.sender):
            problems.append(Problem("mailbox.sender", "adresse électronique invalide"))
        if raw.mailbox.ssl and raw.mailbox.starttls:
            problems.append(Problem("mailbox.starttls", "choisir ssl ou starttls, pas les deux"))
        problems += _secret_problems("mailbox", raw.mailbox.model_dump(), base, environ, "password")
        problems += _secret_problems("mailbox", raw.mailbox.model_dump(), base, environ, "username")
    return problems


# --- pydantic errors in French -------------------------------------------------------------------

_FRENCH = {
    "missing": "clé obligatoire manquante",
    "extra_forbidden": "clé inconnue",
    "string_type": "texte attendu",
    "string_too_short": "ne doit pas être vide",
    "string_too_long": "trop long (au plus {max_length} caractères)",
    "string_pattern_mismatch": "format invalide",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "bool_type": "true ou false attendu",
    "bool_parsing": "true ou false attendu",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than_equal": "doit être au plus {le}",
    "date_type": "date attendue (AAAA-MM-JJ, sans guillemets)",
    "date_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": "date attendue (AAAA-MM-JJ)",
    "date_from_datetime_inexact": "date attendue, sans heure",
    "list_type": "liste attendue",
    "too_short": "liste vide : au moins un élément attendu",
    "model_type": "section (table TOML) attendue",
    "model_attributes_type": "section (table TOML) attendue",
    "literal_error": "valeur inconnue (attendu : {expected})",
}


def _problem_from_pydantic(error: Mapping[str, Any]) -> Problem:
    key = ""
    for part in error["loc"]:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    template = _FRENCH.get(error["type"], "valeur invalide")
    context = dict(error.get("ctx") or {})
    try:
        message = template.format(**context)
    except (KeyError, IndexError):
        message = template
    if error["type"] == "string_pattern_mismatch" and key == "lieu.id":
        message = "identifiant attendu : 1 à 32 caractères A-Z, 0-9 ou -"
    return Problem(key or "(racine)", message)
