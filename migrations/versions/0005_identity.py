"""Kaltura identities: one link per (hub, member) to their Kaltura user

Revision ID: 0005_identity
Revises: 0004_picker
Create Date: 2026-11-30 08:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_identity"
down_revision = "0004_picker"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kaltura_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kaltura_user_id", sa.String(length=320), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "existed",
                "created",
                "pending",
                "failed",
                name="identity_state",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("error_code", sa.String(length=80), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hubs.id"], name=op.f("fk_kaltura_identities_hub_id_hubs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_kaltura_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kaltura_identities")),
        sa.UniqueConstraint("hub_id", "user_id", name="uq_kaltura_identities_hub_user"),
    )
    op.create_index(op.f("ix_kaltura_identities_hub_id"), "kaltura_identities", ["hub_id"], unique=False)
    op.create_index(op.f("ix_kaltura_identities_user_id"), "kaltura_identities", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_kaltura_identities_user_id"), table_name="kaltura_identities")
    op.drop_index(op.f("ix_kaltura_identities_hub_id"), table_name="kaltura_identities")
    op.drop_table("kaltura_identities")
