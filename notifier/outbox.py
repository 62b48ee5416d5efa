"""The outbox: every email is first a row, written in the caller's transaction.

Retrying is data, not a loop: a failed attempt moves `next_attempt_at` forward
(exponential, with jitter) until `MAX_ATTEMPTS`, after which the row is marked
failed for good, and stays counted as failed whatever is sent later.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from storage import outbox as store
from storage.models import OutboxMessage

if TYPE_CHECKING:  # only its fields are read here; jinja2 is the senders' import, not status's
    from notifier.render import Rendered

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)


def enqueue(
    session: Session,
    *,
    kind: str,
    dedupe_key: str,
    recipients: Sequence[str],
    rendered: Rendered,
    now: datetime,
    domain: str,
    report_month: str | None = None,
    attestation_id: int | None = None,
) -> bool:
    """Queue one email unless one with the same `dedupe_key` exists; True if queued."""
    if not recipients:
        return False
    message = OutboxMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        recipients=", ".join(sorted(set(recipients))),
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        created_at=now,
        next_attempt_at=now,
        report_month=report_month,
        attestation_id=attestation_id,
    )
    return store.queue(session, message)


def next_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with jitter: 1 min, 2, 4... capped at 6 h, times 0.5 to 1."""
    base: timedelta = min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), LONGEST_RETRY)
    return base * (rng or random).uniform(0.5, 1.0)
