"""The migrations build exactly the tables the models describe, on both engines."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.db import schema_is_current, upgrade


def test_models_and_migrations_agree(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert schema_is_current(engine)
    upgrade(engine)  # idempotent


def test_the_head_revision_known_without_alembic_is_alembics_head(engine):
    from alembic.script import ScriptDirectory

    from storage.db import HEAD_REVISION, _alembic_config, current_revision

    script = ScriptDirectory.from_config(_alembic_config(engine))
    assert script.get_current_head() == HEAD_REVISION  # bump it with each new migration
    assert current_revision(engine) == HEAD_REVISION
