"""status: Kaltura call statistics per hub and hour, and the health of each saved App Token

Revision ID: 0006_status
Revises: 0005_identity
Create Date: 2026-11-30 07:54:42.030999
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_status"
down_revision = "0005_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kaltura_call_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot", sa.String(length=10), nullable=False),
        sa.Column("call", sa.String(length=80), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total_ms", sa.BigInteger(), nullable=False),
        sa.Column("h0", sa.BigInteger(), nullable=False),
        sa.Column("h1", sa.BigInteger(), nullable=False),
        sa.Column("h2", sa.BigInteger(), nullable=False),
        sa.Column("h3", sa.BigInteger(), nullable=False),
        sa.Column("h4", sa.BigInteger(), nullable=False),
        sa.Column("h5", sa.BigInteger(), nullable=False),
        sa.Column("h6", sa.BigInteger(), nullable=False),
        sa.Column("h7", sa.BigInteger(), nullable=False),
        sa.Column("h8", sa.BigInteger(), nullable=False),
        sa.Column("h9", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_kaltura_call_stats_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaltura_call_stats")),
        sa.UniqueConstraint("hub_id", "hour", "slot", "call", "outcome", "code", name="uq_kaltura_call_stats_key"),
    )
    with op.batch_alter_table("kaltura_call_stats", schema=None) as batch_op:
        batch_op.create_index("ix_kaltura_call_stats_hour", ["hour"], unique=False)

    op.create_table(
        "kaltura_token_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.String(length=10), nullable=False),
        sa.Column("token_id", sa.String(length=80), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failure_call", sa.String(length=80), nullable=True),
        sa.Column("last_failure_code", sa.String(length=80), nullable=True),
        sa.Column("session_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_kaltura_token_health_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaltura_token_health")),
        sa.UniqueConstraint("hub_id", "slot", "token_id", name="uq_kaltura_token_health_key"),
    )
    with op.batch_alter_table("kaltura_token_health", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kaltura_token_health_hub_id"), ["hub_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kaltura_token_health", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kaltura_token_health_hub_id"))

    op.drop_table("kaltura_token_health")
    with op.batch_alter_table("kaltura_call_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_kaltura_call_stats_hour")

    op.drop_table("kaltura_call_stats")
