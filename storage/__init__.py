"""Storage: models, database sessions and migrations, the vault, the audit trail.

Never imports `intake`: the worker uses storage, not the other way round. Each module owns
its tables' queries; a function runs in the caller's transaction and takes no row lock
unless its docstring says so (SQLite's transactions lock the whole database anyway:
`BEGIN IMMEDIATE`; on PostgreSQL the locks named are `FOR UPDATE` on the rows returned).
"""
