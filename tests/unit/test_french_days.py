"""A day typed in a form: the date picker's aaaa-mm-jj, or jj/mm/aaaa typed by hand where the
browser has no picker (the form's hint asks for that one)."""

from __future__ import annotations

from datetime import date

import pytest

from intake.french import parse_day


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2026-11-23", date(2026, 11, 23)),
        ("23/11/2026", date(2026, 11, 23)),
        ("03/12/2026", date(2026, 12, 3)),
        (" 3/12/2026 ", date(2026, 12, 3)),
        ("", None),
        (None, None),
        ("31/02/2026", None),
        ("12/2026", None),
        ("hier", None),
        ("2026-13-01", None),
    ],
)
def test_a_typed_day(typed: str | None, day: date | None):
    assert parse_day(typed) == day
