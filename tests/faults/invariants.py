"""What must hold in the database whatever killed the worker: read straight from SQLite."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path


def check_storage(database: Path) -> set[str]:
    """Every demande held is whole (its key and each of its blobs once), no blob or key is
    orphaned, and no demande was received twice; the numeros held."""
    with sqlite3.connect(database, timeout=30) as db:
        rows = dict(db.execute("SELECT numero, status FROM demande").fetchall())
        keys = {n for (n,) in db.execute("SELECT numero FROM demande_key")}
        blobs = Counter(db.execute("SELECT numero, kind FROM demande_blob").fetchall())
        receptions = Counter(
            n for (n,) in db.execute("SELECT numero FROM audit_event WHERE action = 'reception'")
        )
    assert keys <= set(rows), "a key without its demande"
    assert {n for n, _ in blobs} <= keys, "a blob without its key"
    for numero, status in rows.items():
        if status == "received":
            assert numero in keys, numero
            kinds = {kind: count for (n, kind), count in blobs.items() if n == numero}
            assert kinds == {"record": 1, "xml": 1, "pdf": 1}, (numero, kinds)
    assert all(count == 1 for count in receptions.values()), receptions.most_common(3)
    return set(rows)
