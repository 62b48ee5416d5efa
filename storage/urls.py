"""Which database a URL names, told without SQLAlchemy when the answer is plain.

The configuration writes an SQLite database as an absolute file path (`sqlite:////var/...`,
nothing to decode): the processes that must stay small (`intake status`, the service's
scheduler) open it with the standard library's driver. Any other form is SQLAlchemy's to read.
"""

from __future__ import annotations

import re
from pathlib import Path

_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(/[^?#%]+)")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite URL; None for anything else (PostgreSQL, options, memory)."""
    match = _SQLITE_FILE.fullmatch(url)
    return None if match is None else Path(match.group(1))


def sqlite_database(url: str) -> Path | None:
    """The file of any SQLite URL (SQLAlchemy reads the unusual forms); None if the URL names
    no SQLite file (PostgreSQL, an in-memory database)."""
    plain = sqlite_file(url)
    if plain is not None or not url.startswith("sqlite"):
        return plain
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return None if database in (None, "", ":memory:") else Path(str(database))
