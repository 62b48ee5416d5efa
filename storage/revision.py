"""The newest migration, in a module free of SQLAlchemy: `intake status` compares it with the
database's own before it reads with the standard library's driver (`storage.health`)."""

from __future__ import annotations

# Checked against Alembic's own view by the tests; it lets a worker whose database is already
# current start without loading Alembic at all (some 10 MB it would keep for months). A new
# migration bumps it here (`storage.db` gives it under the same name).
HEAD_REVISION = "0012"
