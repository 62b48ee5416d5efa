"""The tiers a developer may lack (PostgreSQL, dovecot, poppler, Chromium, systemd): skipped
with a hint on a developer's machine, a failure in CI, where every tier must run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing(what: str, hint: str) -> NoReturn:
    """Stop the test: `what` is absent. CI (the `CI` variable set) must have it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI ({hint})")
    pytest.skip(f"{what} absent: {hint}")
