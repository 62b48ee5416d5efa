"""What a schema cannot say about a configuration: each problem named by its key, in French
(the communes, the staff, the secrets, the key file, the optional sections)."""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake.config.sections import (
    EMAIL,
    ENV_NAME,
    INSEE_CODE,
    ExtranetSection,
    RawConfig,
    WebSection,
)
from intake.errors import Problem


def resolved(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


# An SQLite file named in plain characters (those SQLAlchemy's URLs neither quote nor decode):
# resolved and checked without importing SQLAlchemy, which costs `intake status`, run every
# minute by a supervision probe, some 0.3 s of CPU. Any other URL is SQLAlchemy's to read.
_SQLITE_FILE = re.compile(r"(sqlite(?:\+pysqlite)?):///([^?#]*)")
_PLAIN = re.compile(r"[A-Za-z0-9_.~/ +-]+")


def _plain_sqlite_file(url: str, base: Path) -> str | None:
    match = _SQLITE_FILE.fullmatch(url)
    if match is None or not _PLAIN.fullmatch(match.group(2)):
        return None
    path = str(resolved(base, match.group(2)))
    return f"{match.group(1)}:///{path}" if _PLAIN.fullmatch(path) else None


def resolve_database_url(url: str, base: Path) -> str:
    quick = _plain_sqlite_file(url, base)
    if quick is not None:
        return quick
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return parsed.set(database=str(resolved(base, parsed.database))).render_as_string(
            hide_password=False
        )
    return url


# --- semantic checks: what a schema cannot say ---------------------------------------------------


def semantic_problems(raw: RawConfig, base: Path, environ: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    problems += _timezone_problems(raw)
    problems += _commune_problems(raw)
    problems += _staff_problems(raw)
    problems += _database_problems(raw)
    problems += _key_file_problems(resolved(base, raw.vault.key_file))
    problems += _keys_dir_problems(raw, base)
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
    if _SQLITE_FILE.fullmatch(raw.database.url):
        return []  # SQLite, a file
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

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


def _keys_dir_problems(raw: RawConfig, base: Path) -> list[Problem]:
    """The key store: absent is fine (made at first use), shared with others is not."""
    key = "vault.keys_dir"
    path = (
        resolved(base, raw.vault.keys_dir)
        if raw.vault.keys_dir
        else resolved(base, raw.vault.key_file).parent / "cles"
    )
    try:
        info = path.lstat()
    except FileNotFoundError:
        return []
    except OSError as exc:
        return [Problem(key, f"magasin de clés illisible : {path} ({exc.strerror})")]
    if not stat.S_ISDIR(info.st_mode):
        return [Problem(key, f"{path} n'est pas un dossier")]
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return [
            Problem(
                key,
                f"{path} est accessible à d'autres utilisateurs "
                f"(droits {stat.filemode(info.st_mode)}) ; faites chmod 700",
            )
        ]
    return []


def secret_problems(
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
    if require and file_name and not resolved(base, file_name).is_file():
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
        problems += secret_problems(key, account.model_dump(), base, environ, "password")
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
        if ex.ca_bundle and not resolved(base, ex.ca_bundle).is_file():
            problems.append(Problem("extranet.ca_bundle", f"fichier introuvable : {ex.ca_bundle}"))
    if raw.smtp is not None:
        if not EMAIL.fullmatch(raw.smtp.sender):
            problems.append(Problem("smtp.sender", "adresse électronique invalide"))
        problems += secret_problems("smtp", raw.smtp.model_dump(), base, environ, "password")
        if raw.smtp.ca_bundle and not resolved(base, raw.smtp.ca_bundle).is_file():
            problems.append(
                Problem("smtp.ca_bundle", f"fichier introuvable : {raw.smtp.ca_bundle}")
            )
        problems += secret_problems("smtp", raw.smtp.model_dump(), base, environ, "username")
    if raw.mailbox is not None:
        if not EMAIL.fullmatch(raw.mailbox.sender):
            problems.append(Problem("mailbox.sender", "adresse électronique invalide"))
        if raw.mailbox.ssl and raw.mailbox.starttls:
            problems.append(Problem("mailbox.starttls", "choisir ssl ou starttls, pas les deux"))
        problems += secret_problems("mailbox", raw.mailbox.model_dump(), base, environ, "password")
        problems += secret_problems("mailbox", raw.mailbox.model_dump(), base, environ, "username")
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


def problem_from_pydantic(error: Mapping[str, Any]) -> Problem:
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
