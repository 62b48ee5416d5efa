"""What every command pays before it does anything: no work done on import."""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest

from intake.cli import build_parser
from intake.cli.lazy import Lazy
from intake.desk import accounts


def test_importing_the_command_makes_no_password_hash() -> None:
    """The console's dummy Argon2 hash (150 ms, 64 MB) is made when the console starts, not
    by every command that imports the accounts module."""
    probe = (
        "import intake.cli, intake.desk.accounts as a; print(a.dummy_hash.cache_info().currsize)"
    )
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
    loaded = _loaded_after("import intake.cli.reading_cmds")
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


# What `intake status`, run every minute by a supervision probe, must not load: on a current
# SQLite database it reads with the standard library's sqlite3 (storage.health), so neither
# SQLAlchemy nor the models, and nothing of the pipeline, the extranet or the documents.
NOT_FOR_STATUS = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "lxml",
    "requests",
    "jinja2",
    "cryptography",
    "apscheduler",
    "argon2",
    "fpdf",
    "psycopg",
    "storage.models",
    "storage.db",
    "intake.desk.dashboard",
    "intake.reports",
    "intake.pipeline",
    "intake.sources",
    "intake.feed",
    "intake.convention.notices",
)


def test_status_loads_the_configuration_and_nothing_of_the_database_layer() -> None:
    loaded = _loaded_after("import intake.cli.status_cmd")
    assert {"intake.config", "storage.health"} <= loaded
    assert sorted(name for name in NOT_FOR_STATUS if name in loaded) == []


@pytest.fixture(scope="module")
def lieu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lieu as `intake init` makes it (its database migrated)."""
    folder = tmp_path_factory.mktemp("lieu")
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    subprocess.run([sys.executable, "-m", "intake", "init"], cwd=folder, env=env, check=True,
                   capture_output=True)  # fmt: skip
    return folder


def _status(lieu: Path) -> tuple[str, set[str]]:
    """`intake status --json` in a fresh process: what it printed and every module it loaded."""
    probe = (
        "import contextlib, io, sys\n"
        "from intake.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main(['status', '--json'])\n"
        "print(code, ' '.join(sorted(sys.modules)))\n"
        "print(out.getvalue(), end='')"
    )
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=lieu, env=env, check=True, capture_output=True, text=True
    ).stdout
    first, _, printed = out.partition("\n")
    code, *modules = first.split()
    assert json.loads(printed)["exit"] == int(code)
    return printed, set(modules)


def test_status_reads_a_current_sqlite_database_without_sqlalchemy(lieu: Path) -> None:
    printed, loaded = _status(lieu)
    assert json.loads(printed)["service"] == "stopped"
    assert "storage.health" in loaded
    assert sorted(name for name in NOT_FOR_STATUS if name in loaded) == []


def test_status_leaves_to_the_engine_a_database_it_must_tighten_and_says_the_same(
    lieu: Path,
) -> None:
    """The probe above can fail: a database others could read is opened by the engine, which
    makes it private again (and would migrate an old schema), then read the same way."""
    quick, _ = _status(lieu)
    database = lieu / "data" / "intake.db"
    database.chmod(0o644)
    printed, loaded = _status(lieu)
    assert {"sqlalchemy", "storage.db"} <= loaded
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert printed == quick
    assert "sqlalchemy" not in _status(lieu)[1]  # private again: back to sqlite3 alone


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/intake.db",
        "sqlite:///./données/intake.db",
        "sqlite:////srv/intake/intake.db",
        "sqlite+pysqlite:///base de test.db",
        "sqlite:///~/intake.db",
        "sqlite:///a%20b.db",
        "sqlite:///data/intake.db?mode=ro",
        "sqlite://",
        "sqlite:///:memory:",
        "postgresql+psycopg://intake:s%40cret@127.0.0.1:5432/intake",
    ],
)
def test_the_configuration_resolves_an_sqlite_file_as_sqlalchemy_does(url: str) -> None:
    """Plain SQLite file URLs are resolved without SQLAlchemy (0.3 s of a probe's CPU)."""
    from sqlalchemy.engine import make_url

    from intake.config.checks import resolve_database_url, resolved

    base = Path("/srv/lieu")
    parsed = make_url(url)
    expected = url
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        expected = parsed.set(database=str(resolved(base, parsed.database))).render_as_string(
            hide_password=False
        )
    assert resolve_database_url(url, base) == expected


# What the service's long-lived process (`intake run`: its schedule, heartbeat and the
# emails' question) must not load: each job runs in a process of its own that loads what it
# needs and ends (intake.ops.children). tests/e2e/test_run.py checks the running service.
NOT_FOR_THE_SCHEDULER = (
    *(name for name in NOT_FOR_STATUS if name not in ("apscheduler", "intake.sources")),
    "intake.sources.extranet",
    "intake.sources.mailbox",
    "pyhanko",
    "storage.vault",
    "intake.ops.duties",
    "intake.retention",
    "intake.desk",
)


def test_the_services_scheduler_loads_nothing_of_its_jobs() -> None:
    loaded = _loaded_after(
        "import intake.cli.service_cmds, intake.ops.serve, intake.daemon, storage.pulse, "
        "intake.ops.children, intake.sources.dropbox"
    )
    assert {"apscheduler", "intake.config", "storage.pulse"} <= loaded
    assert sorted(name for name in NOT_FOR_THE_SCHEDULER if name in loaded) == []
