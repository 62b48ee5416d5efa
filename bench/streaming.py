"""A 500 MB feed through `intake ingest`, as the lieu's agent runs it: peak RSS growth.

The feed is written piece by piece (never held in memory here), about 930 bytes of XML per
demande, each with its PDF beside it. `intake ingest` runs twice in a child process, on a
feed of 10 demandes and on the big one; the figure is the difference of their peak RSS
(getrusage of the children). Target: under 100 MB. Floor: the same peak for the small feed.

    python -m bench.streaming --megabytes 500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import NOW, machine
from intake.sandbox.families import _pdf
from tests.support.feeds import Dem, feed_xml, numero

LAUNCHER = Path(__file__).resolve().parents[1] / "tests" / "e2e" / "launcher.py"


def write_feed(folder: Path, megabytes: float) -> int:
    """A feed of at least `megabytes`; the number of demandes in it."""
    folder.mkdir(parents=True)
    pdf = _pdf("ME-2026-0000000", ["Document de mesure"])  # the same small PDF for each
    head, tail = feed_xml([]).split("</fluxDemandes>")
    count = 0
    with (folder / "flux.xml").open("w", encoding="utf-8") as out:
        out.write(head)
        while out.tell() < megabytes * 1e6:
            count += 1
            out.write(Dem(numero(count), pdf=pdf).xml())
            (folder / f"{numero(count)}.pdf").write_bytes(pdf)
        out.write("</fluxDemandes>" + tail)
    return count


def environment() -> dict[str, str]:
    env = {**os.environ, "INTAKE_TEST_NOW": NOW.isoformat(), "PYTHONPATH": str(LAUNCHER.parents[2])}
    env.pop("INTAKE_CONFIG", None)
    return env


def ingest(lieu: Path, feed: Path) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one `intake ingest` in a fresh child process."""
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(LAUNCHER), "ingest", str(feed)],
        cwd=lieu,
        env=environment(),
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"intake ingest a échoué sur {feed}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lieu = folder / "lieu"
        lieu.mkdir()
        subprocess.run(
            [sys.executable, str(LAUNCHER), "init"],
            cwd=lieu,
            env=environment(),
            check=True,
            capture_output=True,
        )
        small = write_feed(folder / "petit", 0.005)
        big = write_feed(folder / "gros", args.megabytes)
        size = (folder / "gros" / "flux.xml").stat().st_size / 1e6
        print(f"machine : {machine()} ; flux de {size:.0f} Mo, {big} demandes (PDF à côté)")
        floor_rss, _ = ingest(lieu, folder / "petit" / "flux.xml")
        rss, seconds = ingest(lieu, folder / "gros" / "flux.xml")
        print(
            f"pic RSS : {small} demandes {floor_rss:.0f} Mio ; {big} demandes {rss:.0f} Mio ; "
            f"croissance {rss - floor_rss:.0f} Mio ; "
            f"{seconds:.0f} s ({big / seconds:.0f} demandes/s)"
        )


if __name__ == "__main__":
    main()
