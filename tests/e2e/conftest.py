from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import time_machine

from tests.support.browser import browser, console, open_window  # noqa: F401 (fixtures)
from tests.support.lieu import NOW

LAUNCHER = Path(__file__).with_name("launcher.py")
# The console script installed beside this interpreter (CI's PATH does not hold the venv).
INTAKE_SCRIPT = Path(sys.executable).with_name("intake")
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str


class Intake:
    """The `intake` command in a folder of its own, as the lieu's IT person runs it.

    By default the command runs in this process (`intake.cli.main`, the same entry point as the
    installed script, with the folder, environment, standard streams and clock it would have):
    a new Python per command cost a second of imports. `process=True` starts the real program
    (through the launcher that fixes its clock), `script=True` the installed console script;
    tests of signals, kills, exit statuses of the binary and the daemon use those."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "INTAKE_TEST_NOW": NOW.isoformat(), "PYTHONPATH": str(REPO)}
        self.env.pop("INTAKE_CONFIG", None)

    def __call__(
        self,
        *args: str,
        now: str | None = None,
        script: bool = False,
        process: bool = False,
        input: str | None = None,
    ) -> Run:
        env = dict(self.env)
        if now:
            env["INTAKE_TEST_NOW"] = now
        if not (script or process):
            return _in_process(list(args), self.folder, env, input)
        command = [str(INTAKE_SCRIPT)] if script else [sys.executable, str(LAUNCHER)]
        done = subprocess.run(
            [*command, *args],
            cwd=self.folder,
            env=env,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)


@contextlib.contextmanager
def _as_a_process(folder: Path, env: dict[str, str], stdin: str) -> Iterator[None]:
    """What a new process would have: its folder, environment, umask, standard input, and a
    logging setup of its own (the command's is undone afterwards, pytest's is kept)."""
    saved_env, saved_cwd, saved_stdin = dict(os.environ), Path.cwd(), sys.stdin
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_umask = os.umask(0o022)
    os.environ.clear()
    os.environ.update(env)
    os.chdir(folder)
    sys.stdin = io.StringIO(stdin)
    try:
        yield
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        os.umask(saved_umask)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


@contextlib.contextmanager
def _engines_closed_after() -> Iterator[None]:
    """The command's database connections are closed when it returns, as a process's are when
    it exits: SQLite checkpoints its WAL on the last close, and later processes (a kill test,
    a full disk) must find the files as a real command leaves them."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    opened: list[Engine] = []

    def seen(connection: object) -> None:
        engine = connection.engine  # type: ignore[attr-defined]
        if engine not in opened:
            opened.append(engine)

    event.listen(Engine, "engine_connect", seen)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", seen)
        for engine in opened:
            engine.dispose()


def _in_process(args: list[str], folder: Path, env: dict[str, str], stdin: str | None) -> Run:
    from intake.cli import main

    out_bytes, err = io.BytesIO(), io.StringIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    with (
        _as_a_process(folder, env, stdin or ""),
        _engines_closed_after(),
        time_machine.travel(env["INTAKE_TEST_NOW"], tick=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(args)
        except SystemExit as exit_:  # argparse's usage errors and --help
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
        out.flush()
    return Run(code, out_bytes.getvalue().decode("utf-8"), err.getvalue())


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    folder = tmp_path / "lieu"
    folder.mkdir()
    return Intake(folder)


def adapt(config: Path) -> None:
    """What the IT person does after `intake init`: make the template the lieu's own. Here the
    example's values stay; only the line marking them as an example goes."""
    text = config.read_text(encoding="utf-8")
    assert "\nexemple = true\n" in text
    config.write_text(text.replace("\nexemple = true\n", "\n"), encoding="utf-8")


@pytest.fixture
def initialised(intake: Intake) -> Intake:
    assert intake("init").code == 0
    adapt(intake.folder / "intake.toml")
    return intake


ACCOUNT = "l.feuga@ville-corbas.fr"
STAFF = "l.feuga@ville-corbas.fr"  # the generated configuration's person of [[staff]]
CONSOLE_PASSWORD = "le mot de passe de la console"  # the tests' own


def give_password(intake: Intake, email: str = STAFF, password: str = CONSOLE_PASSWORD) -> str:
    """Set a person's console password (`intake staff password`); what a command that asks who
    acts (`show`, `export`, `attestation sign`...) then reads on its standard input."""
    done = intake("staff", "password", email, input=password + "\n")
    assert done.code == 0, done.err
    return password + "\n"


@pytest.fixture
def sandbox():
    """The sandbox extranet in this process, its clock at the suite's NOW."""
    from intake.sandbox.server import start
    from intake.sandbox.state import Account, SandboxState

    state = SandboxState(
        accounts={ACCOUNT: Account(ACCOUNT, "bac-a-sable", frozenset({"69273"}))},
        seed=3,
        now=lambda: NOW,
    )
    server, url = start(state)
    yield state, url
    server.shutdown()
    server.server_close()
