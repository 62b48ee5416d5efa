"""A person of [[staff]] is habilitated from `since` to `until`, both days included, in the
lieu's time zone: the day before, the day of and the day after each date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from intake.config import StaffSection
from intake.habilitation import ends_at, habilitated, habilitated_on, outside_period

PARIS = ZoneInfo("Europe/Paris")
SINCE, UNTIL = date(2027, 1, 15), date(2027, 3, 31)
MEMBER = StaffSection(
    name="Remplaçante",
    email="remplacante@ville-corbas.fr",
    duties=["recipient"],
    since=SINCE,
    until=UNTIL,
)
ONE = timedelta(days=1)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (SINCE - ONE, False),
        (SINCE, True),
        (SINCE + ONE, True),
        (UNTIL - ONE, True),
        (UNTIL, True),
        (UNTIL + ONE, False),
    ],
)
def test_the_days_around_since_and_until(day: date, expected: bool):
    assert habilitated_on(MEMBER, day) is expected
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=PARIS)
    assert habilitated(MEMBER, noon, PARIS) is expected
    assert (outside_period(MEMBER, noon, PARIS) is None) is expected


def test_the_day_is_the_lieus_not_utcs():
    late_on_until = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)  # 1 April 00:30 in Paris
    assert not habilitated(MEMBER, late_on_until, PARIS)
    assert habilitated(MEMBER, late_on_until, ZoneInfo("America/Cayenne"))  # 19:30 there
    early_on_since = datetime(2027, 1, 14, 23, 30, tzinfo=UTC)  # 15 January 00:30 in Paris
    assert habilitated(MEMBER, early_on_since, PARIS)


def test_the_reasons_are_french_and_name_the_date():
    before = datetime(2027, 1, 14, 12, tzinfo=PARIS)
    after = datetime(2027, 4, 1, 0, 0, tzinfo=PARIS)
    assert "qu'à partir du 15/01/2027" in (outside_period(MEMBER, before, PARIS) or "")
    assert "a pris fin le 31/03/2027" in (outside_period(MEMBER, after, PARIS) or "")
    assert ends_at(MEMBER, PARIS) == after


def test_no_dates_means_always():
    always = StaffSection(name="DSI", email="dsi@ville-corbas.fr", duties=["admin"])
    assert habilitated_on(always, date(1990, 1, 1)) and habilitated_on(always, date(2990, 1, 1))
    assert ends_at(always, PARIS) is None
