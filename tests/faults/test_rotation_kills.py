"""`intake vault rotate` killed at random moments: each time, either every key is still
wrapped by the old master key (and the old key file is in place) or every key is wrapped by
the new one; running the command again completes it; nothing becomes unreadable."""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from storage.vault import generate_master_key_file, master_key_id, read_master_key_file
from tests.e2e.conftest import LAUNCHER, Intake, give_password
from tests.support.feeds import Dem, numero, write_feed

DEMANDES = 1500
KILLS = 8
AGENT = "l.feuga@ville-corbas.fr"


def key_ids(database: Path) -> tuple[str, set[str]]:
    with sqlite3.connect(database, timeout=10) as db:
        (expected,) = db.execute("SELECT key_id FROM vault_meta").fetchone()
        held = {row[0] for row in db.execute("SELECT DISTINCT master_key_id FROM demande_key")}
    return expected, held


def rotate(intake: Intake, new_key: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(LAUNCHER), "vault", "rotate", "--new-key", str(new_key)],
        cwd=intake.folder,
        env=intake.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_rotation_killed_at_random_moments(initialised: Intake, tmp_path):
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1, DEMANDES + 1)])
    assert initialised("ingest", str(feed)).code == 0
    database = initialised.folder / "data" / "intake.db"
    installed = initialised.folder / "secrets" / "master.key"

    # How long a whole rotation takes here, on a copy: the kills fall across it.
    trial = Intake(tmp_path / "essai")
    shutil.copytree(initialised.folder, trial.folder)
    trial.env = dict(initialised.env)
    generate_master_key_file(tmp_path / "essai.key")
    started = time.monotonic()
    assert rotate(trial, tmp_path / "essai.key").wait(timeout=120) == 0
    whole = time.monotonic() - started

    rng = random.Random(20261202)
    interrupted = 0
    for attempt in range(KILLS):
        new_key = tmp_path / f"cle-{attempt}.key"
        generate_master_key_file(new_key)
        old_id = master_key_id(read_master_key_file(installed))
        new_id = master_key_id(read_master_key_file(new_key))
        started = time.monotonic()
        process = rotate(initialised, new_key)
        try:
            process.wait(timeout=rng.uniform(0.5 * whole, 1.0 * whole))
            # Done before its kill: the machine is faster than when timed (the other tests,
            # run in parallel, come and go). The next kills fall across a rotation timed now.
            whole = time.monotonic() - started
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
        killed = process.wait(timeout=30) == -signal.SIGKILL
        expected, held = key_ids(database)
        assert held == {expected}, "keys wrapped under two master keys"
        if expected == old_id:
            interrupted += killed
            assert master_key_id(read_master_key_file(installed)) == old_id
            started = time.monotonic()
            assert rotate(initialised, new_key).wait(timeout=120) == 0  # simply run again
            whole = time.monotonic() - started  # a whole rotation, timed at today's load
        else:
            assert expected == new_id
            if master_key_id(read_master_key_file(installed)) != new_id:  # committed, not swapped
                assert rotate(initialised, new_key).wait(timeout=120) == 0
        assert key_ids(database) == (new_id, {new_id})
        assert master_key_id(read_master_key_file(installed)) == new_id
    password = give_password(initialised, AGENT)
    shown = initialised("show", numero(DEMANDES), "--agent", AGENT, input=password)
    assert shown.code == 0, shown.err
    exported = initialised(
        "export", "--agent", AGENT, "--format", "json", "-o", "tout.json", input=password
    )
    assert exported.code == 0 and f"{DEMANDES} demandes exportées" in exported.out
    assert initialised("audit", "verify").code == 0
    assert interrupted >= 1, "no kill fell inside a rotation: widen the window"
