"""Time as a parameter: rules take a Clock or a `now`, never read the time themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


@dataclass(frozen=True)
class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that shows what it is told; for tests and replays."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant
