"""`intake backup` and `intake restore`: database copies that hold no key, and the key store's
encrypted copy with its short retention (their parsers: `admin_parsers`)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from intake.app import App
from intake.cli.common import EXIT_OK, UsageError, actor, load_app
from intake.clock import Clock
from intake.ops import backups


def _who(app: App, agent: str | None, action: str) -> str:
    """The person named by `--agent`, once authenticated as the console does (cli.md, "Who
    acts": their password, then their code, before the passphrase on standard input); without
    `--agent`, the Unix user who runs it (the IT person, as for `intake vault rotate`)."""
    if agent is None:
        return actor(app.config, None, app.clock.now())
    from intake.cli.identity import authenticate

    return authenticate(app, agent, action).email


def _passphrase(confirm: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Phrase de passe de la copie des clés : ")
    if confirm and getpass.getpass("La même, encore : ") != first:
        raise UsageError("les deux phrases de passe diffèrent : rien n'a été écrit")
    return first


def cmd_backup(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    if args.cles:
        who = _who(app, args.agent, "sauvegarde-cles")
        done = backups.backup_keys(app, args.output, _passphrase(confirm=True), who)
        _print_keys_copy(done, out)
        return EXIT_OK
    copy = backups.backup_database(app, args.output, actor(app.config, args.agent, clock.now()))
    print(
        f"Copie de la base écrite (0600) : {copy.path} (SHA-256 {copy.sha256}). Elle ne "
        "contient aucune clé : ce que les purges détruiront ne pourra pas en être relu.",
        file=out,
    )
    return EXIT_OK


def _print_keys_copy(done: backups.KeyStoreCopy, out: TextIO) -> None:
    print(
        f"Copie chiffrée du magasin de clés écrite (0600) : {done.path} "
        f"({done.days} clé(s) d'échéance).",
        file=out,
    )
    print(
        f"À détruire au plus tard le {done.keep_until:%d/%m/%Y} : conservée plus "
        "longtemps, elle rouvrirait, avec la clé maîtresse et une sauvegarde de la base, "
        "des demandes que les purges ont détruites et que les attestations déclarent "
        "illisibles. Rangez-la hors de ce serveur, à part des sauvegardes de la base.",
        file=out,
    )


def cmd_restore(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    who = _who(app, args.agent, "restauration")
    if args.cles:
        if args.file is None:
            raise UsageError("--cles : indiquez le fichier de la copie du magasin de clés")
        restored, refused = backups.restore_keys(app, args.file, _passphrase(confirm=False))
        _print_keys_restored(len(restored), len(refused), out)
        return EXIT_OK
    done = backups.restore_database(app, args.file, who)
    print(
        f"Base {'restaurée et ' if args.file else ''}réconciliée avec le magasin de clés : "
        f"{done.destroyed_again} demande(s) détruite(s) depuis la copie l'ont été à nouveau ; "
        f"les autres se lisent comme avant. Restauration consignée au journal (événement "
        f"n° {done.head[0]}) et ancrée.",
        file=out,
    )
    return EXIT_OK


def _print_keys_restored(restored: int, refused: int, out: TextIO) -> None:
    print(f"{restored} clé(s) d'échéance remise(s) dans le magasin.", file=out)
    if refused:
        print(
            f"{refused} clé(s) non remise(s) : leur échéance est passée ou une purge "
            "les a détruites ; les demandes qu'elles protégeaient restent illisibles.",
            file=out,
        )
