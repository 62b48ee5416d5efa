"""What a command costs before it does anything: `intake --version`, `--help`, `status`.

Each command is run as a person (or a supervision probe) runs it, a fresh process from the
virtual environment's `intake` script, against a lieu made by `intake init`. Floor: the same
interpreter doing nothing (`python -c pass`). The commands take turns within each round, so
a busy moment of the machine spreads over all of them; figures are medians over the rounds,
with the wall time, the CPU time (user + system, steadier on a shared machine) and the
resident memory at its peak.

    python -m bench.startup --repeat 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def machine() -> str:
    """As bench.common's, which this module does not import: a child's peak memory as the
    kernel reports it starts from its parent's at the fork, so the parent stays small (no
    fpdf, no Pillow) and below what it measures."""
    return f"{os.cpu_count()} cœurs, {os.uname().machine}, {os.uname().release}"


@dataclass(frozen=True)
class Reading:
    wall: float  # seconds
    cpu: float  # seconds, user + system
    rss: float  # MiB, peak


def run_once(command: list[str], cwd: Path, env: dict[str, str]) -> Reading:
    began = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 2) or (process.returncode == 2 and "status" not in command):
        # `status` answers 2 (critical: the service is not running) as a monitoring plugin
        raise SystemExit(f"{' '.join(command)} : code {process.returncode}")
    return Reading(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


ARGS = {"--version": ["--version"], "--help": ["--help"], "status": ["status"],
        "demandes": ["demandes"]}  # fmt: skip
# What the `intake` script runs, for another checkout of the project (`--compare`).
SCRIPT = "import sys; from intake.cli import main; sys.exit(main())"


def commands(python: str, intake: str, compare: Path | None) -> dict[str, list[str]]:
    table = {"python -c pass": [python, "-c", "pass"]}
    for name, args in ARGS.items():
        table[f"intake {name}"] = [intake, *args]
        if compare is not None:
            table[f"  avant : {name}"] = [
                "env",
                f"PYTHONPATH={compare}",
                python,
                "-c",
                SCRIPT,
                *args,
            ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15, help="rounds (médianes)")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="another checkout of the project (git worktree of an older commit), measured "
        "in the same rounds with the same interpreter",
    )
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent  # the virtual environment's, as the README installs
    python, intake = str(bin_dir / "python"), str(bin_dir / "intake")
    env = {k: v for k, v in os.environ.items() if k != "INTAKE_CONFIG"}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        subprocess.run([intake, "init"], cwd=folder, env=env, check=True, capture_output=True)
        config = folder / "intake.toml"  # the lieu's own, as a probe finds it (and older
        config.write_text(config.read_text().replace("\nexemple = true\n", "\n"))  # code)
        table = commands(python, intake, args.compare)
        series: dict[str, list[Reading]] = {name: [] for name in table}
        for command in table.values():  # once, unmeasured: the files in the page cache
            run_once(command, folder, env)
        for _ in range(args.repeat):
            for name, command in table.items():
                series[name].append(run_once(command, folder, env))
    print(f"# {machine()} ; {args.repeat} tours, médianes (min–max)")
    floor = statistics.median(r.wall for r in series["python -c pass"])
    for name, readings in series.items():
        walls = [r.wall for r in readings]
        wall = statistics.median(walls)
        cpu = statistics.median(r.cpu for r in readings)
        rss = statistics.median(r.rss for r in readings)
        print(
            f"{name:20} {wall:6.3f} s ({min(walls):.3f}–{max(walls):.3f})  "
            f"CPU {cpu:6.3f} s  {rss:5.1f} Mio  "
            f"{wall - floor:+.3f} s sur le plancher"
        )


if __name__ == "__main__":
    main()
