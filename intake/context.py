"""Who acts and when: what every use case of the services is called with.

The console builds it from the signed-in person, a command from `--agent` (or the Unix user
for the system's own work); the time is the app's clock, read once per request or command.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Context:
    actor: str  # a [[staff]] person's address, or `système:NAME` for the system's own work
    now: datetime

    @property
    def system(self) -> bool:
        """The system acting for itself (a command run without `--agent`)."""
        return self.actor.startswith("système:")
