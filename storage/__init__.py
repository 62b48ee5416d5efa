"""Storage: models, database sessions and migrations, the vault, the audit trail.

Never imports `intake`: the worker uses storage, not the other way round.
"""
