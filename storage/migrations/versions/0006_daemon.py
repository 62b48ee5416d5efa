"""The daemon's tables: availability per commune and day, monthly reports, heartbeats.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commune_day",
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("successes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("insee", "day"),
    )
    op.create_table(
        "monthly_report",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("csv", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("month"),
    )
    op.create_table(
        "heartbeat",
        sa.Column("worker", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("worker"),
    )
    with op.batch_alter_table("heartbeat") as batch_op:
        batch_op.create_index("ix_heartbeat_beat_at", ["beat_at"], unique=False)
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.add_column(sa.Column("report_month", sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch_op:
        batch_op.drop_column("report_month")
    op.drop_table("heartbeat")
    op.drop_table("monthly_report")
    op.drop_table("commune_day")
