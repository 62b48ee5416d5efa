"""source -> feed -> storage -> acknowledge -> notify: the only place that orders these steps.

`ingest` turns one feed into outcomes committed in bounded groups; `poll`, `mailbox` and
`dropbox` are the passes over each way in; `notify` announces, alerts and sends.

The names below are imported when first asked for: a process that only sends the emails
(`intake run --tache courriels`) imports `intake.pipeline.notify`, and must not pay for the
extranet client, the feed's reader and the ingest along with it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intake.pipeline.ingest import BATCH_BYTES, BATCH_DEMANDES, Ingestor
    from intake.pipeline.mailbox import MailboxPass, MailboxReport
    from intake.pipeline.poll import (
        BLOCKED_RETRY,
        CommunePass,
        ExtranetPdfSource,
        Poller,
        PollReport,
    )
    from intake.pipeline.writes import Line, Result

_WHERE = {
    "BATCH_BYTES": "ingest",
    "BATCH_DEMANDES": "ingest",
    "Ingestor": "ingest",
    "MailboxPass": "mailbox",
    "MailboxReport": "mailbox",
    "BLOCKED_RETRY": "poll",
    "CommunePass": "poll",
    "ExtranetPdfSource": "poll",
    "Poller": "poll",
    "PollReport": "poll",
    "Line": "writes",
    "Result": "writes",
}

__all__ = [
    "BATCH_BYTES",
    "BATCH_DEMANDES",
    "BLOCKED_RETRY",
    "CommunePass",
    "ExtranetPdfSource",
    "Ingestor",
    "Line",
    "MailboxPass",
    "MailboxReport",
    "PollReport",
    "Poller",
    "Result",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"intake.pipeline.{_WHERE[name]}"), name)
