"""`intake sandbox`: options into a SandboxState, then serve until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading
import tomllib
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import TextIO

from intake.sandbox.server import serve
from intake.sandbox.state import Account, SandboxState

DEFAULT_ACCOUNT = "l.feuga@ville-corbas.fr:bac-a-sable"


def _communes(values: list[str]) -> dict[str, str]:
    communes = {}
    for value in values or ["69273:Corbas"]:
        insee, _, name = value.partition(":")
        communes[insee.strip()] = name.strip() or insee.strip()
    return communes


def _accounts(values: list[str], path: Path | None, communes: dict[str, str]) -> dict[str, Account]:
    accounts: dict[str, Account] = {}
    for value in values or ([] if path else [DEFAULT_ACCOUNT]):
        email, _, rest = value.partition(":")
        password, _, codes = rest.partition(":")
        if not password:
            raise ValueError(f"--account {email} : mot de passe manquant (COURRIEL:MOTDEPASSE)")
        allowed = frozenset(c for c in codes.split(",") if c) or frozenset(communes)
        accounts[email.casefold()] = Account(email, password, allowed)
    if path is not None:
        for item in tomllib.loads(path.read_text(encoding="utf-8")).get("accounts", []):
            allowed = frozenset(item.get("communes") or communes)
            accounts[item["email"].casefold()] = Account(
                item["email"], item["password"], allowed, item.get("state")
            )
    return accounts


def _faults(values: list[str]) -> dict[str, float]:
    faults = {}
    for value in values:
        name, _, number = value.partition("=")
        faults[name.strip().replace("-", "_")] = float(number or 1)
    return faults


def run(args: argparse.Namespace, out: TextIO) -> int:
    communes = _communes(args.commune)
    smtp = None
    if args.smtp or args.lmtp:
        host, _, port = (args.smtp or args.lmtp).rpartition(":")
        smtp = (host or "127.0.0.1", int(port))
    state = SandboxState(
        communes=communes,
        accounts=_accounts(args.account, args.accounts, communes),
        smtp=smtp,
        lmtp=bool(args.lmtp),
        seed=args.seed,
    )
    state.faults.update(_faults(args.fault))
    state.add_demandes(args.demandes, age=timedelta(days=1))
    server = serve(state, args.host, args.port)
    stop = threading.Event()

    def shutdown(signum: int, frame: FrameType | None) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    if args.every > 0:

        def arrivals() -> None:
            while not stop.wait(args.every):
                state.add_demandes(1)

        threading.Thread(target=arrivals, name="arrivals", daemon=True).start()
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{server.server_address[1]}"
    print(f"Extranet bac à sable : {url} (familles fictives ; Ctrl-C pour arrêter)", file=out)
    print("Communes : " + ", ".join(f"{c} {n}" for c, n in communes.items()), file=out)
    for account in state.accounts.values():
        print(
            f"Compte : {account.email} (communes {', '.join(sorted(account.communes))})", file=out
        )
    print(
        f'Dans intake.toml : [extranet] url = "{url}", account = l\'un de ces comptes, '
        "password_env = une variable contenant son mot de passe.",
        file=out,
    )
    out.flush()
    server.serve_forever()
    server.server_close()
    return 0
