"""The delays of the console's sign-in (intake.desk.throttle): free tries, then one minute doubled
at each failure up to fifteen, never reset by the delay itself, forgotten after a quiet hour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake.desk import throttle
from storage.models import SignInThrottle

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def delays(failures: int, free: int) -> list[timedelta | None]:
    row = SignInThrottle(key="k", failures=0)
    return [throttle.fail(row, NOW, free) for _ in range(failures)]


def test_free_tries_then_a_doubling_delay_up_to_fifteen_minutes():
    minutes = [d and int(d.total_seconds() // 60) for d in delays(10, throttle.ACCOUNT_FREE)]
    assert minutes == [None, None, None, None, 1, 2, 4, 8, 15, 15]


def test_thousands_of_failures_stay_at_the_longest_delay():
    assert delays(5000, throttle.SOURCE_FREE)[-1] == throttle.LONGEST_DELAY


def test_blocked_until_the_delay_has_passed():
    row = SignInThrottle(key="k", failures=0)
    for _ in range(throttle.ACCOUNT_FREE):
        throttle.fail(row, NOW, throttle.ACCOUNT_FREE)
    assert throttle.blocked(row, NOW + timedelta(seconds=59))
    assert not throttle.blocked(row, NOW + timedelta(seconds=60))


def test_an_hour_without_failure_ends_the_episode_and_a_delay_does_not():
    row = SignInThrottle(key="k", failures=0)
    for _ in range(6):
        throttle.fail(row, NOW, throttle.ACCOUNT_FREE)
    throttle.settle(row, NOW + timedelta(minutes=59))
    assert row.failures == 6 and row.first_failure_at == NOW
    throttle.settle(row, NOW + timedelta(hours=1))
    assert row.failures == 0 and row.blocked_until is None and row.first_failure_at is None


def test_keys_hide_what_was_typed_and_fold_case():
    assert throttle.account_key("L.Feuga@Ville-Corbas.fr") == throttle.account_key(
        "l.feuga@ville-corbas.fr"
    )
    assert "feuga" not in throttle.account_key("l.feuga@ville-corbas.fr")
    assert throttle.source_key("192.0.2.1") != throttle.account_key("192.0.2.1")
