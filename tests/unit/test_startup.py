"""What every command pays before it does anything: no work done on import."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from importlib import import_module

from intake import accounts
from intake.cli import build_parser
from intake.cli.lazy import Lazy


def test_importing_the_command_makes_no_password_hash() -> None:
    """The console's dummy Argon2 hash (150 ms, 64 MB) is made when the console starts, not
    by every command that imports the accounts module."""
    probe = "import intake.cli, intake.accounts as a; print(a.dummy_hash.cache_info().currsize)"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "0"


def test_the_dummy_hash_is_one_argon2_hash_made_once() -> None:
    first = accounts.dummy_hash()
    assert first.startswith("$argon2") and accounts.dummy_hash() is first


# What `intake --version`, `intake --help` and the parser must not load: each is imported by
# the command that needs it (the handlers, the configuration, the database, the feed).
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "pydantic",
    "lxml",
    "xmlschema",
    "fastapi",
    "starlette",
    "cryptography",
    "requests",
    "apscheduler",
    "argon2",
    "fpdf",
    "pyhanko",
    "intake.app",
    "intake.config",
    "intake.pipeline",
    "intake.sources",
    "intake.feed",
    "storage.models",
    "storage.db",
)


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return set(out.split())


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in loaded)


def test_importing_the_command_loads_no_library_of_its_handlers() -> None:
    assert _heavy(_loaded_after("import intake.cli; intake.cli.build_parser()")) == []


def test_version_and_help_load_nothing_heavy() -> None:
    for argv in (["--version"], ["--help"], ["status", "--help"]):
        code = (
            "import intake.cli, contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n"
            f"        intake.cli.main({argv!r})\n"
            "    except SystemExit:\n"
            "        pass"
        )
        assert _heavy(_loaded_after(code)) == [], argv


def test_the_probe_sees_what_a_handler_loads() -> None:
    """The probe above can fail: a command's handler does load its libraries."""
    loaded = _loaded_after("import intake.cli.service_cmds")
    assert {"sqlalchemy", "intake.config"} <= loaded


def _handlers(parser: argparse.ArgumentParser) -> Iterator[object]:
    yield parser.get_default("func")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _handlers(sub)


def test_every_command_names_a_handler_that_exists() -> None:
    """Named by strings, the handlers are checked here rather than when someone runs one."""
    named = [h for h in _handlers(build_parser()) if h is not None]
    assert len(named) >= 20 and all(isinstance(h, Lazy) for h in named)
    for handler in named:
        assert isinstance(handler, Lazy)
        assert callable(getattr(import_module(f"intake.cli.{handler.module}"), handler.name))


def test_status_loads_the_database_and_nothing_of_the_pipeline() -> None:
    """`intake status` is what a supervision probe runs every minute."""
    loaded = _loaded_after("import intake.cli.status_cmd")
    assert {"sqlalchemy", "intake.config", "storage.models"} <= loaded
    unwanted = ("lxml", "requests", "jinja2", "cryptography", "apscheduler", "fpdf",
                "intake.pipeline", "intake.sources", "intake.feed", "intake.notices")  # fmt: skip
    assert sorted(name for name in unwanted if name in loaded) == []
