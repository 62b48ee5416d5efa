"""How the console's sign-ins are slowed down under guessing (issue 21): a growing delay per
account and per source address rather than a lock anyone could trigger at will.

Each key counts its failures (wrong password or TOTP code) in an episode that ends after an
hour without any, or at a sign-in for an account. From the `free`-th failure on, no attempt of
that key is even checked until a delay has passed: one minute, doubled at each further failure
up to fifteen. Locking never resets the count. The answers say nothing of it (see accounts).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from storage.models import SignInThrottle

ACCOUNT_FREE = 5  # failures of one account, from anywhere, before its first delay
SOURCE_FREE = 10  # failures from one address, at any account (a colleague's typos pass)
FIRST_DELAY = timedelta(minutes=1)
LONGEST_DELAY = timedelta(minutes=15)
QUIET = timedelta(hours=1)  # an episode ends after this long without a failure
_DOUBLINGS = 4  # 1, 2, 4, 8, then 15 minutes


def account_key(email: str) -> str:
    return hashlib.sha256(f"compte:{email.casefold()}".encode()).hexdigest()


def source_key(address: str) -> str:
    return hashlib.sha256(f"source:{address}".encode()).hexdigest()


def settle(row: SignInThrottle, now: datetime) -> None:
    """Forget an episode that has gone quiet."""
    if row.last_failure_at is not None and now - row.last_failure_at >= QUIET:
        row.failures, row.first_failure_at = 0, None
        row.last_failure_at = row.blocked_until = None


def blocked(row: SignInThrottle, now: datetime) -> bool:
    return row.blocked_until is not None and row.blocked_until > now


def fail(row: SignInThrottle, now: datetime, free: int) -> timedelta | None:
    """Count one failure; the delay it sets, if it sets one."""
    row.failures += 1
    row.first_failure_at = row.first_failure_at or now
    row.last_failure_at = now
    if row.failures < free:
        return None
    delay: timedelta = min(FIRST_DELAY * 2 ** min(row.failures - free, _DOUBLINGS), LONGEST_DELAY)
    row.blocked_until = now + delay
    return delay
