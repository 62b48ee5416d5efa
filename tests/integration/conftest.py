"""What the console's integration tests share: the console's lieu (Corbas and Bron, the staff of
tests/support/console.py) at the suite's clock. A module that needs other demandes overrides
`lieu` with its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.app import App
from intake.clock import FixedClock
from tests.support.console import console_lieu


@pytest.fixture
def lieu(tmp_path: Path, clock: FixedClock) -> App:
    return console_lieu(tmp_path, clock)
