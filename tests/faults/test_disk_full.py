"""A disk that fills up during a write: the transaction fails cleanly, the command says so,
and nothing stored before is damaged. The full disk is a real one for the process: a file
size limit (RLIMIT_FSIZE) makes the kernel refuse the write, as ENOSPC would."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys

from tests.e2e.conftest import LAUNCHER, Intake, give_password
from tests.faults.invariants import check_storage
from tests.support.feeds import SAMPLES, Dem, numero, write_feed

AGENT = "l.feuga@ville-corbas.fr"


def test_a_full_disk_fails_the_write_and_damages_nothing(initialised: Intake, tmp_path):
    assert initialised("ingest", str(SAMPLES / "flux-69273-corbas.xml")).code == 0
    password = give_password(initialised, AGENT)
    before = initialised("show", "ME-2026-0000101", "--agent", AGENT, input=password).out
    data = initialised.folder / "data"
    limit = max(p.stat().st_size for p in data.glob("intake.db*")) + 64 * 1024
    feed = write_feed(tmp_path / "depot", [Dem(numero(i)) for i in range(1001, 1161)])

    def full_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run(
        [sys.executable, str(LAUNCHER), "ingest", str(feed)],
        cwd=initialised.folder,
        env=initialised.env,
        capture_output=True,
        text=True,
        preexec_fn=full_disk,
        timeout=300,
        check=False,
    )
    assert run.returncode == 3, run.stdout + run.stderr
    assert "disque plein" in run.stderr
    assert "Traceback" not in run.stderr

    held = check_storage(data / "intake.db")
    assert {"ME-2026-0000101", "ME-2026-0000102", "ME-2026-0000103"} <= held
    assert 3 < len(held) < 163  # some went in before the disk was full, whole
    assert initialised("show", "ME-2026-0000101", "--agent", AGENT, input=password).out == before
    assert initialised("audit", "verify").code == 0
    again = initialised("ingest", str(feed))  # space is back: the rest goes in
    assert again.code == 0, [line for line in again.out.splitlines() if "refus" in line]
    assert len(check_storage(data / "intake.db")) == 163
