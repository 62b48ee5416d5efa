"""Who runs a command that reveals personal data or signs for a person (cli.md, "Who acts"):
the person it names gives their console password, then their TOTP code if they have one. On a
terminal both are asked for (nothing echoed); otherwise standard input gives them, the password
on its first line and the code on its second. The rule is the accounts service's
(`Accounts.authenticate`); this module only reads the secrets.

The delays count each account's failures wherever they come from, as the console's, and each
source's: here the Unix user the command runs as (`terminal:NAME`, from the process's user id,
not from an environment variable anyone can set). One user's guesses thus slow down that user
and the accounts they try, never a colleague at another login.
"""

from __future__ import annotations

import getpass
import os
import pwd
import sys

from intake.app import App
from intake.config import StaffSection


def authenticate(app: App, email: str, action: str, numero: str | None = None) -> StaffSection:
    """The person named by `--agent`/`--signer`, once they have proved it; `IdentityRefused`
    (exit 2, an `acces-refuse` event) otherwise. `action` names the command in the trail
    (`lecture`, `export`, `signature-attestation`, `fin-de-convention`, `restauration`...)."""
    accounts = app.accounts  # built with the vault: the key is checked first
    interactive = sys.stdin.isatty()
    password = _secret(f"Mot de passe de la console pour {email} : ", interactive)
    return accounts.authenticate(
        email,
        password,
        lambda: _secret("Code à usage unique (application d'authentification) : ", interactive),
        source=terminal_source(),
        action=action,
        numero=numero,
    )


def terminal_source() -> str:
    uid = os.geteuid()
    try:
        return f"terminal:{pwd.getpwuid(uid).pw_name}"
    except KeyError:  # a user id with no name (a container's)
        return f"terminal:{uid}"


def _secret(prompt: str, interactive: bool) -> str:
    try:
        if interactive:
            return getpass.getpass(prompt)
        return sys.stdin.readline().rstrip("\r\n")
    except EOFError:
        return ""
