"""`intake audit verify` and `intake vault rotate`: the commands that check or change trust."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from intake.cli.common import EXIT_OK, EXIT_REFUSED, UsageError, dump_json, load_app
from intake.clock import Clock
from intake.ops.vault_rotation import rotate_master_key
from intake.trail import TrailCheck, check_trail


def cmd_audit(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    result = check_trail(app.engine, app.vault, app.config.key_file, clock.now())
    if args.json:
        dump_json(
            {
                "ok": result.ok,
                "events": result.chain.events,
                "first_bad": result.chain.first_bad,
                "problems": result.problems(),
                "anchors_checked": result.anchors_checked,
                "head": {"sequence": result.head[0], "link": result.head[1]},
            },
            out,
        )
    else:
        _print_check(result, out)
    return EXIT_OK if result.ok else EXIT_REFUSED


def _print_check(result: TrailCheck, out: TextIO) -> None:
    if result.ok:
        print(
            f"Journal d'audit intact : {result.chain.events} événement(s) chaînés (HMAC), "
            f"tout ce qui est détenu y figure, {result.anchors_checked} ancre(s) prolongée(s). "
            f"Tête : événement n° {result.head[0]}, lien {result.head[1]}.",
            file=out,
        )
        return
    first = result.chain.first_bad
    where = f" à partir de l'événement {first}" if first is not None else ""
    print(f"Journal d'audit ALTÉRÉ{where} :", file=out)
    for problem in result.problems():
        print(f"  - {problem}", file=out)


def cmd_vault(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    if args.vault_command == "new-key":
        return _new_key(args.path, out)
    app = load_app(args, clock)
    done = rotate_master_key(app, args.new_key, args.agent)
    print(
        f"Clé maîtresse changée : {done.rotation.purge_keys} clé(s) d'échéance du magasin de "
        f"clés et {done.rotation.keys} clé(s) de demande rechiffrée(s) "
        f"(empreinte {done.rotation.old_key_id} → {done.rotation.new_key_id}).",
        file=out,
    )
    print(
        f"La nouvelle clé est en place : {app.config.key_file}. L'ancienne est gardée dans "
        f"{done.previous_key} (0600) : elle seule ouvre les sauvegardes faites avant ce jour ; "
        "rangez-la avec elles, hors de ce serveur, et détruisez-la avec la dernière d'entre elles.",
        file=out,
    )
    return EXIT_OK


def _new_key(path: Path, out: TextIO) -> int:
    from storage.vault import generate_master_key_file

    try:
        generate_master_key_file(path)
    except FileExistsError:
        raise UsageError(f"refus d'écraser : {path} existe déjà") from None
    print(f"Clé maîtresse neuve écrite (0600) : {path}", file=out)
    return EXIT_OK
