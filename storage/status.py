"""A demande's status: its own module, free of SQLAlchemy, for the command line's choices."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NOTIFIED = "notified"  # announced by email, not yet retrieved
    RECEIVED = "received"  # retrieved, valid, stored encrypted
    QUARANTINED = "quarantined"  # retrieved, refused by a rule, kept encrypted for the agents
    PURGED = "purged"  # destroyed; this row is the tombstone
