"""Initial tables: demandes and their tombstones, the vault, refusals, the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("numero", sa.String(length=15), nullable=True),
        sa.Column("detail", sa.String(length=4000), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_numero"), ["numero"], unique=False)

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The chain's head exists from the start: concurrent first appends lock it, never race to
    # create it.
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": "0" * 64}])
    op.create_table(
        "demande",
        sa.Column("numero", sa.String(length=15), nullable=False),
        sa.Column("commune", sa.String(length=5), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("refusal_code", sa.String(length=40), nullable=True),
        sa.Column("transmitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mail_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retrieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retrieval_due", sa.Date(), nullable=True),
        sa.Column("purge_due", sa.Date(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purge_reason", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("numero"),
    )
    with op.batch_alter_table("demande", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demande_commune"), ["commune"], unique=False)
        batch_op.create_index(batch_op.f("ix_demande_purge_due"), ["purge_due"], unique=False)
        batch_op.create_index(batch_op.f("ix_demande_status"), ["status"], unique=False)

    op.create_table(
        "refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("numero", sa.String(length=15), nullable=True),
        sa.Column("commune", sa.String(length=5), nullable=True),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=4000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("refusal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refusal_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_refusal_numero"), ["numero"], unique=False)

    op.create_table(
        "demande_key",
        sa.Column("numero", sa.String(length=15), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["numero"],
            ["demande.numero"],
        ),
        sa.PrimaryKeyConstraint("numero"),
    )
    op.create_table(
        "demande_blob",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("numero", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["numero"],
            ["demande_key.numero"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("demande_blob", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_demande_blob_numero"), ["numero"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demande_blob", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demande_blob_numero"))

    op.drop_table("demande_blob")
    op.drop_table("demande_key")
    with op.batch_alter_table("refusal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refusal_numero"))
        batch_op.drop_index(batch_op.f("ix_refusal_at"))

    op.drop_table("refusal")
    with op.batch_alter_table("demande", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_demande_status"))
        batch_op.drop_index(batch_op.f("ix_demande_purge_due"))
        batch_op.drop_index(batch_op.f("ix_demande_commune"))

    op.drop_table("demande")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_numero"))

    op.drop_table("audit_event")
