"""source -> feed -> storage -> acknowledge -> notify: the only place that orders these steps.

`ingest` turns one feed into outcomes committed in bounded groups; `poll`, `mailbox` and
`dropbox` are the passes over each way in.
"""

from intake.pipeline.ingest import BATCH_BYTES, BATCH_DEMANDES, Ingestor
from intake.pipeline.mailbox import MailboxPass, MailboxReport
from intake.pipeline.poll import BLOCKED_RETRY, CommunePass, ExtranetPdfSource, Poller, PollReport
from intake.pipeline.writes import Line, Result

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
