"""What every command pays before it does anything: no work done on import."""

from __future__ import annotations

import subprocess
import sys

from intake import accounts


def test_importing_the_command_makes_no_password_hash() -> None:
    """The console's dummy Argon2 hash (150 ms, 64 MB) is made when the console starts, not
    by every command that imports the accounts module."""
    probe = "import intake.cli, intake.accounts as a; print(a.dummy_hash.cache_info().currsize)"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "0"


def test_the_dummy_hash_is_one_argon2_hash_made_once() -> None:
    first = accounts.dummy_hash()
    assert first.startswith("$argon2") and accounts.dummy_hash() is first
