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
# Libraries whose INFO is their own machinery, not the lieu's events: APScheduler says
# "Running job" and "executed successfully" for every run of every job (the heartbeat runs
# each minute: some 8,600 lines a day); fontTools lists every glyph it keeps when a PDF is
# made (a report, an attestation). Their warnings and errors always get through.
CHATTY = ("apscheduler", "fontTools")


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
    """INFO for what a service does normally (and with -v), WARNING for what needs a person;
    the libraries' own INFO chatter only with -v."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if as_json else plain())
    level = logging.INFO if verbose or service else logging.WARNING
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
