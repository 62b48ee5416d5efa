"""A Debian server: `intake init --system`, the account and folders of deploy/, the units
checked by systemd itself, and the service telling systemd it is ready and alive."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import LAUNCHER, REPO, Intake
from tests.support.required import missing

DEPLOY = REPO / "deploy"


def systemd_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(name, "apt-get install systemd")
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.geteuid() != 0, reason="init --system sets owners: run as root")
def test_init_system_lays_out_the_server(intake: Intake, tmp_path: Path):
    root = tmp_path / "racine"
    run = intake("init", "--system", "--root", str(root), "--owner", "root")
    assert run.code == 0, run.err
    config = root / "etc" / "intake" / "intake.toml"
    state = root / "var" / "lib" / "intake"
    assert (mode(config), mode(config.parent), mode(state)) == (0o640, 0o750, 0o700)
    assert mode(state / "secrets" / "master.key") == 0o600
    assert (state / "data" / "intake.db").exists() and mode(state / "data" / "intake.db") == 0o600
    # The paths as the server will see them, not under the staging root.
    text = config.read_text()
    assert 'url = "sqlite:////var/lib/intake/data/intake.db"' in text and str(root) not in text
    assert 'key_file = "/var/lib/intake/secrets/master.key"' in text
    assert "intake -c /etc/intake/intake.toml check-config" in run.out
    staged = tmp_path / "staged.toml"  # the same file, read where it lies for now
    staged.write_text(text.replace("/var/lib/intake", str(state)))
    assert intake("-c", str(staged), "audit", "verify").code == 0
    refused = intake("-c", str(staged), "check-config")
    assert refused.code == 2 and "exemple = true" in refused.err
    again = intake("init", "--system", "--root", str(root), "--owner", "root")
    assert again.code == 2 and "refus d'écraser" in again.err
    missing = intake("init", "--system", "--root", str(root), "--owner", "personne-inconnue")
    assert missing.code == 2 and "systemd-sysusers" in missing.err


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path):
    analyze = systemd_tool("systemd-analyze")
    intake_script = Path(sys.executable).with_name("intake")
    units = []
    for name in ("intake.service", "intake-web.service"):
        text = (
            (DEPLOY / name)
            .read_text()
            .replace("/opt/monenfant-intake/.venv/bin/intake", str(intake_script))
        )
        assert "RestartPreventExitStatus=2" in text and "StateDirectory=intake" in text
        (tmp_path / name).write_text(text)
        units.append(str(tmp_path / name))
    assert "Type=notify" in (DEPLOY / "intake.service").read_text()
    checked = subprocess.run([analyze, "verify", *units], capture_output=True, text=True)
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr


def test_sysusers_and_tmpfiles_make_the_account_and_folders(tmp_path: Path):
    sysusers, tmpfiles = systemd_tool("systemd-sysusers"), systemd_tool("systemd-tmpfiles")
    root = tmp_path / "racine"
    (root / "etc").mkdir(parents=True)
    subprocess.run(
        [sysusers, f"--root={root}", str(DEPLOY / "sysusers.d" / "intake.conf")], check=True
    )
    assert "intake:" in (root / "etc" / "passwd").read_text()
    subprocess.run(
        [tmpfiles, f"--root={root}", "--create", str(DEPLOY / "tmpfiles.d" / "intake.conf")],
        check=True,
    )
    assert mode(root / "var" / "lib" / "intake") == 0o700
    assert mode(root / "etc" / "intake") == 0o750


def test_the_service_tells_systemd_it_is_ready_and_alive(initialised: Intake, tmp_path: Path):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(30)
    env = {**initialised.env, "NOTIFY_SOCKET": address}
    process = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "run"],
        cwd=initialised.folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        received: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (
            any("READY=1" in m for m in received) and any("WATCHDOG=1" in m for m in received)
        ):
            received.append(listener.recv(4096).decode())
        assert any("READY=1" in m for m in received) and any("WATCHDOG=1" in m for m in received)
        process.send_signal(signal.SIGHUP)  # systemctl reload: a clean restart
        code = process.wait(timeout=15)
        while True:
            try:
                received.append(listener.recv(4096).decode())
            except (TimeoutError, BlockingIOError):
                break
            listener.settimeout(0.5)
    finally:
        if process.poll() is None:
            process.kill()
        listener.close()
    assert code == 75
    assert any("STOPPING=1" in m for m in received)
