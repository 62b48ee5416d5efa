"""A demande's status: its own module, free of SQLAlchemy, for the command line's choices."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NOTIFIED = "notified"  # announced by email, not yet retrieved
    RECEIVED = "received"  # retrieved, valid, stored encrypted
    QUARANTINED = "quarantined"  # retrieved, refused by a rule, kept encrypted for the agents
    PURGED = "purged"  # destroyed; this row is the tombstone


# Still owed by the extranet: announced, or refused by a rule and so never acknowledged (kept
# in quarantine). The one rule: the queries (`storage.demandes.owed`), the lists, the deadlines,
# the alerts and the reports all ask it.
OWED = (Status.NOTIFIED, Status.QUARANTINED)


def still_owed(status: str) -> bool:
    """Whether a demande of this status is still to retrieve from the extranet."""
    return status in OWED
