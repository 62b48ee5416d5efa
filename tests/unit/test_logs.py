"""One timestamp per line, in UTC ISO 8601; none under journald; INFO for a service."""

from __future__ import annotations

import logging
import re

from intake import logs


def test_plain_lines_carry_one_utc_timestamp(monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    record = logging.LogRecord("intake", logging.INFO, "", 0, "purge : %d", (3,), None)
    line = logs.plain().format(record)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ INFO intake: purge : 3", line)


def test_under_journald_the_journal_stamps_the_line(monkeypatch):
    monkeypatch.setenv("JOURNAL_STREAM", "8:1234")
    record = logging.LogRecord("intake", logging.WARNING, "", 0, "extranet", (), None)
    assert logs.plain().format(record) == "WARNING intake: extranet"


def test_a_service_logs_its_normal_events_at_info():
    logs.configure(verbose=False, as_json=False, service=True)
    assert logging.getLogger().level == logging.INFO
    logs.configure(verbose=False, as_json=False)
    assert logging.getLogger().level == logging.WARNING
