"""Extranet polling: per-commune state, stopped accounts, acknowledgement time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commune_state",
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("etag", sa.String(length=200), nullable=True),
        sa.Column("last_attempt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error_code", sa.String(length=40), nullable=True),
        sa.Column("last_error_message", sa.String(length=1000), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("insee"),
    )
    op.create_table(
        "account_state",
        sa.Column("account", sa.String(length=254), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("password_mark", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("account"),
    )
    with op.batch_alter_table("demande", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demande", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
    op.drop_table("account_state")
    op.drop_table("commune_state")
