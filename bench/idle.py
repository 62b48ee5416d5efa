"""The daemon with nothing to do: resident memory and CPU of `intake run` over 5 minutes.

A lieu made with `intake init`, the sandbox extranet on loopback (empty feeds, so every poll
after the first is answered 304), polled every minute; the daemon runs as the service runs
it. Readings from /proc every second. Floor: a bare Python interpreter that sleeps (its
memory; its CPU is nil).

    python -m bench.idle --seconds 300
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine
from intake.sandbox.server import start
from intake.sandbox.state import Account, SandboxState

ACCOUNT = "l.feuga@ville-corbas.fr"  # the habilitated person of the template configuration
# What an idle worker cannot do without: the database (SQLAlchemy, SQLModel, pydantic), the
# vault (cryptography), the schedule, the extranet client and its XML parser.
LIBRARIES = (
    "import sqlalchemy.orm, sqlmodel, pydantic, apscheduler.schedulers.background, requests\n"
    "import cryptography.hazmat.primitives.ciphers.aead, lxml.etree"
)
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def reading(pid: int) -> tuple[float, float]:
    """(RSS in MiB, CPU seconds used so far) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
    return rss, cpu


def watch(process: subprocess.Popen[bytes], seconds: float) -> tuple[float, float, float]:
    """Peak and final RSS, and the share of one core used, from the first reading on."""
    rss, cpu0 = reading(process.pid)
    began, peak = time.monotonic(), rss
    while time.monotonic() - began < seconds:
        time.sleep(1)
        if process.poll() is not None:
            raise SystemExit(f"le démon s'est arrêté (code {process.returncode})")
        rss, cpu = reading(process.pid)
        peak = max(peak, rss)
    return peak, rss, (cpu - cpu0) / (time.monotonic() - began)


def sleeping_rss(imports: str) -> float:
    """RSS of a bare interpreter that imports these modules, then sleeps."""
    code = f"import time\n{imports}\nprint('prêt', flush=True)\ntime.sleep(60)"
    sleeper = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert sleeper.stdout is not None and sleeper.stdout.readline()  # imports done
    time.sleep(1)
    rss, _ = reading(sleeper.pid)
    sleeper.kill()
    sleeper.wait()
    return rss


def intake_command() -> list[str]:
    script = shutil.which("intake") or str(Path(sys.executable).with_name("intake"))
    return [script]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--warmup", type=float, default=20)
    args = parser.parse_args()
    state = SandboxState(accounts={ACCOUNT: Account(ACCOUNT, "bac-a-sable", frozenset({"69273"}))})
    server, url = start(state)
    env = {**os.environ, "INTAKE_EXTRANET_PASSWORD": "bac-a-sable"}
    env.pop("INTAKE_CONFIG", None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([*intake_command(), "init"], cwd=folder, env=env, check=True,
                       capture_output=True)  # fmt: skip
        config = folder / "intake.toml"
        config.write_text(  # the template made the lieu's own: no longer the example
            config.read_text().replace("\nexemple = true\n", "\n")
            + f'\n[extranet]\nurl = "{url}"\naccount = "{ACCOUNT}"\n'
            'password_env = "INTAKE_EXTRANET_PASSWORD"\npoll_minutes = 1\n'
        )
        daemon = subprocess.Popen(
            [*intake_command(), "run"], cwd=folder, env=env, stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(args.warmup)  # start-up: imports, migrations, the first passes
            peak, last, share = watch(daemon, args.seconds)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    server.shutdown()
    server.server_close()
    floor_rss = sleeping_rss("")
    libraries_rss = sleeping_rss(LIBRARIES)
    polls = state.sign_ins[ACCOUNT]
    print(f"machine : {machine()} ; {args.seconds:.0f} s d'observation, {polls} connexion(s)")
    print(
        f"démon au repos : RSS pic {peak:.0f} Mio (fin {last:.0f} Mio), CPU {share * 100:.2f} % "
        f"d'un cœur ; plancher (interpréteur nu) {floor_rss:.0f} Mio, 0 % ; "
        f"interpréteur et bibliothèques du service, rien d'autre : {libraries_rss:.0f} Mio"
    )


if __name__ == "__main__":
    main()
