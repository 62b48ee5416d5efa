"""Data keys wrapped by the key of their purge day (key store outside the database): the
purge day each wrapped key depends on. Existing keys (wrapped by the master key, `key_date`
NULL) are re-wrapped at the next unlock, since a migration cannot reach the key store.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demande_key") as batch:
        batch.add_column(sa.Column("key_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demande_key") as batch:
        batch.drop_column("key_date")
