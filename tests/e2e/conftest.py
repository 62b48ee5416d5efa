from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

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
    """The `intake` command in a folder of its own, as the lieu's IT person runs it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, "INTAKE_TEST_NOW": NOW.isoformat(), "PYTHONPATH": str(REPO)}
        self.env.pop("INTAKE_CONFIG", None)

    def __call__(self, *args: str, now: str | None = None, script: bool = False) -> Run:
        env = dict(self.env)
        if now:
            env["INTAKE_TEST_NOW"] = now
        command = [str(INTAKE_SCRIPT)] if script else [sys.executable, str(LAUNCHER)]
        done = subprocess.run(
            [*command, *args],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def intake(tmp_path: Path) -> Intake:
    folder = tmp_path / "lieu"
    folder.mkdir()
    return Intake(folder)


@pytest.fixture
def initialised(intake: Intake) -> Intake:
    assert intake("init", script=True).code == 0
    return intake


ACCOUNT = "l.feuga@ville-corbas.fr"


@pytest.fixture
def sandbox():
    """The sandbox extranet in this process, its clock at the suite's NOW."""
    from intake.sandbox.server import Account, SandboxState, start

    state = SandboxState(
        accounts={ACCOUNT: Account(ACCOUNT, "bac-a-sable", frozenset({"69273"}))},
        seed=3,
        now=lambda: NOW,
    )
    server, url = start(state)
    yield state, url
    server.shutdown()
    server.server_close()
