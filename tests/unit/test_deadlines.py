from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from intake.convention import deadlines

PARIS, REUNION = ZoneInfo("Europe/Paris"), ZoneInfo("Indian/Reunion")


def test_retrieval_due_is_the_nth_calendar_day_after_the_notification_day():
    notified = datetime(2026, 11, 3, 6, 2, tzinfo=timezone(timedelta(hours=1)))
    assert deadlines.retrieval_due(notified, 15, PARIS) == date(2026, 11, 18)


@pytest.mark.parametrize(
    ("tz", "due"),
    [
        (PARIS, date(2026, 11, 19)),
        (REUNION, date(2026, 11, 19)),
        (ZoneInfo("America/Cayenne"), date(2026, 11, 18)),
    ],
)
def test_a_notification_after_23h_utc_belongs_to_the_local_day(tz, due):
    # 23:30 UTC on 3 November is already 4 November in Paris (00:30) and La Réunion (03:30),
    # still 3 November in Guyane (20:30).
    notified = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    assert deadlines.retrieval_due(notified, 15, tz) == due


def test_retrieval_met_until_the_end_of_the_last_local_day():
    due = date(2026, 11, 18)
    last_minute = datetime(2026, 11, 18, 22, 59, tzinfo=UTC)  # 23:59 in Paris
    first_minute_after = datetime(2026, 11, 18, 23, 0, tzinfo=UTC)  # 00:00 on the 19th
    assert deadlines.retrieval_met(last_minute, due, PARIS) is True
    assert deadlines.retrieval_met(first_minute_after, due, PARIS) is False
    assert deadlines.retrieval_met(None, due, PARIS) is None


def test_clock_starts_at_the_earliest_known_notification_else_the_transmission():
    transmitted = datetime(2026, 11, 3, 5, 0, tzinfo=UTC)
    feed = datetime(2026, 11, 3, 5, 2, tzinfo=UTC)
    mail = datetime(2026, 11, 3, 5, 1, tzinfo=UTC)
    assert deadlines.retrieval_clock_start(transmitted) == transmitted
    assert deadlines.retrieval_clock_start(transmitted, feed) == feed
    assert deadlines.retrieval_clock_start(transmitted, feed, mail) == mail
    assert deadlines.retrieval_clock_start(transmitted, None, mail) == mail


@pytest.mark.parametrize(
    ("transmitted", "purge"),
    [
        (date(2026, 8, 31), date(2027, 2, 28)),  # 31 August + 6 months = last day of February
        (date(2027, 8, 31), date(2028, 2, 29)),  # ... of a leap year
        (date(2026, 11, 3), date(2027, 5, 3)),
        (date(2026, 12, 31), date(2027, 6, 30)),
    ],
)
def test_purge_due_is_six_calendar_months_later(transmitted, purge):
    instant = datetime.combine(transmitted, datetime.min.time(), tzinfo=PARIS).replace(hour=12)
    assert deadlines.purge_due(instant, PARIS) == purge


def test_purge_due_uses_the_local_date_of_the_transmission():
    # 31 August 23:30 UTC is 1 September in Paris: retention runs from 1 September.
    assert deadlines.purge_due(datetime(2026, 8, 31, 23, 30, tzinfo=UTC), PARIS) == date(2027, 3, 1)


def test_past_retention_from_the_first_minute_of_the_purge_day():
    transmitted = datetime(2026, 11, 3, 6, 0, tzinfo=PARIS)
    assert not deadlines.past_retention(
        transmitted, datetime(2027, 5, 2, 21, 59, tzinfo=UTC), PARIS
    )
    assert deadlines.past_retention(transmitted, datetime(2027, 5, 2, 22, 0, tzinfo=UTC), PARIS)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError):
        deadlines.local_date(datetime(2026, 1, 1), PARIS)


@pytest.mark.parametrize(
    ("retrieved", "today", "state"),
    [
        (None, date(2026, 11, 1), "pending"),
        (None, date(2026, 11, 13), "due-soon"),
        (None, date(2026, 11, 18), "due-soon"),
        (None, date(2026, 11, 19), "overdue"),
        (datetime(2026, 11, 18, 22, 59, tzinfo=UTC), date(2026, 11, 30), "met"),
        (datetime(2026, 11, 18, 23, 0, tzinfo=UTC), date(2026, 11, 30), "late"),
    ],
)
def test_retrieval_states(retrieved, today, state):
    assert deadlines.retrieval_state(retrieved, date(2026, 11, 18), today, 5, PARIS) == state
