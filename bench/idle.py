"""The daemon with nothing to do: resident memory and CPU of `intake run` over 5 minutes.

A lieu made with `intake init`, the sandbox extranet on loopback (empty feeds, so every poll
after the first is answered 304), polled every minute (`--poll-minutes 30` for the service's
default cadence); the daemon runs as the service runs it. Readings from /proc every second,
of the daemon alone and of its whole tree: the daemon runs its jobs in short-lived child
processes, whose memory counts while they live and whose CPU counts even once they have
exited (the daemon's cutime and cstime hold its reaped children's). Floors: a bare Python
interpreter that sleeps (its memory; its CPU is nil), and one that has imported only the
libraries an idle worker cannot do without.

    python -m bench.idle --seconds 300
    python -m bench.idle --seconds 3600 --poll-minutes 30
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
from dataclasses import dataclass
from itertools import pairwise
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
GONE = (FileNotFoundError, ProcessLookupError)  # a process that ended between two reads


@dataclass(frozen=True)
class Sample:
    """One reading: the daemon alone, and the daemon with all its descendants."""

    at: float  # time.monotonic()
    daemon_rss: float  # MiB
    daemon_cpu: float  # CPU seconds so far
    tree_rss: float
    tree_cpu: float  # the daemon's own and reaped children's, plus the live descendants'
    children: frozenset[int]  # the live descendants' pids


def stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def descendants(pid: int) -> set[int]:
    """Every live descendant of a process, through each of its threads' children."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except GONE:
        return found
    for task in tasks:
        try:
            children = {int(child) for child in (task / "children").read_text().split()}
        except GONE:
            continue
        for child in children - found:
            found |= {child} | descendants(child)
    return found


def sample(pid: int) -> Sample:
    """Read the daemon (which must still be there), then its descendants (which may vanish)."""
    fields, daemon_rss = stat(pid), rss_mib(pid)
    own = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime (fields 14, 15)
    reaped = (int(fields[13]) + int(fields[14])) / TICKS  # cutime + cstime: children waited for
    children = descendants(pid)
    tree_rss, tree_cpu = daemon_rss, own + reaped
    for child in children:
        try:
            child_fields, child_rss = stat(child), rss_mib(child)
        except GONE:
            continue  # its CPU shows in its parent's cutime once reaped
        tree_rss += child_rss
        tree_cpu += (int(child_fields[11]) + int(child_fields[12])) / TICKS
    return Sample(time.monotonic(), daemon_rss, own, tree_rss, tree_cpu, frozenset(children))


def watch(process: subprocess.Popen[bytes], seconds: float) -> list[Sample]:
    """A reading every second for so many seconds (two at least), the first at once."""
    samples = [sample(process.pid)]
    while len(samples) < 2 or samples[-1].at - samples[0].at < seconds:
        time.sleep(1)
        try:
            if process.poll() is not None:
                raise ProcessLookupError
            samples.append(sample(process.pid))
        except GONE:
            raise SystemExit(f"le démon s'est arrêté (code {process.wait()})") from None
    return samples


def summary(samples: list[Sample]) -> list[str]:
    """The French lines: the daemon alone, then the whole tree."""
    first, last = samples[0], samples[-1]
    span = last.at - first.at
    # Each reading holds until the next: time-weighted mean RSS and time with a child alive.
    weights = [(s, after.at - s.at) for s, after in pairwise(samples)]
    mean_rss = sum(s.tree_rss * dt for s, dt in weights) / span
    with_child = sum(dt for s, dt in weights if s.children) / span
    seen = len(frozenset().union(*(s.children for s in samples)))
    daemon_share = (last.daemon_cpu - first.daemon_cpu) / span
    tree_share = (last.tree_cpu - first.tree_cpu) / span
    return [
        f"démon seul : RSS pic {max(s.daemon_rss for s in samples):.0f} Mio "
        f"(fin {last.daemon_rss:.0f} Mio), CPU {daemon_share * 100:.2f} % d'un cœur",
        f"arbre (démon et descendants) : RSS pic {max(s.tree_rss for s in samples):.0f} Mio, "
        f"moyenne dans le temps {mean_rss:.0f} Mio ; au moins un enfant vivant "
        f"{with_child * 100:.1f} % du temps, {seen} enfant(s) distinct(s) vu(s) ; "
        f"CPU {tree_share * 100:.2f} % d'un cœur (enfants terminés compris)",
    ]


def sleeping_rss(imports: str) -> float:
    """RSS of a bare interpreter that imports these modules, then sleeps."""
    code = f"import time\n{imports}\nprint('prêt', flush=True)\ntime.sleep(60)"
    sleeper = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert sleeper.stdout is not None and sleeper.stdout.readline()  # imports done
    time.sleep(1)
    rss = rss_mib(sleeper.pid)
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
    parser.add_argument(
        "--poll-minutes",
        type=int,
        default=1,
        help="cadence des relèves de l'extranet (celle du service par défaut : 30)",
    )
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
            f'password_env = "INTAKE_EXTRANET_PASSWORD"\npoll_minutes = {args.poll_minutes}\n'
        )
        daemon = subprocess.Popen(
            [*intake_command(), "run"], cwd=folder, env=env, stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(args.warmup)  # start-up: imports, migrations, the first passes
            samples = watch(daemon, args.seconds)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    server.shutdown()
    server.server_close()
    floor_rss = sleeping_rss("")
    libraries_rss = sleeping_rss(LIBRARIES)
    polls = state.sign_ins[ACCOUNT]
    print(
        f"machine : {machine()} ; {args.seconds:.0f} s d'observation, {polls} connexion(s), "
        f"relève toutes les {args.poll_minutes} min"
    )
    print(*summary(samples), sep="\n")
    print(
        f"planchers : interpréteur nu {floor_rss:.0f} Mio, 0 % ; interpréteur et bibliothèques "
        f"du service, rien d'autre : {libraries_rss:.0f} Mio"
    )


if __name__ == "__main__":
    main()
