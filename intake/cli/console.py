"""`intake web` (the staff console) and `intake staff` (the console's accounts)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, TextIO

from intake.cli.common import EXIT_OK, UsageError, load_app
from intake.clock import Clock
from intake.desk.accounts import AccountError
from intake.web.server import ListenError, serve, split_listen

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from intake.desk.account_admin import AccountState


def cmd_web(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    listen = args.listen or app.config.raw.web.listen
    # The address it serves on; the configured public one when listening where configured.
    base = (None if args.listen else app.config.raw.web.base_url) or f"http://{listen}"
    try:
        split_listen(listen)
    except ListenError as exc:
        raise UsageError(str(exc)) from None
    print(f"Console : {base} (Ctrl-C pour arrêter)", file=out, flush=True)
    serve(app, listen)
    return EXIT_OK


def _new_password(email: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"Nouveau mot de passe pour {email} : ")
        if getpass.getpass("Le même, une seconde fois : ") != first:
            raise UsageError("les deux saisies diffèrent : rien n'a été changé")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_staff(args: argparse.Namespace, clock: Clock, out: TextIO) -> int:
    app = load_app(args, clock)
    try:
        if args.staff_command == "password":
            member = app.accounts.set_password(args.email, _new_password(args.email))
            print(f"Mot de passe défini pour {member.name} ({member.email}).", file=out)
        elif args.staff_command == "totp":
            uri = app.accounts.enable_totp(args.email)
            print(
                "Code à usage unique activé. Dans l'application d'authentification, ajoutez "
                f"ce compte (ou le QR code de cette adresse) :\n{uri}",
                file=out,
            )
        else:
            for line in app.account_admin.listing():
                print(_account_line(line, app.config.timezone), file=out)
    except AccountError as exc:
        raise UsageError(str(exc)) from None
    return EXIT_OK


def _account_line(line: AccountState, tz: ZoneInfo) -> str:
    seen = (
        f"dernière connexion le {line.last_sign_in_at.astimezone(tz):%d/%m/%Y à %H:%M}"
        if line.last_sign_in_at
        else "jamais connecté(e)"
    )
    state = {"sans mot de passe": "pas de mot de passe", "actif": "compte actif"}.get(
        line.state, ""
    )
    if line.slowed_until is not None and line.has_password:
        until = line.slowed_until.astimezone(tz)
        state = f"connexions ralenties jusqu'à {until:%H:%M} (intake staff password)"
    if line.totp and line.has_password:
        state += ", code à usage unique"
    return f"{line.member.name} <{line.member.email}> : {state}, {seen}"
