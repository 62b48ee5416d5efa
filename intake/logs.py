"""Log lines on stderr: one per event, plain or JSON (`--log-json`), never personal data.

The messages themselves carry only numeros, communes, counts, codes and exception type
names; this module only shapes them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime

PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNALD = "%(levelname)s %(name)s: %(message)s"  # journald stamps each line itself
UTC_ISO = "%Y-%m-%dT%H:%M:%SZ"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "at": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def plain() -> logging.Formatter:
    """One timestamp, in UTC ISO 8601; none under journald, whose own stamp is the one."""
    if os.environ.get("JOURNAL_STREAM"):
        return logging.Formatter(JOURNALD)
    formatter = logging.Formatter(PLAIN, datefmt=UTC_ISO)
    formatter.converter = time.gmtime
    return formatter


def configure(verbose: bool, as_json: bool, service: bool = False) -> None:
    """INFO for what a service does normally (and with -v), WARNING for what needs a person."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if as_json else plain())
    level = logging.INFO if verbose or service else logging.WARNING
    logging.basicConfig(level=level, handlers=[handler], force=True)
