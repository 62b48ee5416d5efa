"""Destruction attestations, the tombstone's link to its attestation, the convention's end.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("demandes", sa.Integer(), nullable=False),
        sa.Column("first_purge_due", sa.Date(), nullable=True),
        sa.Column("last_purge_due", sa.Date(), nullable=True),
        sa.Column("sign_by", sa.Date(), nullable=True),
        sa.Column("manifest", sa.Text(), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("audit_seq", sa.Integer(), nullable=True),
        sa.Column("audit_hash", sa.String(length=64), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("signed_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("signed_by", sa.String(length=254), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signature_kind", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "convention_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_by", sa.String(length=254), nullable=False),
        sa.Column("attestation_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("demande") as batch_op:
        batch_op.add_column(sa.Column("attestation_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_demande_attestation_id", ["attestation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demande") as batch_op:
        batch_op.drop_index("ix_demande_attestation_id")
        batch_op.drop_column("attestation_id")
    op.drop_table("convention_state")
    op.drop_table("attestation")
