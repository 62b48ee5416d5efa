"""The cost of anchoring each reading outside the database (issue 21, item 8): reads per
second of one demande's console page, in-process (Starlette's TestClient, no socket), with
the anchoring off (as before) and on (one fsynced line in audit-anchors.log and one syslog
line per reading), by one agent and by several at once as on a busy console.

Rounds alternate off and on, and the medians are compared: one run on a shared machine can
be 15 % off either way. The anchors file is beside the master key, on the folder's disk
(`--folder` to choose it: fsync costs what the disk makes it cost).

    python -m bench.anchoring --reads 100 --rounds 10 --agents 1,4
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from bench.common import NOW, machine
from intake.app import App
from intake.clock import FixedClock
from intake.trail import anchor_sensitive_events
from intake.web.app import create_app
from storage import anchors
from tests.support.console import AGENT, PASSWORD, console_lieu

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAGE = "/demandes/ME-2026-0000101"


def signed_in(app: App) -> TestClient:
    web = TestClient(create_app(app), base_url="http://127.0.0.1")
    token = CSRF.search(web.get("/connexion").text).group(1)
    web.post("/connexion", data={"email": AGENT, "mot_de_passe": PASSWORD, "csrf": token})
    assert web.get(PAGE).status_code == 200
    return web


def reads_per_second(clients: list[TestClient], reads: int) -> tuple[float, float]:
    """`reads` page reads shared by the clients, each in its own thread: reads per second
    and the process's CPU milliseconds per read (the load of others does not count)."""

    def read(web: TestClient, count: int) -> None:
        for _ in range(count):
            assert web.get(PAGE).status_code == 200

    share = reads // len(clients)
    threads = [threading.Thread(target=read, args=(web, share)) for web in clients]
    began, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = share * len(clients)
    return done / (time.perf_counter() - began), 1000 * (time.process_time() - cpu) / done


def anchor_times(path: Path, count: int) -> list[float]:
    """The anchor alone, `count` times: the append, its fsync and the syslog line (seconds)."""
    anchoring = anchors.Anchoring(path, {"lecture"})
    times = []
    for seq in range(count):
        began = time.perf_counter()
        anchoring.anchor((seq, "0" * 64), "lecture", NOW)
        times.append(time.perf_counter() - began)
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=100, help="reads per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--agents", default="1,4", help="agents reading at once, e.g. 1,4")
    parser.add_argument("--folder", type=Path, default=None, help="where the lieu lives")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        folder = Path(tmp)
        app = console_lieu(folder, FixedClock(NOW))
        vault = app.vault
        anchored = vault.trail.anchoring
        path = anchors.anchors_file(app.config.key_file)
        print(f"machine : {machine()} ; ancres dans {path}")
        print(
            f"{'agents':>6} {'sans ancre (lectures/s)':>24} {'avec ancre':>11} {'écart':>7}"
            f" {'CPU/lecture sans':>17} {'avec':>8}"
        )
        for agents in (int(n) for n in args.agents.split(",")):
            clients = [signed_in(app) for _ in range(agents)]
            off: list[tuple[float, float]] = []
            on: list[tuple[float, float]] = []
            for _ in range(args.rounds):  # alternated: a change of load hits both alike
                vault.trail.anchoring = None
                off.append(reads_per_second(clients, args.reads))
                anchor_sensitive_events(vault, app.config.key_file)
                on.append(reads_per_second(clients, args.reads))
            before, after = (statistics.median(r for r, _ in runs) for runs in (off, on))
            cpu_before, cpu_after = (statistics.median(c for _, c in runs) for runs in (off, on))
            change = 100 * (after - before) / before
            print(
                f"{agents:>6} {before:>24.0f} {after:>11.0f} {change:>6.1f} %"
                f" {cpu_before:>14.1f} ms {cpu_after:>5.1f} ms"
            )
            print(
                f"{'':>6} tours : {', '.join(f'{r:.0f}' for r, _ in off)} / "
                f"{', '.join(f'{r:.0f}' for r, _ in on)}"
            )
        vault.trail.anchoring = anchored
        times = anchor_times(folder / "bench-anchors.log", args.reads)
        print(
            f"une ancre seule (ajout, fsync, syslog), {len(times)} fois : médiane "
            f"{1000 * statistics.median(times):.2f} ms, 95e centile "
            f"{1000 * times[int(0.95 * len(times))]:.2f} ms, pire {1000 * times[-1]:.2f} ms"
        )
        lines = len(path.read_text().splitlines())
        print(f"{lines} ancres écrites, {path.stat().st_size} octets")


if __name__ == "__main__":
    main()
