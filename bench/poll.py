"""Polling 1,000 communes against the sandbox extranet, on loopback.

Two figures, each against its floor (the same HTTP requests made by a bare `requests.Session`
on one keep-alive connection, no parsing, no storage):
- nothing new: every feed answered 304 (the ETags of a previous pass);
- 10 new demandes per commune: feed, PDF and acknowledgement of each, stored on SQLite.

    python -m bench.poll --communes 1000 --new 10
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import requests

from bench.common import NOW, machine, peak_rss_mib, timed
from intake.feed import FeedSchema
from intake.pipeline import Poller
from intake.sandbox.server import start
from intake.sandbox.state import Account, SandboxState
from intake.sources.extranet import ACKNOWLEDGE, FEED, PDF, SESSION, ExtranetClient, RetryPolicy
from storage.db import make_engine, upgrade
from storage.vault import Vault
from tests.support.lieu import make_ingestor

ACCOUNT, PASSWORD = "agent.habilite@mairie.example", "Correct-Horse-7"


def communes(count: int) -> dict[str, str]:
    return {f"{1001 + i:05d}": f"Commune {i + 1}" for i in range(count)}


def poller(url: str, engine_url: str, insees: list[str]) -> Poller:
    engine = make_engine(engine_url)
    upgrade(engine)
    ingestor = replace(
        make_ingestor(engine, Vault(os.urandom(32)), FeedSchema()),
        communes=frozenset(insees),
        actor=ACCOUNT,
    )

    def connect() -> ExtranetClient:
        return ExtranetClient(url, ACCOUNT, PASSWORD, policy=RetryPolicy(initial_wait=0.01))

    return Poller(ingestor, connect, insees, ACCOUNT, password_mark=PASSWORD)


class Bare:
    """The floor: the protocol's requests and nothing else."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        answer = self.http.post(
            url + SESSION, json={"identifiant": ACCOUNT, "motDePasse": PASSWORD}, timeout=10
        )
        self.http.headers["Authorization"] = "Bearer " + answer.json()["jeton"]

    def feed(self, insee: str, etag: str | None) -> requests.Response:
        headers = {"If-None-Match": etag} if etag else {}
        return self.http.get(self.url + FEED.format(insee=insee), headers=headers, timeout=10)

    def pdf(self, numero: str) -> bytes:
        return self.http.get(self.url + PDF.format(numero=numero), timeout=10).content

    def acknowledge(self, numero: str) -> None:
        self.http.post(self.url + ACKNOWLEDGE.format(numero=numero), timeout=10)


def report(label: str, seconds: float, floor: float, unit: str = "") -> None:
    print(
        f"{label:38} intake {seconds:7.2f} s   plancher {floor:6.2f} s   "
        f"rapport plancher/intake {floor / seconds:5.2f}{unit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communes", type=int, default=1000)
    parser.add_argument("--new", type=int, default=10)
    args = parser.parse_args()
    names = communes(args.communes)
    insees = sorted(names)
    print(f"machine : {machine()} ; {args.communes} communes, bac à sable sur 127.0.0.1")

    # Nothing new: a pass records the ETags of the empty feeds, the next one is all 304.
    state = SandboxState(
        communes=names,
        accounts={ACCOUNT: Account(ACCOUNT, PASSWORD, frozenset(names))},
        now=lambda: NOW,
    )
    server, url = start(state)
    with tempfile.TemporaryDirectory() as tmp:
        job = poller(url, f"sqlite:///{Path(tmp) / 'intake.db'}", insees)
        job.poll()
        with timed() as polling:
            result = job.poll()
        assert all(c.unchanged for c in result.communes) and len(result.communes) == len(insees)
        bare = Bare(url)
        etags = {insee: bare.feed(insee, None).headers["ETag"] for insee in insees}
        with timed() as floor:
            assert all(bare.feed(insee, etags[insee]).status_code == 304 for insee in insees)
        report("rien de nouveau (tout en 304)", polling.seconds, floor.seconds)

        # Ten new demandes per commune: one pass ingests and acknowledges them all.
        for insee in insees:
            state.add_demandes(args.new, insee)
        with timed() as polling:
            result = job.poll()
        total = sum(len(c.lines) for c in result.communes)
        acknowledged = sum(c.acknowledged for c in result.communes)
        assert total == acknowledged == args.new * len(insees), (total, acknowledged)
    server.shutdown()
    server.server_close()

    # The floor of the second figure on a fresh sandbox holding the same number of demandes.
    state = SandboxState(
        communes=names,
        accounts={ACCOUNT: Account(ACCOUNT, PASSWORD, frozenset(names))},
        now=lambda: NOW,
    )
    server, url = start(state)
    for insee in insees:
        state.add_demandes(args.new, insee)
    bare = Bare(url)
    with timed() as floor:
        for insee in insees:
            bare.feed(insee, None)
            for numero in list(state.pending[insee]):
                bare.pdf(numero)
                bare.acknowledge(numero)
    server.shutdown()
    server.server_close()
    report(f"{args.new} nouvelles par commune ({total})", polling.seconds, floor.seconds)
    print(
        f"    soit {total / polling.seconds:.0f} demandes/s ; "
        f"pic de mémoire {peak_rss_mib():.0f} Mio"
    )


if __name__ == "__main__":
    main()
