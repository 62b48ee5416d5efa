"""Many rows into one table in one statement.

On SQLite the driver's `executemany` runs in C; what costs is SQLAlchemy's work around it for
each row (building its parameters, some 60 µs a demande on an ingest). So there the rows are
turned into tuples with the columns' own bind processors (the same conversions SQLAlchemy
applies: aware instants to UTC, then SQLite's text format) and handed to the driver with the
statement SQLAlchemy compiled. Elsewhere SQLAlchemy's own executemany is kept: on PostgreSQL
it batches the rows into multi-row INSERTs, which the driver's would not do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.engine import Dialect
from sqlmodel import Session

_Processor = Callable[[Any], Any] | None


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """INSERT every row (all with the same keys) into `table`, in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = tuple(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("insert_rows: every row must have the same columns")
    if dialect.name != "sqlite" or _has_defaults(table, keys):
        session.execute(insert(table), list(rows))
        return
    statement, order, processors = _prepared(table, keys, dialect)
    parameters = [
        tuple(
            row[key] if process is None else process(row[key])
            for key, process in zip(order, processors, strict=True)
        )
        for row in rows
    ]
    connection.exec_driver_sql(statement, parameters)


def _has_defaults(table: Table, keys: tuple[str, ...]) -> bool:
    """A column left out whose default SQLAlchemy would fill in: not for this path."""
    return any(
        column.key not in keys and (column.default is not None or column.onupdate is not None)
        for column in table.columns
    )


@lru_cache(maxsize=64)
def _prepared(
    table: Table, keys: tuple[str, ...], dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[_Processor, ...]]:
    """SQLAlchemy's own statement for these columns, its parameters' order and processors."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(keys))
    order = tuple(compiled.positiontup or ())
    if dialect.paramstyle != "qmark" or sorted(order) != sorted(keys):
        raise ValueError(f"insert_rows: unexpected statement for {table.name}")
    columns = {column.key: column for column in table.columns}
    processors = tuple(
        columns[key].type.dialect_impl(dialect).bind_processor(dialect) for key in order
    )
    return compiled.string, order, processors
